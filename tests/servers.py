"""Starting real model servers in tests: a free port, and waiting until `/health` answers."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request
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
