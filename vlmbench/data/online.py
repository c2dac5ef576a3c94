"""Is the HF hub reachable? Found out once per process, in about a second, so an offline machine never
waits out `datasets`' retries (5 tries with backoff: ~25 s per dataset) before being told to use
`--data-dir`. Offline, the hub cache is still read (HF_HUB_OFFLINE semantics)."""

from __future__ import annotations

import functools
import os
import socket
import sys
from urllib.parse import urlparse

PROBE_TIMEOUT_S = 1.5
_PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in ("1", "true", "yes", "on")


@functools.cache
def hub_offline() -> str | None:
    """Why the hub is not used ("HF_HUB_OFFLINE is set", "huggingface.co: <error>"), or None when it can
    be reached. Behind a proxy no direct probe is made (it would fail where the hub works)."""
    if _flag("HF_HUB_OFFLINE") or _flag("HF_DATASETS_OFFLINE"):
        return "HF_HUB_OFFLINE is set"
    if any(os.environ.get(v) for v in _PROXY_VARIABLES):
        return None
    endpoint = urlparse(os.environ.get("HF_ENDPOINT") or "https://huggingface.co")
    host, port = (
        endpoint.hostname or "huggingface.co",
        endpoint.port or (80 if endpoint.scheme == "http" else 443),
    )
    try:
        with socket.create_connection((host, port), timeout=PROBE_TIMEOUT_S):
            return None
    except OSError as err:
        reason = f"{host}: {err.strerror or err}"
    _read_cache_only()
    return reason


def _read_cache_only() -> None:
    """Offline from here on: `datasets` and `huggingface_hub` read their caches, never the network."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["HF_DATASETS_OFFLINE"] = "1"
    for module, attribute in (
        ("datasets.config", "HF_HUB_OFFLINE"),
        ("huggingface_hub.constants", "HF_HUB_OFFLINE"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None and hasattr(loaded, attribute):
            setattr(loaded, attribute, True)
