"""Offline detection: a machine without the hub is found out once and fast, reads only the hub cache,
and is told which flag to use instead of waiting out the hub's retries."""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator

import pytest
from servers import free_port

from vlmbench.data import online
from vlmbench.data.online import hub_offline


@pytest.fixture(autouse=True)
def fresh_probe(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test probes anew, and whatever the probe switches off is switched back on afterwards."""
    for name in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "HF_ENDPOINT", *online._PROXY_VARIABLES):
        monkeypatch.delenv(name, raising=False)
    for module, attribute in (
        ("datasets.config", "HF_HUB_OFFLINE"),
        ("huggingface_hub.constants", "HF_HUB_OFFLINE"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None:
            monkeypatch.setattr(loaded, attribute, getattr(loaded, attribute))
    hub_offline.cache_clear()
    yield
    hub_offline.cache_clear()


def test_the_offline_flag_is_respected_without_a_probe(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert hub_offline() == "HF_HUB_OFFLINE is set"


def test_an_unreachable_hub_is_named_and_switches_to_the_cache(monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()  # nothing listens there
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    reason = hub_offline()
    assert reason is not None and reason.startswith("127.0.0.1:")
    import os

    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["HF_DATASETS_OFFLINE"] == "1"
    assert hub_offline() is reason  # found out once per process


def test_a_reachable_hub_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{server.getsockname()[1]}")
        assert hub_offline() is None


def test_behind_a_proxy_no_direct_probe_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.internal:3128")
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    assert hub_offline() is None


def test_an_offline_hub_load_names_the_flag_to_use(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("datasets")
    from vlmbench.data.hub import load_hub_samples
    from vlmbench.errors import VlmbenchError
    from vlmbench.registry import get_task

    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HF_HOME", "/nonexistent-hf-home")  # nothing cached
    monkeypatch.setenv("HF_DATASETS_CACHE", "/nonexistent-hf-home/datasets")
    with pytest.raises(
        VlmbenchError, match=r"not reachable .* pass --data-dir DIR, a folder holding chartqa/"
    ):
        load_hub_samples(get_task("chartqa"))
