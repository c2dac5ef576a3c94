"""The judge against a real OpenAI-compatible server: `transformers serve` with the tiny LLaVA as judge.
Its answers are gibberish, so this checks the plumbing - requests reach a real server, answers come back
through the official normalisation, every call is cached and a second pass makes none - not semantics
(tests/test_judge_scoring.py has those, against a scripted judge)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("transformers", reason="needs transformers: pip install 'vlmbench[dev]'")
pytest.importorskip("fastapi", reason="`transformers serve` needs transformers[serving]")

from servers import transformers_serve

from vlmbench.judge import Judge, JudgeCache, JudgeTarget, judge_samples, judged_summary
from vlmbench.models.tiny import make_tiny_model
from vlmbench.registry import get_task

TASK = get_task("mathvista_testmini")
# One request at a time with room to spare: the served model generates up to 256 tokens per request on
# CPU cores that other tests share, and a timeout here would test the machine, not the plumbing.
PATIENT = {"concurrency": 1, "timeout": 300.0, "deadline": 900.0, "max_retries": 1}


@pytest.fixture(scope="module")
def served_judge(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JudgeTarget]:
    model = make_tiny_model(tmp_path_factory.mktemp("judge") / "tiny-llava", arch="llava")
    with transformers_serve(model, tmp_path_factory.mktemp("judge-log")) as base_url:
        yield JudgeTarget(str(model), base_url)


def test_a_served_model_judges_and_its_answers_are_cached(served_judge, tmp_path: Path, shared_items) -> None:
    samples = shared_items("mathvista")[:3]
    pairs = [(s, f"After some thought, my answer is the {k}th one.") for k, s in enumerate(samples)]
    cache = JudgeCache(tmp_path / "judge.sqlite", enabled=True)
    first_judge = Judge(served_judge, cache=cache, **PATIENT)
    first = judge_samples(TASK, first_judge, pairs)
    assert first_judge.calls == 3
    for verdict, (sample, _) in zip(first, pairs, strict=True):
        if verdict.error is None:  # an answer: read by the judge, normalised by the official rule
            assert verdict.via == "judge" and verdict.extracted
            if sample.choices:
                assert verdict.normalized in sample.choices  # multiple choice always lands on an option
        else:  # a tiny model may answer only whitespace: then the sample says so, never a silent ""
            assert verdict.extracted is None and "empty answer" in verdict.error
    answered = sum(1 for v in first if v.error is None)
    assert len(cache) == answered

    second_judge = Judge(served_judge, cache=cache, **PATIENT)
    second = judge_samples(TASK, second_judge, pairs)
    assert second_judge.calls == 3 - answered  # only what failed is asked again
    assert [v.extracted for v in second if v.via == "cache"] == [
        v.extracted for v in first if v.error is None
    ]


def test_the_judged_protocol_hash_names_the_judge_model(served_judge, shared_items) -> None:
    samples = shared_items("mathvista")[:2]
    proto = {"task": TASK.name, "n": 2}
    mine = judged_summary(TASK, samples, {}, proto, served_judge.model)
    other = judged_summary(TASK, samples, {}, proto, "another-judge")
    assert mine["protocol_hash"] != other["protocol_hash"]
    assert mine["prompt_sha256"] == other["prompt_sha256"]
