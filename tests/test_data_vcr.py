"""VCR's official `val.jsonl` layout (`vlmbench.data.vcr.load_official`) and the Q->A / QA->R split.

The annotation line is rebuilt from the real shared item (`shared/data/vcr/items.jsonl`, annotation
`val-1`), whose meta keeps the official token lists (`question_tokens`, `answer_choices_tokens`,
`rationale_choices_tokens`), `objects`, labels, `img_fn` and `metadata_fn`. VCR frames are distributed only
under VCR's terms of use and are not redistributable, so the image is a generated stand-in and the box
file (`boxes` as [x1, y1, x2, y2, score], `width`, `height`, as in the release) holds made-up boxes.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmbench.data import load_samples, vcr
from vlmbench.errors import DataError
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType, Sample

_REPO = Path(__file__).resolve().parents[1]
WIDTH, HEIGHT = 320, 200
BACKGROUND = (200, 200, 200)
# one box per object (person, person, person, car, cellphone, clock), apart from each other
BOXES = [
    [10, 20, 90, 180, 0.99],
    [110, 20, 190, 180, 0.98],
    [210, 20, 300, 120, 0.97],
    [210, 140, 300, 190, 0.96],
    [5, 185, 25, 198, 0.5],
    [150, 2, 170, 15, 0.4],
]


def real_item() -> dict[str, Any]:
    for candidate in (
        os.environ.get("VLMBENCH_SHARED_DATA"),
        _REPO / "shared" / "data",
        _REPO.parent / "shared" / "data",
    ):
        path = Path(candidate) / "vcr" / "items.jsonl" if candidate else None
        if path is not None and path.is_file():
            return json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    pytest.skip("no shared/data/vcr with the real VCR item")


def official_line(item: dict[str, Any]) -> dict[str, Any]:
    """The real item as a line of the official val.jsonl (token lists, labels, file names)."""
    meta = item["meta"]
    line = {
        "annot_id": meta["annot_id"],
        "question": meta["question_tokens"],
        "answer_choices": meta["answer_choices_tokens"],
        "rationale_choices": meta["rationale_choices_tokens"],
    }
    for key in (
        "movie", "objects", "img_fn", "metadata_fn", "answer_label", "rationale_label", "img_id",
        "question_number", "question_orig", "answer_orig", "rationale_orig", "answer_likelihood",
        "interesting_scores", "answer_sources", "answer_match_iter", "rationale_sources",
        "rationale_match_iter", "match_fold", "match_index",
    ):  # fmt: skip
        line[key] = meta[key]
    return line


def write_release(root: Path, lines: list[dict[str, Any]], image: bool = True) -> Path:
    """val.jsonl + vcr1images/<img_fn> (stand-in) + vcr1images/<metadata_fn> under root."""
    images = root / "vcr1images"
    for line in lines:
        frame = images / line["img_fn"]
        frame.parent.mkdir(parents=True, exist_ok=True)
        if image:
            Image.new("RGB", (WIDTH, HEIGHT), BACKGROUND).save(frame.with_suffix(".png"), "PNG")
            frame.with_suffix(".png").rename(frame)  # lossless pixels under the release's .jpg name
        (images / line["metadata_fn"]).write_text(
            json.dumps({"boxes": BOXES, "width": WIDTH, "height": HEIGHT, "names": line["objects"]})
        )
    path = root / "val.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    return path


@pytest.fixture
def item() -> dict[str, Any]:
    return real_item()


def load_one(tmp_path: Path, line: dict[str, Any], **kwargs: Any) -> Sample:
    path = write_release(tmp_path, [line])
    (sample,) = vcr.load_official(path, tmp_path / "vcr1images", **kwargs)
    return sample


# --- text ------------------------------------------------------------------------------------------


def test_references_render_as_one_based_numbers_matching_the_original_strings(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    line = official_line(item)
    sample = load_one(tmp_path, line)
    assert sample.id == "val-1"
    assert sample.question == line["question_orig"] == "Does 1 live in this house?"
    assert sample.choices == item["choices"]
    assert sample.answer == line["answer_orig"] == "No, 1 is a visitor."
    assert sample.answer_index == 2
    assert sample.meta["rationale"] == line["rationale_orig"]
    assert sample.meta["rationale_choices"] == item["meta"]["rationale_choices"]
    assert sample.answer_type is AnswerType.MULTIPLE_CHOICE


def test_name_style_gives_gender_neutral_names_in_order_of_first_mention(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    sample = load_one(tmp_path, official_line(item), style="name")
    # persons in order of first mention: [0] in the question, [1] in answer 4, [2] in rationale 2
    assert sample.question == "Does Casey live in this house?"
    assert sample.choices[3] == "No Riley does not belong here."
    assert sample.meta["rationale_choices"][1].startswith("Jessie sits comfortably in a chair")
    assert "it seems Casey has just arrived" in sample.meta["rationale_choices"][1]


def test_name_style_uses_the_class_for_objects_that_are_not_people(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    line = official_line(item)
    # a modified copy of rationale 4: "a car" becomes a reference to object 3 (a car), plus a group
    line["rationale_choices"][3] = [[0], "is", "wearing", "outerwear", "and", "there", "is", "a", [3], "."]
    line["question"] = ["Do", [0, 1, 2], "know", [4], "?"]
    by_name = load_one(tmp_path / "n", line, style="name")
    by_number = load_one(tmp_path / "k", line)
    assert by_name.question == "Do Casey, Riley and Jessie know cellphone?"
    assert by_name.meta["rationale_choices"][3] == "Casey is wearing outerwear and there is a car."
    assert by_number.question == "Do 1, 2 and 3 know 5?"
    assert by_number.meta["rationale_choices"][3] == "1 is wearing outerwear and there is a 4."


# --- image and boxes -------------------------------------------------------------------------------


def test_referenced_objects_get_labelled_boxes_drawn_on_the_frame(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    line = official_line(item)
    sample = load_one(tmp_path, line)
    (ref,) = sample.images
    assert Path(ref.path) == tmp_path / "vcr1images" / line["img_fn"]
    # objects 0, 1, 2 are mentioned; 3 (car), 4 (cellphone), 5 (clock) are not
    assert [label for label, _ in ref.boxes] == ["1", "2", "3"]
    assert [list(box) for _, box in ref.boxes] == [[float(v) for v in b[:4]] for b in BOXES[:3]]
    drawn = ref.load()
    with Image.open(ref.path) as raw:
        plain = raw.convert("RGB")
    assert (drawn.mode, drawn.size) == ("RGB", (WIDTH, HEIGHT))
    for x1, y1, x2, y2, _ in BOXES[:3]:
        middle = (y1 + y2) // 2
        assert drawn.getpixel((x1, middle)) != plain.getpixel((x1, middle))  # left edge
        assert drawn.getpixel((x2, middle)) != plain.getpixel((x2, middle))  # right edge
        assert drawn.getpixel(((x1 + x2) // 2, y2)) != plain.getpixel(((x1 + x2) // 2, y2))  # bottom edge
        inside = drawn.getpixel(((x1 + x2) // 2, middle))
        assert inside == plain.getpixel(((x1 + x2) // 2, middle)) == BACKGROUND  # an outline, not a fill
        label_patch = [drawn.getpixel((x, y)) for x in range(x1, x1 + 12) for y in range(y1, y1 + 12)]
        assert any(min(pixel) >= 240 for pixel in label_patch)  # whitish label text on the box's colour
    x1, y1, x2, y2, _ = BOXES[3]  # the unmentioned car: no box
    assert drawn.getpixel((x1, (y1 + y2) // 2)) == BACKGROUND


def test_boxes_carry_names_in_name_style(tmp_path: Path, item: dict[str, Any]) -> None:
    sample = load_one(tmp_path, official_line(item), style="name")
    assert [label for label, _ in sample.images[0].boxes] == ["Casey", "Riley", "Jessie"]


def test_boxes_can_be_left_off(tmp_path: Path, item: dict[str, Any]) -> None:
    sample = load_one(tmp_path, official_line(item), draw_boxes=False)
    (ref,) = sample.images
    assert ref.boxes == ()
    with Image.open(ref.path) as raw:
        assert ref.load().tobytes() == raw.convert("RGB").tobytes()


# --- Q->A and QA->R ----------------------------------------------------------------------------------


def test_expand_yields_q2a_and_qa2r_with_the_gold_answer_in_the_rationale_question(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    sample = load_one(tmp_path, official_line(item))
    q2a, qa2r = vcr.expand(sample)
    assert (q2a.id, qa2r.id) == ("val-1:q2a", "val-1:qa2r")
    assert (q2a.question, q2a.choices, q2a.answer) == (sample.question, sample.choices, sample.answer)
    assert q2a.answer_index == 2 and q2a.meta["vcr_subtask"] == "q2a"
    assert qa2r.question.startswith(sample.question)
    assert "Answer: No, 1 is a visitor." in qa2r.question
    assert qa2r.choices == sample.meta["rationale_choices"]
    assert qa2r.answer == item["meta"]["rationale_orig"] and qa2r.answer_index == 3
    assert qa2r.meta["vcr_subtask"] == "qa2r" and qa2r.meta["annot_id"] == q2a.meta["annot_id"] == "val-1"
    assert qa2r.meta["answer_label"] == 3  # meta names the rationale gold, not the answer's
    assert q2a.images == qa2r.images == sample.images


def test_expand_needs_the_rationales() -> None:
    bare = Sample(id="x", question="q?", answer="a", answer_type="multiple_choice", choices=["a", "b"])
    with pytest.raises(DataError, match="rationale"):
        vcr.expand(bare)


def test_load_samples_finds_val_jsonl_and_vcr1images_without_items_jsonl(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    write_release(tmp_path, [official_line(item)])
    assert not (tmp_path / "items.jsonl").exists()
    q2a, qa2r = load_samples(get_task("vcr"), tmp_path)
    assert (q2a.id, qa2r.id) == ("val-1:q2a", "val-1:qa2r")
    assert q2a.question == "Does 1 live in this house?"
    assert "Answer: No, 1 is a visitor." in qa2r.question
    assert [label for label, _ in q2a.images[0].boxes] == ["1", "2", "3"]


# --- errors -----------------------------------------------------------------------------------------


def test_test_split_lines_without_labels_are_an_error(tmp_path: Path, item: dict[str, Any]) -> None:
    line = official_line(item)
    del line["answer_label"], line["rationale_label"]
    path = write_release(tmp_path, [line])
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert f"{path}:1" in str(err.value) and "answer_label" in str(err.value)


def test_missing_image_file_is_an_error_naming_the_line_and_file(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    first = official_line(item)
    second = {**official_line(item), "annot_id": "val-2", "img_fn": "lsmdc_none/absent@0.jpg"}
    path = write_release(tmp_path, [first])
    path.write_text(path.read_text() + json.dumps(second) + "\n")
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert f"{path}:2" in str(err.value) and "absent@0.jpg" in str(err.value)


def test_missing_box_metadata_is_an_error(tmp_path: Path, item: dict[str, Any]) -> None:
    line = official_line(item)
    path = write_release(tmp_path, [line])
    (tmp_path / "vcr1images" / line["metadata_fn"]).unlink()
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert f"{path}:1" in str(err.value) and "metadata" in str(err.value)


def test_duplicate_annot_id_names_both_lines(tmp_path: Path, item: dict[str, Any]) -> None:
    line = official_line(item)
    path = write_release(tmp_path, [line, line])
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert f"{path}:2:" in str(err.value) and "line 1" in str(err.value) and "'val-1'" in str(err.value)


def test_a_line_without_its_token_lists_names_the_missing_field(tmp_path: Path, item: dict[str, Any]) -> None:
    line = official_line(item)
    del line["rationale_choices"]
    path = write_release(tmp_path, [line])
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert f"{path}:1" in str(err.value) and "'rationale_choices'" in str(err.value)


# --- paths stay under the image folder -------------------------------------------------------------


@pytest.mark.parametrize("key", ["img_fn", "metadata_fn"])
@pytest.mark.parametrize("way", ["dotdot", "absolute", "symlink"])
def test_a_frame_or_box_file_outside_the_image_folder_fails_only_that_item(
    tmp_path: Path, item: dict[str, Any], key: str, way: str
) -> None:
    secret = tmp_path / "secret.json"
    secret.write_text(json.dumps({"boxes": BOXES}))
    good = official_line(item)
    path = write_release(tmp_path / "release", [good])
    images = tmp_path / "release" / "vcr1images"
    (images / "link").symlink_to(secret)
    name = {"dotdot": "../../secret.json", "absolute": str(secret), "symlink": "link"}[way]
    evil = {**good, "annot_id": "val-2", key: name}
    path.write_text(path.read_text() + json.dumps(evil) + "\n")
    kept, refused = vcr.load_official(path, images)  # the file loads: one item is refused, not the run
    assert kept.images[0].load().size == (WIDTH, HEIGHT)
    with pytest.raises(DataError) as err:
        refused.images[0].load()
    message = str(err.value)
    assert f"{path}:2" in message and "'val-2'" in message and key in message and "outside" in message


def test_an_image_folder_symlinked_out_of_the_release_is_refused_naming_the_task_file(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    write_release(tmp_path / "elsewhere", [official_line(item)])
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "val.jsonl").write_text((tmp_path / "elsewhere" / "val.jsonl").read_text())
    (tmp_path / "data" / "vcr1images").symlink_to(tmp_path / "elsewhere" / "vcr1images")
    with pytest.raises(DataError) as err:
        load_samples(get_task("vcr"), tmp_path / "data")
    assert str(_REPO / "tasks" / "vcr.yaml") in str(err.value) and "images_dir" in str(err.value)


def test_box_metadata_that_is_not_utf8_is_an_error_naming_the_file(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    line = official_line(item)
    path = write_release(tmp_path, [line])
    (tmp_path / "vcr1images" / line["metadata_fn"]).write_bytes(b'{"boxes": "\xff"}')
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert line["metadata_fn"] in str(err.value) and "UTF-8" in str(err.value)


def test_a_val_jsonl_that_is_not_utf8_is_an_error_naming_the_line(
    tmp_path: Path, item: dict[str, Any]
) -> None:
    path = write_release(tmp_path, [official_line(item)])
    path.write_bytes(path.read_bytes() + b'{"annot_id": "caf\xe9"}\n')
    with pytest.raises(DataError) as err:
        vcr.load_official(path, tmp_path / "vcr1images")
    assert f"{path}:2:" in str(err.value) and "not valid UTF-8" in str(err.value)
