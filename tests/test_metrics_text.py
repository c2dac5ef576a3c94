"""Text overlap metrics (`vlmbench.metrics.text`) and their selection in task files."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from vlmbench.errors import VlmbenchError
from vlmbench.metrics.text import (
    TEXT_METRICS,
    bleu,
    exact_match,
    normalize_answer,
    rouge1,
    rouge2,
    rouge_l,
    text_metrics,
    token_f1,
)
from vlmbench.registry import all_tasks
from vlmbench.taskspec import Metrics


def test_squad_normalisation() -> None:
    assert normalize_answer("The  Eiffel-Tower!") == "eiffeltower"
    assert normalize_answer("A cat, an owl and THE dog.") == "cat owl and dog"


def test_exact_match_after_normalisation_and_over_references() -> None:
    assert exact_match("The red car.", ["red car"]) == 1.0
    assert exact_match("red cars", ["red car"]) == 0.0
    assert exact_match("blue", ["red", "Blue"]) == 1.0
    assert exact_match("", []) == 0.0


def test_token_f1_known_values() -> None:
    # prediction "red car parked", reference "the red car": 2 common of 3 and 2 -> P 2/3, R 1
    assert token_f1("red car parked", ["the red car"]) == pytest.approx(0.8)
    assert token_f1("green", ["red car"]) == 0.0
    assert token_f1("red car", ["blue bus", "red car"]) == 1.0  # best over references
    assert token_f1("", [""]) == 1.0  # both empty after normalisation: a match


def test_bleu_is_sacrebleu_sentence_bleu_in_0_1() -> None:
    from sacrebleu.metrics import BLEU

    hypothesis, refs = "the cat sat on the mat today", ["the cat sat on the mat"]
    expected = BLEU(effective_order=True).sentence_score(hypothesis, refs).score / 100
    assert bleu(hypothesis, refs) == pytest.approx(expected)
    assert 0.0 < bleu(hypothesis, refs) < 1.0
    assert bleu("the cat sat on the mat", refs) == pytest.approx(1.0)
    assert bleu("", refs) == 0.0


def test_rouge_known_values() -> None:
    # "a b c d" vs "a b x d": unigrams 3/4; bigrams {ab} of 3; LCS a b d = 3
    assert rouge1("a b c d", ["a b x d"]) == pytest.approx(0.75)
    assert rouge2("a b c d", ["a b x d"]) == pytest.approx(1 / 3)
    assert rouge_l("a b c d", ["a b x d"]) == pytest.approx(0.75)
    assert rouge_l("d c b a", ["a b c d"]) == pytest.approx(0.25)


def test_text_metrics_computes_the_named_ones() -> None:
    scores = text_metrics("red car", ["red car"], ["exact_match", "f1", "rougeL"])
    assert scores == {"exact_match": 1.0, "f1": 1.0, "rougeL": 1.0}
    assert text_metrics(None, ["red"], ["f1"]) == {"f1": 0.0}
    assert set(TEXT_METRICS) == {"exact_match", "f1", "bleu", "rouge1", "rouge2", "rougeL"}


def test_a_task_file_selects_text_metrics_and_unknown_names_are_refused() -> None:
    assert Metrics(main="accuracy", text_metrics=["f1", "rougeL"]).text_metrics == ["f1", "rougeL"]
    assert Metrics(main="accuracy").text_metrics == []
    with pytest.raises(ValueError, match=r"unknown text metric.*'rouge'.*known:"):
        Metrics(main="accuracy", text_metrics=["rouge"])


def test_an_unknown_text_metric_in_a_task_file_is_a_clear_error(tmp_path: Path) -> None:
    from vlmbench.registry import load_task_file

    spec = all_tasks()[0]
    data = spec.model_dump(mode="json", exclude_none=True)
    data["metrics"]["text_metrics"] = ["bleu", "meteor"]
    path = tmp_path / f"{spec.name}.yaml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(VlmbenchError, match="meteor"):
        load_task_file(path)


def test_only_open_answer_tasks_select_text_metrics() -> None:
    """GQA's open short answers get exact match and token F1; choice and numeric tasks select none."""
    selected = {spec.name: spec.metrics.text_metrics for spec in all_tasks() if spec.metrics.text_metrics}
    assert selected == {"gqa_testdev_balanced": ["exact_match", "f1"]}


@pytest.mark.parametrize("text", ["12", "a", "3.5", "red car", "Hello, World!", "the cat sat on the mat"])
def test_the_identity_shortcuts_give_what_the_libraries_give(text: str) -> None:
    """BLEU and ROUGE skip the libraries for a prediction identical to a reference: same numbers."""
    from rouge_score import rouge_scorer
    from sacrebleu.metrics import BLEU

    assert bleu(text, [text]) == pytest.approx(
        BLEU(effective_order=True).sentence_score(text, [text]).score / 100
    )
    scores = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"]).score(text, text)
    expected = (scores["rouge1"].fmeasure, scores["rouge2"].fmeasure, scores["rougeL"].fmeasure)
    assert (rouge1(text, [text]), rouge2(text, [text]), rouge_l(text, [text])) == pytest.approx(expected)
