"""The openai backend against a real OpenAI-compatible server: `transformers serve` (the `[serving]` extra
of transformers) serving the tiny LLaVA. Images travel as data URLs; greedy outputs must equal the
transformers backend's on the same checkpoint and items."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("transformers", reason="needs transformers: pip install 'vlmbench[dev]'")
pytest.importorskip("fastapi", reason="`transformers serve` needs transformers[serving]")
pytest.importorskip("uvicorn", reason="`transformers serve` needs transformers[serving]")

from realdata import shared_data_dir
from servers import transformers_serve

from vlmbench.models.tiny import make_tiny_model
from vlmbench.runner import EvalConfig, evaluate


@pytest.fixture(scope="module")
def served_tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, str]]:
    model = make_tiny_model(tmp_path_factory.mktemp("served") / "tiny-llava", arch="llava")
    with transformers_serve(model, tmp_path_factory.mktemp("server-log")) as base_url:
        yield model, base_url


def _rows(run_dir: Path, task: str) -> dict[str, dict]:
    return {r["id"]: r for r in map(json.loads, (run_dir / "samples" / f"{task}.jsonl").open())}


def test_a_live_server_gives_the_transformers_backends_greedy_outputs(
    served_tiny_llava: tuple[Path, str], tmp_path: Path
) -> None:
    model, base_url = served_tiny_llava
    common = dict(model=str(model), tasks="chartqa,scienceqa_img", data_dir=shared_data_dir(), limit=4)
    served_dir, record = evaluate(
        EvalConfig(**common, backend="openai", model_args={"base_url": base_url}, output_dir=tmp_path / "a")
    )
    local_dir, _ = evaluate(EvalConfig(**common, backend="hf", output_dir=tmp_path / "b"))
    for task in ("chartqa", "scienceqa_img"):
        assert record["tasks"][task]["n"] == 4 and record["tasks"][task]["n_failed"] == 0
        served, local = _rows(served_dir, task), _rows(local_dir, task)
        assert served.keys() == local.keys()
        for sample_id, row in served.items():
            assert row["output"] == local[sample_id]["output"], sample_id
            assert row["n_output_tokens"] == local[sample_id]["n_output_tokens"]
            assert row["finish_reason"] == local[sample_id]["finish_reason"]
            assert row["n_prompt_tokens"] > 0
