"""Where a number came from (`vlmbench.records.provenance`): package versions, git commit, weights hash."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

import vlmbench
from vlmbench.records.provenance import git_commit, hardware, package_versions, weights_hash

CHECKOUT = Path(vlmbench.__file__).resolve().parents[1]


def test_package_versions_include_vlmbench_and_skip_what_is_not_installed() -> None:
    versions = package_versions()
    assert versions["vlmbench"] == vlmbench.__version__
    assert "pillow" in versions  # a core dependency
    assert all(isinstance(v, str) and v for v in versions.values())


def test_hardware_names_platform_and_python() -> None:
    info = hardware()
    assert info["cpu_count"] >= 1 and re.fullmatch(r"3\.\d+\.\d+\S*", info["python"])


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    folder = tmp_path / "ckpt"
    (folder / "sub").mkdir(parents=True)
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 4)
    (folder / "sub" / "extra.bin").write_bytes(b"\x01\x02\x03")
    (folder / "config.json").write_text('{"model_type": "tiny"}')
    return folder


def test_weights_hash_covers_the_weight_files(checkpoint: Path) -> None:
    first = weights_hash(str(checkpoint))
    assert first is not None
    assert (first["files"], first["bytes"], first["sampled"]) == (2, 1024 + 3, False)
    assert re.fullmatch(r"[0-9a-f]{64}", first["sha256"])
    assert weights_hash(str(checkpoint)) == first  # deterministic


def test_weights_hash_changes_when_one_byte_changes(checkpoint: Path) -> None:
    before = weights_hash(str(checkpoint))["sha256"]
    data = bytearray((checkpoint / "model.safetensors").read_bytes())
    data[500] ^= 0xFF
    (checkpoint / "model.safetensors").write_bytes(bytes(data))
    assert weights_hash(str(checkpoint))["sha256"] != before


def test_weights_hash_ignores_files_that_are_not_weights(checkpoint: Path) -> None:
    before = weights_hash(str(checkpoint))
    (checkpoint / "config.json").write_text('{"model_type": "other"}')
    (checkpoint / "README.md").write_text("notes")
    assert weights_hash(str(checkpoint)) == before


def test_a_renamed_weight_file_changes_the_hash(checkpoint: Path) -> None:
    before = weights_hash(str(checkpoint))["sha256"]
    (checkpoint / "model.safetensors").rename(checkpoint / "model-00001.safetensors")
    assert weights_hash(str(checkpoint))["sha256"] != before


@pytest.mark.parametrize("model", ["Qwen/Qwen2-VL-2B-Instruct", "random", "no/such/folder"])
def test_weights_hash_is_none_for_what_is_not_a_local_folder(model: str, tmp_path: Path) -> None:
    assert weights_hash(model) is None
    (tmp_path / "weights.safetensors").write_bytes(b"x")
    assert weights_hash(str(tmp_path / "weights.safetensors")) is None  # a file, not a checkpoint folder


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
