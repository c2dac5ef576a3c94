"""Where a number came from (`vlmbench.records.provenance`): package versions, git commit, hardware,
parameter count."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

import vlmbench
from vlmbench.records.provenance import git_commit, hardware, package_versions, parameter_count

CHECKOUT = Path(vlmbench.__file__).resolve().parents[1]


def test_package_versions_include_vlmbench_and_skip_what_is_not_installed() -> None:
    versions = package_versions()
    assert versions["vlmbench"] == vlmbench.__version__
    assert "pillow" in versions  # a core dependency
    assert all(isinstance(v, str) and v for v in versions.values())


def test_hardware_names_platform_and_python() -> None:
    info = hardware()
    assert info["cpu_count"] >= 1 and re.fullmatch(r"3\.\d+\.\d+\S*", info["python"])


def test_parameter_count_reads_safetensors_headers_and_refuses_a_bogus_one(tmp_path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [3, 4]}, "__metadata__": {"format": "pt"}}).encode()
    (tmp_path / "model.safetensors").write_bytes(len(header).to_bytes(8, "little") + header + bytes(48))
    assert parameter_count(str(tmp_path)) == 12
    # a file whose first 8 bytes claim an 8 EB header: None, without trying to allocate it
    (tmp_path / "model.safetensors").write_bytes(b"\xff" * 8 + b"{}")
    assert parameter_count(str(tmp_path)) is None


def test_git_commit_of_this_checkout() -> None:
    if shutil.which("git") is None or not (CHECKOUT / ".git").exists():
        pytest.skip("not a git checkout")
    info = git_commit()
    assert info is not None
    assert re.fullmatch(r"[0-9a-f]{40}", info["commit"])
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=CHECKOUT, capture_output=True, text=True)
    assert info["commit"] == head.stdout.strip()
    assert isinstance(info["dirty"], bool)


def _git(cwd: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=cwd, check=True, capture_output=True
    )


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_git_commit_only_for_a_tracked_package(tmp_path: Path) -> None:
    """An installed copy inside some other repository (a venv in a user's project, which git ignores)
    must not report that project's commit as vlmbench's."""
    _git(tmp_path, "init", "-q")
    (tmp_path / ".gitignore").write_text(".venv/\n")
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    installed = tmp_path / ".venv" / "site-packages" / "pkg"
    installed.mkdir(parents=True)
    (installed / "__init__.py").write_text("")
    _git(tmp_path, "add", ".gitignore", "pkg")
    _git(tmp_path, "commit", "-q", "-m", "init")

    tracked = git_commit(package)
    assert tracked is not None and re.fullmatch(r"[0-9a-f]{40}", tracked["commit"])
    assert tracked["dirty"] is False
    (package / "__init__.py").write_text("x = 1\n")
    assert git_commit(package)["dirty"] is True
    assert git_commit(installed) is None
    assert git_commit(tmp_path / ".venv") is None


def test_git_commit_outside_any_repository_is_none(tmp_path: Path) -> None:
    assert git_commit(tmp_path) is None
