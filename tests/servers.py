"""Starting real model servers in tests: a free port, and waiting until `/health` answers."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

FAKE_OPENAI_SERVER = Path(__file__).with_name("fake_openai_server.py")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 180.0) -> None:
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


def stop(process: subprocess.Popen) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def start_fake_openai(folder: Path, *args: str) -> tuple[subprocess.Popen, str]:
    """`tests/fake_openai_server.py ARGS` in the background: the process and its base URL (`.../v1`)."""
    log = (folder / "fake_openai.log").open("w")
    process = subprocess.Popen(
        [sys.executable, str(FAKE_OPENAI_SERVER), *args], stdout=subprocess.PIPE, stderr=log, text=True
    )
    assert process.stdout is not None
    return process, f"http://127.0.0.1:{int(process.stdout.readline())}/v1"


def closed_port_url() -> str:
    """The base URL of a port nothing listens on."""
    return f"http://127.0.0.1:{free_port()}/v1"


TRANSFORMERS_CLI = shutil.which("transformers")


@contextlib.contextmanager
def transformers_serve(model: Path, folder: Path) -> Iterator[str]:
    """`transformers serve MODEL` on CPU (the `[serving]` extra), offline: its base URL (`.../v1`)."""
    if TRANSFORMERS_CLI is None:
        import pytest

        pytest.skip("the `transformers` command is not on PATH")
    port = free_port()
    log = (folder / "serve.log").open("w")
    command = [TRANSFORMERS_CLI, "serve", str(model), "--host", "127.0.0.1", "--port", str(port)]
    process = subprocess.Popen(
        [*command, "--device", "cpu", "--dtype", "float32"],
        stdout=log,
        stderr=subprocess.STDOUT,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}/health", process)
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop(process)
        log.close()
