"""VCR (Visual Commonsense Reasoning): the official `val.jsonl` layout, and the Q->A / QA->R split.

Official lines hold token lists in which an object reference is a list of indices into `objects`
(`["Is", [0, 1], "happy", "?"]`). References render as text in one of two styles:
- `number` (default): 1-based indices, "1 and 2" - the style of VCR's own `question_orig` strings, and
  the labels drawn on boxes, so text and picture agree;
- `name`: people get gender-neutral names in order of first mention (r2c's convention), other objects
  their class ("car").
Each annotation becomes two samples, `<annot_id>:q2a` and `<annot_id>:qa2r`; the rationale prompt
carries the gold answer, as the benchmark defines QA->R.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from vlmbench.data.local import read_jsonl
from vlmbench.data.paths import inside
from vlmbench.errors import DataError, located, utf8_text
from vlmbench.schema import AnswerType, Box, ImageRef, Sample

GENDER_NEUTRAL_NAMES = (
    "Casey",
    "Riley",
    "Jessie",
    "Jackie",
    "Avery",
    "Jaime",
    "Peyton",
    "Kerry",
    "Jody",
    "Kendall",
    "Skyler",
    "Frankie",
    "Pat",
    "Quinn",
)
RefStyle = Literal["number", "name"]


class RefRenderer:
    """Renders object references consistently across a question, its answers and rationales."""

    def __init__(self, objects: list[str], style: RefStyle = "number") -> None:
        self.objects = objects
        self.style = style
        self.names: dict[int, str] = {}

    def label(self, index: int) -> str:
        if self.style == "number":
            return str(index + 1)
        kind = self.objects[index] if index < len(self.objects) else "object"
        if kind != "person":
            return kind
        if index not in self.names:
            self.names[index] = GENDER_NEUTRAL_NAMES[len(self.names) % len(GENDER_NEUTRAL_NAMES)]
        return self.names[index]

    def render(self, tokens: list[Any]) -> str:
        words: list[str] = []
        for token in tokens:
            if isinstance(token, list):
                labels = [self.label(int(i)) for i in token]
                words.append(labels[0] if len(labels) == 1 else ", ".join(labels[:-1]) + " and " + labels[-1])
            else:
                words.append(str(token))
        text = " ".join(words)
        for mark in (" ,", " .", " ?", " !", " '", " ;", " :"):
            text = text.replace(mark, mark.strip())
        return text.replace(" n't", "n't")


def referenced(tokens_lists: list[list[Any]]) -> list[int]:
    seen: list[int] = []
    for tokens in tokens_lists:
        for token in tokens:
            if isinstance(token, list):
                seen.extend(int(i) for i in token if int(i) not in seen)
    return seen


def _boxes(metadata_path: Path, indices: list[int], renderer: RefRenderer, where: str) -> tuple[Box, ...]:
    try:
        meta = json.loads(utf8_text(metadata_path.read_bytes(), metadata_path))
    except FileNotFoundError:
        raise DataError(f"{where}: box metadata not found: {metadata_path}") from None
    except json.JSONDecodeError as err:
        raise DataError(located(metadata_path, err.lineno, f"malformed JSON ({err.msg})")) from None
    boxes = meta.get("boxes") or []
    return tuple(
        (renderer.label(i), tuple(float(v) for v in boxes[i][:4]))  # type: ignore[misc]
        for i in indices
        if i < len(boxes)
    )


def _line_image(
    line: dict[str, Any], images_dir: Path, renderer: RefRenderer, where: str, draw: bool
) -> ImageRef:
    """The line's frame, boxes drawn when asked. A frame or box file named outside `images_dir` (`..`,
    an absolute path, a symlink) is refused for this item only: its `load()` fails naming the item."""
    names = {
        "img_fn": line["img_fn"],
        **({"metadata_fn": line["metadata_fn"]} if draw and line.get("metadata_fn") else {}),
    }
    paths: dict[str, Path] = {}
    for key, name in names.items():
        path = inside(images_dir, name) if isinstance(name, str) else None
        if path is None:
            return ImageRef(
                refused=f"{where}: {key} {name!r} is outside the image folder {images_dir}; refused"
            )
        paths[key] = path
    if not paths["img_fn"].is_file():
        raise DataError(f"{where}: image file not found: {paths['img_fn']}")
    boxes: tuple[Box, ...] = ()
    if "metadata_fn" in paths:
        used = referenced([line["question"], *line["answer_choices"], *line["rationale_choices"]])
        boxes = _boxes(paths["metadata_fn"], used, renderer, where)
    return ImageRef(path=str(paths["img_fn"]), boxes=boxes)


def official_line_to_item(
    line: dict[str, Any], images_dir: Path | None, where: str, style: RefStyle, draw: bool
) -> tuple[dict[str, Any], list[ImageRef]]:
    """An official val.jsonl line as a local-format item (+ its image, boxes drawn when asked)."""
    for key in ("annot_id", "question", "answer_choices", "rationale_choices", "objects"):
        if key not in line:
            raise DataError(f"{where}: missing field {key!r}")
    renderer = RefRenderer(list(line["objects"]), style)
    question = renderer.render(line["question"])
    answers = [renderer.render(a) for a in line["answer_choices"]]
    rationales = [renderer.render(r) for r in line["rationale_choices"]]
    answer_label, rationale_label = line.get("answer_label"), line.get("rationale_label")
    if answer_label is None or rationale_label is None:
        raise DataError(f"{where}: no answer_label / rationale_label (the test split is scored online only)")
    images: list[ImageRef] = []
    if images_dir is not None and line.get("img_fn"):
        images.append(
            _line_image(line, images_dir, renderer, f"{where} (annot_id {line['annot_id']!r})", draw)
        )
    item = {
        "id": line["annot_id"],
        "question": question,
        "choices": answers,
        "answer": answers[answer_label],
        "answer_type": "multiple_choice",
        "meta": {
            "answer_label": answer_label,
            "rationale_choices": rationales,
            "rationale_label": rationale_label,
            "rationale": rationales[rationale_label],
            "objects": line["objects"],
            "movie": line.get("movie"),
            "img_fn": line.get("img_fn"),
        },
    }
    return item, images


def expand(sample: Sample) -> list[Sample]:
    """One VCR item -> its Q->A sample and its QA->R sample (gold answer in the question)."""
    meta = sample.meta
    for key in ("rationale_choices", "rationale_label"):
        if key not in meta:
            raise DataError(f"VCR item {sample.id!r}: meta lacks {key!r}, needed for QA->R")
    rationales = [str(r) for r in meta["rationale_choices"]]
    label = int(meta["rationale_label"])
    common = {k: v for k, v in meta.items() if k not in ("rationale_choices",)}
    q2a = Sample(
        id=f"{sample.id}:q2a",
        question=sample.question,
        answer=sample.answer,
        answer_type=AnswerType.MULTIPLE_CHOICE,
        images=sample.images,
        choices=sample.choices,
        meta={**common, "annot_id": sample.id, "vcr_subtask": "q2a"},
        answer_index=sample.answer_index,
    )
    qa2r = Sample(
        id=f"{sample.id}:qa2r",
        question=f"{sample.question}\nAnswer: {sample.answer}\nWhy is this answer right?",
        answer=rationales[label],
        answer_type=AnswerType.MULTIPLE_CHOICE,
        images=sample.images,
        choices=rationales,
        # the qa2r gold is the rationale: meta's answer_label/answer_index must point at it, not at the answer
        meta={
            **{k: v for k, v in common.items() if k != "answer_index"},
            "answer_label": label,
            "gold_answer": sample.answer,
            "annot_id": sample.id,
            "vcr_subtask": "qa2r",
        },
        answer_index=label,
    )
    return [q2a, qa2r]


def load_official(
    path: Path, images_dir: Path | None, style: RefStyle = "number", draw_boxes: bool = True
) -> list[Sample]:
    from vlmbench.data.local import item_to_sample

    samples: list[Sample] = []
    seen: dict[str, int] = {}
    for number, line in read_jsonl(path):
        where = located(path, number, "").rstrip(": ")
        item, images = official_line_to_item(line, images_dir, where, style, draw_boxes)
        if item["id"] in seen:
            raise DataError(
                located(path, number, f"duplicate annot_id {item['id']!r} (line {seen[item['id']]})")
            )
        seen[item["id"]] = number
        sample = item_to_sample(item, path.parent, where)
        sample.images = images
        samples.append(sample)
    return samples
