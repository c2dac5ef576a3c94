"""Model backends, imported lazily: `baseline` needs nothing; `hf`, `vllm`, `openai` need their extras."""

from __future__ import annotations

import importlib
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.models.base import Backend, BackendUnavailable, GenerationParams, Request, Response

BACKENDS: dict[str, tuple[str, str]] = {
    "baseline": ("vlmbench.models.baseline:BaselineBackend", ""),
    "openai": ("vlmbench.models.openai_chat:OpenAIChatBackend", ""),
    "hf": ("vlmbench.models.hf:HFBackend", "hf"),
    "vllm": ("vlmbench.models.vllm_engine:VLLMBackend", "vllm"),
}


def get_backend(name: str, model: str, **model_args: Any) -> Backend:
    """Instantiate backend `name` for `model`; a missing extra is a clear error, not an ImportError."""
    if name not in BACKENDS:
        raise VlmbenchError(f"unknown backend {name!r}; known: {', '.join(sorted(BACKENDS))}")
    target, extra = BACKENDS[name]
    module_name, _, class_name = target.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        hint = f": pip install 'vlmbench[{extra}]'" if extra else ""
        missing = err.name or "a dependency"
        raise VlmbenchError(f"backend {name!r} needs {missing}, which is not installed{hint}") from err
    return getattr(module, class_name)(model, **model_args)


__all__ = [
    "BACKENDS",
    "Backend",
    "BackendUnavailable",
    "GenerationParams",
    "Request",
    "Response",
    "get_backend",
]
