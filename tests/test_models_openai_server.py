"""The openai backend against a real OpenAI-compatible server: `transformers serve` (the `[serving]` extra
of transformers) serving the tiny LLaVA. Images travel as data URLs; greedy outputs must equal the
transformers backend's on the same checkpoint and items."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("transformers", reason="needs transformers: pip install 'vlmbench[dev]'")
pytest.importorskip("fastapi", reason="`transformers serve` needs transformers[serving]")
pytest.importorskip("uvicorn", reason="`transformers serve` needs transformers[serving]")

from realdata import shared_data_dir

from vlmbench.models.tiny import make_tiny_model
from vlmbench.runner import EvalConfig, evaluate

TRANSFORMERS_CLI = shutil.which("transformers")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_healthy(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} not healthy after {timeout:.0f} s")


@pytest.fixture(scope="module")
def served_tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    if TRANSFORMERS_CLI is None:
        pytest.skip("the `transformers` command is not on PATH")
    model = make_tiny_model(tmp_path_factory.mktemp("served") / "tiny-llava", arch="llava")
    port = _free_port()
    log = (tmp_path_factory.mktemp("server-log") / "serve.log").open("w")
    command = [TRANSFORMERS_CLI, "serve", str(model), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--device", "cpu", "--dtype", "float32"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        _wait_healthy(f"http://127.0.0.1:{port}/health", process)
        yield model, f"http://127.0.0.1:{port}/v1"
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _rows(run_dir: Path, task: str) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (run_dir / "samples" / f"{task}.jsonl").open())}


def test_a_live_server_gives_the_transformers_backends_greedy_outputs(
    served_tiny_llava: tuple[Path, str], tmp_path: Path
) -> None:
    model, base_url = served_tiny_llava
    common = dict(model=str(model), tasks="chartqa,scienceqa_img", data_dir=shared_data_dir(), limit=4)
    served_dir, record = evaluate(
        EvalConfig(**common, backend="openai", model_args={"base_url": base_url}, output_dir=tmp_path / "a")
    )
    local_dir, _ = evaluate(EvalConfig(**common, backend="hf", output_dir=tmp_path / "b"))
    for task in ("chartqa", "scienceqa_img"):
        assert record["tasks"][task]["n"] == 4 and record["tasks"][task]["n_failed"] == 0
        served, local = _rows(served_dir, task), _rows(local_dir, task)
        assert served.keys() == local.keys()
        for sample_id, row in served.items():
            assert row["output"] == local[sample_id]["output"], sample_id
            assert row["n_output_tokens"] == local[sample_id]["n_output_tokens"]
            assert row["finish_reason"] == local[sample_id]["finish_reason"]
            assert row["n_prompt_tokens"] > 0
