"""A non-editable install ships the task files: `pip install .` must still find `tasks/`."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_bundles_task_files_and_registry_finds_them(tmp_path):
    build = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(tmp_path / "dist")],
        capture_output=True,
        text=True,
    )
    if build.returncode != 0:
        pytest.skip(f"cannot build a wheel here (no build backend reachable): {build.stderr[-300:]}")
    wheel = next((tmp_path / "dist").glob("vlmbench-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {Path(n).name for n in names if n.startswith("vlmbench/_bundled/tasks/")}
    assert {p.name for p in (ROOT / "tasks").glob("*.yaml")} <= shipped
    target = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(target)
    probe = "import vlmbench.registry as r; print(r.builtin_task_dir()); print(','.join(r.task_names()))"
    out = subprocess.run(
        [sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(target)},
        cwd=tmp_path,
    )
    assert out.returncode == 0, out.stderr
    folder, names_line = out.stdout.strip().splitlines()
    assert folder.startswith(str(target)) and "chartqa" in names_line.split(",")
