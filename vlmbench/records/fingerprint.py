"""What was evaluated, as content: the model fingerprint that joins a run's id.

A run id built from the eval options alone would name the same folder after a checkpoint was retrained
in place, and the old model's samples would be reused under the new model's name. So the fingerprint -
what the model *is*, not what it is called - enters the run id (`EvalConfig.run_id`):

- a local checkpoint folder: sha256 of every file `from_pretrained` reads (weights, adapter, configs,
  tokenizer, processor, chat template, remote code); an adapter's base model is fingerprinted too;
- a hub id: the commit its revision resolved to in the local hub cache;
- an OpenAI-compatible server: the model id (and root) its `/models` reports, plus `revision=`;
- a baseline: its strategy and seed.

Hashing a 15 GB checkpoint takes a while, so each file's hash is cached by (path, size, mtime, ctime,
inode) in `$VLMBENCH_CACHE/file-hashes.json`; an edit in place changes mtime and ctime, and the file is
hashed again. An entry that is damaged (not a stat and a sha256) is ignored and the file hashed again;
only a whole-file digest is trusted. `VLMBENCH_HASH_CACHE=0` hashes every file every time.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vlmbench.defaults import cache_dir
from vlmbench.records.hashing import canonical_hash, file_sha256
from vlmbench.records.record import (
    BaselineFingerprint,
    FileHash,
    Fingerprint,
    HubFingerprint,
    LocalFingerprint,
    NameFingerprint,
    ServerFingerprint,
)

CHECKPOINT_SUFFIXES = (
    ".safetensors", ".bin", ".pt", ".pth", ".gguf", ".msgpack", ".h5",  # weights
    ".json", ".model", ".txt", ".tiktoken", ".jinja", ".py",  # configs, tokenizers, templates, code
)  # fmt: skip
# what a training folder holds beside the model: optimizer state and logs change nothing the model does
NOT_MODEL = re.compile(
    r"^(training_args\.bin|optimizer\.(pt|bin)|scheduler\.pt|scaler\.pt|rng_state(_\d+)?\.pth|"
    r"trainer_state\.json|train_state\.json|train_result\.json|all_results\.json|.*\.tmp)$"
)
HASH_CACHE_ENV = "VLMBENCH_HASH_CACHE"
CACHE_FILE = "file-hashes.json"
HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
COMMIT = re.compile(r"^[0-9a-f]{40}$")
SHA256 = re.compile(r"[0-9a-f]{64}")


def _digest(fingerprint_cls: type, **fields: Any) -> Fingerprint:
    draft = fingerprint_cls.model_construct(**fields)
    return fingerprint_cls(**fields, digest=canonical_hash(draft.identity()))


# ---------------------------------------------------------------- local checkpoints


def checkpoint_files(folder: Path) -> list[Path]:
    """The files of a checkpoint folder that define the model (top level: `from_pretrained` reads no
    sub-folder, and a training folder's `checkpoint-N/` are other models)."""
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and p.suffix in CHECKPOINT_SUFFIXES and not NOT_MODEL.match(p.name)
    )


def local_fingerprint(folder: str | Path, _seen: frozenset[str] = frozenset()) -> LocalFingerprint:
    path = Path(folder)
    files = checkpoint_files(path)
    hashes = FileHashes()
    entries = [FileHash(path=p.name, bytes=p.stat().st_size, sha256=hashes.sha256(p)) for p in files]
    hashes.save()
    note = None if any(p.suffix != ".json" for p in files) else "no weight or tokenizer file found"
    base = _adapter_base(path, _seen | {str(path.resolve())})
    return _digest(
        LocalFingerprint,
        path=str(folder),
        files=entries,
        bytes=sum(e.bytes for e in entries),
        base=base,
        note=note,
    )


def _adapter_base(folder: Path, seen: frozenset[str]) -> Fingerprint | None:
    """A PEFT adapter folder names its base model; the adapter means nothing without it."""
    config = folder / "adapter_config.json"
    if not config.is_file():
        return None
    try:
        base = json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    except (OSError, ValueError, AttributeError):
        return None
    if not isinstance(base, str) or not base:
        return None
    if Path(base).is_dir():
        if str(Path(base).resolve()) in seen:
            return None
        return local_fingerprint(base, seen)
    return hub_fingerprint(base)


def _is_sha256(value: Any) -> bool:
    """A cache entry is trusted only when it holds a well-formed digest: a damaged one means rehashing."""
    return isinstance(value, str) and SHA256.fullmatch(value) is not None


