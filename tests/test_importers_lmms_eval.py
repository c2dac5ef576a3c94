"""The lmms-eval `--log_samples` importer, on lines written field for field as lmms-eval's
`evaluation_tracker.save_results_samples` writes them (`doc` and `arguments` dropped, `resps` dropped
when it equals `filtered_resps`, before and after PR #1103's flattening), with the shared items'
ids and gold answers and invented responses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import load_shared_items

from vlmbench.importers import ForeignFileError, ImportOptions, read_foreign

MATHVISTA = [s.id for s in load_shared_items("mathvista")]
CHARTQA = [s.id for s in load_shared_items("chartqa")]
GQA = [s.id for s in load_shared_items("gqa")]
HASHES = {"doc_hash": "d0", "prompt_hash": "p0", "target_hash": "t0"}


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def mathvista_line(doc_id: int, pid: str, response, extraction: str, true_false: bool) -> dict:
    """`mathvista_process_results` returns the same dict under both of the task's metrics."""
    result = {
        "question_id": pid,
        "query": "Hint: ...",
        "choices": None,
        "answer": "4",
        "extraction": extraction,
        "prediction": extraction,
        "true_false": true_false,
        "question_type": "free_form",
        "answer_type": "integer",
        "precision": 0,
        "metadata": {"split": "testmini"},
    }
    return {
        "doc_id": doc_id,
        "target": "4",
        "filtered_resps": response,
        **HASHES,
        "input": "Hint: ...",
        "gpt_eval_score": result,
        "submission": result,
    }


@pytest.mark.parametrize("shape", ["flat", "nested"], ids=["after PR 1103", "before PR 1103"])
def test_mathvista_lines_carry_the_pid_the_extraction_and_the_verdict(tmp_path: Path, shape: str) -> None:
    response = "There are 3 objects left." if shape == "flat" else ["There are 3 objects left."]
    path = write(tmp_path / "s.jsonl", [mathvista_line(517, "4", response, "3", False)])
    (sample,) = read_foreign("lmms-eval", path, MATHVISTA).samples
    assert sample.id == "4"  # from question_id, not doc_id (a dataset position)
    assert sample.response == "There are 3 objects left."  # no `resps`: filtered_resps is the raw text
    assert (sample.extraction, sample.verdict) == ("3", 0.0)


def test_a_filtered_answer_is_the_extraction_and_resps_the_raw_response(tmp_path: Path) -> None:
    line = {
        "doc_id": 0,
        "target": "yes",
        "filtered_resps": ["yes"],
        "resps": [["Yes, there is a cart."]],
        **HASHES,
        "input": "Are there carts near the pond?",
        "exact_match": 1.0,
        "doc": {"id": "00126851", "question": "Are there carts near the pond?", "answer": "yes"},
    }
    (sample,) = read_foreign("lmms-eval", write(tmp_path / "s.jsonl", [line]), GQA).samples
    assert (sample.id, sample.response, sample.extraction, sample.verdict) == (
        "00126851",
        "Yes, there is a cart.",
        "yes",
        1.0,
    )


def chartqa_line(doc_id: int, response: str, score: float) -> dict:
    return {
        "doc_id": doc_id,
        "target": "14",
        "filtered_resps": [response],
        **HASHES,
        "input": "How many food item is shown in the bar graph?\nAnswer the question with a single word.",
        "relaxed_overall": score,
        "relaxed_human_split": score,
    }


def test_a_file_without_item_ids_needs_by_position(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [chartqa_line(0, "14", 1.0)])
    with pytest.raises(ForeignFileError, match=r"s\.jsonl:1: no item id .* --by-position"):
        read_foreign("lmms-eval", path, CHARTQA)
    (sample,) = read_foreign("lmms-eval", path, CHARTQA, ImportOptions(by_position=True)).samples
    assert (sample.id, sample.verdict) == ("test_human/0", 1.0)  # the first metric is the verdict


def test_a_position_past_the_task_data_is_unknown(tmp_path: Path) -> None:
    path = write(tmp_path / "s.jsonl", [chartqa_line(0, "14", 1.0), chartqa_line(2499, "3", 0.0)])
    with pytest.raises(ForeignFileError, match=r"s\.jsonl:2: id '#2499' is not a sample"):
        read_foreign("lmms-eval", path, CHARTQA, ImportOptions(by_position=True))
    read = read_foreign("lmms-eval", path, CHARTQA, ImportOptions(by_position=True, skip_unknown=True))
    assert [s.id for s in read.samples] == ["test_human/0"] and read.unknown_ids == ["#2499"]


def test_a_repeated_sample_names_both_lines(tmp_path: Path) -> None:
    lines = [mathvista_line(0, "4", "3", "3", False), mathvista_line(1, "4", "4", "4", True)]
    with pytest.raises(ForeignFileError, match=r"s\.jsonl:2: duplicate id '4' \(first at .*s\.jsonl:1\)"):
        read_foreign("lmms-eval", write(tmp_path / "s.jsonl", lines), MATHVISTA)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"doc_id": 0, "filtered_resps": ["3"]\n', r"s\.jsonl:1: malformed JSON .* lmms-eval --log_samples"),
        ('{"doc_id": 0, "target": "4"}\n', r"s\.jsonl:1: missing field 'filtered_resps'"),
        ('{"4": {"response": "3"}}\n', r"s\.jsonl:1: missing field 'doc_id'"),  # a MathVista results file
    ],
)
def test_bad_lines_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(text)
    with pytest.raises(ForeignFileError, match=message):
        read_foreign("lmms-eval", path, MATHVISTA)
