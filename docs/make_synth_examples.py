"""Render the example images of docs/synth.md (one item per generator and difficulty, seed 0).

python docs/make_synth_examples.py
"""

from __future__ import annotations

from pathlib import Path

from vlmbench.synth import DIFFICULTIES, generate, generator_names

OUT = Path(__file__).resolve().parent / "images"


def main() -> None:
    OUT.mkdir(exist_ok=True)
    for name in generator_names():
        for difficulty in DIFFICULTIES:
            sample = generate(name, 1, difficulty, seed=0)[0]
            (OUT / f"synth_{name}_d{difficulty}.png").write_bytes(sample.images[0].data or b"")
            choices = f" | options: {sample.choices}" if sample.choices else ""
            print(f"synth_{name}_d{difficulty}.png: {sample.question!r} -> {sample.answer!r}{choices}")


if __name__ == "__main__":
    main()
