"""What was evaluated (`vlmbench.records.fingerprint`): a checkpoint by its content, a hub id by its
commit, a served model by what the server reports, a baseline by strategy and seed."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from vlmbench.records.fingerprint import (
    CACHE_FILE,
    baseline_fingerprint,
    hub_fingerprint,
    local_fingerprint,
    model_fingerprint,
    name_fingerprint,
    server_fingerprint,
)
from vlmbench.records.record import LocalFingerprint

COMMIT = "0123456789abcdef0123456789abcdef01234567"


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv("VLMBENCH_CACHE", str(folder))
    monkeypatch.delenv("VLMBENCH_HASH_CACHE", raising=False)
    return folder


@pytest.fixture
def checkpoint(tmp_path: Path, cache: Path) -> Path:
    folder = tmp_path / "ckpt"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(bytes(range(256)) * 64)
    (folder / "config.json").write_text('{"model_type": "tiny"}')
    (folder / "tokenizer.json").write_text('{"vocab": {"a": 0}}')
    (folder / "chat_template.jinja").write_text("{{ messages }}")
    return folder


def test_a_checkpoint_is_fingerprinted_by_every_file_the_model_is_loaded_from(checkpoint: Path) -> None:
    fingerprint = local_fingerprint(checkpoint)
    names = [f.path for f in fingerprint.files]
    assert names == ["chat_template.jinja", "config.json", "model.safetensors", "tokenizer.json"]
    assert fingerprint.bytes == sum((checkpoint / n).stat().st_size for n in names)
    assert fingerprint.note is None and fingerprint.base is None
    assert local_fingerprint(checkpoint) == fingerprint  # deterministic


@pytest.mark.parametrize(
    "name", ["model.safetensors", "config.json", "tokenizer.json", "chat_template.jinja"]
)
def test_one_changed_byte_in_any_model_file_changes_the_fingerprint(checkpoint: Path, name: str) -> None:
    before = local_fingerprint(checkpoint).digest
    data = bytearray((checkpoint / name).read_bytes())
    data[len(data) // 2] ^= 1  # in place: same size, same name
    (checkpoint / name).write_bytes(bytes(data))
    assert local_fingerprint(checkpoint).digest != before


def test_a_renamed_or_added_weight_file_changes_the_fingerprint(checkpoint: Path) -> None:
    before = local_fingerprint(checkpoint).digest
    (checkpoint / "model.safetensors").rename(checkpoint / "model-00001-of-00001.safetensors")
    renamed = local_fingerprint(checkpoint).digest
    (checkpoint / "adapter_model.safetensors").write_bytes(b"lora")
    assert len({before, renamed, local_fingerprint(checkpoint).digest}) == 3


def test_training_state_and_sub_folders_are_not_the_model(checkpoint: Path) -> None:
    before = local_fingerprint(checkpoint)
    (checkpoint / "optimizer.pt").write_bytes(b"adam state")
    (checkpoint / "trainer_state.json").write_text("{}")
    (checkpoint / "training_args.bin").write_bytes(b"args")
    (checkpoint / "rng_state.pth").write_bytes(b"rng")
    (checkpoint / "README.md").write_text("# my model")
    (checkpoint / "checkpoint-10").mkdir()
    (checkpoint / "checkpoint-10" / "model.safetensors").write_bytes(b"an older model")
    assert local_fingerprint(checkpoint) == before


def test_the_same_files_in_another_folder_are_the_same_model(checkpoint: Path, tmp_path: Path) -> None:
    copy = shutil.copytree(checkpoint, tmp_path / "copy")
    assert local_fingerprint(copy).digest == local_fingerprint(checkpoint).digest
    assert local_fingerprint(copy).path != local_fingerprint(checkpoint).path


def test_unchanged_files_are_not_hashed_again_and_changed_ones_are(checkpoint: Path, cache: Path) -> None:
    real = local_fingerprint(checkpoint)
    entries = json.loads((cache / CACHE_FILE).read_text())
    weights = str((checkpoint / "model.safetensors").resolve())
    entries[weights]["sha256"] = "f" * 64  # what a cache hit returns is what the cache says
    (cache / CACHE_FILE).write_text(json.dumps(entries))
    assert {f.path: f.sha256 for f in local_fingerprint(checkpoint).files}["model.safetensors"] == "f" * 64

    # an edit in place that keeps size and even restores the mtime still changes the ctime: hashed again
    stat = (checkpoint / "model.safetensors").stat()
    data = bytearray((checkpoint / "model.safetensors").read_bytes())
    data[0] ^= 1
    (checkpoint / "model.safetensors").write_bytes(bytes(data))
    os.utime(checkpoint / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = local_fingerprint(checkpoint)
    assert {f.path: f.sha256 for f in again.files}["model.safetensors"] not in (
        "f" * 64,
        real.files[2].sha256,
    )


def test_the_hash_cache_can_be_switched_off(checkpoint: Path, cache: Path, monkeypatch) -> None:
    monkeypatch.setenv("VLMBENCH_HASH_CACHE", "0")
    local_fingerprint(checkpoint)
    assert not (cache / CACHE_FILE).exists()


def test_a_corrupt_hash_cache_is_ignored(checkpoint: Path, cache: Path) -> None:
    expected = local_fingerprint(checkpoint)
    (cache / CACHE_FILE).write_text('{"cut short')
    assert local_fingerprint(checkpoint) == expected


def test_an_adapter_is_fingerprinted_with_its_base_model(checkpoint: Path, tmp_path: Path) -> None:
    adapter = tmp_path / "adapter"
    adapter.mkdir()
    (adapter / "adapter_model.safetensors").write_bytes(b"lora weights")
    (adapter / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(checkpoint)}))
    before = local_fingerprint(adapter)
    assert before.base is not None and before.base.digest == local_fingerprint(checkpoint).digest
    (checkpoint / "model.safetensors").write_bytes(b"another base")
    assert local_fingerprint(adapter).digest != before.digest  # same adapter, other base: other model


def test_a_folder_with_configs_only_says_so(tmp_path: Path, cache: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    assert local_fingerprint(tmp_path).note == "no weight or tokenizer file found"


def _hub_cache(root: Path, repo: str, refs: dict[str, str]) -> Path:
    folder = root / f"models--{repo.replace('/', '--')}"
    (folder / "refs").mkdir(parents=True)
    for ref, commit in refs.items():
        (folder / "refs" / ref).write_text(commit)
        (folder / "snapshots" / commit).mkdir(parents=True, exist_ok=True)
    return root


def test_a_hub_id_is_the_commit_its_revision_resolved_to(tmp_path: Path, monkeypatch) -> None:
    other = "f" * 40
    monkeypatch.setenv("HF_HUB_CACHE", str(_hub_cache(tmp_path, "org/vlm", {"main": COMMIT, "v2": other})))
    main = model_fingerprint("hf", "org/vlm")
    assert (main.kind, main.commit, main.revision, main.note) == ("hub", COMMIT, "main", None)
    tagged = model_fingerprint("vllm", "org/vlm", {"revision": "v2"})
    assert tagged.commit == other and tagged.digest != main.digest
    pinned = hub_fingerprint("org/vlm", COMMIT)
    assert pinned.commit == COMMIT
    (tmp_path / "models--org--vlm" / "refs" / "main").write_text(other)  # main moved on upstream
    assert model_fingerprint("hf", "org/vlm").digest != main.digest


def test_a_hub_id_not_in_the_cache_is_named_unresolved(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    fingerprint = model_fingerprint("hf", "org/absent")
    assert fingerprint.commit is None and "cannot be detected" in (fingerprint.note or "")
    explicit = model_fingerprint(
        "hf", "org/vlm", {"cache_dir": str(_hub_cache(tmp_path / "c", "org/vlm", {}))}
    )
    assert explicit.commit is None


def test_a_served_model_is_what_the_server_reports() -> None:
    served = server_fingerprint("qwen", {"id": "qwen", "root": "/models/Qwen2-VL-7B"})
    assert (served.served_id, served.served_root, served.note) == ("qwen", "/models/Qwen2-VL-7B", None)
    other_root = server_fingerprint("qwen", {"id": "qwen", "root": "/models/Qwen2-VL-7B-retrained"})
    with_revision = server_fingerprint("qwen", {"id": "qwen", "root": "/models/Qwen2-VL-7B"}, "abc123")
    unlisted = server_fingerprint("qwen", None)
    assert len({served.digest, other_root.digest, with_revision.digest, unlisted.digest}) == 4
    assert unlisted.note and "only the requested name" in unlisted.note
    assert (
        model_fingerprint("openai", "qwen", {"revision": "abc123"}, served={"id": "qwen"}).revision
        == "abc123"
    )


def test_baselines_and_plain_names() -> None:
    assert baseline_fingerprint("random", 0).digest != baseline_fingerprint("random", 1).digest
    assert model_fingerprint("baseline", "majority", seed=3) == baseline_fingerprint("majority", 3)
    assert model_fingerprint("echo", "no-such-thing").kind == "name"
    assert name_fingerprint("x").digest != name_fingerprint("y").digest


def test_a_fingerprint_edited_by_hand_is_refused(checkpoint: Path) -> None:
    data = local_fingerprint(checkpoint).model_dump(mode="json")
    data["files"][0]["sha256"] = "0" * 64
    with pytest.raises(ValidationError, match="digest does not match"):
        LocalFingerprint.model_validate(data)


@pytest.fixture
def hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the files actually read and hashed (a spy on the fingerprint's file hasher)."""
    from vlmbench.records import fingerprint

    seen: list[str] = []
    real = fingerprint.file_sha256

    def spy(path: Path) -> str:
        seen.append(Path(path).name)
        return real(path)

    monkeypatch.setattr(fingerprint, "file_sha256", spy)
    return seen


