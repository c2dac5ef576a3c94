"""sha256 of canonical JSON: the one rule behind protocol hashes and run ids, so the run side
(`vlmbench.records.protocol`) and the read-only side (`vlmbench.records.store`, which never imports
scoring or models) cannot disagree."""

from __future__ import annotations

import hashlib
import json
from typing import Any


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def canonical_hash(value: Any) -> str:
    return hashlib.sha256(canonical_json(value).encode("utf-8")).hexdigest()