class FileHashes:
    """sha256 of files, cached by (size, mtime, ctime, inode) so that unchanged checkpoints cost a stat."""

    def __init__(self) -> None:
        self.enabled = os.environ.get(HASH_CACHE_ENV, "1") != "0"
        self.path = cache_dir() / CACHE_FILE
        self.entries: dict[str, dict[str, Any]] = self._load() if self.enabled else {}
        self.changed = False

    def _load(self) -> dict[str, dict[str, Any]]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}  # no cache, or one cut short: it is only a cache
        return data if isinstance(data, dict) else {}

    def sha256(self, path: Path) -> str:
        stat = path.stat()
        key = str(path.resolve())
        stamp = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        cached = self.entries.get(key)
        if isinstance(cached, dict) and cached.get("stat") == stamp and _is_sha256(cached.get("sha256")):
            return cached["sha256"]
        value = file_sha256(path)
        if self.enabled:
            self.entries[key] = {"stat": stamp, "sha256": value}
            self.changed = True
        return value

    def save(self) -> None:
        if not (self.enabled and self.changed):
            return
        live = {k: v for k, v in self.entries.items() if Path(k).exists()}
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(live, sort_keys=True), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError:
            pass  # a read-only cache folder costs time, never correctness


# ---------------------------------------------------------------- hub ids


def hub_cache_dir(model_args: Mapping[str, Any] | None = None) -> Path:
    """Where huggingface_hub keeps downloads: `cache_dir=` if given, `$HF_HUB_CACHE`, `$HF_HOME/hub`."""
    given = (model_args or {}).get("cache_dir")
    if given:
        return Path(str(given))
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"])
    home = os.environ.get("HF_HOME") or Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / (
        "huggingface"
    )
    return Path(home) / "hub"


def hub_fingerprint(repo: str, revision: str | None = None, cache: Path | None = None) -> HubFingerprint:
    """The commit `revision` (default main) resolved to, read from the hub cache that the backend just
    loaded the model through - no network call. A 40-hex revision is its own commit."""
    revision = revision or "main"
    commit = revision if COMMIT.match(revision) else None
    if commit is None:
        ref = (cache or hub_cache_dir()) / f"models--{repo.replace('/', '--')}" / "refs" / revision
        try:
            text = ref.read_text(encoding="utf-8").strip()
        except OSError:
            text = ""
        commit = text if COMMIT.match(text) else None
    note = (
        None
        if commit
        else f"revision {revision!r} of {repo} is not in the hub cache: a changed model cannot be detected"
    )
    return _digest(HubFingerprint, repo=repo, revision=revision, commit=commit, note=note)


# ---------------------------------------------------------------- servers, baselines, the dispatch


def server_fingerprint(
    model: str, served: Mapping[str, Any] | None, revision: str | None = None
) -> ServerFingerprint:
    """From the server's `/models` entry for `model` (None: the server offers no model list)."""
    served_id = str(served["id"]) if served and served.get("id") is not None else None
    root = served.get("root") if served else None
    note = None if served else "the server lists no models: only the requested name identifies it"
    return _digest(
        ServerFingerprint,
        model=model,
        served_id=served_id,
        served_root=str(root) if root else None,
        revision=revision,
        note=note,
    )


def baseline_fingerprint(strategy: str, seed: int) -> BaselineFingerprint:
    return _digest(BaselineFingerprint, strategy=strategy, seed=int(seed))


def name_fingerprint(name: str) -> NameFingerprint:
    return _digest(NameFingerprint, name=name, note="neither a checkpoint folder nor a hub id")


def model_fingerprint(
    backend: str,
    model: str,
    model_args: Mapping[str, Any] | None = None,
    seed: int = 0,
    served: Mapping[str, Any] | None = None,
) -> Fingerprint:
    """The fingerprint of what `backend` evaluates as `model` (`served`: the openai backend's probe)."""
    args = model_args or {}
    revision = args.get("revision")
    if backend == "baseline":
        return baseline_fingerprint(model, seed)
    if backend == "openai":
        return server_fingerprint(model, served, str(revision) if revision is not None else None)
    if Path(model).is_dir():
        return local_fingerprint(model)
    if HUB_ID.match(model):
        return hub_fingerprint(model, str(revision) if revision is not None else None, hub_cache_dir(args))
    return name_fingerprint(model)
