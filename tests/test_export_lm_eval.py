"""`vlmbench tasks export --format lm-eval`: lm-evaluation-harness runs vlmbench's prompts and scorers.

The acceptance test exports ChartQA over the real shared items, runs `python -m lm_eval` (hf-multimodal,
chat template on) and `vlmbench eval` on the same tiny LLaVA with the same prompt and generation
settings, and checks that both harnesses produce the same outputs and the same official score, and that
lm-eval's results file carries the exported protocol hash.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.errors import VlmbenchError
from vlmbench.export import export_tasks
from vlmbench.export.lm_eval_hooks import MANIFEST, ExportMismatch, TaskHooks, read_manifest
from vlmbench.registry import get_task

N_ITEMS = (
    8  # of the 40 shared ChartQA items (the 4th has the answer 6): both harnesses in well under a minute
)


class _Loader(yaml.SafeLoader):
    """Reads an exported card with its `!function` tags kept as text."""


_Loader.add_constructor("!function", lambda loader, node: f"!function {loader.construct_scalar(node)}")


def _card(path: Path) -> dict[str, Any]:
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)  # a SafeLoader subclass


def test_card_declares_the_task_for_lm_eval(tmp_path: Path, shared_data: Path) -> None:
    report = export_tasks(tmp_path / "cards", tasks="chartqa", data=shared_data, limit=3)
    (task,) = report.tasks
    card = _card(task.yaml_file)
    spec = get_task("chartqa")
    assert card["task"] == "vlmbench_chartqa" and card["output_type"] == "generate_until"
    assert card["dataset_path"] == "json" and card["test_split"] == "test"
    docs = Path(card["dataset_kwargs"]["data_files"]["test"])
    assert docs.is_absolute() and [json.loads(line)["id"] for line in docs.open()] == [
        "test_human/0",
        "test_human/1",
        "test_human/4",
    ]
    assert card["generation_kwargs"] == {
        "until": [],
        "do_sample": False,
        "temperature": 0.0,
        "max_gen_toks": spec.generation.max_new_tokens,
    }
    assert card["doc_to_text"] == "!function utils.chartqa_doc_to_text"
    assert [m["metric"] for m in card["metric_list"]] == ["official", "robust", "unparsed_rate"]
    assert [m["higher_is_better"] for m in card["metric_list"]] == [True, True, False]
    vlm = card["metadata"]["vlmbench"]
    assert card["metadata"]["version"] == spec.version == vlm["task_version"]
    assert vlm["protocol_hash"] == task.protocol_hash and vlm["protocol"]["n"] == 3
    assert vlm["protocol"]["prompt_template"] == spec.prompts.templates["direct"]
    text = task.yaml_file.read_text(encoding="utf-8")
    assert f"# protocol hash: {task.protocol_hash}" in text and "--apply_chat_template" in text


def test_lm_eval_builds_the_task_from_the_card(tmp_path: Path, shared_data: Path) -> None:
    """lm-eval's own task loader reads the card: its documents, and vlmbench's hooks behind every
    `!function` (prompt with the image placeholder, RGB pixels, the scorer, the aggregation)."""
    tasks = pytest.importorskip("lm_eval.tasks")
    out = tmp_path / "cards"
    export_tasks(out, tasks="chartqa", data=shared_data, limit=2)
    manager = tasks.TaskManager(include_path=str(out))
    if hasattr(manager, "load"):  # lm-eval >= 0.4.13; get_task_dict before
        task = manager.load(["vlmbench_chartqa"])["tasks"]["vlmbench_chartqa"]
    else:
        task = tasks.get_task_dict(["vlmbench_chartqa"], manager)["vlmbench_chartqa"]
    docs = list(task.test_docs())
    assert [d["id"] for d in docs] == ["test_human/0", "test_human/1"]
    assert task.doc_to_text(docs[0]) == (
        "<image>How many food item is shown in the bar graph?\n"
        "Answer the question using a single word or phrase."
    )
    assert task.doc_to_target(docs[0]) == "14"
    assert [image.mode for image in task.doc_to_image(docs[0])] == ["RGB"]
    right, wrong = task.process_results(docs[0], ["14"]), task.process_results(docs[1], ["no idea"])
    assert right["official"]["official"] == 1.0 and wrong["official"]["official"] == 0.0
    aggregations = task.aggregation()
    assert aggregations["official"]([right["official"], wrong["official"]]) == 0.5
    assert aggregations["unparsed_rate"]([right["unparsed_rate"], wrong["unparsed_rate"]]) == 0.5  # no number
    assert task.higher_is_better() == {"official": True, "robust": True, "unparsed_rate": False}


def test_hub_task_points_at_the_task_files_dataset(tmp_path: Path) -> None:
    report = export_tasks(tmp_path / "cards", tasks="chartqa")
    card = _card(report.tasks[0].yaml_file)
    hub = get_task("chartqa").source.hub
    assert hub is not None
    assert (card["dataset_path"], card["test_split"]) == (hub.path, hub.split)
    assert (card.get("dataset_kwargs") or {}).get("revision") == hub.revision
    assert card["process_docs"] == "!function utils.chartqa_process_docs"
    assert card["metadata"]["vlmbench"]["protocol_hash"] is None  # known once the hub data is read


def test_local_only_task_without_data_is_refused(tmp_path: Path) -> None:
    with pytest.raises(VlmbenchError, match="pass --data"):
        export_tasks(tmp_path / "cards", tasks="vcr")


def test_changed_protocol_is_refused_at_run_time(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "cards"
    export_tasks(out, tasks="chartqa", data=shared_data, limit=2)
    entry = read_manifest(out)["tasks"]["chartqa"]
    assert TaskHooks("chartqa", entry).ordered  # as exported: accepted
    tampered = {**entry, "protocol_hash": "0" * 64, "protocol": {**entry["protocol"], "n": 3}}
    with pytest.raises(ExportMismatch, match="n changed"):
        _ = TaskHooks("chartqa", tampered).ordered


def test_cli_export_and_overwrite(tmp_path: Path, shared_data: Path) -> None:
    out = tmp_path / "cards"
    args = ["tasks", "export", "--format", "lm-eval", str(out), "--tasks", "chartqa"]
    args += ["--data", str(shared_data)]
    first = CliRunner().invoke(app, [*args, "--limit", "2"])
    assert first.exit_code == 0, first.output
    assert "vlmbench_chartqa" in first.output and "--include_path" in first.output
    again = CliRunner().invoke(app, args)
    assert again.exit_code == 2 and "--overwrite" in again.output
    replaced = CliRunner().invoke(app, [*args, "--overwrite"])
    assert replaced.exit_code == 0, replaced.output
    assert json.loads((out / MANIFEST).read_text())["tasks"]["chartqa"]["n"] == 40


@pytest.fixture(scope="module")
def tiny_llava(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's tiny random-weight LLaVA (vlmbench.models.tiny), which lm-eval's hf-multimodal loads."""
    pytest.importorskip("torch")
    from vlmbench.models.tiny import make_tiny_model

    return make_tiny_model(tmp_path_factory.mktemp("models") / "tiny-llava", arch="llava", seed=0)