def test_a_second_fingerprint_reads_no_file_and_gives_the_same_digest(checkpoint: Path, hashed) -> None:
    first = local_fingerprint(checkpoint)
    assert "model.safetensors" in hashed
    hashed.clear()
    assert local_fingerprint(checkpoint) == first
    assert hashed == []


def test_a_touched_file_is_hashed_again_and_keeps_its_digest(checkpoint: Path, hashed) -> None:
    first = local_fingerprint(checkpoint)
    hashed.clear()
    stat = (checkpoint / "model.safetensors").stat()
    os.utime(checkpoint / "model.safetensors", ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    assert local_fingerprint(checkpoint).digest == first.digest
    assert hashed == ["model.safetensors"]


@pytest.mark.parametrize(
    "damage",
    [
        {"sha256": "not a digest"},
        {"sha256": None},
        {"sha256": "F" * 64},
        {"stat": "1 2 3 4"},
        {"stat": None},
    ],
)
def test_a_damaged_cache_entry_is_never_trusted(checkpoint: Path, cache: Path, hashed, damage) -> None:
    expected = local_fingerprint(checkpoint)
    entries = json.loads((cache / CACHE_FILE).read_text())
    weights = str((checkpoint / "model.safetensors").resolve())
    entries[weights].update(damage)
    entries[str((checkpoint / "config.json").resolve())] = "a string, not an entry"
    (cache / CACHE_FILE).write_text(json.dumps(entries))
    hashed.clear()
    assert local_fingerprint(checkpoint) == expected
    assert sorted(hashed) == ["config.json", "model.safetensors"]
