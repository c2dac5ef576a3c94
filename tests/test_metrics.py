"""Per-sample and run-level metrics (`vlmbench.metrics.sample_metrics` / `aggregate_metrics`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from vlmbench.data import load_samples
from vlmbench.metrics import aggregate_metrics, cluster_key, infer_style, sample_metrics
from vlmbench.prompts import render_prompt
from vlmbench.registry import get_task
from vlmbench.runner import EvalConfig, evaluate
from vlmbench.schema import AnswerType, ImageRef, Sample
from vlmbench.stats import wilson_interval
from vlmbench.taskspec import TaskSpec

SPEC = get_task("synth_table_math")

CHAINS = {
    # (output, extracted, official): known step accuracy 1/2, 1, None, 1, None
    "wrong": ("Step 1: 12 + 7 = 19.\nStep 2: 19 * 2 = 36.\nAnswer: 36", "36", 0.0),
    "right": ("Step 1: 12 + 7 = 19.\nStep 2: 19 * 2 = 38.\nAnswer: 38", "38", 1.0),
    "prose": ("The bars are read from the chart and compared.\nAnswer: 38", "38", 1.0),
    "backtrack": (
        "<think>4 * 6 = 24. Wait, let me re-check: 5 * 6 = 30.</think><answer>30</answer>",
        "30",
        0.0,
    ),
    "direct": ("38", "38", 1.0),
}


def sample(sample_id: str, image: str | None = None, question: str = "What is (12 + 7) * 2?") -> Sample:
    images = [ImageRef(path=image)] if image else []
    return Sample(id=sample_id, question=question, answer="38", answer_type=AnswerType.INTEGER, images=images)


def row(sample_id: str, output: str, extracted: str | None, official: float, **extra: Any) -> dict[str, Any]:
    return {
        "id": sample_id,
        "prompt": render_prompt(SPEC, sample(sample_id), "cot"),
        "output": output,
        "extracted": extracted,
        "official": official,
        "robust": official,
        "truncated": False,
        "n_prompt_tokens": 20,
        "n_output_tokens": len(output.split()),
        "seconds": 0.0,
        **extra,
    }


def hand_rows() -> tuple[list[dict[str, Any]], list[Sample]]:
    rows = [row(name, *chain) for name, chain in CHAINS.items()]
    return rows, [sample(name) for name in CHAINS]


def test_sample_metrics_on_hand_written_chains() -> None:
    rows, samples = hand_rows()
    per = {r["id"]: sample_metrics(r, s, SPEC, "cot") for r, s in zip(rows, samples, strict=True)}
    assert [per[k]["step_accuracy"] for k in CHAINS] == [0.5, 1.0, None, 1.0, None]
    assert per["wrong"]["answer_chain_consistent"] is True  # wrong arithmetic, but the answer follows it
    assert per["backtrack"]["backtracks"] == 2 and per["backtrack"]["answer_chain_consistent"] is True
    assert per["direct"]["hack_no_reasoning"] is True and per["direct"]["steps"] == 0
    assert per["prose"]["hack_no_reasoning"] is False
    assert per["right"]["format_ok"] is True  # the cot template asks for "Answer:" and got it
    assert per["right"]["info_use_numbers"] == 1.0  # 12, 7 and 2 all used
    for metrics in per.values():
        assert json.loads(json.dumps(metrics, allow_nan=False)) == metrics


def test_a_direct_prompt_does_not_flag_missing_reasoning() -> None:
    rows, samples = hand_rows()
    assert sample_metrics(rows[-1], samples[-1], SPEC, "direct")["hack_no_reasoning"] is None


def test_text_metrics_appear_when_the_task_selects_them() -> None:
    spec = SPEC.model_copy(
        update={"metrics": SPEC.metrics.model_copy(update={"text_metrics": ["exact_match", "f1"]})}
    )
    rows, samples = hand_rows()
    metrics = sample_metrics(rows[1], samples[1], spec, "cot")
    assert (metrics["text_exact_match"], metrics["text_f1"]) == (1.0, 1.0)
    assert "text_f1" not in sample_metrics(rows[1], samples[1], SPEC, "cot")
    result = aggregate_metrics(rows, samples, spec)
    assert result["text"]["exact_match"]["mean"] == pytest.approx(3 / 5)  # 38, 38, 38 right; 36, 30 wrong


def test_a_choice_letter_is_scored_as_its_option_text_by_text_metrics() -> None:
    spec = SPEC.model_copy(
        update={"metrics": SPEC.metrics.model_copy(update={"text_metrics": ["exact_match"]})}
    )
    item = Sample("q", "Colour?", "red car", AnswerType.MULTIPLE_CHOICE, choices=["blue bus", "red car"])
    assert sample_metrics(row("q", "B", "B", 1.0), item, spec, "direct")["text_exact_match"] == 1.0


def test_aggregate_means_intervals_and_unverifiable_counts() -> None:
    rows, samples = hand_rows()
    result = aggregate_metrics(rows, samples, SPEC)
    assert result["n"] == 5 and result["style"] == "cot" and result["metrics_version"] == "1"
    step = result["reasoning"]["step_accuracy"]
    assert step["mean"] == pytest.approx((0.5 + 1 + 1) / 3)
    assert (step["n"], step["n_unverifiable"]) == (3, 2)  # unverifiable: counted apart, never as 0
    low, high = step["ci95"]
    assert low <= step["mean"] <= high
    micro = result["reasoning"]["step_accuracy_micro"]
    assert (micro["value"], micro["n"]) == (5 / 6, 6)  # 5 right claims of 6
    no_reasoning = result["hacking"]["no_reasoning_rate"]
    assert no_reasoning["mean"] == pytest.approx(1 / 5)
    assert no_reasoning["ci95"] == pytest.approx(list(wilson_interval(1, 5)))  # a rate: Wilson
    assert result["efficiency"]["tokens_per_correct"] == pytest.approx(
        sum(r["n_output_tokens"] for r in rows) / 3
    )
    json.dumps(result, allow_nan=False)


def test_aggregate_is_deterministic_and_follows_dataset_order() -> None:
    rows, samples = hand_rows()
    first = aggregate_metrics(rows, samples, SPEC)
    assert aggregate_metrics(list(reversed(rows)), samples, SPEC) == first
    assert aggregate_metrics(rows, samples, SPEC, seed=1) != first  # the bootstrap is seeded


def test_rows_without_their_sample_are_left_out() -> None:
    rows, samples = hand_rows()
    assert aggregate_metrics(rows, samples[:2], SPEC)["n"] == 2
    assert aggregate_metrics([], samples, SPEC)["reasoning"]["steps"] == {
        "mean": None,
        "ci95": None,
        "n": 0,
        "n_unverifiable": 0,
    }


def test_questions_on_one_image_are_one_cluster() -> None:
    """Ten images, eight questions each, answered alike per image: the clustered interval is wider."""
    samples = [sample(f"q{i}", image=f"img{i // 8}.png") for i in range(80)]
    rows = [row(s.id, *(CHAINS["wrong"] if i // 8 % 2 else CHAINS["right"])) for i, s in enumerate(samples)]
    clustered = aggregate_metrics(rows, samples, SPEC)
    unclustered = aggregate_metrics(rows, [sample(s.id) for s in samples], SPEC)
    assert (clustered["n_clusters"], unclustered["n_clusters"]) == (10, 80)
    width = [r["reasoning"]["step_accuracy"]["ci95"] for r in (clustered, unclustered)]
    assert width[0][1] - width[0][0] > 2 * (width[1][1] - width[1][0])
    rate = [r["hacking"]["inconsistent_rate"]["ci95"] for r in (clustered, unclustered)]
    assert rate[0] == rate[1]  # every answer follows its chain: no variance to widen


def test_cluster_key_prefers_an_image_id_then_paths_then_the_sample() -> None:
    assert cluster_key(Sample("a", "q", "x", AnswerType.TEXT, meta={"image_id": "n123"})) == "image:n123"
    assert cluster_key(sample("b", image="/data/1.png")) == "image:/data/1.png"
    assert cluster_key(sample("c")) == "sample:c"


def test_the_style_is_read_from_the_rows_prompts() -> None:
    item = sample("s")
    assert infer_style(SPEC, render_prompt(SPEC, item, "cot")) == "cot"
    assert infer_style(SPEC, render_prompt(SPEC, item, "direct")) == "direct"
    assert infer_style(SPEC, None) == SPEC.prompts.default


def test_length_outliers_are_listed_per_run() -> None:
    samples = [sample(f"s{i}") for i in range(20)]
    rows = [row(s.id, *CHAINS["right"]) for s in samples]
    rows[7]["n_output_tokens"] = 5000
    result = aggregate_metrics(rows, samples, SPEC)
    assert result["hacking"]["length_outliers"] == ["s7"]
    assert result["hacking"]["length_outlier_rate"]["mean"] == pytest.approx(1 / 20)


def test_metrics_never_import_models_torch_or_transformers() -> None:
    code = (
        "import sys, vlmbench.metrics, vlmbench.compare, vlmbench.stats; "
        "bad = [m for m in ('torch', 'transformers', 'vlmbench.models') if m in sys.modules]; "
        "assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def _metrics_of_run(root: Path, spec: TaskSpec, samples: list[Sample]) -> dict[str, Any]:
    rows = [json.loads(line) for line in (root / "samples" / f"{spec.name}.jsonl").read_text().splitlines()]
    return aggregate_metrics(rows, samples, spec)


def test_metrics_of_a_baseline_runs_records(tmp_path: Path) -> None:
    """Recomputable from the samples file alone; a baseline's direct answers have no chain to judge."""
    config = EvalConfig(
        model="random", backend="baseline", tasks="synth_chart", limit=30, output_dir=tmp_path
    )
    root, _ = evaluate(config)
    spec = get_task("synth_chart")
    result = _metrics_of_run(root, spec, load_samples(spec, limit=30))
    assert result["n"] == 30 and result["style"] == "direct"
    assert result["reasoning"]["step_accuracy"]["n_unverifiable"] == 30
    assert result["hacking"]["no_reasoning_rate"]["n"] == 0  # not a CoT prompt: not measured
    assert result["efficiency"]["output_tokens"]["mean"] == 1.0
    json.dumps(result, allow_nan=False)