def answers_six(model: Path, out: Path) -> Path:
    """A copy of `model` whose generation config makes it answer "6" and stop, whatever it sees: both
    harnesses read a checkpoint's generation config, and a known answer gives a score above zero."""
    import shutil

    from transformers import AutoTokenizer, GenerationConfig

    shutil.copytree(model, out)
    tokenizer = AutoTokenizer.from_pretrained(out)
    six, eos = tokenizer.convert_tokens_to_ids("6"), tokenizer.eos_token_id
    config = GenerationConfig.from_pretrained(out)
    config.suppress_tokens = [i for i in range(len(tokenizer)) if i not in (six, eos)]
    config.begin_suppress_tokens = [eos]
    config.sequence_bias = [[[six, eos], 100.0]]
    config.save_pretrained(out)
    return out


@dataclass
class BothRuns:
    exported_hash: str | None
    lm_results: dict[str, Any]  # lm-eval's results file
    lm_rows: dict[str, dict[str, Any]]  # lm-eval's logged samples by vlmbench id
    task: dict[str, Any]  # vlmbench's run record of the task
    rows: dict[str, dict[str, Any]]  # vlmbench's samples by id


def run_both(model: Path, shared_data: Path, tmp_path: Path) -> BothRuns:
    """Export ChartQA, run it with `python -m lm_eval` and with `vlmbench eval` on the same model."""
    from vlmbench.runner import EvalConfig, evaluate

    report = export_tasks(tmp_path / "cards", tasks="chartqa", data=shared_data, limit=N_ITEMS)
    # one thread: on a shared 2-core machine two spinning threads per process halve the speed
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    env["HF_DATASETS_CACHE"] = str(tmp_path / "hf-datasets")  # lm-eval's json dataset build stays in tmp
    command = [sys.executable, "-m", "lm_eval", "run", "--model", "hf-multimodal"]
    command += ["--model_args", f"pretrained={model},dtype=float32", "--device", "cpu"]
    command += ["--include_path", str(tmp_path / "cards"), "--tasks", "vlmbench_chartqa"]
    command += ["--apply_chat_template", "--batch_size", "1", "--log_samples"]
    command += ["--output_path", str(tmp_path / "lm-eval")]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    (results,) = (tmp_path / "lm-eval").glob("**/results_*.json")
    (samples,) = (tmp_path / "lm-eval").glob("**/samples_vlmbench_chartqa_*.jsonl")
    lm_rows = [json.loads(line) for line in samples.open(encoding="utf-8")]

    config = EvalConfig(
        model=str(model),
        backend="hf",
        tasks="chartqa",
        data_dir=shared_data,
        limit=N_ITEMS,
        batch_size=1,
        output_dir=tmp_path / "runs",
    )
    import torch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run_dir, record = evaluate(config)
    finally:
        torch.set_num_threads(threads)
    rows = [json.loads(line) for line in (run_dir / "samples" / "chartqa.jsonl").open(encoding="utf-8")]
    return BothRuns(
        report.tasks[0].protocol_hash,
        json.loads(results.read_text(encoding="utf-8")),
        {r["doc"]["id"]: r for r in lm_rows},
        record["tasks"]["chartqa"],
        {r["id"]: r for r in rows},
    )


