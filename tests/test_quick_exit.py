"""A finished eval ends its process without interpreter teardown, and loses nothing by it: the exit
code, what it printed, its atexit handlers and its record are all there; where a command did not allow
it, or a child process is alive, or SystemExit carries a message, the normal exit runs."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from vlmbench import quick_exit


def _python(code: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )


LEAVE = """
    import atexit, sys
    from pathlib import Path
    from vlmbench import quick_exit

    class Teardown:  # a __del__ runs in interpreter teardown, never after os._exit
        def __del__(self):
            Path("teardown-ran").write_text("yes")

    keep = Teardown()
    atexit.register(lambda: Path("atexit-ran").write_text("yes"))
    print("said before leaving", end="")  # no newline: still in stdout's buffer
    {setup}
    quick_exit.leave({code})
    Path("normal-exit").write_text("yes")
    sys.exit({code})
"""


def test_an_allowed_exit_keeps_its_code_its_output_and_its_atexit_handlers(tmp_path: Path) -> None:
    done = _python(LEAVE.format(setup="quick_exit.allow()", code=3), tmp_path)
    assert done.returncode == 3
    assert done.stdout == "said before leaving"
    assert (tmp_path / "atexit-ran").read_text() == "yes"
    assert not (tmp_path / "normal-exit").exists()
    assert not (tmp_path / "teardown-ran").exists()  # the teardown it skips


def test_without_allow_the_process_exits_as_usual(tmp_path: Path) -> None:
    done = _python(LEAVE.format(setup="", code=0), tmp_path)
    assert done.returncode == 0
    assert (tmp_path / "normal-exit").exists()


CHILD = """
    import subprocess
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    Path("child").write_text(str(child.pid))
    quick_exit.allow()"""


def test_a_live_child_process_gets_the_normal_exit(tmp_path: Path) -> None:
    done = _python(LEAVE.format(setup=textwrap.dedent(CHILD).replace("\n", "\n    "), code=0), tmp_path)
    subprocess.run(["kill", (tmp_path / "child").read_text()], check=False)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "normal-exit").exists()


def test_a_profiled_run_keeps_its_profile(tmp_path: Path) -> None:
    script = tmp_path / "leave.py"
    script.write_text(textwrap.dedent(LEAVE.format(setup="quick_exit.allow()", code=0)), encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "cProfile", "-o", "profile.out", str(script)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "profile.out").stat().st_size > 0


@pytest.mark.parametrize("code", [None, 0, 2])
def test_leave_returns_when_not_allowed(code: object, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quick_exit, "_allowed", False)
    assert quick_exit.leave(code) is None  # still running: it returned


def test_a_message_to_exit_with_is_left_to_python_to_print(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(quick_exit, "_allowed", True)
    assert quick_exit.leave("fatal: something to print") is None


def test_a_whole_eval_through_the_entry_point_writes_its_record_and_prints_its_summary(
    tmp_path: Path,
) -> None:
    out = tmp_path / "runs"
    command = [sys.executable, "-m", "vlmbench", "eval", "--model", "majority", "--backend", "baseline"]
    command += ["--tasks", "synth_chart", "--n", "3", "--output-dir", str(out)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "run record:" in done.stdout  # printed, and flushed before the process ended
    (record_path,) = out.glob("*/run.json")
    record = json.loads(record_path.read_text(encoding="utf-8"))
    assert record["status"] == "done"
    rows = (record_path.parent / "samples" / "synth_chart.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(rows) == 3
