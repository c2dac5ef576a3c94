"""The lm-evaluation-harness `--log_samples` importer, on lines written field for field as
`evaluation_tracker.save_results_samples` writes them (`doc` kept, `arguments` as `gen_args_<i>`, one
line per document and filter), with the shared items' ids and gold answers and invented responses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import load_shared_items

from vlmbench.importers import ForeignFileError, ImportOptions, read_foreign

GQA = [s.id for s in load_shared_items("gqa")]
CHARTQA = [s.id for s in load_shared_items("chartqa")]


def line(doc_id: int, doc: dict, raw: str, filtered: str, filter_name: str, score: float) -> dict:
    return {
        "doc_id": doc_id,
        "doc": doc,
        "target": doc.get("answer", ""),
        "arguments": {"gen_args_0": {"arg_0": "Question: ...", "arg_1": {"until": ["\n\n"]}}},
        "resps": [[raw]],
        "filtered_resps": [filtered],
        "filter": filter_name,
        "metrics": ["exact_match"],
        "doc_hash": "d",
        "prompt_hash": "p",
        "target_hash": "t",
        "exact_match": score,
    }


GQA_DOC = {"id": "00126851", "question": "Are there carts near the pond?", "answer": "yes"}


def write(path: Path, lines: list[dict]) -> Path:
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_reads_the_doc_id_the_raw_generation_and_the_filtered_answer(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.jsonl", [line(0, GQA_DOC, "Final Answer: yes", "yes", "flexible-extract", 1.0)]
    )
    (sample,) = read_foreign("lm-eval", path, GQA).samples
    assert (sample.id, sample.response, sample.extraction, sample.verdict) == (
        "00126851",
        "Final Answer: yes",
        "yes",
        1.0,
    )


def two_filters(tmp_path: Path) -> Path:
    return write(
        tmp_path / "s.jsonl",
        [
            line(0, GQA_DOC, "Final Answer: yes", "[invalid]", "strict-match", 0.0),
            line(0, GQA_DOC, "Final Answer: yes", "yes", "flexible-extract", 1.0),
        ],
    )


def test_a_file_with_several_filters_needs_one_chosen(tmp_path: Path) -> None:
    path = two_filters(tmp_path)
    with pytest.raises(ForeignFileError, match=r"2 filters \(strict-match, flexible-extract\): choose one"):
        read_foreign("lm-eval", path, GQA)
    (strict,) = read_foreign("lm-eval", path, GQA, ImportOptions(filter="strict-match")).samples
    assert (strict.extraction, strict.verdict) == ("[invalid]", 0.0)
    with pytest.raises(ForeignFileError, match="no lines for filter 'none'"):
        read_foreign("lm-eval", path, GQA, ImportOptions(filter="none"))


def test_documents_without_an_id_map_by_position_only_when_asked(tmp_path: Path) -> None:
    doc = {"query": "How many food item is shown in the bar graph?", "label": ["14"], "human_or_machine": 0}
    path = write(tmp_path / "s.jsonl", [line(0, doc, "14", "14", "none", 1.0)])
    with pytest.raises(ForeignFileError, match=r"s\.jsonl:1: no item id"):
        read_foreign("lm-eval", path, CHARTQA)
    (sample,) = read_foreign("lm-eval", path, CHARTQA, ImportOptions(by_position=True)).samples
    assert sample.id == "test_human/0"


def test_loglikelihood_lines_are_refused(tmp_path: Path) -> None:
    scored = line(0, GQA_DOC, "", "", "none", 1.0)
    scored["resps"] = [[["-1.25", "False"]], [["-3.5", "False"]]]
    scored["filtered_resps"] = [["-1.25", "False"], ["-3.5", "False"]]
    with pytest.raises(ForeignFileError, match=r"s\.jsonl:1: loglikelihood scores, not generated text"):
        read_foreign("lm-eval", write(tmp_path / "s.jsonl", [scored]), GQA)


def test_repeated_numeric_generations_are_not_taken_for_loglikelihoods(tmp_path: Path) -> None:
    repeated = line(0, GQA_DOC, "", "12", "none", 0.0)
    repeated["resps"] = [["12", "15"]]
    (sample,) = read_foreign("lm-eval", write(tmp_path / "s.jsonl", [repeated]), GQA).samples
    assert sample.response == "12"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("not json\n", r"s\.jsonl:1: malformed JSON .* lm-eval --log_samples"),
        ('{"doc_id": 0, "filtered_resps": ["yes"]}\n', r"s\.jsonl:1: missing field 'resps'"),
    ],
)
def test_bad_lines_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(text)
    with pytest.raises(ForeignFileError, match=message):
        read_foreign("lm-eval", path, GQA)
