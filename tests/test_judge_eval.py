"""`vlmbench eval --judge`: a judged column beside the rule-based one, in the record, the store and the
board, under its own protocol hash; a rerun judges in place (generations kept), failures retried.

One scripted server plays both parts: as the model it always answers "I get [[answer=3]]"; shown that
response, as the judge it extracts "3" (tests/fake_openai_server.py answers the `[[answer=X]]` it sees)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import pytest
from realdata import shared_data_dir
from servers import closed_port_url, start_fake_openai, stop

from vlmbench.judge import JudgeCache
from vlmbench.leaderboard.board import Board, BoardTask
from vlmbench.leaderboard.table import build_table
from vlmbench.records.store import Store
from vlmbench.registry import get_task
from vlmbench.runner import EvalConfig, evaluate
from vlmbench.scoring import get_scorer

TASK = "mathvista_testmini"
RESPONSE = "I get [[answer=3]]"


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("VLMBENCH_CACHE", str(tmp_path / "cache"))  # a judge cache of this test's own
    process, url = start_fake_openai(tmp_path, "--answer", RESPONSE, "--models", "fake-vlm")
    yield url
    stop(process)


def _config(url: str, tmp_path: Path, judge: str | None) -> EvalConfig:
    return EvalConfig(
        model="fake-vlm",
        backend="openai",
        model_args={"base_url": url, "max_retries": 0, "backoff": 0.0},
        tasks=TASK,
        data_dir=shared_data_dir(),
        output_dir=tmp_path / "runs",
        judge=judge,
    )


def _model_calls(url: str) -> int:
    with urllib.request.urlopen(url.removesuffix("/v1") + "/requests") as reply:
        requests = json.loads(reply.read())
    return sum(1 for r in requests if r["body"].get("model") == "fake-vlm")


def test_the_judged_column_is_recorded_beside_the_rule_based_one(
    server: str, tmp_path: Path, shared_items
) -> None:
    run_dir, record = evaluate(_config(server, tmp_path, f"openai:fake-judge@{server}"))
    task = record["tasks"][TASK]
    judge = task["judge"]
    samples = shared_items("mathvista")
    scorer = get_scorer(get_task(TASK).scorer)
    expected = sum(scorer.from_extracted("3", s)[0] for s in samples) / len(samples)
    assert judge["label"] == "official+judge:fake-judge"
    assert (judge["n"], judge["n_failed"], judge["n_judged"], judge["n_rule"]) == (40, 0, 40, 0)
    assert judge["official"] == pytest.approx(expected)
    assert judge["protocol_hash"] != task["protocol_hash"]
    # the rule-based column is untouched: the response is no bare answer, so it reads ""
    assert task["metrics"]["official"] == pytest.approx(
        sum(scorer.official(RESPONSE, s)[0] for s in samples) / len(samples)
    )
    rows = [json.loads(line) for line in (run_dir / "samples" / f"{TASK}.jsonl").open()]
    assert len(rows) == 40 and all(
        r["judge"]["extracted"] == "3" and r["judge"]["via"] == "judge" for r in rows
    )
    assert len(JudgeCache()) == 40


def test_another_judge_rejudges_the_same_run_under_another_hash(server: str, tmp_path: Path) -> None:
    run_a, first = evaluate(_config(server, tmp_path, f"openai:fake-judge@{server}"))
    calls = _model_calls(server)
    run_b, second = evaluate(_config(server, tmp_path, f"openai:other-judge@{server}"))
    assert run_a == run_b and _model_calls(server) == calls  # same run, no generation repeated
    a, b = first["tasks"][TASK]["judge"], second["tasks"][TASK]["judge"]
    assert b["model"] == "other-judge" and b["protocol_hash"] != a["protocol_hash"]
    assert b["prompt_sha256"] == a["prompt_sha256"]
    _, third = evaluate(_config(server, tmp_path, None))  # no --judge: the judged column stays
    assert third["tasks"][TASK]["judge"] == b


def test_judge_failures_leave_the_run_done_and_a_rerun_judges_them(server: str, tmp_path: Path) -> None:
    _, first = evaluate(_config(server, tmp_path, f"openai:fake-judge@{closed_port_url()}"))
    judge = first["tasks"][TASK]["judge"]
    assert first["status"] == "done" and first["tasks"][TASK]["metrics"] is not None
    assert judge["official"] is None and judge["n_failed"] == 40
    assert set(judge["failures"]) == {"judge: connection error"}
    calls = _model_calls(server)
    _, second = evaluate(_config(server, tmp_path, f"openai:fake-judge@{server}"))
    assert _model_calls(server) == calls
    assert second["tasks"][TASK]["judge"]["n_failed"] == 0


def test_the_board_shows_the_judged_column_apart(server: str, tmp_path: Path) -> None:
    run_dir, record = evaluate(_config(server, tmp_path, f"openai:fake-judge@{server}"))
    store = Store(tmp_path / "store.sqlite")
    store.add([run_dir])
    results = store.results(tasks=[TASK])
    assert sorted(r["protocol_hash"] for r in results) == sorted(
        [record["tasks"][TASK]["protocol_hash"], record["tasks"][TASK]["judge"]["protocol_hash"]]
    )
    version = get_task(TASK).version
    board = Board(name="b", title="b", tasks=[BoardTask(task=TASK, version=version, metric="accuracy")])
    table = build_table(board, store)
    main, judged = table.columns
    assert main.primary and not judged.primary
    assert "official+judge:fake-judge" in judged.label and "LLM judge fake-judge" in judged.why
    row = table.rows[0]
    assert row.cells[judged.key].value == pytest.approx(record["tasks"][TASK]["judge"]["official"])
    assert row.cells[main.key].value == pytest.approx(record["tasks"][TASK]["metrics"]["official"])


def test_judge_on_tasks_without_a_reference_extractor_is_refused(tmp_path: Path) -> None:
    from vlmbench.errors import VlmbenchError

    config = EvalConfig(tasks="synth_chart", judge="openai:j@http://127.0.0.1:9/v1", output_dir=tmp_path)
    with pytest.raises(VlmbenchError, match=r"--judge applies to tasks .*mathvista_testmini"):
        evaluate(config)
