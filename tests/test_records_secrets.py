"""Which `--model-args` are secrets (`vlmbench.records.secrets`): handed to the backend, kept out of run
records, run ids and boards - and options that merely look alike are kept, or two runs would collide."""

from __future__ import annotations

import pytest

from vlmbench.records.secrets import is_secret, public_args, secret_keys
from vlmbench.runner import EvalConfig


@pytest.mark.parametrize(
    "key",
    ["api_key", "apikey", "API_KEY", "openai_api_key", "token", "hf_token", "access_token", "secret",
     "client_secret", "password", "auth", "authorization", "credentials", "cookie", "api-key"],
)  # fmt: skip
def test_secret_names(key: str) -> None:
    assert is_secret(key)


@pytest.mark.parametrize(
    "key",
    ["max_tokens", "max_new_tokens", "tokenizer", "tokenizer_mode", "token_budget", "key", "base_url",
     "trust_remote_code", "kv_cache_dtype", "revision", "seed", "max_model_len"],
)  # fmt: skip
def test_options_that_only_look_alike_are_kept(key: str) -> None:
    assert not is_secret(key)


def test_public_args_drop_secrets_and_secret_headers() -> None:
    args = {
        "base_url": "http://h/v1",
        "api_key": "sk-1",
        "headers": {
            "Authorization": "Bearer sk-1",
            "X-Api-Key": "k",
            "X-Gateway-Token": "t",
            "Accept": "json",
        },
        "max_tokens": 5,
    }
    assert public_args(args) == {"base_url": "http://h/v1", "headers": {"Accept": "json"}, "max_tokens": 5}
    assert secret_keys(args) == [
        "api_key",
        "headers.Authorization",
        "headers.X-Api-Key",
        "headers.X-Gateway-Token",
    ]


def test_a_rotated_key_keeps_the_config_id_and_other_options_change_it() -> None:
    one = EvalConfig(backend="openai", model="m", model_args={"api_key": "sk-1", "base_url": "u"})
    two = EvalConfig(backend="openai", model="m", model_args={"api_key": "sk-2", "base_url": "u"})
    other = EvalConfig(backend="openai", model="m", model_args={"api_key": "sk-1", "base_url": "v"})
    assert one.config_id() == two.config_id() != other.config_id()
    assert "sk-1" not in str(one.identity())
