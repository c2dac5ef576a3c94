"""The vLLM backend. Without vLLM: a clear error and the request conversion. With a vLLM install named by
VLMBENCH_VLLM_PYTHON (a python whose environment has vllm and vlmbench; see docs/backends.md for the
CPU recipe): a real run on the tiny LLaVA whose greedy outputs equal the transformers backend's."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any, ClassVar

import pytest
from realdata import shared_data_dir

from vlmbench.data import load_samples
from vlmbench.errors import VlmbenchError
from vlmbench.models import GenerationParams, get_backend
from vlmbench.models.vllm_engine import SCALE_ARGS, _coerce, vllm_messages
from vlmbench.prompts import build_request
from vlmbench.registry import get_task

VLLM_PYTHON = os.environ.get("VLMBENCH_VLLM_PYTHON")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None, reason="vLLM is installed here")
def test_without_vllm_the_error_says_what_to_install_and_the_alternative() -> None:
    with pytest.raises(VlmbenchError) as err:
        get_backend("vllm", "some/model")
    message = str(err.value)
    assert "pip install 'vlmbench[vllm]'" in message and "--backend openai" in message


def test_model_args_are_typed_for_the_engine() -> None:
    args = _coerce(
        {
            "tensor_parallel_size": "2",
            "gpu_memory_utilization": "0.5",
            "enforce_eager": "true",
            "dtype": "bfloat16",
            "limit_mm_per_prompt": '{"image": 2}',
        }
    )
    assert args == {
        "tensor_parallel_size": 2,
        "gpu_memory_utilization": 0.5,
        "enforce_eager": True,
        "dtype": "bfloat16",
        "limit_mm_per_prompt": {"image": 2},
    }


class _FakeLLM:
    """Stands in for `vllm.LLM`: records the engine arguments it was built with."""

    built: ClassVar[list[dict[str, Any]]] = []

    def __init__(self, **kwargs: Any) -> None:
        if int(kwargs.get("data_parallel_size", 1)) > 1:  # what vLLM's offline LLM does
            raise ValueError("LLM(data_parallel_size=2) is not supported for single-process usage")
        _FakeLLM.built.append(kwargs)


@pytest.fixture
def fake_vllm(monkeypatch: pytest.MonkeyPatch) -> type[_FakeLLM]:
    module = types.ModuleType("vllm")
    module.LLM = _FakeLLM  # type: ignore[attr-defined]
    module.SamplingParams = dict  # type: ignore[attr-defined]
    module.__version__ = "0.0-fake"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "vllm", module)
    _FakeLLM.built = []
    return _FakeLLM


def test_scale_out_arguments_reach_the_engine_typed(fake_vllm: type[_FakeLLM]) -> None:
    scale = {"tensor_parallel_size": "4", "pipeline_parallel_size": "2", "max_num_seqs": "128"}
    get_backend("vllm", "some/model", seed=3, distributed_executor_backend="ray", **scale)
    (engine,) = fake_vllm.built
    assert engine["tensor_parallel_size"] == 4 and engine["pipeline_parallel_size"] == 2
    assert engine["max_num_seqs"] == 128 and engine["distributed_executor_backend"] == "ray"
    assert engine["model"] == "some/model" and engine["seed"] == 3


def test_the_record_names_the_scale_out_arguments(fake_vllm: type[_FakeLLM]) -> None:
    backend = get_backend("vllm", "m", tensor_parallel_size="2", max_num_seqs="64", dtype="bfloat16")
    info = backend.describe()
    assert info["scale"] == {"tensor_parallel_size": 2, "max_num_seqs": 64}
    assert info["engine_args"]["dtype"] == "bfloat16" and info["vllm"] == "0.0-fake"
    assert set(SCALE_ARGS) >= set(info["scale"])


def test_data_parallel_in_one_process_fails_naming_the_ways_that_work(fake_vllm: type[_FakeLLM]) -> None:
    with pytest.raises(VlmbenchError) as err:
        get_backend("vllm", "m", data_parallel_size="2")
    message = str(err.value)
    assert "not supported for single-process usage" in message  # vLLM's own reason, kept
    assert "--data-parallel-size N" in message and "--backend openai" in message


def test_scale_out_arguments_do_not_name_the_run() -> None:
    from vlmbench.runner import EvalConfig

    one = EvalConfig(model="m", backend="vllm", model_args={"dtype": "bfloat16"})
    spread = EvalConfig(
        model="m",
        backend="vllm",
        model_args={"dtype": "bfloat16", "tensor_parallel_size": "8", "max_num_seqs": "256"},
    )
    assert one.config_id() == spread.config_id()


def test_images_travel_decoded_in_the_users_turn() -> None:
    spec = get_task("chartqa")
    (sample,) = load_samples(spec, shared_data_dir(), limit=1)
    request = build_request(spec, sample, "direct", GenerationParams(max_new_tokens=4))
    (turn,) = vllm_messages(request)
    image, text = turn["content"]
    assert image["type"] == "image_pil" and image["image_pil"].size == sample.images[0].load().size
    assert text == {"type": "text", "text": request.prompt}


def _rows(run_dir: Path, task: str) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (run_dir / "samples" / f"{task}.jsonl").open())}


_SCRIPT = """
import json, sys
from pathlib import Path
from vlmbench.runner import EvalConfig, evaluate
if __name__ == "__main__":  # vLLM spawns its engine core: the guard is required
    root, record = evaluate(EvalConfig(**json.loads(sys.argv[1])))
    print("RUN_DIR=" + str(root))