def test_metrics_of_the_tiny_models_records(tmp_path: Path) -> None:
    pytest.importorskip("torch", reason="the tiny model needs torch")
    pytest.importorskip("transformers", reason="the tiny model needs transformers")
    from vlmbench.models.tiny import make_tiny_model

    model = make_tiny_model(tmp_path / "tiny", arch="llava", seed=0)
    config = EvalConfig(
        model=str(model),
        backend="hf",
        tasks="synth_chart",
        limit=4,
        prompt="cot",
        max_new_tokens=24,
        output_dir=tmp_path / "runs",
    )
    root, _ = evaluate(config)
    spec = get_task("synth_chart")
    result = _metrics_of_run(root, spec, load_samples(spec, limit=4))
    assert result["n"] == 4 and result["style"] == "cot"
    assert result["efficiency"]["output_tokens"]["mean"] > 0
    assert result["efficiency"]["samples_per_second"] > 0  # the hf backend times its work
    assert result["efficiency"]["truncation_rate"]["n"] == 4
    json.dumps(result, allow_nan=False)


def test_real_chartqa_items_cluster_by_chart(tmp_path: Path) -> None:
    """The developer ChartQA items ask several questions about one chart: clusters are the charts."""
    from realdata import shared_data_dir

    data = shared_data_dir()
    config = EvalConfig(
        model="random", backend="baseline", tasks="chartqa", data_dir=data, output_dir=tmp_path
    )
    root, _ = evaluate(config)
    spec = get_task("chartqa")
    samples = load_samples(spec, data)
    result = _metrics_of_run(root, spec, samples)
    charts = {ref.path for s in samples for ref in s.images}
    assert result["n"] == len(samples) > result["n_clusters"] == len(charts)
