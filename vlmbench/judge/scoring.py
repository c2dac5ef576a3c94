"""Judged scores: the reference's rules, the judge for the rest, the official normalisation and equality.

Per sample the reference pipeline is followed step by step: `Scorer.judge_rules` reads what the
reference reads by rule (no call); the judge reads the rest; `Scorer.from_extracted` applies the task's
official normalisation and comparison to whichever answer came out. A sample whose generation failed,
or whose judge call failed, scores 0 and is counted with its reason - the judged column says how many.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from vlmbench.judge.client import Judge
from vlmbench.judge.prompt import judge_prompt, judge_sha256
from vlmbench.records.hashing import canonical_hash
from vlmbench.records.protocol import judged_protocol
from vlmbench.records.status import failure_reason
from vlmbench.schema import Sample
from vlmbench.scoring import get_scorer
from vlmbench.taskspec import TaskSpec


@dataclass(frozen=True)
class JudgedScore:
    """One sample under the judged convention (stored as the `judge` field of its samples row)."""

    model: str
    prompt_sha256: str
    score: float
    extracted: str | None  # what the rules or the judge read; None when nothing was read
    normalized: str | None  # the official normalisation of it
    via: str | None  # "rule" | "judge" | "cache"; None when nothing was read
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JudgedScore:
        return cls(**{k: data.get(k) for k in cls.__dataclass_fields__})  # type: ignore[arg-type]

    def rescored(self, task: TaskSpec, sample: Sample) -> JudgedScore:
        """The same reading scored again by the task's current normalisation (no call: rescoring)."""
        if self.extracted is None:
            return self
        score, normalized = get_scorer(task.scorer).from_extracted(self.extracted, sample)
        return JudgedScore(self.model, self.prompt_sha256, float(score), self.extracted, normalized, self.via)


def judge_samples(
    task: TaskSpec, judge: Judge, pairs: Sequence[tuple[Sample, str | None]]
) -> list[JudgedScore]:
    """Judged scores for `(sample, response)` pairs in order; a None response (a failed generation, a
    missing prediction) has nothing to judge and scores 0 as `no response`."""
    if task.judge is None:
        raise ValueError(f"task {task.name!r} declares no judge")
    scorer, sha = get_scorer(task.scorer), judge_sha256(task)
    read: list[tuple[str | None, str | None, str | None]] = []  # (answer, via, error) per pair
    asks: list[tuple[int, str, str]] = []
    for i, (sample, response) in enumerate(pairs):
        if response is None:
            read.append((None, None, "no response"))
            continue
        ruled = scorer.judge_rules(response, sample)
        read.append((ruled, "rule", None) if ruled is not None else (None, None, None))
        if ruled is None:
            asks.append((i, judge_prompt(task, sample, response), response))
    verdicts = judge.ask(task.judge, sha, [(text, response) for _, text, response in asks])
    for (i, _, _), verdict in zip(asks, verdicts, strict=True):
        read[i] = (verdict.answer, verdict.via, verdict.error)
    out = []
    for (sample, _), (answer, via, error) in zip(pairs, read, strict=True):
        if answer is None:
            out.append(JudgedScore(judge.model, sha, 0.0, None, None, None, error or "no answer read"))
            continue
        score, normalized = scorer.from_extracted(answer, sample)
        out.append(JudgedScore(judge.model, sha, float(score), answer, normalized, via))
    return out


def judge_failure(error: str) -> str:
    """A countable reason for a judged sample that has no score ("judge: HTTP 500", "no response")."""
    if error in ("no response", "no answer read", "not judged"):
        return error
    inner = error.split(": ", 1)[1] if error.startswith("judge ") and ": " in error else error
    return f"judge: {failure_reason(inner)}"


def judged_summary(
    task: TaskSpec,
    samples: Sequence[Sample],
    judged: Mapping[str, JudgedScore],
    protocol: Mapping[str, Any],
    model: str,
) -> dict[str, Any]:
    """The task record's `judge` block: the judged score over every sample (unjudged and failed ones
    count as wrong, and are counted), its interval, and the protocol hash it was measured under."""
    from vlmbench.metrics import score_intervals

    sha = judge_sha256(task)
    mine = [judged.get(s.id) for s in samples]
    current = [j if j is not None and j.model == model and j.prompt_sha256 == sha else None for j in mine]
    errors = [("not judged" if j is None else j.error) for j in current]
    failures = Counter(judge_failure(e) for e in errors if e)
    values = [j.score if j is not None and j.error is None else 0.0 for j in current]
    n, n_failed = len(samples), sum(failures.values())
    proto = judged_protocol(protocol, model, sha)
    block: dict[str, Any] = {
        "label": f"official+judge:{model}",
        "model": model,
        "prompt_sha256": sha,
        "protocol_hash": canonical_hash(proto),
        "n": n,
        "n_failed": n_failed,
        "failures": dict(sorted(failures.items(), key=lambda kv: (-kv[1], kv[0]))),
        "n_rule": sum(1 for j in current if j is not None and j.via == "rule"),
        "n_judged": sum(1 for j in current if j is not None and j.via in ("judge", "cache")),
        "official": None,
        "official_ci95": None,
    }
    if n and n_failed < n:
        mean = sum(values) / n
        interval = score_intervals(get_scorer(task.scorer), samples, {"official": values}, {"official": mean})
        block.update(official=mean, official_ci95=interval["official_ci95"])
    return block


def judged_tasks() -> list[str]:
    """Tasks whose task file declares the reference LLM extractor (`judge:`)."""
    from vlmbench.registry import all_tasks

    return [t.name for t in all_tasks() if t.judge is not None]
