"""How models and runs are named where people read them: folder-safe slugs, and the embedded model's
short name. One rule each, shared by eval run ids, training run names, terminal output and boards
(imports nothing of vlmbench, so boards can name models without loading model code)."""

from __future__ import annotations

import re

EMBEDDED_FOLDER = re.compile(r"(tiny-[A-Za-z0-9_]+)-v\d+")  # the embedded model's cache folder: tiny-llava-v3


def safe_name(text: str) -> str:
    """`text` as a short folder name: safe characters only, never hidden (`..`, `.x`), never a path;
    eval run ids and training run names are made of it."""
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-.")[:40].rstrip("-.") or "model"


def embedded_label(folder_name: str) -> str | None:
    """`tiny-llava` for the embedded model's cache folder name (`tiny-llava-v3`), else None: the one
    rule by which terminal output, boards and training run names recognise it."""
    match = EMBEDDED_FOLDER.fullmatch(folder_name)
    return match.group(1) if match else None
