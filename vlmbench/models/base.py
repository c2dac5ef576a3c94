"""What a backend receives and returns. Backends turn Requests into Responses and know nothing of
scoring, results or leaderboards (see DESIGN.md: which way imports point)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from vlmbench.errors import VlmbenchError
from vlmbench.schema import ImageRef, Sample


class BackendUnavailable(VlmbenchError):
    """The backend never answered (a server that cannot be reached, or refuses every request): the run
    fails at once instead of failing every sample one timeout at a time."""


@dataclass(frozen=True)
class GenerationParams:
    """Decoding settings; they are part of the protocol hash."""

    max_new_tokens: int
    temperature: float = 0.0
    top_p: float = 1.0
    seed: int = 0
    n_samples: int = 1  # generations per sample (pass@k); the runner sends each as its own request

    def to_dict(self) -> dict[str, Any]:
        """The protocol's view: `n_samples` appears only when above 1, so single-sample protocols keep
        the hashes they had before pass@k existed."""
        data = asdict(self)
        if self.n_samples == 1:
            data.pop("n_samples")
        return data


@dataclass
class Request:
    """One prompt for one sample: chat messages whose user turn holds the images, then the text."""

    id: str
    system: str | None
    prompt: str
    images: list[ImageRef]
    params: GenerationParams
    sample: Sample = field(repr=False)  # baselines read options and answer types; models ignore it

    def messages(self) -> list[dict[str, Any]]:
        """OpenAI-style messages; images are `{"type": "image", "index": i}` placeholders."""
        content: list[dict[str, Any]] = [{"type": "image", "index": i} for i in range(len(self.images))]
        content.append({"type": "text", "text": self.prompt})
        turns: list[dict[str, Any]] = [{"role": "system", "content": self.system}] if self.system else []
        return [*turns, {"role": "user", "content": content}]


@dataclass
class Response:
    """A generation, with what it cost. `finish_reason` is "stop", "length" or "error"."""

    text: str
    n_prompt_tokens: int = 0
    n_output_tokens: int = 0
    seconds: float = 0.0
    finish_reason: str = "stop"
    error: str | None = None

    @property
    def truncated(self) -> bool:
        return self.finish_reason == "length"

    @classmethod
    def failed(cls, reason: str, seconds: float = 0.0) -> Response:
        return cls("", seconds=seconds, finish_reason="error", error=reason)


class Backend(Protocol):
    """A model behind one interface. `describe()` goes into the run record."""

    name: str

    def start_task(self, task: str, samples: Sequence[Sample]) -> None:
        """Called before a task's requests (baselines use it; models may ignore it)."""

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        """One Response per Request, in order. May raise; the runner then retries one by one."""
        ...

    def describe(self) -> dict[str, Any]: ...

    # Optional: `probe() -> dict | None`, what a server reports about the model it serves (its `/models`
    # entry), called once before any sample; it raises BackendUnavailable when nothing answers. The
    # runner fingerprints the model from it (vlmbench.records.fingerprint).
    # Optional: `prefetch(requests) -> None`, a hint that the next `generate` call will be exactly these
    # requests (the same objects), given before the current batch generates, so that a backend can make
    # their inputs meanwhile (the hf backend decodes images and runs its processor on a background
    # thread). It must not change any answer, and an error making those inputs is raised by that
    # `generate`, so the caller's per-batch fallback works as without it.
