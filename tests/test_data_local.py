"""The local dataset format (`<benchmark>/items.jsonl` + images), read through `vlmbench.data.load_samples`.

The good-input tests read the real developer items in `shared/data` in place (never copied into the
repository; schema in `shared/data/README.md`) and are skipped where that folder is absent. The
bad-input tests write their own small `items.jsonl` under `tmp_path`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from realdata import shared_data_dir

from vlmbench.data import load_samples
from vlmbench.errors import DataError
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType, ImageRef

_REPO = Path(__file__).resolve().parents[1]

# task -> (folder under shared/data, number of real items there)
REAL = {
    "chartqa": ("chartqa", 40),
    "mathvista_testmini": ("mathvista", 40),
    "scienceqa_img": ("scienceqa", 40),
    "geometry3k": ("geometry3k", 5),
    "gqa_testdev_balanced": ("gqa", 3),
    "vcr": ("vcr", 1),
}
WITH_IMAGES = ["chartqa", "scienceqa_img", "geometry3k", "gqa_testdev_balanced"]


def raw_items(folder: str) -> list[dict[str, Any]]:
    path = shared_data_dir() / folder / "items.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


# --- real items ------------------------------------------------------------------------------------


@pytest.mark.parametrize("task", [t for t in REAL if t != "vcr"])
def test_every_real_item_loads_from_the_data_root_in_file_order(task: str) -> None:
    folder, count = REAL[task]
    samples = load_samples(get_task(task), shared_data_dir())
    assert len(samples) == count
    assert [s.id for s in samples] == [str(item["id"]) for item in raw_items(folder)]


@pytest.mark.parametrize("task", list(REAL))
def test_the_benchmark_folder_itself_is_accepted_as_data(task: str) -> None:
    folder, _ = REAL[task]
    from_root = load_samples(get_task(task), shared_data_dir())
    from_folder = load_samples(get_task(task), shared_data_dir() / folder)
    assert [s.id for s in from_folder] == [s.id for s in from_root]
    assert [s.answer for s in from_folder] == [s.answer for s in from_root]


@pytest.mark.parametrize("task", [t for t in REAL if t != "vcr"])
def test_question_answer_choices_and_type_are_the_items_own(task: str) -> None:
    folder, _ = REAL[task]
    for sample, item in zip(load_samples(get_task(task), shared_data_dir()), raw_items(folder), strict=True):
        assert sample.question == item["question"]
        assert sample.answer == item["answer"]
        assert sample.choices == item["choices"]
        assert sample.answer_type is AnswerType(item["answer_type"])
        assert sample.meta == item["meta"]


def test_the_vcr_item_becomes_a_q2a_and_a_qa2r_sample() -> None:
    (item,) = raw_items("vcr")
    q2a, qa2r = load_samples(get_task("vcr"), shared_data_dir())
    assert (q2a.id, qa2r.id) == ("val-1:q2a", "val-1:qa2r")
    assert q2a.question == item["question"] == "Does 1 live in this house?"
    assert q2a.choices == item["choices"]
    assert q2a.answer == item["answer"] and q2a.answer_index == item["meta"]["answer_label"] == 2
    assert qa2r.choices == item["meta"]["rationale_choices"]
    assert qa2r.answer == item["meta"]["rationale"]
    assert qa2r.answer_index == item["meta"]["rationale_label"] == 3
    assert f"Answer: {item['answer']}" in qa2r.question  # QA->R is asked with the gold answer
    assert {q2a.meta["vcr_subtask"], qa2r.meta["vcr_subtask"]} == {"q2a", "qa2r"}
    assert q2a.meta["annot_id"] == qa2r.meta["annot_id"] == "val-1"


@pytest.mark.parametrize("task", ["mathvista_testmini", "scienceqa_img", "geometry3k", "vcr"])
def test_multiple_choice_gold_index_agrees_with_the_answer_and_meta(task: str) -> None:
    samples = [s for s in load_samples(get_task(task), shared_data_dir()) if s.choices is not None]
    assert samples, f"{task}: expected multiple-choice items"
    for sample in samples:
        assert sample.answer_type is AnswerType.MULTIPLE_CHOICE
        assert sample.answer_index is not None
        assert sample.choices[sample.answer_index] == sample.answer, sample.id
        for key in ("answer_index", "answer_label"):
            if key in sample.meta:
                assert sample.meta[key] == sample.answer_index, (sample.id, key)
        if "answer_letter" in sample.meta:
            assert sample.meta["answer_letter"] == sample.answer_letter, sample.id


@pytest.mark.parametrize("task", WITH_IMAGES)
def test_images_are_file_references_that_decode_to_rgb_at_their_real_size(task: str) -> None:
    folder, _ = REAL[task]
    root = shared_data_dir() / folder
    for sample, item in zip(load_samples(get_task(task), shared_data_dir()), raw_items(folder), strict=True):
        (ref,) = sample.images
        assert isinstance(ref, ImageRef)
        assert Path(ref.path) == root / item["image"] and ref.data is None
        image = ref.load()
        assert image.mode == "RGB"
        with Image.open(root / item["image"]) as original:
            assert image.size == original.size
        if "img_width" in item["meta"]:  # Geometry3K records the diagram's size
            assert image.size == (item["meta"]["img_width"], item["meta"]["img_height"])


def test_loading_samples_does_not_open_any_image(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("an image was opened while loading samples")

    monkeypatch.setattr(Image, "open", refuse)
    samples = load_samples(get_task("chartqa"), shared_data_dir())
    assert all(len(s.images) == 1 for s in samples)


def test_items_without_an_available_image_have_no_image_reference() -> None:
    samples = load_samples(get_task("mathvista_testmini"), shared_data_dir())  # MathVista: images not shipped
    assert samples and all(s.images == [] for s in samples)


def test_limit_keeps_the_first_items() -> None:
    samples = load_samples(get_task("chartqa"), shared_data_dir(), limit=3)
    assert [s.id for s in samples] == [str(i["id"]) for i in raw_items("chartqa")[:3]]


# --- bad input -------------------------------------------------------------------------------------


def item(**overrides: Any) -> dict[str, Any]:
    """A well-formed multiple-choice test item (not a real benchmark item)."""
    base: dict[str, Any] = {
        "id": "t1",
        "question": "Which is larger?",
        "choices": ["2", "3"],
        "answer": "3",
        "answer_type": "multiple_choice",
        "image": None,
        "meta": {},
    }
    base.update(overrides)
    return base


def write_items(folder: Path, *lines: dict[str, Any] | str) -> Path:
    path = folder / "items.jsonl"
    text = [line if isinstance(line, str) else json.dumps(line) for line in lines]
    path.write_text("\n".join(text) + "\n", encoding="utf-8")
    return path


def load_error(folder: Path, task: str = "geometry3k") -> str:
    with pytest.raises(DataError) as err:
        load_samples(get_task(task), folder)
    return str(err.value)


def test_well_formed_test_items_load(tmp_path: Path) -> None:
    write_items(tmp_path, item(), "", item(id="t2", answer="2"))
    samples = load_samples(get_task("geometry3k"), tmp_path)
    assert [(s.id, s.answer_index) for s in samples] == [("t1", 1), ("t2", 0)]


def test_malformed_json_names_the_file_and_line_counting_blank_lines(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(), "", '{"id": "t2", "question": ')
    message = load_error(tmp_path)
    assert f"{path}:3:" in message
    assert "malformed JSON" in message


def test_a_line_that_is_not_an_object_names_the_file_and_line(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(), '["not", "an", "object"]')
    message = load_error(tmp_path)
    assert f"{path}:2:" in message and "JSON object" in message


def test_missing_answer_field_names_the_field_file_and_line(tmp_path: Path) -> None:
    bad = item(id="t2")
    del bad["answer"]
    path = write_items(tmp_path, item(), bad)
    message = load_error(tmp_path)
    assert f"{path}:2" in message
    assert "missing field 'answer'" in message


def test_duplicate_id_names_both_lines(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(id="same"), item(id="other"), item(id="same"))
    message = load_error(tmp_path)
    assert f"{path}:3:" in message
    assert "duplicate id 'same'" in message and "line 1" in message


def test_unknown_answer_type_names_the_value_file_and_line(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(choices=None, answer="4", answer_type="essay"))
    message = load_error(tmp_path, task="chartqa")
    assert f"{path}:1" in message
    assert "'essay'" in message and "integer" in message  # lists the known types


def test_per_item_task_requires_an_answer_type_on_each_item(tmp_path: Path) -> None:
    bad = item(choices=None, answer="4")
    del bad["answer_type"]
    path = write_items(tmp_path, bad)
    message = load_error(tmp_path, task="chartqa")
    assert f"{path}:1" in message and "answer_type" in message


def test_task_answer_type_is_the_default_for_items_without_one(tmp_path: Path) -> None:
    plain = item()
    del plain["answer_type"]
    write_items(tmp_path, plain)
    (sample,) = load_samples(get_task("geometry3k"), tmp_path)
    assert sample.answer_type is AnswerType.MULTIPLE_CHOICE


def test_multiple_choice_answer_not_among_the_choices_is_an_error(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(answer="5"))
    message = load_error(tmp_path)
    assert f"{path}:1" in message
    assert "'5'" in message and "choices" in message


def test_multiple_choice_answer_contradicting_meta_answer_index_is_an_error(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(answer="3", meta={"answer_index": 0}))
    message = load_error(tmp_path)
    assert f"{path}:1" in message
    assert "'3'" in message and "'2'" in message


def test_missing_image_file_fails_only_when_loaded_naming_the_image(tmp_path: Path) -> None:
    """Listing and scoring never need pixels; an eval fails that one sample (see test_runner)."""
    write_items(tmp_path, item(), item(id="t2", image="images/nowhere.png"))
    _, missing = load_samples(get_task("geometry3k"), tmp_path)
    with pytest.raises(DataError) as err:
        missing.images[0].load()
    assert str(tmp_path / "images" / "nowhere.png") in str(err.value)
    assert "not found" in str(err.value)


def test_corrupt_image_fails_on_load_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    garbage = tmp_path / "images" / "broken.png"
    garbage.write_bytes(b"\x89PNG this is not really a png" * 10)
    write_items(tmp_path, item(image="images/broken.png"))
    (sample,) = load_samples(get_task("geometry3k"), tmp_path)  # lazy: listing does not decode
    with pytest.raises(DataError) as err:
        sample.images[0].load()
    assert str(garbage) in str(err.value)


def test_a_good_image_beside_the_items_loads_as_rgb(tmp_path: Path) -> None:
    (tmp_path / "images").mkdir()
    Image.new("L", (17, 9), 128).save(tmp_path / "images" / "grey.png")  # generated stand-in
    write_items(tmp_path, item(image="images/grey.png"))
    (sample,) = load_samples(get_task("geometry3k"), tmp_path)
    image = sample.images[0].load()
    assert (image.mode, image.size) == ("RGB", (17, 9))


def test_no_items_file_is_an_error_naming_where_it_looked(tmp_path: Path) -> None:
    message = load_error(tmp_path)
    assert "items.jsonl" in message and str(tmp_path) in message


def test_bytes_that_are_not_utf8_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = write_items(tmp_path, item(), "")
    path.write_bytes(path.read_bytes() + b'{"id": "t2", "question": "caf\xe9?"}\n')
    message = load_error(tmp_path)
    assert f"{path}:3: not valid UTF-8 (byte 0xe9 at column 30)" in message


def test_non_utf8_items_exit_2_from_the_cli_naming_file_and_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from vlmbench.cli import app

    path = write_items(tmp_path, item(answer_type=None, choices=None, answer="4"))
    path.write_bytes(b'{"id": "x\xff"}\n' + path.read_bytes())
    preds = tmp_path / "p.jsonl"
    preds.write_text('{"id": "t1", "prediction": "4"}\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["score", "-t", "chartqa", "-d", str(tmp_path), "-p", str(preds)])
    assert result.exit_code == 2, result.output
    assert f"{path}:1: not valid UTF-8" in result.output.replace("\n", "")
