"""Checks and translations `vlmbench eval` applies before anything is loaded, usable from Python too.

- `gen_kwargs_options`: lm-eval / lmms-eval's `--gen_kwargs k=v,...` mapped onto vlmbench's own
  generation options, so the same command line means the same decoding here.
- `check_model`: a mistyped baseline, backend or checkpoint folder fails in well under a second, with
  close names, instead of after a model load or a hub round trip.
- `quiet_third_party`: transformers / hub progress bars and advisory warnings off (vlmbench draws its
  own progress), unless the user asks for them.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.registry import suggest

# lm-eval spells the token limit max_gen_toks, lmms-eval max_new_tokens; both mean the same limit.
GEN_KWARGS = {
    "max_new_tokens": "max_new_tokens",
    "max_gen_toks": "max_new_tokens",
    "temperature": "temperature",
    "top_p": "top_p",
    "do_sample": "do_sample",
}
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")


def gen_kwargs_options(args: dict[str, Any]) -> dict[str, Any]:
    """{max_new_tokens, temperature, top_p} from parsed `--gen_kwargs`. `do_sample=false` is greedy
    decoding (temperature 0); `do_sample=true` without a temperature samples at 1.0, as HF's
    `generate` does. Keys vlmbench has no equivalent for are refused, never silently dropped."""
    unknown = sorted(set(args) - set(GEN_KWARGS))
    if unknown:
        raise VlmbenchError(
            f"--gen_kwargs: {', '.join(unknown)} not supported; known: {', '.join(GEN_KWARGS)} "
            "(stop sequences and beams are fixed by each task's protocol)"
        )
    out: dict[str, Any] = {}
    for key, value in args.items():
        name = GEN_KWARGS[key]
        if name in out and out[name] != value:
            raise VlmbenchError(f"--gen_kwargs: {key}={value} contradicts another key for {name}")
        out[name] = value
    sample = out.pop("do_sample", None)
    if isinstance(sample, str) or (sample is not None and not isinstance(sample, bool)):
        raise VlmbenchError(f"--gen_kwargs: do_sample must be true or false, got {sample!r}")
    if sample is False:
        if out.get("temperature") not in (None, 0, 0.0):
            raise VlmbenchError("--gen_kwargs: do_sample=false with temperature > 0 contradicts itself")
        out["temperature"] = 0.0
    elif sample is True:
        if out.get("temperature") in (0, 0.0):
            raise VlmbenchError("--gen_kwargs: do_sample=true with temperature=0 contradicts itself")
        out.setdefault("temperature", 1.0)
    for key, kind in (("max_new_tokens", int), ("temperature", (int, float)), ("top_p", (int, float))):
        if key in out and (isinstance(out[key], bool) or not isinstance(out[key], kind)):
            raise VlmbenchError(f"--gen_kwargs: {key} must be a number, got {out[key]!r}")
    return out


def merge_gen_options(options: dict[str, Any], from_gen_kwargs: dict[str, Any]) -> None:
    """Put `--gen_kwargs` values into `options`; one that disagrees with an explicit flag is an error."""
    for key, value in from_gen_kwargs.items():
        given = options.get(key)
        if given is not None and given != value:
            flag = "--" + key.replace("_", "-")
            raise VlmbenchError(f"--gen_kwargs {key}={value} contradicts {flag} {given}")
        options[key] = value


def looks_like_hub_id(model: str) -> bool:
    return bool(_HUB_ID.match(model)) and not model.startswith((".", "~"))


def check_model(backend: str, model: str | None) -> None:
    """Fail early, with close names, on a backend, baseline or checkpoint folder that cannot exist
    (`model` None: the backend's own default, checked by the backend)."""
    from vlmbench.models import BACKENDS

    if backend not in BACKENDS:
        hint = _hint(backend, list(BACKENDS))
        raise VlmbenchError(f"unknown backend {backend!r}{hint} (known: {', '.join(sorted(BACKENDS))})")
    if backend == "baseline":
        from vlmbench.models.baseline import STRATEGIES

        if model not in STRATEGIES:
            hint = _hint(model, list(STRATEGIES))
            raise VlmbenchError(f"unknown baseline {model!r}{hint} (known: {', '.join(STRATEGIES)})")
    elif backend in ("hf", "vllm"):
        path = Path(model).expanduser()
        if path.is_dir() or (looks_like_hub_id(model) and not path.exists()):
            return
        if path.exists():
            raise VlmbenchError(f"--model {model}: not a folder (a checkpoint is a folder with config.json)")
        parent = path.parent if str(path.parent) else Path(".")
        siblings = [p.name for p in parent.iterdir() if p.is_dir()] if parent.is_dir() else []
        close = suggest(path.name, siblings)
        hint = f"; did you mean {', '.join(repr(str(parent / c)) for c in close)}?" if close else ""
        if not close and "/" not in model:
            from vlmbench.models.baseline import STRATEGIES

            named = suggest(model, list(STRATEGIES))
            hint = f"; did you mean the baseline --model {named[0]}?" if named else ""
        raise VlmbenchError(
            f"--model {model}: no such folder{hint} (a hub model is named org/name, e.g. "
            "llava-hf/llava-1.5-7b-hf)"
        )


def _hint(name: str, candidates: list[str]) -> str:
    close = suggest(name, candidates)
    return f"; did you mean {', '.join(repr(c) for c in close)}?" if close else ""


def quiet_third_party() -> None:
    """transformers' and the hub's progress bars and advisory warnings off for this process: vlmbench
    draws one progress bar per task, and their output would interleave with it."""
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    for module in ("transformers", "torch", "huggingface_hub", "accelerate", "torchvision"):
        warnings.filterwarnings("ignore", module=rf"{module}(\.|$)")
    import sys

    if "transformers" in sys.modules:  # already imported: the environment is read only at import
        from transformers.utils import logging

        logging.set_verbosity_error()
        logging.disable_progress_bar()
    if "huggingface_hub" in sys.modules:
        from huggingface_hub.utils import disable_progress_bars

        disable_progress_bars()
