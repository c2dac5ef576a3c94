"""The baseline backend (`vlmbench.models.baseline`): chance rows that read neither image nor question.

- `random`: a seeded uniform guess per sample, the same whatever the batch or the order;
- `majority`: the most frequent gold answer (options: the most frequent gold letter);
- `first-choice`: option A (open questions: the majority answer).
"""

from __future__ import annotations

from collections import Counter

import pytest

from vlmbench.errors import VlmbenchError
from vlmbench.models import GenerationParams, get_backend
from vlmbench.models.baseline import STRATEGIES, BaselineBackend
from vlmbench.prompts import build_request
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType, Sample

PARAMS = GenerationParams(max_new_tokens=8)
SPEC_MC, SPEC_OPEN = get_task("synth_geometry"), get_task("synth_chart")  # they only render the prompt


def mc(i: int, answer_index: int, n_choices: int = 4) -> Sample:
    choices = [f"option {k} of {i}" for k in range(n_choices)]
    return Sample(
        f"mc-{i}", f"question {i}?", choices[answer_index], AnswerType.MULTIPLE_CHOICE, choices=choices
    )


def open_(i: int, answer: str) -> Sample:
    return Sample(f"open-{i}", f"question {i}?", answer, AnswerType.TEXT)


# gold letters: B x4, C x2, A x1 (one item has five options); open answers: cat x2, bird x2, dog x1
MC = [mc(0, 1), mc(1, 1), mc(2, 2), mc(3, 1), mc(4, 2), mc(5, 0), mc(6, 1, n_choices=5)]
OPEN = [open_(0, "cat"), open_(1, "dog"), open_(2, "cat"), open_(3, "bird"), open_(4, "bird")]
SAMPLES = [*MC, *OPEN]


def answers(backend: BaselineBackend, samples: list[Sample], batch_size: int) -> dict[str, str]:
    out: dict[str, str] = {}
    for start in range(0, len(samples), batch_size):
        batch = samples[start : start + batch_size]
        requests = [build_request(SPEC_MC if s.choices else SPEC_OPEN, s, "direct", PARAMS) for s in batch]
        for sample, response in zip(batch, backend.generate(requests), strict=True):
            assert response.finish_reason == "stop" and response.error is None
            out[sample.id] = response.text
    return out


def started(strategy: str, seed: int = 0, samples: list[Sample] = SAMPLES) -> BaselineBackend:
    backend = get_backend("baseline", strategy, seed=seed)
    backend.start_task("mixed", samples)
    return backend


@pytest.mark.parametrize("strategy", STRATEGIES)
def test_the_answer_for_a_sample_depends_on_neither_batch_nor_order(strategy: str) -> None:
    reference = answers(started(strategy), SAMPLES, batch_size=len(SAMPLES))
    assert answers(started(strategy), SAMPLES, batch_size=1) == reference
    assert answers(started(strategy), list(reversed(SAMPLES)), batch_size=3) == reference
    assert answers(started(strategy), SAMPLES[5:], batch_size=2) == {
        s.id: reference[s.id] for s in SAMPLES[5:]
    }


def test_random_is_seeded_per_sample_and_stays_within_the_answer_format() -> None:
    many = [mc(i, i % 4) for i in range(400)]
    first = answers(started("random", seed=0, samples=many), many, batch_size=64)
    assert answers(started("random", seed=0, samples=many), many, batch_size=7) == first
    other_seed = answers(started("random", seed=1, samples=many), many, batch_size=64)
    assert other_seed != first
    counts = Counter(first.values())
    assert set(counts) == set("ABCD")
    assert all(70 <= c <= 130 for c in counts.values()), counts  # 100 expected, sd 8.7
    five = answers(started("random"), [MC[6]], batch_size=1)
    assert five[MC[6].id] in "ABCDE"
    opened = answers(started("random"), OPEN, batch_size=2)
    assert set(opened.values()) <= {"cat", "dog", "bird"}  # guesses among the task's gold answers


def test_majority_answers_the_most_frequent_gold_letter_and_answer() -> None:
    got = answers(started("majority"), SAMPLES, batch_size=4)
    assert {got[s.id] for s in MC} == {"B"}
    assert {got[s.id] for s in OPEN} == {"bird"}  # a tie (bird 2, cat 2): alphabetical


def test_first_choice_answers_a_and_the_majority_for_open_questions() -> None:
    got = answers(started("first-choice"), SAMPLES, batch_size=4)
    assert {got[s.id] for s in MC} == {"A"}
    assert {got[s.id] for s in OPEN} == {"bird"}


def test_majority_is_taken_over_the_whole_task_not_the_batch() -> None:
    """On resume only the unfinished samples are generated; the majority must not move with them."""
    backend = started("majority")
    assert answers(backend, [MC[5]], batch_size=1) == {MC[5].id: "B"}  # gold A, still "B"


def test_an_unknown_strategy_is_an_error_listing_the_strategies() -> None:
    with pytest.raises(VlmbenchError, match=r"unknown baseline 'smart'; choose one of random, majority"):
        get_backend("baseline", "smart")


def test_describe_names_strategy_and_seed() -> None:
    assert get_backend("baseline", "random", seed=3).describe() == {
        "backend": "baseline",
        "model": "random",
        "seed": 3,
    }
