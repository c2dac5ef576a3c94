"""The MathVista results importer, on files shaped field for field like lupantech/MathVista
`results/<model>/output_<model>.json` (pids and gold answers of the shared items; responses invented)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from realdata import load_shared_items

from vlmbench.importers import ForeignFileError, ImportOptions, read_foreign

IDS = [s.id for s in load_shared_items("mathvista")]


def entry(pid: str, response: str, **fields) -> dict:
    """One published entry: the problem fields, then what the authors' pipeline adds."""
    return {
        "question": "...",
        "image": f"images/{pid}.jpg",
        "choices": None,
        "unit": None,
        "precision": None,
        "answer": "4",
        "question_type": "free_form",
        "answer_type": "integer",
        "pid": pid,
        "metadata": {"split": "testmini", "language": "english", "skills": ["arithmetic reasoning"]},
        "query": "Hint: ...",
        "response": response,
        **fields,
    }


def write(path: Path, entries: dict) -> Path:
    path.write_text(json.dumps(entries, indent=2))  # indented, as the repository publishes them
    return path


def test_reads_response_extraction_and_verdict_per_pid(tmp_path: Path) -> None:
    path = write(
        tmp_path / "output_m.json",
        {
            "4": entry("4", "There are 3 objects left.", extraction="3", prediction="3", true_false=False),
            "24": entry("24", "The answer is (B) no.", extraction="B", prediction="no", true_false=True),
        },
    )
    read = read_foreign("mathvista", path, IDS)
    by_id = {s.id: s for s in read.samples}
    assert by_id["4"].response == "There are 3 objects left."
    assert (by_id["4"].extraction, by_id["4"].verdict) == ("3", 0.0)
    assert (by_id["24"].extraction, by_id["24"].verdict) == ("B", 1.0)
    assert read.has_extraction and read.has_verdict


def test_a_response_only_file_has_no_extraction_and_no_verdict(tmp_path: Path) -> None:
    path = write(tmp_path / "submission.json", {"4": entry("4", "3")})
    read = read_foreign("mathvista", path, IDS)
    assert read.samples[0].extraction is None and read.samples[0].verdict is None
    assert not read.has_extraction and not read.has_verdict


def test_non_string_extractions_are_handed_on_as_calculate_score_sees_them(tmp_path: Path) -> None:
    path = write(
        tmp_path / "o.json", {"4": entry("4", "3", extraction=3), "225": entry("225", "x", extraction=[0, 2])}
    )
    by_id = {s.id: s for s in read_foreign("mathvista", path, IDS).samples}
    assert by_id["4"].extraction == "3" and by_id["225"].extraction == "[0, 2]"


def test_a_missing_response_names_the_file_line_and_pid(tmp_path: Path) -> None:
    broken = entry("24", "x")
    del broken["response"]
    path = write(tmp_path / "o.json", {"4": entry("4", "3"), "24": broken})
    with pytest.raises(ForeignFileError, match=r"o\.json:\d+: pid '24': missing field 'response'") as err:
        read_foreign("mathvista", path, IDS)
    line = int(str(err.value).split(":")[1])
    assert path.read_text().splitlines()[line - 1].strip().startswith('"24"')


def test_an_unknown_pid_is_an_error_unless_skipped(tmp_path: Path) -> None:
    path = write(tmp_path / "o.json", {"4": entry("4", "3"), "999": entry("999", "3")})
    with pytest.raises(ForeignFileError, match=r"id '999' is not a sample of the task"):
        read_foreign("mathvista", path, IDS)
    read = read_foreign("mathvista", path, IDS, ImportOptions(skip_unknown=True))
    assert [s.id for s in read.samples] == ["4"] and read.unknown_ids == ["999"]


def test_an_entry_whose_pid_field_disagrees_with_its_key_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "o.json", {"4": entry("5", "3")})
    with pytest.raises(ForeignFileError, match="entry '4' has pid '5'"):
        read_foreign("mathvista", path, IDS)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"4": {"response": "3"},\n  "5": oops}', r"o\.json:2: malformed JSON"),
        (
            '{"doc_id": 0, "filtered_resps": ["3"]}\n{"doc_id": 1, "filtered_resps": ["4"]}\n',
            r"malformed JSON",
        ),
        ('["3", "4"]', "expected a JSON object of entries keyed by pid"),
    ],
)
def test_other_formats_and_broken_json_are_named(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "o.json"
    path.write_text(text)
    with pytest.raises(ForeignFileError, match=message):
        read_foreign("mathvista", path, IDS)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ForeignFileError, match="file not found"):
        read_foreign("mathvista", tmp_path / "nope.json", IDS)
