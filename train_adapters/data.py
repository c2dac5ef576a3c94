"""One data path for every algorithm: Task -> Samples -> the task's own prompt -> a TRL chat dataset.

Why one path: a baseline is comparable to an evaluated model only if it trained on the prompt evaluation
sends. So the prompt is built by the eval's `build_request` + `chat_messages` (the exact chat the HF
backend renders), the images go in an `images` column (TRL injects them into the `{"type": "image"}`
blocks), and the columns of `vlmbench.rewards.sample_columns` ride along so rewards rebuild the Sample.

Items that cannot be used (an unreadable image, an image-token count the processor rejects) are skipped
and counted in a `DataReport`, never fatal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench.data import load_samples
from vlmbench.errors import VlmbenchError
from vlmbench.models.base import GenerationParams
from vlmbench.prompts import build_request
from vlmbench.rewards import Curriculum, sample_columns
from vlmbench.schema import Sample
from vlmbench.taskspec import TaskSpec


@dataclass
class DataReport:
    """What a dataset build kept and skipped (with the reason per skipped id)."""

    kept: int = 0
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": self.kept,
            "skipped": len(self.skipped),
            "skipped_ids": dict(list(self.skipped.items())[:20]),
        }


Rung = tuple[str, int, float]  # a procedural task, its difficulty, its share of the training items


def stage_counts(shares: Sequence[float], n: int) -> list[int]:
    """`n` split by `shares` (largest remainders), summing to `n` exactly."""
    total = sum(shares)
    exact = [n * share / total for share in shares]
    counts = [int(x) for x in exact]
    by_remainder = sorted(range(len(shares)), key=lambda k: (counts[k] - exact[k], k))
    for k in by_remainder[: n - sum(counts)]:
        counts[k] += 1
    return counts


def ladder_samples(rungs: Sequence[Rung], n: int, seed: int) -> list[Sample]:
    """`n` procedural items from several tasks and difficulties, rung by rung in the order given (easy
    to hard). A (generator, difficulty) that comes twice continues where it stopped, so no item repeats."""
    from vlmbench.registry import get_task
    from vlmbench.synth import generate

    out: list[Sample] = []
    used: dict[tuple[str, int], int] = {}
    for (task, difficulty, _), count in zip(rungs, stage_counts([r[2] for r in rungs], n), strict=True):
        if count == 0:
            continue
        synth = get_task(task).source.synth
        if synth is None:
            raise VlmbenchError(f"curriculum: task {task!r} is not procedural")
        start = used.get((synth.generator, difficulty), 0)
        out += generate(synth.generator, count, difficulty, seed, start=start)
        used[synth.generator, difficulty] = start + count
    return out


def load_split(
    spec: TaskSpec,
    *,
    n: int,
    seed: int,
    difficulty: int | None = None,
    data_dir: Path | None = None,
    offset: int = 0,
    curriculum: Curriculum | Sequence[Rung] | None = None,
) -> list[Sample]:
    """`n` items of a task. Procedural tasks generate them (`seed` picks the split, so a training seed
    other than the eval seed gives held-out items); other tasks read items `offset .. offset+n`.
    A `curriculum` orders procedural items easy to hard: a `Curriculum` over the task's own
    difficulties, or rungs `(task, difficulty, share)` that may name other procedural tasks."""
    synth = spec.source.synth
    if synth is not None and isinstance(curriculum, Curriculum):
        return curriculum.samples(synth.generator, n, seed)
    if synth is not None and curriculum:
        return ladder_samples(list(curriculum), n, seed)
    if synth is not None and (data_dir is None or offset == 0):
        options = {"n": n, "seed": seed, **({"difficulty": difficulty} if difficulty else {})}
        return load_samples(spec, data_dir, synth=options)
    samples = load_samples(spec, data_dir)
    chosen = samples[offset : offset + n]
    if not chosen:
        raise VlmbenchError(
            f"task {spec.name!r}: no items in [{offset}, {offset + n}) ({len(samples)} in all)"
        )
    return chosen


def prompt_messages(spec: TaskSpec, sample: Sample, style: str) -> list[dict[str, Any]]:
    """The chat the eval's HF backend renders for `sample`, with content as typed parts (TRL's form)."""
    from vlmbench.models.hf import chat_messages

    request = build_request(spec, sample, style, GenerationParams(max_new_tokens=1))
    return [
        {
            **m,
            "content": [{"type": "text", "text": m["content"]}]
            if isinstance(m["content"], str)
            else m["content"],
        }
        for m in chat_messages(request)
    ]


def target_answer(spec: TaskSpec, sample: Sample, style: str) -> str:
    """A supervised target in the form the prompt asks for: the option letter for choice items, the gold
    text otherwise; on an `Answer:` line or in think/answer tags when the template asks so."""
    from vlmbench.rewards import expected_format

    answer = sample.answer_letter if sample.choices and sample.answer_letter else sample.answer
    form = expected_format(spec, style)
    if form == "answer_line":
        return f"Answer: {answer}"
    if form == "think_answer":
        return f"<think> </think> <answer>{answer}</answer>"
    return answer


def _check(processor: Any, messages: list[dict[str, Any]], images: list[Any]) -> None:
    """Raise when the processor cannot turn this prompt + images into model inputs (e.g. a placeholder
    count that does not match the images), so the item is skipped before training rather than mid-run."""
    text = processor.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    processor(text=[text], images=images or None, return_tensors="pt")


def build_rows(
    spec: TaskSpec,
    samples: Sequence[Sample],
    style: str,
    *,
    processor: Any = None,
    with_target: bool = False,
    report: DataReport | None = None,
) -> list[dict[str, Any]]:
    """Dataset rows: `prompt` (conversational), `images`, the sample columns, and with `with_target` a
    `completion` turn holding `target_answer` (SFT). Bad items are skipped and counted in `report`."""
    report = report if report is not None else DataReport()
    rows = []
    for sample in samples:
        try:
            images = [ref.load() for ref in sample.images]
            messages = prompt_messages(spec, sample, style)
            if processor is not None:
                _check(processor, messages, images)
        except Exception as err:  # one bad item must not end a run: skip it and say why
            report.skipped[sample.id] = f"{type(err).__name__}: {err}"
            continue
        row: dict[str, Any] = {"prompt": messages, "images": images, **sample_columns(sample)}
        if with_target:
            text = target_answer(spec, sample, style)
            row["completion"] = [{"role": "assistant", "content": [{"type": "text", "text": text}]}]
        rows.append(row)
    report.kept += len(rows)
    return rows


def to_dataset(rows: list[dict[str, Any]]) -> Any:
    """A `datasets.Dataset` of rows (metadata rides as JSON strings, so Arrow sees one type per column)."""
    from datasets import Dataset

    if not rows:
        raise VlmbenchError("no usable training items (all were skipped); see the data report")
    return Dataset.from_list(rows)
