"""The procedural-task machinery every generator shares: seeding, export, errors, fingerprints.

A minimal generator defined here ("dots": count the dots) exercises the machinery independently of
the real generators, which have their own test files.
"""

from __future__ import annotations

import random

import pytest
from PIL import Image, ImageDraw
from typer.testing import CliRunner

import vlmbench.synth as synth
from vlmbench.cli import app
from vlmbench.data.fingerprint import dataset_fingerprint
from vlmbench.data.local import load_items_jsonl
from vlmbench.synth import SynthError, SynthItem, export, generate
from vlmbench.synth.base import item_rng, png_bytes


class DotsGenerator:
    name = "dots"
    version = "1"
    description = "count the dots"

    def make(self, rng: random.Random, difficulty: int) -> SynthItem:
        count = rng.randint(1, 3 * difficulty)
        image = Image.new("RGB", (64, 64), "white")
        pen = ImageDraw.Draw(image)
        spots = [(rng.randint(4, 56), rng.randint(4, 56)) for _ in range(count)]
        for x, y in spots:
            pen.ellipse((x - 3, y - 3, x + 3, y + 3), fill="black")
        return SynthItem(
            "How many dots?", str(count), "integer", image, {"dots": spots}, meta={"kind": "count"}
        )


@pytest.fixture
def dots(monkeypatch):
    monkeypatch.setitem(synth._GENERATORS, "dots", "test_synth:DotsGenerator")
    return "dots"


def test_item_streams_depend_on_every_key_part_and_nothing_else():
    draw = [item_rng("g", "1", 0, 1, 5).random() for _ in range(2)]
    assert draw[0] == draw[1]
    others = {
        item_rng(*key).random()
        for key in [
            ("h", "1", 0, 1, 5),
            ("g", "2", 0, 1, 5),
            ("g", "1", 1, 1, 5),
            ("g", "1", 0, 2, 5),
            ("g", "1", 0, 1, 6),
        ]
    }
    assert draw[0] not in others and len(others) == 5


def test_png_bytes_are_a_function_of_the_pixels():
    image = Image.new("RGB", (10, 10), (1, 2, 3))
    assert png_bytes(image) == png_bytes(image.copy())
    assert png_bytes(image) != png_bytes(Image.new("RGB", (10, 10), (1, 2, 4)))


def test_generation_is_deterministic_and_prefix_stable(dots):
    first, again = generate(dots, 20, 2, 7), generate(dots, 20, 2, 7)
    assert [s.images[0].data for s in first] == [s.images[0].data for s in again]
    assert dataset_fingerprint(first) == dataset_fingerprint(again)
    assert [s.id for s in generate(dots, 5, 2, 7)] == [s.id for s in first[:5]]
    assert dataset_fingerprint(generate(dots, 20, 2, 8)) != dataset_fingerprint(first)


def test_samples_carry_provenance_and_structure(dots):
    sample = generate(dots, 1, 3, 4, start=9)[0]
    assert sample.id == "dots-d3-s4-000009"
    assert sample.meta["generator"] == "dots" and sample.meta["difficulty"] == 3 and sample.meta["seed"] == 4
    assert len(sample.meta["structure"]["dots"]) == int(sample.answer)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"difficulty": 0}, "unknown difficulty 0"),
        ({"difficulty": 4}, "unknown difficulty 4"),
        ({"n": 0}, "n must be a positive integer"),
        ({"n": -3}, "n must be a positive integer"),
        ({"seed": -1}, "seed must be a non-negative integer"),
    ],
)
def test_bad_generation_requests_are_clear_errors(dots, kwargs, message):
    args = {"n": 3, "difficulty": 1, "seed": 0, **kwargs}
    with pytest.raises(SynthError, match=message):
        generate(dots, **args)


def test_unknown_generator_lists_the_known_ones():
    with pytest.raises(SynthError, match=r"unknown generator 'nope'; known: .*chart"):
        generate("nope", 1)


def test_export_round_trips_through_the_local_format_with_the_same_fingerprint(dots, tmp_path):
    samples = generate(dots, 12, 2, 0)
    items = export(samples, tmp_path / "out")
    loaded = load_items_jsonl(items)
    assert [s.id for s in loaded] == [s.id for s in samples]
    assert [s.answer for s in loaded] == [s.answer for s in samples]
    assert loaded[0].meta["structure"] == samples[0].meta["structure"]
    assert dataset_fingerprint(loaded) == dataset_fingerprint(samples)
    assert loaded[0].images[0].load().size == (64, 64)


def test_export_refuses_to_overwrite_unless_asked(dots, tmp_path):
    samples = generate(dots, 2)
    export(samples, tmp_path)
    with pytest.raises(SynthError, match="exists"):
        export(samples, tmp_path)
    export(samples, tmp_path, overwrite=True)


def test_unwritable_export_folder_is_a_clear_error(dots, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(SynthError, match=r"cannot write the export to .*a-file"):
        export(generate(dots, 2), blocker / "out")


def test_cli_export_of_a_non_procedural_task_is_refused(tmp_path):
    result = CliRunner().invoke(app, ["synth", "export", "--task", "chartqa", "--out", str(tmp_path)])
    assert result.exit_code == 2
    assert "not procedural" in result.output
