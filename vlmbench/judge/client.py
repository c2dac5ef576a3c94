"""Asking the judge: the openai backend's HTTP client (retries, backoff, deadlines) behind a disk cache.

A server that cannot be reached is found out once: after one call fails with a connection error or a
timeout (retries used up), the remaining uncached requests of that judge fail at once with the same
reason instead of each waiting out its own retries. Cached answers are still served.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Literal

from vlmbench.judge.cache import JudgeCache
from vlmbench.judge.target import JudgeTarget
from vlmbench.models.base import GenerationParams, Request
from vlmbench.records.status import failure_reason
from vlmbench.schema import AnswerType, Sample
from vlmbench.taskspec import JudgeSpec

_UNREACHABLE = ("connection error", "timeout")


@dataclass(frozen=True)
class Verdict:
    """The judge's answer to one request (stripped, as the reference reads it), or why there is none."""

    answer: str | None
    via: Literal["judge", "cache"] | None = None
    error: str | None = None


class Judge:
    """One judge model; thread-safe. `ask` never raises for one bad request."""

    def __init__(
        self,
        target: JudgeTarget,
        cache: JudgeCache | None = None,
        concurrency: int = 8,
        timeout: float = 60.0,
        max_retries: int = 4,
        backoff: float = 0.5,
        deadline: float = 300.0,
    ) -> None:
        from vlmbench.models.openai_chat import OpenAIChatBackend

        self.target = target
        self.cache = cache if cache is not None else JudgeCache()
        self.concurrency = max(1, concurrency)
        self._client = OpenAIChatBackend(
            target.model,
            base_url=target.base_url,
            api_key=target.api_key(),
            concurrency=1,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            deadline=deadline,
        )
        self._down: str | None = None
        self._lock = threading.Lock()
        self.calls = 0  # requests sent to the server (not cache hits), for the bench and the notes

    @property
    def model(self) -> str:
        return self.target.model

    def ask(self, spec: JudgeSpec, judge_sha256: str, requests: Sequence[tuple[str, str]]) -> list[Verdict]:
        """Verdicts for `(request text, model response)` pairs, in order, `concurrency` at a time."""
        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(requests))) as pool:
            return list(pool.map(lambda pair: self._one(spec, judge_sha256, *pair), requests))

    def _one(self, spec: JudgeSpec, judge_sha256: str, text: str, response: str) -> Verdict:
        cached = self.cache.get(self.model, text)
        if cached is not None:
            return Verdict(cached, "cache")
        if self._down is not None:
            return Verdict(None, error=f"judge unreachable: {self._down}")
        params = GenerationParams(max_new_tokens=spec.max_tokens, temperature=spec.temperature)
        request = Request(id="judge", system=None, prompt=text, images=[], params=params, sample=_NO_SAMPLE)
        with self._lock:
            self.calls += 1
        reply = self._client.generate([request])[0]
        if reply.error is not None:
            if failure_reason(reply.error) in _UNREACHABLE:
                with self._lock:
                    self._down = self._down or reply.error
            return Verdict(None, error=f"judge {self.model}: {reply.error}")
        answer = reply.text.strip()
        if not answer:  # the reference asks again on an empty answer; a recorded "" would hide the failure
            return Verdict(None, error=f"judge {self.model}: empty answer")
        self.cache.put(self.model, text, judge_sha256, response, answer)
        return Verdict(answer, "judge")

    def describe(self) -> dict[str, Any]:
        return {"model": self.model, "base_url": self.target.base_url}


_NO_SAMPLE = Sample(id="judge", question="", answer="", answer_type=AnswerType.TEXT)
