"""Token efficiency and compute cost (`vlmbench.metrics.efficiency`)."""

from __future__ import annotations

import pytest

from vlmbench.metrics.efficiency import efficiency_sample, efficiency_summary, output_tokens


def row(output: str, tokens: int | None, *, official: float = 1.0, seconds: float = 0.0, **extra) -> dict:
    return {
        "id": extra.pop("id", "s"),
        "output": output,
        "n_output_tokens": tokens,
        "n_prompt_tokens": extra.pop("prompt_tokens", 10),
        "official": official,
        "seconds": seconds,
        "truncated": extra.pop("truncated", False),
    }


def test_output_tokens_are_the_backends_count_else_whitespace_tokens() -> None:
    assert output_tokens(row("one two three", 7)) == 7
    assert output_tokens(row("one two three", None)) == 3
    assert output_tokens(row("one two three", 0)) == 3  # a backend that counted nothing


def test_reasoning_and_answer_tokens_split_the_total_by_whitespace_share() -> None:
    # 8 words: 6 of reasoning inside <think>, 2 after it; the backend counted 20 tokens
    sample = efficiency_sample(row("<think>a b c d e f</think> Answer: 7", 20))
    assert sample["output_tokens"] == 20
    assert sample["reasoning_tokens"] == 15  # 20 * 6 / 8
    assert sample["answer_tokens"] == 5
    direct = efficiency_sample(row("B", 1))
    assert (direct["reasoning_tokens"], direct["answer_tokens"]) == (0, 1)
    assert efficiency_sample(row("", 0))["output_tokens"] == 0


def test_run_summary_tokens_per_correct_throughput_and_cost() -> None:
    rows = [
        row("x " * 10, 10, official=1.0, seconds=0.5, id="a"),
        row("x " * 30, 30, official=0.0, seconds=1.0, id="b"),
        row("x " * 20, 20, official=1.0, seconds=0.5, id="c", truncated=True),
    ]
    per = [efficiency_sample(r) for r in rows]
    summary = efficiency_summary(rows, per, n_params=1_000_000, n_gpus=2)
    assert summary["output_tokens_total"] == 60
    assert summary["tokens_per_correct"] == 30.0  # 60 tokens for 2 right answers
    assert summary["generation_seconds"] == 2.0
    assert summary["samples_per_second"] == 1.5
    assert summary["tokens_per_second"] == 30.0
    assert summary["latency_p50"] == 0.5
    assert summary["latency_p95"] == pytest.approx(0.95)
    assert summary["flops"] == 2 * 1_000_000 * (30 + 60)  # prompt and output tokens
    assert summary["flops_per_sample"] == pytest.approx(2 * 1_000_000 * 90 / 3)
    assert summary["gpu_seconds"] == 4.0


def test_what_was_not_measured_is_none_not_zero() -> None:
    rows = [row("B", 1, official=0.0), row("C", 1, official=0.0)]
    summary = efficiency_summary(rows, [efficiency_sample(r) for r in rows])
    assert summary["tokens_per_correct"] is None  # no right answer
    assert summary["samples_per_second"] is None  # untimed (a baseline)
    assert summary["latency_p50"] is None
    assert summary["flops"] is None and summary["gpu_seconds"] is None  # parameters / GPUs unknown
