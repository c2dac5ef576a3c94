"""The results store: idempotent, concurrent-safe, rebuildable, loud about bad run records, and it indexes
only scores that stand for the model they name (failed runs refused, partial ones only when allowed)."""

from __future__ import annotations

import errno
import multiprocessing
import os
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from leaderboard_records import edit_record, running_result, task_protocol, task_result, write_run

from vlmbench.records.fingerprint import local_fingerprint
from vlmbench.records.protocol import protocol_hash
from vlmbench.records.store import (
    Store,
    StoreAccessError,
    StoreCorruptError,
    StoreError,
    canonical_hash,
    default_store_path,
    find_run_dirs,
    model_key,
    read_record,
    sqlite_failure,
)
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


def _partial(root: Path, run_id: str, failed: int = 3, model: str = "p") -> Path:
    """A run of 20 samples of which `failed` got HTTP 500 (they count as wrong: 10 right of 20)."""
    result = task_result("synth_chart", 10, 20, failed=failed)
    return write_run(root, run_id, model, {"synth_chart": result})


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


def test_a_local_checkpoint_is_one_model_per_content(tmp_path: Path) -> None:
    """The row key is the model's content fingerprint: the same folder with other weights (retrained in
    place) is another model, the same weights under the same name the same one."""
    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    (checkpoint / "model.safetensors").write_bytes(b"weights one")
    first = local_fingerprint(checkpoint).model_dump(mode="json")
    a = _run(tmp_path / "runs", "a", model=str(checkpoint), fingerprint=first)
    again = _run(tmp_path / "runs", "a-again", model=str(checkpoint), fingerprint=first)
    (checkpoint / "model.safetensors").write_bytes(b"weights two")
    second = local_fingerprint(checkpoint).model_dump(mode="json")
    b = _run(tmp_path / "runs", "b", model=str(checkpoint), fingerprint=second)
    keys = [model_key(read_record(folder).record) for folder in (a, again, b)]
    assert keys[0] == keys[1] != keys[2]
    store = Store(tmp_path / "index.sqlite")
    assert [r.action for r in store.add([a, b])] == ["added", "added"]
    rows = {r["run_id"]: r for r in store.runs()}
    assert rows["a"]["fingerprint"] == first["digest"] and rows["b"]["fingerprint"] == second["digest"]
    assert rows["a"]["model_key"] != rows["b"]["model_key"]


def test_refinished_run_updates(tmp_path: Path) -> None:
    folder = write_run(tmp_path, "r1", "m", {"synth_chart": running_result("synth_chart", 10, 4)})
    store = Store(tmp_path / "s.sqlite")
    assert store.add([folder])[0].action == "added"
    assert store.runs()[0]["status"] == "running"
    assert store.results() == []  # a task still running has no score yet
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


