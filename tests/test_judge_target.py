"""`--judge openai:MODEL@BASE_URL`: what it names, and what it never records (the key)."""

from __future__ import annotations

import pytest

from vlmbench.errors import VlmbenchError
from vlmbench.judge import JudgeTarget


def test_model_and_url_are_split_at_the_url() -> None:
    target = JudgeTarget.parse("openai:gpt-4o-mini@https://api.openai.com/v1/")
    assert (target.model, target.base_url) == ("gpt-4o-mini", "https://api.openai.com/v1")
    assert target.label == "official+judge:gpt-4o-mini"


def test_model_names_may_hold_colons_slashes_and_at_signs() -> None:
    target = JudgeTarget.parse("openai:org/model:v1@beta@http://127.0.0.1:8000/v1")
    assert (target.model, target.base_url) == ("org/model:v1@beta", "http://127.0.0.1:8000/v1")


def test_without_a_url_the_environment_or_openai_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VLMBENCH_JUDGE_BASE_URL", raising=False)
    assert JudgeTarget.parse("openai:gpt-4o").base_url == "https://api.openai.com/v1"
    monkeypatch.setenv("VLMBENCH_JUDGE_BASE_URL", "http://judge:9000/v1")
    assert JudgeTarget.parse("openai:gpt-4o").base_url == "http://judge:9000/v1"


@pytest.mark.parametrize("text", ["gpt-4o", "vllm:gpt-4o@http://x/v1", "openai:", "openai:@http://x/v1"])
def test_malformed_judges_are_refused_with_the_expected_form(text: str) -> None:
    with pytest.raises(VlmbenchError, match=r"openai:MODEL@BASE_URL|no model name"):
        JudgeTarget.parse(text)


def test_the_key_comes_from_the_environment_judge_key_first(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai")
    assert JudgeTarget.api_key() == "sk-openai"
    monkeypatch.setenv("VLMBENCH_JUDGE_API_KEY", "sk-judge")
    assert JudgeTarget.api_key() == "sk-judge"
