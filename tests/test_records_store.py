"""The results store: idempotent, concurrent-safe, rebuildable, and loud about bad run records."""

from __future__ import annotations

import json
import multiprocessing
import sqlite3
from pathlib import Path

import pytest
from leaderboard_records import task_protocol, task_result, write_run

from vlmbench.records.protocol import protocol_hash
from vlmbench.records.store import Store, StoreError, canonical_hash, default_store_path, find_run_dirs
from vlmbench.runner import EvalConfig, evaluate


def _snapshot(store: Store) -> list[tuple]:
    with sqlite3.connect(store.path) as conn:
        return [
            tuple(row)
            for table in ("runs", "protocols", "results")
            for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")
        ]


def _run(root: Path, run_id: str, model: str = "m", correct: int = 5, **kwargs) -> Path:
    return write_run(root, run_id, model, {"synth_chart": task_result("synth_chart", correct, 10)}, **kwargs)


def test_canonical_hash_is_the_protocol_hash() -> None:
    proto = task_protocol("chartqa", 7, style="cot")
    assert canonical_hash(proto) == protocol_hash(proto)


def test_real_run_is_indexed_once(tmp_path: Path) -> None:
    root, record = evaluate(
        EvalConfig(
            model="random", backend="baseline", tasks="synth_chart,synth_scene", limit=6, output_dir=tmp_path
        )
    )
    store = Store(tmp_path / "index.sqlite")
    first = store.add([root])
    assert [r.action for r in first] == ["added"]
    before = _snapshot(store)
    assert [r.action for r in store.add([root, root])] == ["unchanged", "unchanged"]
    assert _snapshot(store) == before
    results = {r["task"]: r for r in store.results()}
    assert set(results) == {"synth_chart", "synth_scene"}
    assert results["synth_scene"]["official"] == record["tasks"]["synth_scene"]["metrics"]["official"]
    assert results["synth_scene"]["protocol_hash"] == record["tasks"]["synth_scene"]["protocol_hash"]
    assert store.check() == []


def test_a_local_checkpoint_run_is_indexed_by_its_weights_hash(tmp_path: Path) -> None:
    """Runs of local checkpoints record `model.weights` as `weights_hash` writes it (a dict); two
    checkpoints under one path name but with other weights are two models."""
    from vlmbench.records.provenance import weights_hash
    from vlmbench.records.store import model_key

    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "model.safetensors").write_bytes(b"weights one")
    root, record = evaluate(
        EvalConfig(model="random", tasks="synth_scene", limit=4, output_dir=tmp_path / "r")
    )
    record["model"]["weights"] = weights_hash(str(checkpoint))
    (root / "run.json").write_text(json.dumps(record))
    store = Store(tmp_path / "index.sqlite")
    assert [r.action for r in store.add([root])] == ["added"]
    other = json.loads(json.dumps(record))
    (checkpoint / "model.safetensors").write_bytes(b"weights two")
    other["model"]["weights"] = weights_hash(str(checkpoint))
    assert model_key(other) != model_key(record)


def test_refinished_run_updates(tmp_path: Path) -> None:
    running = task_result("synth_chart", 0, 10)
    running.update(status="running", n=None, metric=None, metrics=None)
    folder = write_run(tmp_path, "r1", "m", {"synth_chart": running}, status="running")
    store = Store(tmp_path / "s.sqlite")
    assert store.add([folder])[0].action == "added"
    assert store.results()[0]["status"] == "running"
    write_run(tmp_path, "r1", "m", {"synth_chart": task_result("synth_chart", 7, 10)})
    assert store.add([folder])[0].action == "updated"
    [result] = store.results()
    assert (result["status"], result["official"], result["run_status"]) == ("done", 0.7, "done")


def test_folder_of_runs_and_rebuild(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for i in range(3):
        _run(runs, f"r{i}", model=f"m{i}", correct=i)
    store = Store(runs / "vlmbench.sqlite")
    assert len(find_run_dirs([runs])) == 3
    store.add([runs])
    before = _snapshot(store)
    store.path.write_bytes(b"this is not a database at all")
    with pytest.raises(StoreError, match="rebuild"):
        store.results()
    assert len(store.rebuild()) == 3  # default root: the store's own folder
    assert sorted(_snapshot(store)) == sorted(before)
    assert store.check() == []
    store.path.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 16)  # the right header, then junk
    for suffix in ("-wal", "-shm"):
        Path(f"{store.path}{suffix}").unlink(missing_ok=True)
    assert len(store.rebuild()) == 3
    assert sorted(_snapshot(store)) == sorted(before)