"""


@pytest.mark.skipif(
    not VLLM_PYTHON, reason="set VLMBENCH_VLLM_PYTHON to a python with vLLM (docs/backends.md)"
)
def test_vllm_greedy_outputs_equal_the_transformers_backend(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from vlmbench.models.tiny import make_tiny_model
    from vlmbench.runner import EvalConfig, evaluate

    model = make_tiny_model(tmp_path / "tiny-llava", arch="llava")
    common = {
        "model": str(model),
        "tasks": "chartqa,scienceqa_img",
        "data_dir": str(shared_data_dir()),
        "limit": 6,
        "max_new_tokens": 16,
    }
    engine = {"dtype": "float32", "max_model_len": "2048", "enforce_eager": "true", "max_num_seqs": "8"}
    script = tmp_path / "run_vllm.py"
    script.write_text(_SCRIPT)
    config = {**common, "backend": "vllm", "model_args": engine, "output_dir": str(tmp_path / "vllm")}
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    done = subprocess.run(
        [VLLM_PYTHON, str(script), json.dumps(config)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    vllm_dir = Path(done.stdout.split("RUN_DIR=")[-1].splitlines()[0].strip())
    hf_dir, _ = evaluate(
        EvalConfig(**{**common, "data_dir": shared_data_dir()}, backend="hf", output_dir=tmp_path / "hf")
    )
    for task in ("chartqa", "scienceqa_img"):
        hf_rows, vllm_rows = _rows(hf_dir, task), _rows(vllm_dir, task)
        assert hf_rows.keys() == vllm_rows.keys() and len(hf_rows) == 6
        for sample_id, hf_row in hf_rows.items():
            row = vllm_rows[sample_id]
            assert row["error"] is None and row["n_prompt_tokens"] == hf_row["n_prompt_tokens"]
            assert row["n_output_tokens"] == hf_row["n_output_tokens"]
            # vLLM holds back a trailing partial UTF-8 character; the tokens are the same
            assert (
                hf_row["output"].startswith(row["output"]) and len(hf_row["output"]) - len(row["output"]) <= 1
            )


@pytest.mark.skipif(
    not VLLM_PYTHON, reason="set VLMBENCH_VLLM_PYTHON to a python with vLLM (docs/backends.md)"
)
def test_the_openai_backend_against_a_vllm_server_equals_the_transformers_backend(tmp_path: Path) -> None:
    pytest.importorskip("transformers")
    from servers import free_port, stop, wait_healthy

    from vlmbench.models.tiny import make_tiny_model
    from vlmbench.runner import EvalConfig, evaluate

    model = make_tiny_model(tmp_path / "tiny-llava", arch="llava")
    port = free_port()
    server = [
        VLLM_PYTHON,
        "-m",
        "vllm.entrypoints.openai.api_server",
        "--model",
        str(model),
        "--port",
        str(port),
    ]
    options = ["--host", "127.0.0.1", "--dtype", "float32", "--max-model-len", "2048", "--enforce-eager"]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "VLLM_CPU_KVCACHE_SPACE": "1"}
    with (tmp_path / "server.log").open("w") as log:
        process = subprocess.Popen([*server, *options], stdout=log, stderr=subprocess.STDOUT, env=env)
        try:
            wait_healthy(f"http://127.0.0.1:{port}/health", process, timeout=300)
            common = {
                "model": str(model),
                "tasks": "chartqa,scienceqa_img",
                "data_dir": shared_data_dir(),
                "limit": 6,
            }
            args = {"base_url": f"http://127.0.0.1:{port}/v1", "concurrency": 4}
            served_dir, _ = evaluate(
                EvalConfig(**common, backend="openai", model_args=args, output_dir=tmp_path / "a")
            )
        finally:
            stop(process)
    hf_dir, _ = evaluate(EvalConfig(**common, backend="hf", output_dir=tmp_path / "b"))
    for task in ("chartqa", "scienceqa_img"):
        served, local = _rows(served_dir, task), _rows(hf_dir, task)
        assert served.keys() == local.keys() and len(served) == 6
        for sample_id, row in served.items():
            assert row["error"] is None and row["n_prompt_tokens"] == local[sample_id]["n_prompt_tokens"]
            assert row["n_output_tokens"] == local[sample_id]["n_output_tokens"]
            assert local[sample_id]["output"].startswith(row["output"])
            assert len(local[sample_id]["output"]) - len(row["output"]) <= 1
