"""The VLMEvalKit importer, on tables shaped as VLMEvalKit writes them: the prediction file of
`infer_data_job` (the dataset's columns without `image`, plus `prediction`), MathVista's judged file
(`res`, `log`) and the multiple-choice result file (`hit`, `log`); shared items' ids and answers,
invented predictions."""

from __future__ import annotations

import builtins
from pathlib import Path

import pytest
from realdata import load_shared_items

from vlmbench.importers import ForeignFileError, ImportOptions, read_foreign

pd = pytest.importorskip("pandas")

MATHVISTA = [s.id for s in load_shared_items("mathvista")]
SCIENCEQA = load_shared_items("scienceqa")
CHARTQA = [s.id for s in load_shared_items("chartqa")]


def mathvista_judged() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "index": [4, 24],
            "question": ["Subtract all large rubber spheres. ...", "Is Periwinkle the maximum?"],
            "answer": ["4", "no"],
            "answer_option": ["", "B"],
            "choices": ["", "['yes', 'no']"],
            "question_type": ["free_form", "multi_choice"],
            "answer_type": ["integer", "text"],
            "precision": ["", ""],
            "task": ["math word problem", "figure question answering"],
            "skills": ["['arithmetic reasoning']", "['statistical reasoning']"],
            "prediction": ["There are 3 objects left.", "N/A"],
            "res": ["3", "N/A"],
            "log": ["Succeed", "Succeed"],
        }
    )


@pytest.mark.parametrize("suffix", [".xlsx", ".tsv", ".csv"])
def test_a_judged_mathvista_file_gives_the_response_and_the_judges_extraction(
    tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"Model_MathVista_MINI_gpt-4o-mini{suffix}"
    frame = mathvista_judged()
    if suffix == ".xlsx":
        frame.to_excel(path, index=False)
    else:
        frame.to_csv(path, sep="\t" if suffix == ".tsv" else ",", index=False)
    read = read_foreign("vlmevalkit", path, MATHVISTA)
    by_id = {s.id: s for s in read.samples}
    assert by_id["4"].response == "There are 3 objects left." and by_id["4"].extraction == "3"
    assert by_id["24"].response == "N/A" and by_id["24"].extraction == "N/A"  # text, never a missing value
    assert not read.has_verdict  # MathVista_acc recomputes its verdicts; the file stores none


def test_a_prediction_file_without_a_judge_has_no_extraction(tmp_path: Path) -> None:
    path = tmp_path / "Model_ChartQA_TEST.xlsx"
    pd.DataFrame(
        {"index": [0, 1], "question": ["q0", "q1"], "answer": ["14", "0.57"], "prediction": ["14", "0.6"]}
    ).to_excel(path, index=False)
    with pytest.raises(ForeignFileError, match=r"Model_ChartQA_TEST\.xlsx:2: id '0' is not a sample"):
        read_foreign("vlmevalkit", path, CHARTQA)  # VLMEvalKit's index is its own row key
    read = read_foreign("vlmevalkit", path, CHARTQA, ImportOptions(by_position=True))
    assert [(s.id, s.response, s.extraction) for s in read.samples] == [
        ("test_human/0", "14", None),
        ("test_human/1", "0.6", None),
    ]


def test_a_multiple_choice_result_file_gives_the_stored_hit(tmp_path: Path) -> None:
    first, second = SCIENCEQA[:2]
    path = tmp_path / "Model_ScienceQA_TEST_gpt-4o-mini_result.xlsx"
    pd.DataFrame(
        {
            "index": [int(first.id), int(second.id)],
            "question": [first.question, second.question],
            "A": [first.choices[0], second.choices[0]],
            "B": [first.choices[1], second.choices[1]],
            "answer": [first.answer_letter, second.answer_letter],
            "prediction": [f"The answer is {first.answer_letter}.", "I cannot tell."],
            "hit": [1, 0],
            "log": ["Prefetch succeed", "Failed to match"],
        }
    ).to_excel(path, index=False)
    by_id = {s.id: s for s in read_foreign("vlmevalkit", path, [s.id for s in SCIENCEQA]).samples}
    assert (by_id[first.id].verdict, by_id[second.id].verdict) == (1.0, 0.0)


def test_a_hit_that_is_not_0_or_1_names_its_row(tmp_path: Path) -> None:
    path = tmp_path / "r.tsv"
    pd.DataFrame({"index": [4, 24], "prediction": ["4", "B"], "hit": ["1", "maybe"]}).to_csv(
        path, sep="\t", index=False
    )
    with pytest.raises(ForeignFileError, match=r"r\.tsv:3: column 'hit' is 'maybe'"):
        read_foreign("vlmevalkit", path, MATHVISTA)


def test_a_table_without_predictions_or_of_another_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "x.tsv"
    pd.DataFrame({"index": [4], "answer": ["4"]}).to_csv(path, sep="\t", index=False)
    with pytest.raises(ForeignFileError, match="missing column 'prediction'"):
        read_foreign("vlmevalkit", path, MATHVISTA)
    other = tmp_path / "x.json"
    other.write_text("{}")
    with pytest.raises(ForeignFileError, match=r"\.xlsx, \.tsv or \.csv \(got '\.json'\)"):
        read_foreign("vlmevalkit", other, MATHVISTA)
    broken = tmp_path / "x.xlsx"
    broken.write_text("not a spreadsheet")
    with pytest.raises(ForeignFileError, match=r"x\.xlsx: not a readable \.xlsx table"):
        read_foreign("vlmevalkit", broken, MATHVISTA)


def test_missing_openpyxl_says_what_to_install(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "p.xlsx"
    mathvista_judged().to_excel(path, index=False)
    real_import = builtins.__import__

    def no_openpyxl(name, *args, **kwargs):
        if name == "openpyxl":
            raise ImportError("No module named 'openpyxl'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_openpyxl)
    with pytest.raises(ForeignFileError, match=r"needs openpyxl: pip install 'vlmbench\[import\]'"):
        read_foreign("vlmevalkit", path, MATHVISTA)