def test_rebuild_drops_deleted_runs(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    keep, gone = _run(tmp_path / "a", "keep"), _run(tmp_path / "b", "gone")
    store.add([keep, gone])
    (gone / "run.json").unlink()
    store.rebuild(roots=[])
    assert [r["run_id"] for r in store.runs()] == ["keep"]


def _add_worker(args: tuple[str, list[str]]) -> int:
    path, dirs = args
    return len(Store(path).add(dirs))


def test_concurrent_adds_lose_nothing(tmp_path: Path) -> None:
    shared = [str(_run(tmp_path / "runs", f"shared{i}", model=f"s{i}")) for i in range(4)]
    jobs = []
    for worker in range(4):
        own = [str(_run(tmp_path / "runs", f"w{worker}-{i}", model=f"w{worker}-{i}")) for i in range(6)]
        jobs.append((str(tmp_path / "s.sqlite"), own + shared))
    with multiprocessing.get_context("fork").Pool(4) as pool:
        counts = pool.map(_add_worker, jobs)
    assert counts == [10, 10, 10, 10]
    store = Store(tmp_path / "s.sqlite")
    assert len(store.runs()) == 4 * 6 + 4
    assert len(store.results()) == 4 * 6 + 4
    assert store.check() == []


def test_truncated_record_names_file(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    text = (folder / "run.json").read_text()
    (folder / "run.json").write_text(text[: len(text) // 2])
    with pytest.raises(StoreError, match=r"r1/run\.json:\d+: malformed run record .*truncated"):
        Store(tmp_path / "s.sqlite").add([folder])


def _edit(folder: Path, change) -> None:
    record = json.loads((folder / "run.json").read_text())
    change(record)
    (folder / "run.json").write_text(json.dumps(record))


def test_hand_edited_protocol_is_caught(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    _edit(folder, lambda r: r["tasks"]["synth_chart"]["protocol"].update(prompt_template="{question} Think."))
    with pytest.raises(StoreError, match=r"run\.json: tasks\.synth_chart: protocol does not match"):
        Store(tmp_path / "s.sqlite").add([folder])


def test_hand_edited_metric_is_caught(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    _edit(folder, lambda r: r["tasks"]["synth_chart"]["metrics"].update(official=1.5))
    with pytest.raises(
        StoreError, match=r"run\.json: invalid run record: tasks\.synth_chart\.metrics\.official"
    ):
        Store(tmp_path / "s.sqlite").add([folder])
    _edit(folder, lambda r: r["tasks"]["synth_chart"]["metrics"].update(official=0.99))
    with pytest.raises(StoreError, match=r"does not hold official"):
        Store(tmp_path / "s.sqlite").add([folder])
    _edit(folder, lambda r: r.pop("model"))
    with pytest.raises(StoreError, match=r"invalid run record: model: Field required"):
        Store(tmp_path / "s.sqlite").add([folder])


def test_unknown_task_is_named(tmp_path: Path) -> None:
    result = task_result("synth_chart", 3, 10)
    result["protocol"]["task"] = "no_such_task"
    result["protocol_hash"] = canonical_hash(result["protocol"])
    folder = write_run(tmp_path, "r1", "m", {"no_such_task": result})
    with pytest.raises(StoreError, match=r"run\.json: run of unknown task 'no_such_task'"):
        Store(tmp_path / "s.sqlite").add([folder])


def test_bad_record_writes_nothing(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.add([_run(tmp_path, "good1")])
    before = _snapshot(store)
    good2, bad = _run(tmp_path, "good2", model="m2"), _run(tmp_path, "bad", model="m3")
    (bad / "run.json").write_text("{")
    with pytest.raises(StoreError, match=r"bad/run\.json"):
        store.add([good2, bad])
    assert _snapshot(store) == before
    results = store.add([good2, bad], skip_bad=True)
    assert [(r.run_id, r.action) for r in results] == [("good2", "added"), ("bad", "skipped")]
    assert "bad/run.json" in (results[1].error or "")
    assert sorted(r["run_id"] for r in store.runs()) == ["good1", "good2"]
    with pytest.raises(StoreError, match=r"missing/run\.json: no run record here"):
        store.add([tmp_path / "missing"])
    with pytest.raises(StoreError, match="no run record here or in its sub-folders"):
        store.add([tmp_path / "good1" / "samples"])


def test_default_store_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VLMBENCH_STORE", raising=False)
    assert default_store_path() == Path("runs") / "vlmbench.sqlite"
    monkeypatch.setenv("VLMBENCH_STORE", str(tmp_path / "x.sqlite"))
    assert Store().path == tmp_path / "x.sqlite"
