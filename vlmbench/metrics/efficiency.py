"""Token efficiency and compute cost, per sample and per run.

Per sample: output tokens (the backend's count; whitespace tokens when it reported none), split into
reasoning and answer tokens. Backends report one total, so the split is approximate: the total times
the chain's share of the output's whitespace tokens (the chain as `reasoning.split_chain` reads it).

Per run: tokens per correct answer (all output tokens / summed official score), truncation rate,
latency (rows' `seconds`) and throughput (samples/s, tokens/s over the summed generation time), and
an estimated cost: FLOPs ~ 2 * parameters * (prompt + output tokens) - the forward-pass rule of thumb,
blind to attention's quadratic term and to image tokens the backend did not count - and GPU-seconds
(generation time x GPUs) where the backend timed its work. A backend that reports a batch's time
divided over its rows gives the right totals; latency is then the per-row share, not a request's wait.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from vlmbench.metrics.reasoning import Chain, split_chain, whitespace_tokens


def output_tokens(row: dict[str, Any]) -> int:
    """The backend's output token count, or whitespace tokens when it gave none."""
    count = row.get("n_output_tokens")
    return int(count) if count else whitespace_tokens(row.get("output") or "")


def efficiency_sample(row: dict[str, Any], chain: Chain | None = None) -> dict[str, Any]:
    """Output, reasoning and answer tokens, truncation and time of one sample row."""
    output = row.get("output") or ""
    chain = chain or split_chain(output)
    total = output_tokens(row)
    words = whitespace_tokens(output)
    reasoning = round(total * whitespace_tokens(chain.reasoning) / words) if words else 0
    return {
        "output_tokens": total,
        "reasoning_tokens": reasoning,
        "answer_tokens": total - reasoning,
        "truncated": bool(row.get("truncated")),
        "seconds": float(row.get("seconds") or 0.0),
    }


def _percentile(sorted_values: Sequence[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    k = (len(sorted_values) - 1) * q
    low = int(k)
    high = min(low + 1, len(sorted_values) - 1)
    return sorted_values[low] + (sorted_values[high] - sorted_values[low]) * (k - low)


def efficiency_summary(
    rows: Sequence[dict[str, Any]],
    per_sample: Sequence[dict[str, Any]],
    *,
    n_params: int | None = None,
    n_gpus: int | None = None,
) -> dict[str, Any]:
    """Run-level efficiency and cost (None where the inputs needed are missing)."""
    n = len(rows)
    out_tokens = sum(s["output_tokens"] for s in per_sample)
    in_tokens = sum(int(r.get("n_prompt_tokens") or 0) for r in rows)
    correct = sum(float(r.get("official") or 0.0) for r in rows)
    seconds = sorted(s["seconds"] for s in per_sample)
    total_seconds = sum(seconds)
    timed = total_seconds > 0
    return {
        "output_tokens_total": out_tokens,
        "prompt_tokens_total": in_tokens,
        "tokens_per_correct": out_tokens / correct if correct > 0 else None,
        "generation_seconds": total_seconds,
        "latency_p50": _percentile(seconds, 0.5) if timed else None,
        "latency_p95": _percentile(seconds, 0.95) if timed else None,
        "samples_per_second": n / total_seconds if timed else None,
        "tokens_per_second": out_tokens / total_seconds if timed else None,
        "flops": 2.0 * n_params * (in_tokens + out_tokens) if n_params else None,
        "flops_per_sample": 2.0 * n_params * (in_tokens + out_tokens) / n if n_params and n else None,
        "gpu_seconds": total_seconds * n_gpus if timed and n_gpus else None,
    }
