"""Text-overlap metrics for free-form answers: exact match, token F1, BLEU, ROUGE-1/2/L.

A task selects them in its file (`metrics.text_metrics: [f1, rougeL]`). Every metric takes a prediction
and its references and returns the best score over the references, in 0..1. They measure surface
overlap only: a paraphrase with other words scores low, a fluent wrong answer sharing words scores high.
sacrebleu and rouge-score are imported on first use, so loading a task does not pay for them.
"""

from __future__ import annotations

import re
import string
from collections import Counter
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_PUNCT = str.maketrans("", "", string.punctuation)


@lru_cache(maxsize=65536)
def normalize_answer(text: str) -> str:
    """SQuAD's normalisation: lower case, no punctuation, no articles, single spaces."""
    text = text.lower().translate(_PUNCT)
    return " ".join(_ARTICLES.sub(" ", text).split())


def exact_match(prediction: str, references: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals a normalised reference."""
    pred = normalize_answer(prediction)
    return float(any(pred == normalize_answer(r) for r in references))


def _f1(pred_tokens: list[str], ref_tokens: list[str]) -> float:
    if not pred_tokens or not ref_tokens:
        return float(pred_tokens == ref_tokens)
    common = sum((Counter(pred_tokens) & Counter(ref_tokens)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred_tokens), common / len(ref_tokens)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, references: Sequence[str]) -> float:
    """SQuAD token F1 (bag of normalised tokens), best over the references."""
    pred = normalize_answer(prediction).split()
    return max((_f1(pred, normalize_answer(r).split()) for r in references), default=0.0)


@lru_cache(maxsize=1)
def _bleu() -> Any:
    from sacrebleu.metrics import BLEU

    # effective order: a two-word answer is not zeroed for lacking 3- and 4-grams
    return BLEU(effective_order=True)


def bleu(prediction: str, references: Sequence[str]) -> float:
    """Sentence BLEU (sacrebleu, 13a tokenisation, effective order) over all references, in 0..1."""
    refs = tuple(r for r in references if r.strip())
    if not prediction.strip() or not refs:
        return 0.0
    if prediction in refs and _has_word(prediction):
        return 1.0  # identical to a reference: every n-gram precision is 1, no brevity penalty
    return _bleu_cached(prediction, refs)


@lru_cache(maxsize=65536)  # short answers repeat ("yes", "12"): most pairs are seen before
def _bleu_cached(prediction: str, refs: tuple[str, ...]) -> float:
    return _bleu().sentence_score(prediction, list(refs)).score / 100.0


def _has_word(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


@lru_cache(maxsize=1)
def _rouge() -> Any:
    from rouge_score import rouge_scorer

    return rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)


@lru_cache(maxsize=65536)
def _rouge_pair(prediction: str, reference: str) -> tuple[float, float, float]:
    if prediction == reference and prediction.isascii() and _has_word(prediction):
        # identical ASCII text with a word: the same token sequence, so every F-measure is 1
        # (one-token answers have no bigram: ROUGE-2 is then 0, as rouge-score gives)
        return 1.0, (1.0 if len(_rouge_tokens(prediction)) > 1 else 0.0), 1.0
    scores = _rouge().score(reference, prediction)
    return scores["rouge1"].fmeasure, scores["rouge2"].fmeasure, scores["rougeL"].fmeasure


def _rouge_tokens(text: str) -> list[str]:
    return _rouge()._tokenizer.tokenize(text)


def rouge_scores(prediction: str, references: Sequence[str]) -> tuple[float, float, float]:
    """(ROUGE-1, ROUGE-2, ROUGE-L) F-measures, each the best over the references."""
    pairs = [_rouge_pair(prediction, r) for r in references] or [(0.0, 0.0, 0.0)]
    return tuple(max(p[i] for p in pairs) for i in range(3))  # type: ignore[return-value]


def rouge1(prediction: str, references: Sequence[str]) -> float:
    return rouge_scores(prediction, references)[0]


def rouge2(prediction: str, references: Sequence[str]) -> float:
    return rouge_scores(prediction, references)[1]


def rouge_l(prediction: str, references: Sequence[str]) -> float:
    """ROUGE-L F-measure (longest common subsequence of tokens)."""
    return rouge_scores(prediction, references)[2]


TextMetric = Callable[[str, Sequence[str]], float]
TEXT_METRICS: dict[str, TextMetric] = {
    "exact_match": exact_match,
    "f1": token_f1,
    "bleu": bleu,
    "rouge1": rouge1,
    "rouge2": rouge2,
    "rougeL": rouge_l,
}


def check_names(names: Sequence[str]) -> None:
    """Raise ValueError naming the unknown text metrics (task files are validated with this)."""
    unknown = [n for n in names if n not in TEXT_METRICS]
    if unknown:
        raise ValueError(f"unknown text metric(s) {unknown}; known: {sorted(TEXT_METRICS)}")


def text_metrics(prediction: str | None, references: Sequence[str], names: Sequence[str]) -> dict[str, float]:
    """The named metrics of one prediction; a missing prediction scores as the empty string."""
    pred = prediction or ""
    return {name: TEXT_METRICS[name](pred, references) for name in names}
