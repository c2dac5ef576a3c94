"""Judged scoring against a scripted judge (tests/fake_openai_server.py answers `[[answer=X]]` found in
the request, i.e. in the model response the judge is shown): the reference's rules first, the judge for
the rest, the official normalisation on what it returns, failures per sample, and the cache."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from servers import closed_port_url, start_fake_openai, stop

from vlmbench.judge import Judge, JudgeCache, JudgeTarget, judge_samples, judged_summary
from vlmbench.registry import get_task
from vlmbench.scoring import get_scorer

TASK = get_task("mathvista_testmini")


@pytest.fixture
def judge_server(tmp_path: Path):
    process, url = start_fake_openai(tmp_path, "--answer", "")
    yield url
    stop(process)


def _requests(url: str) -> list[dict]:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/requests") as reply:
        return [r for r in json.loads(reply.read()) if r["path"] == "/v1/chat/completions"]


def _judge(url: str, tmp_path: Path, **kwargs) -> Judge:
    cache = JudgeCache(tmp_path / "judge.sqlite", enabled=True)
    return Judge(JudgeTarget("fake-judge", url), cache=cache, backoff=0.0, **kwargs)


def _items(shared_items) -> dict[str, object]:
    return {s.id: s for s in shared_items("mathvista")}


def test_the_judges_answer_goes_through_the_official_normalisation(
    judge_server, tmp_path, shared_items
) -> None:
    items = _items(shared_items)
    mc, integer = items["5"], items["2"]  # pid 5: choices 97/102/107/122, gold 97; pid 2: integer 1000
    assert mc.choices[0] == mc.answer == "97" and integer.answer == "1000"
    pairs = [
        (mc, "Angle H is the first option [[answer=(A) 97]]"),  # judge says "(A) 97" -> letter A -> 97
        (integer, "It holds one litre [[answer=1000.0]]"),  # "1000.0" -> str(int(float())) -> "1000"
        (integer, "It holds a quarter [[answer=250]]"),
    ]
    judged = judge_samples(TASK, _judge(judge_server, tmp_path), pairs)
    assert [(j.score, j.extracted, j.normalized, j.via) for j in judged] == [
        (1.0, "(A) 97", "97", "judge"),
        (1.0, "1000.0", "1000", "judge"),
        (0.0, "250", "250", "judge"),
    ]
    # the same responses without a judge: not bare answers, so the rule-based official reads ""
    scorer = get_scorer(TASK.scorer)
    assert [scorer.official(r, s)[0] for s, r in pairs[1:]] == [0.0, 0.0]


def test_what_the_reference_reads_by_rule_never_reaches_the_judge(
    judge_server, tmp_path, shared_items
) -> None:
    items = _items(shared_items)
    pairs = [(items["5"], "97"), (items["2"], "1000"), (items["2"], "")]  # a choice, int(), empty
    judged = judge_samples(TASK, _judge(judge_server, tmp_path), pairs)
    assert [(j.score, j.via) for j in judged] == [(1.0, "rule"), (1.0, "rule"), (0.0, "rule")]
    assert _requests(judge_server) == []


def test_judge_failures_are_per_sample_errors_with_a_reason(judge_server, tmp_path, shared_items) -> None:
    items = _items(shared_items)
    pairs = [
        (items["2"], "a thousand [[500]]"),  # the judge's server fails
        (items["2"], "I cannot tell"),  # the judge answers "" (the server's default): not a silent ""
        (items["2"], None),  # the generation itself failed
        (items["2"], "[[answer=1000]] litres"),
    ]
    judged = judge_samples(TASK, _judge(judge_server, tmp_path, max_retries=0), pairs)
    assert [j.score for j in judged] == [0.0, 0.0, 0.0, 1.0]
    assert "HTTP 500" in judged[0].error and judged[0].extracted is None
    assert judged[1].error.endswith("empty answer")
    assert judged[2].error == "no response"
    summary = judged_summary(
        TASK, [s for s, _ in pairs], dict(enumerate(judged)), {"task": "x"}, "fake-judge"
    )
    assert summary["official"] is None  # keyed by position here, not ids: every sample counts as not judged


def test_a_second_pass_is_served_from_the_cache_without_a_call(judge_server, tmp_path, shared_items) -> None:
    items = _items(shared_items)
    pairs = [(items["2"], f"maybe [[answer={k}]]") for k in (1000, 250, 7)]
    first = judge_samples(TASK, _judge(judge_server, tmp_path), pairs)
    sent = len(_requests(judge_server))
    again = _judge(judge_server, tmp_path)
    second = judge_samples(TASK, again, pairs)
    assert sent == 3 and len(_requests(judge_server)) == 3 and again.calls == 0
    assert [j.via for j in second] == ["cache"] * 3
    assert [(j.score, j.extracted) for j in second] == [(j.score, j.extracted) for j in first]


def test_failed_calls_are_not_cached(judge_server, tmp_path, shared_items) -> None:
    items = _items(shared_items)
    judge = _judge(judge_server, tmp_path, max_retries=0)
    judge_samples(TASK, judge, [(items["2"], "[[500]]")])
    judge_samples(TASK, judge, [(items["2"], "[[500]]")])
    assert judge.calls == 2


def test_an_unreachable_judge_fails_the_rest_at_once(tmp_path, shared_items) -> None:
    items = _items(shared_items)
    judge = _judge(closed_port_url(), tmp_path, max_retries=0, concurrency=1)
    judged = judge_samples(TASK, judge, [(items["2"], f"about {k}") for k in range(5)])
    assert all(j.score == 0.0 and "connection error" in j.error for j in judged)
    assert judge.calls == 1  # the first failure marks the judge down; the others are not sent
    assert all(j.error.startswith("judge unreachable") for j in judged[1:])


def test_the_summary_counts_rule_judged_and_failed_samples(judge_server, tmp_path, shared_items) -> None:
    samples = shared_items("mathvista")[:4]
    responses = [samples[0].answer, "[[500]]", "hmm [[answer=B]]", None]
    judged = judge_samples(
        TASK, _judge(judge_server, tmp_path, max_retries=0), list(zip(samples, responses, strict=True))
    )
    summary = judged_summary(
        TASK,
        samples,
        {s.id: j for s, j in zip(samples, judged, strict=True)},
        {"task": TASK.name},
        "fake-judge",
    )
    assert summary["label"] == "official+judge:fake-judge"
    assert (summary["n"], summary["n_failed"], summary["n_rule"], summary["n_judged"]) == (4, 2, 1, 1)
    assert summary["failures"] == {"no response": 1, "judge: HTTP 500": 1}
    assert 0.0 <= summary["official_ci95"][0] <= summary["official"] <= summary["official_ci95"][1]