def test_an_index_of_an_older_store_schema_is_rebuilt_not_added_to(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    _run(runs, "r0")
    store = Store(runs / "vlmbench.sqlite")
    with sqlite3.connect(store.path) as conn:  # the version-1 tables: no allow_partial, no fingerprint
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        conn.execute("CREATE TABLE runs (run_id TEXT PRIMARY KEY, path TEXT NOT NULL)")
    with pytest.raises(StoreError, match=r"store schema 1 .*run `vlmbench leaderboard rebuild`"):
        store.add([runs])
    assert [r.action for r in store.rebuild()] == ["added"]
    assert [r["run_id"] for r in store.runs()] == ["r0"] and store.check() == []


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


def test_hand_edited_protocol_is_caught(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    edit_record(
        folder, lambda r: r["tasks"]["synth_chart"]["protocol"].update(prompt_template="{question} Think.")
    )
    with pytest.raises(
        StoreError, match=r"run\.json: invalid run record: tasks\.synth_chart: protocol does not match"
    ):
        Store(tmp_path / "s.sqlite").add([folder])


def test_hand_edited_metric_is_caught(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    edit_record(folder, lambda r: r["tasks"]["synth_chart"]["metrics"].update(official=1.5))
    with pytest.raises(
        StoreError, match=r"run\.json: invalid run record: tasks\.synth_chart\.metrics\.official"
    ):
        Store(tmp_path / "s.sqlite").add([folder])
    edit_record(folder, lambda r: r["tasks"]["synth_chart"]["metrics"].update(official=0.99))
    with pytest.raises(StoreError, match=r"does not hold official"):
        Store(tmp_path / "s.sqlite").add([folder])
    edit_record(folder, lambda r: r.pop("model"))
    with pytest.raises(StoreError, match=r"invalid run record: model: Field required"):
        Store(tmp_path / "s.sqlite").add([folder])


def test_hand_edited_fingerprint_is_caught(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    edit_record(folder, lambda r: r["model"]["fingerprint"].update(name="another model"))
    with pytest.raises(
        StoreError, match=r"invalid run record: model\.fingerprint\.name: fingerprint digest does not match"
    ):
        Store(tmp_path / "s.sqlite").add([folder])


def test_an_old_record_version_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    folder = _run(tmp_path, "r1")
    edit_record(folder, lambda r: r.update(record_version="1"))
    with pytest.raises(StoreError) as caught:
        Store(tmp_path / "s.sqlite").add([folder])
    message = str(caught.value)
    assert message.startswith(f"{folder / 'run.json'}: record version 1 (this vlmbench reads 2)")
    assert "no model fingerprint" in message and "rerun the eval" in message


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


# ---------------------------------------------------------------- failed and partial runs


def test_a_failed_run_is_refused_naming_the_run_and_why(tmp_path: Path) -> None:
    """Every sample failed (no server listening): no score exists, whatever the flags; the good run of
    the same call is still indexed."""
    good = _run(tmp_path, "good")
    dead = task_result("synth_chart", 0, 40, failed=40, reason="connection error")
    failed = write_run(tmp_path, "dead-server", "served-model", {"synth_chart": dead}, backend="openai")
    store = Store(tmp_path / "s.sqlite")
    for allow_partial in (False, True):
        results = {r.run_id: r for r in store.add([good, failed], allow_partial=allow_partial)}
        assert results["dead-server"].action == "refused"
        assert results["dead-server"].error == (
            f"run dead-server ({failed}) failed: all 40 samples failed (connection error: 40); "
            "a failed run has no score and is never indexed"
        )
    assert [r["run_id"] for r in store.runs()] == ["good"]
    assert {r["run_id"] for r in store.results()} == {"good"}


def test_a_failed_run_says_its_own_failure_when_it_has_one(tmp_path: Path) -> None:
    never = task_result("synth_chart", 0, 10, failed=10, reason="connection error")
    never.update(n=0, n_failed=0, failures={}, tokens_in=0, tokens_out=0)  # not one sample got a row
    why = "the backend never answered: connection refused at http://127.0.0.1:9/v1"
    folder = write_run(tmp_path, "r1", "m", {"synth_chart": never}, failure=why)
    [result] = Store(tmp_path / "s.sqlite").add([folder])
    assert result.action == "refused"
    assert result.error == f"run r1 ({folder}) failed: {why}; a failed run has no score and is never indexed"


def test_a_partial_run_is_refused_without_the_flag_and_indexed_with_it(tmp_path: Path) -> None:
    folder = _partial(tmp_path, "half-served")
    store = Store(tmp_path / "s.sqlite")
    [refused] = store.add([folder])
    assert refused.action == "refused"
    assert refused.error is not None and refused.error.startswith(
        f"run half-served ({folder}) is partial: 3 of 20 samples failed (HTTP 500: 3). "
    )
    assert "Rerun the same `vlmbench eval` command to retry only those samples" in refused.error
    assert "--allow-partial" in refused.error and "counted as wrong" in refused.error
    assert store.runs() == [] and store.results() == []
    [added] = store.add([folder], allow_partial=True)
    assert added.action == "added" and added.error is None
    [result] = store.results()
    assert (result["status"], result["n"], result["n_failed"]) == ("partial", 20, 3)
    assert result["failures"] == {"HTTP 500": 3}
    assert result["official"] == 0.5  # the 3 failed samples count as wrong
    assert store.runs()[0]["allow_partial"] == 1


def test_failed_and_running_tasks_are_never_indexed(tmp_path: Path) -> None:
    """A run with a failed task is partial: with the flag, only its tasks with a score are indexed. An
    interrupted run's finished tasks are indexed, its running one is not."""
    mixed = write_run(
        tmp_path,
        "mixed",
        "m",
        {
            "synth_chart": task_result("synth_chart", 0, 10, failed=10, reason="timeout"),
            "synth_scene": task_result("synth_scene", 6, 10),
        },
    )
    store = Store(tmp_path / "s.sqlite")
    assert store.add([mixed])[0].action == "refused"
    assert "10 of 20 samples failed (timeout: 10)" in (store.add([mixed])[0].error or "")
    assert store.add([mixed], allow_partial=True)[0].action == "added"
    assert [(r["task"], r["status"]) for r in store.results()] == [("synth_scene", "done")]
    stopped = write_run(
        tmp_path,
        "stopped",
        "m2",
        {
            "synth_chart": task_result("synth_chart", 5, 10),
            "synth_scene": running_result("synth_scene", 10, 3),
        },
        status="interrupted",
    )
    assert store.add([stopped])[0].action == "added"
    indexed = [(r["task"], r["status"]) for r in store.results() if r["run_id"] == "stopped"]
    assert indexed == [("synth_chart", "done")]


def test_the_allow_partial_choice_is_remembered_by_add_and_rebuild(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    chosen = _partial(runs, "chosen")
    store = Store(runs / "vlmbench.sqlite")
    assert store.add([chosen], allow_partial=True)[0].action == "added"
    later = _partial(runs, "later", model="q")  # appears after: nobody allowed it
    again = {r.run_id: r.action for r in store.add([runs])}
    assert again == {"chosen": "unchanged", "later": "refused"}
    before = _snapshot(store)
    results = {r.run_id: r for r in store.rebuild()}
    assert results["chosen"].action == "added" and results["later"].action == "refused"
    assert str(later) in (results["later"].error or "")
    assert sorted(_snapshot(store)) == sorted(before)
    assert [(r["run_id"], r["status"]) for r in store.results()] == [("chosen", "partial")]


def test_a_run_that_heals_is_indexed_as_done_and_forgets_the_choice(tmp_path: Path) -> None:
    folder = _partial(tmp_path, "r1")
    store = Store(tmp_path / "s.sqlite")
    store.add([folder], allow_partial=True)
    write_run(tmp_path, "r1", "p", {"synth_chart": task_result("synth_chart", 13, 20)})  # rerun: all answered
    assert store.add([folder])[0].action == "updated"
    [run] = store.runs()
    assert (run["status"], run["allow_partial"]) == ("done", 0)


# ---------------------------------------------------------------- finding run folders


def test_run_records_are_found_anywhere_below(tmp_path: Path) -> None:
    """Training runs keep their eval runs deep; hidden folders, environments and a run folder's own
    sub-folders are not searched."""
    tree = tmp_path / "train-runs"
    expected = [
        _run(tree / "grpo" / "seed-1" / "runs", "grpo-eval-1", model="g1"),
        _run(tree / "grpo" / "seed-2" / "runs", "grpo-eval-2", model="g2"),
        _run(tree / "sft" / "20260101-abc123" / "runs", "sft-eval", model="s"),
        _run(tree, "top-level-run", model="t"),
    ]
    for ignored in (".hidden", ".venv", "__pycache__", "node_modules"):
        _run(tree / ignored / "deep", f"in-{ignored.strip('.')}")
    _run(expected[0] / "samples", "nested-in-a-run")
    assert find_run_dirs([tree]) == sorted(expected)
    store = Store(tmp_path / "s.sqlite")
    assert sorted(r.run_id for r in store.add([tree])) == sorted(p.name for p in expected)
    assert len(store.rebuild(roots=[tree])) == len(expected)
    fresh = Store(tmp_path / "fresh.sqlite")
    assert sorted(r.run_id for r in fresh.rebuild(roots=[tree])) == sorted(p.name for p in expected)


def test_default_store_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("VLMBENCH_STORE", raising=False)
    assert default_store_path() == Path("runs") / "vlmbench.sqlite"
    monkeypatch.setenv("VLMBENCH_STORE", str(tmp_path / "x.sqlite"))
    assert Store().path == tmp_path / "x.sqlite"


# ---------------------------------------------------------------- a store that cannot be written


def _with_connect(monkeypatch: pytest.MonkeyPatch, opener: Callable[..., sqlite3.Connection]) -> None:
    """Every connection the store opens goes through `opener(connect, path, **kwargs)` (tests run as
    root, where chmod stops no write: the read-only or full store is made by SQLite itself instead)."""
    connect = sqlite3.connect
    monkeypatch.setattr(sqlite3, "connect", lambda path, **kwargs: opener(connect, path, **kwargs))


def _read_only(connect: Callable[..., sqlite3.Connection], path: Path, **kwargs: Any) -> sqlite3.Connection:
    return connect(f"file:{path}?mode=ro", uri=True, **kwargs)


def _raising(err: BaseException) -> Callable[..., sqlite3.Connection]:
    def opener(connect: Callable[..., sqlite3.Connection], path: Path, **kwargs: Any) -> sqlite3.Connection:
        raise err

    return opener


@pytest.mark.parametrize(
    "opener",
    [_read_only, _raising(sqlite3.OperationalError("attempt to write a readonly database"))],
    ids=["sqlite-read-only", "mocked"],
)
def test_add_to_a_read_only_store_says_so_and_changes_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, opener: Callable[..., sqlite3.Connection]
) -> None:
    from typer.testing import CliRunner

    from vlmbench.cli import app

    store = Store(tmp_path / "s.sqlite")
    store.add([_run(tmp_path / "runs", "old")])
    before = store.path.read_bytes(), _snapshot(store)
    _with_connect(monkeypatch, opener)
    new = _run(tmp_path / "runs", "new", model="n")
    result = CliRunner().invoke(app, ["leaderboard", "add", str(new), "--store", str(store.path)])
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    [line] = result.output.strip().splitlines()
    assert line == (
        f"error: {store.path}: the store is not writable; it is unchanged "
        "(attempt to write a readonly database)"
    )
    monkeypatch.undo()
    assert (store.path.read_bytes(), _snapshot(store)) == before


def test_a_full_disk_while_adding_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """SQLite's own SQLITE_FULL half-way through the transaction (the file may not grow by a page)."""
    store = Store(tmp_path / "s.sqlite")
    store.add([_run(tmp_path / "runs", "old")])
    before = _snapshot(store)

    def no_room(connect: Callable[..., sqlite3.Connection], path: Path, **kwargs: Any) -> sqlite3.Connection:
        conn = connect(path, **kwargs)
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        conn.execute(f"PRAGMA max_page_count = {pages}")
        return conn

    _with_connect(monkeypatch, no_room)
    many = [_run(tmp_path / "more", f"r{i}", model=f"m{i}") for i in range(40)]
    with pytest.raises(
        StoreAccessError, match=r"s\.sqlite: the disk is full; the store is unchanged"
    ) as caught:
        store.add(many)
    assert "rebuild" not in str(caught.value) and "\n" not in str(caught.value)
    monkeypatch.undo()
    assert _snapshot(store) == before and store.check() == []
    assert len(store.add(many)) == 40  # with room again, everything lands


@pytest.mark.parametrize(
    ("err", "said"),
    [
        (OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)), "the disk is full (No space left on device)"),
        (PermissionError(errno.EACCES, os.strerror(errno.EACCES)), "not writable (Permission denied)"),
        (sqlite3.OperationalError("unable to open database file"), "cannot open the store"),
        (sqlite3.OperationalError("database or disk is full"), "the disk is full; the store is unchanged"),
        (sqlite3.OperationalError("disk I/O error"), "cannot read or write the store (I/O error)"),
    ],
)
def test_os_errors_opening_the_store_are_one_line_and_never_say_rebuild(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, err: BaseException, said: str
) -> None:
    store = Store(tmp_path / "s.sqlite")
    _with_connect(monkeypatch, _raising(err))
    with pytest.raises(StoreAccessError) as caught:
        store.add([_run(tmp_path / "runs", "r")])
    message = str(caught.value)
    assert message.startswith(f"{store.path}: ") and said in message
    assert "rebuild" not in message and "\n" not in message


def test_a_read_only_folder_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    err = sqlite3.OperationalError("attempt to write a readonly database")
    err.sqlite_errorcode = 1544  # type: ignore[attr-defined]  # SQLITE_READONLY_DIRECTORY
    _with_connect(monkeypatch, _raising(err))
    access = os.access  # as root, chmod 555 does not make a folder unwritable: say it is

    def no_write(path: Any, mode: int) -> bool:
        return access(path, mode) and not (Path(path) == tmp_path and mode & os.W_OK)

    monkeypatch.setattr(os, "access", no_write)
    with pytest.raises(
        StoreAccessError, match=r"cannot open the store: its folder .* is not writable \(SQLite keeps"
    ):
        Store(tmp_path / "s.sqlite").runs()


def test_a_store_whose_folder_cannot_be_made_is_named(tmp_path: Path) -> None:
    (tmp_path / "a-file").write_text("")
    store = Store(tmp_path / "a-file" / "s.sqlite")
    with pytest.raises(StoreAccessError, match=r"a-file/s\.sqlite: cannot create the store's folder: "):
        store.add([_run(tmp_path / "runs", "r")])


def test_rebuild_never_deletes_a_store_it_cannot_open(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = Store(tmp_path / "runs" / "vlmbench.sqlite")
    store.add([_run(tmp_path / "runs", "r")])
    before = store.path.read_bytes()
    _with_connect(monkeypatch, _raising(sqlite3.OperationalError("attempt to write a readonly database")))
    with pytest.raises(StoreAccessError, match="not writable"):
        store.rebuild()
    assert store.path.read_bytes() == before


def test_only_a_damaged_store_is_told_to_rebuild(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.sqlite")
    store.path.write_bytes(b"this is not a database at all")
    with pytest.raises(
        StoreCorruptError, match=r"file is not a database \(run `vlmbench leaderboard rebuild`"
    ):
        store.add([_run(tmp_path / "runs", "r")])
    other_schema = sqlite_failure(store.path, sqlite3.OperationalError("no such column: runs.model_key"))
    assert "another store schema? run `vlmbench leaderboard rebuild`" in str(other_schema)
    assert not isinstance(other_schema, StoreAccessError)


def test_a_samples_file_edited_after_the_run_is_not_indexed(tmp_path: Path) -> None:
    root, _ = evaluate(EvalConfig(tasks="synth_chart", synth={"n": 6}, output_dir=tmp_path / "runs"))
    samples = root / "samples" / "synth_chart.jsonl"
    text = samples.read_text()
    samples.write_text(text.replace('"official": 0.0', '"official": 1.0'))  # outputs "corrected" by hand
    store = Store(tmp_path / "s.sqlite")
    with pytest.raises(StoreError, match=r"synth_chart\.jsonl: changed after the run recorded it"):
        store.add([root])
    samples.unlink()
    with pytest.raises(StoreError, match=r"synth_chart\.jsonl: missing"):
        store.add([root])
    samples.write_text(text)  # as the run wrote it
    assert [r.action for r in store.add([root])] == ["added"]


def test_a_record_outside_its_own_folder_is_refused(tmp_path: Path) -> None:
    import shutil

    folder = _run(tmp_path / "runs", "the-run")
    shutil.copytree(folder, tmp_path / "runs" / "a-copy")
    with pytest.raises(StoreError, match="names run 'the-run' but lies in folder 'a-copy'"):
        Store(tmp_path / "s.sqlite").add([tmp_path / "runs" / "a-copy"])