def assert_same_protocol_outputs_and_official(both: BothRuns) -> dict[str, Any]:
    """The export's protocol is the one lm-eval's results carry and vlmbench ran; prompts, outputs and
    official scores agree sample by sample and in total. Returns lm-eval's metrics."""
    assert both.task["protocol_hash"] == both.exported_hash
    card = both.lm_results["configs"]["vlmbench_chartqa"]["metadata"]["vlmbench"]
    assert card["protocol_hash"] == both.exported_hash
    assert sorted(both.lm_rows) == sorted(both.rows) and len(both.rows) == N_ITEMS
    for sample_id, row in both.rows.items():
        lm_row = both.lm_rows[sample_id]
        assert (
            lm_row["arguments"]["gen_args_0"]["arg_0"].count(row["prompt"]) == 1
        )  # inside the chat template
        assert lm_row["filtered_resps"][0] == row["output"], sample_id
        assert lm_row["official"]["official"] == row["official"], sample_id
    metrics = both.lm_results["results"]["vlmbench_chartqa"]
    assert metrics["official,none"] == pytest.approx(both.task["metrics"]["official"], abs=1e-12)
    return metrics


@pytest.mark.slow
def test_lm_eval_run_matches_vlmbench_eval(tiny_llava: Path, shared_data: Path, tmp_path: Path) -> None:
    """The random-weight model's 32 tokens of gibberish are a fingerprint of everything before them
    (chat template, image tokens, pixels): identical outputs mean identical inputs."""
    pytest.importorskip("lm_eval")
    from vlmbench.extract import get_extractor
    from vlmbench.scoring import aggregate, get_scorer

    both = run_both(tiny_llava, shared_data, tmp_path)
    metrics = assert_same_protocol_outputs_and_official(both)
    # robust / unparsed: lm-eval passes no finish reason, so its outputs count as finished; they equal
    # vlmbench's scorer on vlmbench's own outputs read the same way (docs/export.md)
    spec, scorer = get_task("chartqa"), get_scorer("chartqa")
    hooks = TaskHooks("chartqa", read_manifest(tmp_path / "cards")["tasks"]["chartqa"])
    samples = [hooks.samples[i] for i in both.rows]
    extractor = get_extractor(spec.extractor)
    as_finished = [scorer.score(both.rows[s.id]["output"], s, extractor, truncated=False) for s in samples]
    expected = aggregate(scorer, samples, as_finished)
    assert metrics["robust,none"] == pytest.approx(expected["robust"], abs=1e-12)
    assert metrics["unparsed_rate,none"] == pytest.approx(expected["unparsed_rate"], abs=1e-12)


