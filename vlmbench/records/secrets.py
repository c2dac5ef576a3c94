"""Secrets in `--model-args` (API keys, tokens, passwords, auth headers) are handed to the backend and
nowhere else: never into a run record, the store or a published page, and never into the run id - a
rotated key must resume the same run, and a record must be safe to share.

A key is secret by its name: `api_key`, `token`, `hf_token`, `secret`, `password`, `authorization`,
`auth`, `bearer`, `credentials`, or one ending in `_key` / `_token` / `_secret` / `_password`; inside a
`headers` mapping, the header names `Authorization`, `Proxy-Authorization`, `Cookie` and any `X-*-Key` /
`*-Token` header. Pass secrets by environment variable (OPENAI_API_KEY, HF_TOKEN) where the backend
reads one.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SECRET_NAME = re.compile(
    r"^(api_?key|token|secret|password|passwd|authorization|auth|bearer|credentials?|cookie)$"
    r"|_(api_?key|key|token|secret|password|passwd|credentials?)$",
    re.IGNORECASE,
)
SECRET_HEADER = re.compile(
    r"^(authorization|proxy-authorization|cookie|x-api-key|api-key)$|-(key|token|secret)$", re.IGNORECASE
)
HEADERS = ("headers", "extra_headers", "default_headers")


def is_secret(key: str) -> bool:
    return bool(SECRET_NAME.search(key.replace("-", "_")))


def public_args(args: Mapping[str, Any]) -> dict[str, Any]:
    """`args` without its secrets: what may be recorded, hashed into a run id and shown."""
    out: dict[str, Any] = {}
    for key, value in args.items():
        if is_secret(str(key)):
            continue
        if str(key).lower() in HEADERS and isinstance(value, Mapping):
            value = {k: v for k, v in value.items() if not SECRET_HEADER.search(str(k))}
        out[key] = value
    return out


def secret_keys(args: Mapping[str, Any]) -> list[str]:
    """The names of the secrets in `args` (headers as `headers.Authorization`), for telling the user."""
    found = [str(k) for k in args if is_secret(str(k))]
    for key, value in args.items():
        if str(key).lower() in HEADERS and isinstance(value, Mapping):
            found += [f"{key}.{k}" for k in value if SECRET_HEADER.search(str(k))]
    return found
