"""The transformers backend: `AutoModelForImageTextToText` + the checkpoint's processor and chat template.

Requests of a batch are grouped by identical GenerationParams; each group is one left-padded
`model.generate` call. Greedy decoding when temperature == 0, else sampling seeded by `params.seed`.
Only the new tokens are decoded. A row that produced no EOS within `max_new_tokens` finishes with
"length". Model arguments (`--model-args k=v,...`): dtype, device, attn_implementation,
trust_remote_code, max_model_len (the context; default the model's `max_position_embeddings`),
prefetch (images, all or off; see below); anything else goes to `from_pretrained`.

A request whose prompt (image tokens included) plus `max_new_tokens` does not fit the context is
refused with `ContextLengthError` before anything is generated - as OpenAI-compatible servers answer
such a request with an error - so the runner records that sample as failed and the batch goes on.

Prefetch (`prefetch(requests)`): a caller that knows its next batch hands it over before generating
the current one, and one background thread prepares it while the model generates. `prefetch=images`
(the default) decodes its images there; `prefetch=all` also runs the chat template and processor
there; `prefetch=off` does neither. Image decoding mostly runs outside the GIL; the processor is
Python that holds it, and on a small model, whose `generate` is itself Python-bound, running it
alongside slows generation more than it saves (tiny LLaVA, batch 8: images ~10% more samples/s, all
~20% fewer); `all` is for models whose forward pass releases the GIL for long (large models on CPU).
The inputs are the same ones `generate` would make, so answers are identical; an error making them
(an unreadable image) is raised by the `generate` of those requests, as without prefetch. A response's
`seconds` is then the time its batch held the caller, without the overlapped preparation.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, NamedTuple

import torch
import transformers
from transformers import AutoModelForImageTextToText

from vlmbench.errors import VlmbenchError
from vlmbench.models.base import GenerationParams, Request, Response
from vlmbench.models.processors import load_processor

DTYPES = {
    "float32": torch.float32,
    "fp32": torch.float32,
    "bfloat16": torch.bfloat16,
    "bf16": torch.bfloat16,
    "float16": torch.float16,
    "fp16": torch.float16,
    "auto": "auto",
}


class ContextLengthError(VlmbenchError):
    """A prompt that, with its new tokens, does not fit the model's context."""


def context_length(config: Any) -> int | None:
    """The model's context in tokens, from its (text) config; None when it does not say."""
    for cfg in (getattr(config, "text_config", None), config):
        value = getattr(cfg, "max_position_embeddings", None) if cfg is not None else None
        if isinstance(value, int) and value > 0:
            return value
    return None


PREFETCH_MODES = ("images", "all", "off")


def prefetch_mode(value: Any) -> str:
    """`images`, `all` or `off`; booleans too (`true` is the default `images`, `false` is `off`)."""
    text = str(value).strip().lower()
    if text in PREFETCH_MODES:
        return text
    if text in {"1", "true", "yes", "on"}:
        return "images"
    if text in {"0", "false", "no", "none"}:
        return "off"
    raise VlmbenchError(f"unknown prefetch {value!r}; choose one of {', '.join(PREFETCH_MODES)}")


class _Prepared(NamedTuple):
    """A params group's decoded images and, when the processor ran ahead too, its model inputs."""

    images: list[Any]
    inputs: Any = None


def _load_images(requests: Sequence[Request]) -> list[Any]:
    return [ref.load() for r in requests for ref in r.images]


def _groups(requests: Sequence[Request]) -> dict[GenerationParams, list[int]]:
    """Request positions by GenerationParams: one `model.generate` call per distinct params."""
    groups: dict[GenerationParams, list[int]] = {}
    for i, request in enumerate(requests):
        groups.setdefault(request.params, []).append(i)
    return groups


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "true", "yes", "on"}
    return bool(value)


def chat_messages(request: Request) -> list[dict[str, Any]]:
    """`request.messages()` in the processor's content format: images as bare `{"type": "image"}`."""
    out = []
    for message in request.messages():
        content = message["content"]
        if isinstance(content, str):
            content = [{"type": "text", "text": content}]
        else:
            content = [{"type": "image"} if part["type"] == "image" else part for part in content]
        out.append({"role": message["role"], "content": content})
    return out