@pytest.mark.slow
def test_lm_eval_scores_equal_vlmbench_on_finished_answers(
    tiny_llava: Path, shared_data: Path, tmp_path: Path
) -> None:
    """With answers that finish before the token limit, all three metrics agree, and the official one is
    not zero (so the agreement is not two zeros)."""
    pytest.importorskip("lm_eval")
    both = run_both(answers_six(tiny_llava, tmp_path / "answers-six"), shared_data, tmp_path)
    metrics = assert_same_protocol_outputs_and_official(both)
    assert {r["output"] for r in both.rows.values()} == {"6"}
    assert not any(r["truncated"] for r in both.rows.values())
    assert metrics["official,none"] > 0
    for key in ("robust", "unparsed_rate"):
        assert metrics[f"{key},none"] == pytest.approx(both.task["metrics"][key], abs=1e-12)
    for sample_id, row in both.rows.items():
        assert both.lm_rows[sample_id]["robust"]["robust"] == row["robust"], sample_id


def test_hub_copy_runs_through_vlmbench_loader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A hub-backed task (here a local copy in the hub's layout, as air-gapped machines use one): lm-eval
    loads the dataset the task file names, and the documents are vlmbench's samples of it."""
    datasets = pytest.importorskip("datasets")
    tasks = pytest.importorskip("lm_eval.tasks")
    from PIL import Image

    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    hub = tmp_path / "ChartQA"
    (hub / "data").mkdir(parents=True)
    features = datasets.Features(
        {k: datasets.Value("string") for k in ("type", "question", "answer")} | {"image": datasets.Image()}
    )
    rows = {"type": ["human_test", "augmented_test"], "question": ["How many bars?", "Largest value?"]}
    rows |= {"answer": ["3", "12"], "image": [Image.new("RGB", (40, 30), c) for c in ("red", "blue")]}
    datasets.Dataset.from_dict(rows, features=features).to_parquet(str(hub / "data" / "test-00000.parquet"))
    task_dir = tmp_path / "task-files"
    task_dir.mkdir()
    task_file = yaml.safe_load((Path(__file__).resolve().parents[1] / "tasks" / "chartqa.yaml").read_text())
    task_file["name"] = "chartqa_hubcopy"
    task_file["source"]["hub"]["path"] = str(hub)
    task_file["source"]["hub"].pop("revision", None)  # a local copy has no git revision
    (task_dir / "chartqa_hubcopy.yaml").write_text(
        yaml.safe_dump(task_file, sort_keys=False), encoding="utf-8"
    )
    monkeypatch.setenv("VLMBENCH_TASKS_PATH", str(task_dir))

    out = tmp_path / "cards"
    (exported,) = export_tasks(out, tasks="chartqa_hubcopy").tasks
    assert (exported.source, exported.n, exported.protocol_hash) == ("hub", None, None)
    manager = tasks.TaskManager(include_path=str(out))
    if hasattr(manager, "load"):
        task = manager.load(["vlmbench_chartqa_hubcopy"])["tasks"]["vlmbench_chartqa_hubcopy"]
    else:
        task = tasks.get_task_dict(["vlmbench_chartqa_hubcopy"], manager)["vlmbench_chartqa_hubcopy"]
    with caplog.at_level("WARNING", logger="vlmbench.export"):
        docs = list(task.test_docs())
    from vlmbench.data import load_samples

    expected = [sample.id for sample in load_samples(get_task("chartqa_hubcopy"))]
    assert [d["id"] for d in docs] == expected and len(set(expected)) == 2  # vlmbench's ids, not row numbers
    assert "protocol hash" in caplog.text  # the run's only record of it: the export saw no data
    assert task.doc_to_text(docs[1]).startswith("<image>Largest value?\n")
    assert [image.size for image in task.doc_to_image(docs[0])] == [(40, 30)]
    assert task.process_results(docs[1], ["12"])["official"]["official"] == 1.0
