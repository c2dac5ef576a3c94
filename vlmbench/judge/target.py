"""Which judge: `openai:MODEL@BASE_URL` (any OpenAI-compatible server), parsed once for eval and score."""

from __future__ import annotations

import os
from dataclasses import dataclass

from vlmbench.errors import VlmbenchError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
KEY_VARIABLES = ("VLMBENCH_JUDGE_API_KEY", "OPENAI_API_KEY")


@dataclass(frozen=True)
class JudgeTarget:
    """A judge model behind a server. The key is read from the environment when a call is made and is
    never part of a record, a cache key or a protocol."""

    model: str
    base_url: str

    @classmethod
    def parse(cls, text: str) -> JudgeTarget:
        """`openai:MODEL@BASE_URL`, or `openai:MODEL` with the URL from $VLMBENCH_JUDGE_BASE_URL (else
        OpenAI's API). The URL is split at the last `@` before `http`, so model names may hold `@`."""
        kind, sep, rest = text.partition(":")
        if not sep or kind != "openai" or not rest:
            raise VlmbenchError(
                f"--judge {text!r}: expected openai:MODEL@BASE_URL (e.g. openai:gpt-4o-mini@"
                "https://api.openai.com/v1, or a local vLLM / `transformers serve` URL)"
            )
        at = rest.rfind("@http")
        if at >= 0:
            model, base_url = rest[:at], rest[at + 1 :]
        else:
            model, base_url = rest, os.environ.get("VLMBENCH_JUDGE_BASE_URL") or DEFAULT_BASE_URL
        if not model:
            raise VlmbenchError(f"--judge {text!r}: no model name before '@'")
        return cls(model=model, base_url=base_url.rstrip("/"))

    @property
    def label(self) -> str:
        """The name of the judged column on every table and board."""
        return f"official+judge:{self.model}"

    @staticmethod
    def api_key() -> str | None:
        return next((os.environ[v] for v in KEY_VARIABLES if os.environ.get(v)), None)