class HFBackend:
    name = "hf"

    def __init__(
        self,
        model: str,
        dtype: str = "float32",
        device: str = "cpu",
        attn_implementation: str | None = None,
        trust_remote_code: bool | str = False,
        max_model_len: int | str | None = None,
        seed: int = 0,
        prefetch: bool | str = "images",
        **extra: Any,
    ) -> None:
        if str(dtype) not in DTYPES:
            raise VlmbenchError(f"unknown dtype {dtype!r}; choose one of {', '.join(DTYPES)}")
        self.model_name = str(model)
        self.dtype = str(dtype)
        self.device = str(device)
        self.seed = int(seed)
        self.trust_remote_code = _as_bool(trust_remote_code)
        kwargs: dict[str, Any] = {"dtype": DTYPES[self.dtype], "trust_remote_code": self.trust_remote_code}
        if attn_implementation:
            kwargs["attn_implementation"] = attn_implementation
        if self.device == "auto":
            kwargs["device_map"] = "auto"
        kwargs.update(extra)
        try:
            self.model = AutoModelForImageTextToText.from_pretrained(self.model_name, **kwargs)
            self.processor = load_processor(self.model_name, trust_remote_code=self.trust_remote_code)
        except (OSError, ValueError) as err:
            raise VlmbenchError(f"cannot load model {self.model_name!r}: {err}") from err
        if self.device != "auto":
            self.model.to(self.device)
        self.model.eval()
        self.tokenizer = self.processor.tokenizer
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        gen = self.model.generation_config
        eos = gen.eos_token_id if gen.eos_token_id is not None else self.tokenizer.eos_token_id
        self.eos_ids = {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}
        self.pad_id = gen.pad_token_id if gen.pad_token_id is not None else self.tokenizer.pad_token_id
        self.max_model_len = int(max_model_len) if max_model_len else context_length(self.model.config)
        self.prefetch_mode = prefetch_mode(prefetch)
        self._worker: ThreadPoolExecutor | None = None
        self._prefetched: tuple[list[Request], Future[list[_Prepared]]] | None = None
        # the Rust tokenizer refuses to be used from two threads at once ("Already borrowed")
        self._tokenizer_lock = threading.Lock()

    def start_task(self, task: str, samples: Sequence[Any]) -> None:
        return None

    def prefetch(self, requests: Sequence[Request]) -> None:
        """Start making the inputs of a coming `generate(requests)` on the background thread. A hint
        only: it replaces an earlier one, and a `generate` of other requests leaves it waiting."""
        if self.prefetch_mode == "off" or not requests:
            return
        if self._worker is None:
            self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="vlmbench-prefetch")
        batch = list(requests)
        self._prefetched = (batch, self._worker.submit(self._prepare_groups, batch))

    def _take_prefetched(self, requests: Sequence[Request]) -> list[_Prepared] | None:
        """The prefetched inputs when they were made for exactly these requests (the same objects);
        their preparation's error, if any, is raised here."""
        if self._prefetched is None:
            return None
        batch, future = self._prefetched
        if len(batch) != len(requests) or any(a is not b for a, b in zip(batch, requests, strict=True)):
            return None  # e.g. the caller retrying a failed batch one by one: the hint stays for later
        self._prefetched = None
        return future.result()

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        start = time.perf_counter()
        groups = _groups(requests)
        prepared = self._take_prefetched(requests)
        responses: list[Response | None] = [None] * len(requests)
        for k, (params, indices) in enumerate(groups.items()):
            batch = [requests[i] for i in indices]
            ahead = prepared[k] if prepared is not None else _Prepared(_load_images(batch))
            inputs = ahead.inputs if ahead.inputs is not None else self._inputs(batch, ahead.images)
            for i, response in zip(indices, self._generate_group(batch, params, inputs, start), strict=True):
                responses[i] = response
            start = time.perf_counter()
        return [r for r in responses if r is not None]

    def _prepare_groups(self, requests: Sequence[Request]) -> list[_Prepared]:
        """Each params group's prepared part (see `prefetch_mode`), in the order `generate` walks them."""
        out = []
        for indices in _groups(requests).values():
            batch = [requests[i] for i in indices]
            images = _load_images(batch)
            out.append(
                _Prepared(images, self._inputs(batch, images) if self.prefetch_mode == "all" else None)
            )
        return out

    def _inputs(self, requests: Sequence[Request], images: list[Any]) -> Any:
        """Chat template applied and processor run over decoded images: the model's left-padded inputs."""
        texts = [
            self.processor.apply_chat_template(chat_messages(r), tokenize=False, add_generation_prompt=True)
            for r in requests
        ]
        with self._tokenizer_lock:
            return self.processor(text=texts, images=images or None, return_tensors="pt", padding=True)

    def _generate_group(
        self, requests: Sequence[Request], params: GenerationParams, inputs: Any, start: float
    ) -> list[Response]:
        n_prompt = inputs["attention_mask"].sum(dim=1).tolist()
        self._check_context(requests, n_prompt, params.max_new_tokens)
        inputs = inputs.to(self.model.device)
        if "pixel_values" in inputs and self.model.dtype != torch.float32:
            inputs["pixel_values"] = inputs["pixel_values"].to(self.model.dtype)
        sample = params.temperature > 0
        options: dict[str, Any] = {
            "max_new_tokens": params.max_new_tokens,
            "do_sample": sample,
            "pad_token_id": self.pad_id,
            "eos_token_id": sorted(self.eos_ids),
        }
        if sample:
            options.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
            torch.manual_seed(params.seed)
        else:  # neutral values, so the checkpoint's sampling defaults draw no warnings
            options.update(temperature=None, top_p=None, top_k=None)
        with torch.inference_mode():
            output = self.model.generate(**inputs, **options)
        prompt_len = inputs["input_ids"].shape[1]
        new_tokens = output[:, prompt_len:].tolist()
        seconds = (time.perf_counter() - start) / len(requests)
        responses = []
        for row, n_in in zip(new_tokens, n_prompt, strict=True):
            end = next((k for k, t in enumerate(row) if t in self.eos_ids), None)
            kept = row if end is None else row[:end]
            with self._tokenizer_lock:
                text = self.tokenizer.decode(kept, skip_special_tokens=True)
            responses.append(
                Response(
                    text=text,
                    n_prompt_tokens=int(n_in),
                    n_output_tokens=len(row) if end is None else end + 1,
                    seconds=seconds,
                    finish_reason="length" if end is None else "stop",
                )
            )
        return responses

    def _check_context(self, requests: Sequence[Request], n_prompt: list[int], max_new: int) -> None:
        if self.max_model_len is None:
            return
        for request, n in zip(requests, n_prompt, strict=True):
            if n + max_new > self.max_model_len:
                raise ContextLengthError(
                    f"sample {request.id!r}: prompt of {n} tokens + {max_new} new tokens exceeds the "
                    f"model's context of {self.max_model_len} tokens"
                )

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_name,
            "dtype": self.dtype,
            "device": self.device,
            "architecture": list(self.model.config.architectures or []),
            "transformers": transformers.__version__,
            "max_model_len": self.max_model_len,
            "seed": self.seed,
        }
