"""sha256 of canonical JSON: the one rule behind protocol hashes and run ids, so the run side
(`vlmbench.records.protocol`) and the read-only side (`vlmbench.records.store`, which never imports
scoring or models) cannot disagree; and sha256 of a file, read in blocks (checkpoint shards are GBs)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    """sha256 of a file's bytes, in 4 MiB blocks, so a large file never sits in memory whole."""
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 22), b""):
            digest.update(block)
    return digest.hexdigest()
