"""The judge cache: keyed by judge model and full request; failures are never cached."""

from __future__ import annotations

from pathlib import Path

import pytest

from vlmbench.judge import JudgeCache


def test_answers_are_found_by_model_and_request(tmp_path: Path) -> None:
    cache = JudgeCache(tmp_path / "judge.sqlite", enabled=True)
    assert cache.get("m", "request") is None
    cache.put("m", "request", "a" * 64, "response", "42")
    assert cache.get("m", "request") == "42"
    assert cache.get("other-model", "request") is None
    assert cache.get("m", "request with another response") is None
    assert len(cache) == 1


def test_a_second_cache_object_reads_the_same_file(tmp_path: Path) -> None:
    JudgeCache(tmp_path / "judge.sqlite", enabled=True).put("m", "q", "a" * 64, "r", "B")
    assert JudgeCache(tmp_path / "judge.sqlite", enabled=True).get("m", "q") == "B"


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLMBENCH_JUDGE_CACHE", "0")
    cache = JudgeCache(tmp_path / "judge.sqlite")
    cache.put("m", "q", "a" * 64, "r", "B")
    assert cache.get("m", "q") is None and not (tmp_path / "judge.sqlite").exists()


def test_the_default_file_lives_in_the_vlmbench_cache(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("VLMBENCH_CACHE", str(tmp_path))
    assert JudgeCache().path == tmp_path / "judge-cache.sqlite"
