"""Run records on disk (`vlmbench.records.rundir.RunStore`): one JSON line per finished sample, appended and
synced once per batch; on resume a torn last line is cut off, finished rows are kept, failed rows are
dropped so that they run again; `run.json` is replaced atomically; the part files of a data-parallel
run are merged into the samples file in dataset order, once, whatever a kill left behind."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from leaderboard_records import task_result, write_run

from vlmbench.errors import DataError
from vlmbench.records.rundir import RunStore

TASK = "synth_geometry"


def row(sample_id: str, **fields) -> dict:
    return {"id": sample_id, "output": f"answer for {sample_id}", "official": 1.0, "error": None, **fields}


@pytest.fixture
def store(tmp_path: Path) -> RunStore:
    return RunStore(tmp_path / "run")


def lines_of(store: RunStore) -> list[dict]:
    return [json.loads(line) for line in store.samples_path(TASK).read_text(encoding="utf-8").splitlines()]


def test_append_writes_one_json_line_per_row_readable_at_once(store: RunStore) -> None:
    store.append(TASK, row("a"))
    assert lines_of(store) == [row("a")]  # on disk before the next row, not at the end of the run
    store.append(TASK, row("b", output="multi\nline ünïcode output"))
    text = store.samples_path(TASK).read_text(encoding="utf-8")
    assert text.count("\n") == 2 and text.endswith("\n")
    assert lines_of(store) == [row("a"), row("b", output="multi\nline ünïcode output")]
    assert store.samples_path(TASK) == store.root / "samples" / f"{TASK}.jsonl"


def test_finished_without_a_file_is_empty(store: RunStore) -> None:
    assert store.finished(TASK) == {}
    assert not store.samples_path(TASK).exists()


def test_finished_keeps_every_complete_row_in_order(store: RunStore) -> None:
    for sample_id in "abc":
        store.append(TASK, row(sample_id))
    before = store.samples_path(TASK).read_bytes()
    finished = store.finished(TASK)
    assert list(finished) == ["a", "b", "c"]
    assert finished["b"] == row("b")
    assert store.samples_path(TASK).read_bytes() == before  # nothing to repair, nothing rewritten


@pytest.mark.parametrize("torn", [b'{"id": "c", "outp', b'{"id": "c", "output": "x"}', b"{"])
def test_a_torn_last_line_is_cut_off_and_complete_rows_are_kept(store: RunStore, torn: bytes) -> None:
    """A kill mid-write leaves part of a line without its newline (even one that happens to parse)."""
    store.append(TASK, row("a"))
    store.append(TASK, row("b"))
    complete = store.samples_path(TASK).read_bytes()
    with store.samples_path(TASK).open("ab") as handle:
        handle.write(torn)
    assert list(store.finished(TASK)) == ["a", "b"]
    assert store.samples_path(TASK).read_bytes() == complete
    store.append(TASK, row("c"))  # the resumed run appends after a clean line break
    assert [r["id"] for r in lines_of(store)] == ["a", "b", "c"]


def test_a_file_holding_only_a_torn_line_is_emptied(store: RunStore) -> None:
    store.samples_path(TASK).parent.mkdir(parents=True)
    store.samples_path(TASK).write_bytes(b'{"id": "a", "out')
    assert store.finished(TASK) == {}
    assert store.samples_path(TASK).read_bytes() == b""


def test_failed_rows_are_dropped_so_they_are_retried(store: RunStore) -> None:
    store.append(TASK, row("a"))
    store.append(TASK, row("b", error="RuntimeError: boom", output=""))
    store.append(TASK, row("c"))
    assert list(store.finished(TASK)) == ["a", "c"]
    assert [r["id"] for r in lines_of(store)] == ["a", "c"]  # the file is rewritten without it
    store.append(TASK, row("b"))  # the retry succeeds
    assert list(store.finished(TASK)) == ["a", "c", "b"]


def test_a_repeated_row_is_kept_once_as_its_last_version(store: RunStore) -> None:
    """A row judged after the fact is appended as a new version of the same sample: the last one wins,
    and the repair keeps only it."""
    store.append(TASK, row("a"))
    store.append(TASK, row("b"))
    store.append(TASK, row("a", output="second version"))
    assert store.finished(TASK) == {"a": row("a", output="second version"), "b": row("b")}
    assert [(r["id"], r["output"]) for r in lines_of(store)] == [
        ("b", "answer for b"),
        ("a", "second version"),
    ]


@pytest.mark.parametrize("bad", [b"{not json", b"[1, 2]", b'{"output": "no id"}'])
def test_a_malformed_middle_line_is_a_data_error_naming_file_and_line(store: RunStore, bad: bytes) -> None:
    store.append(TASK, row("a"))
    with store.samples_path(TASK).open("ab") as handle:
        handle.write(bad + b"\n")
    store.append(TASK, row("c"))
    before = store.samples_path(TASK).read_bytes()
    with pytest.raises(DataError, match=rf"{TASK}\.jsonl:2: malformed sample row"):
        store.finished(TASK)
    assert store.samples_path(TASK).read_bytes() == before  # a damaged file is reported, not "repaired"


def test_write_run_is_atomic_and_read_run_round_trips(store: RunStore, tmp_path: Path) -> None:
    assert store.read_run() is None
    written = write_run(tmp_path / "made", "x", "m", {TASK: task_result(TASK, 3, 6)}, status="running")
    record = json.loads((written / "run.json").read_text(encoding="utf-8"))
    store.write_run(record)
    assert store.read_run() == record
    record["status"] = "done"
    store.write_run(record)
    assert store.read_run() == record
    assert sorted(p.name for p in store.root.iterdir()) == ["run.json"]  # no temporary file left


def test_a_repair_leaves_no_temporary_file(store: RunStore) -> None:
    store.append(TASK, row("a", error="boom"))
    store.finished(TASK)
    assert sorted(p.name for p in store.samples_path(TASK).parent.iterdir()) == [f"{TASK}.jsonl"]


@pytest.mark.parametrize("text", ['{"run_id": "x", "tasks": {', "", "[]", '{"run_id": "x"}'])
def test_a_malformed_run_json_is_a_data_error_naming_the_file(store: RunStore, text: str) -> None:
    store.root.mkdir(parents=True)
    (store.root / "run.json").write_text(text, encoding="utf-8")
    with pytest.raises(DataError, match=r"run\.json(:\d+)?: malformed run record"):
        store.read_run()


def test_a_full_disk_names_the_file_and_keeps_the_old_record(
    store: RunStore, tmp_path: Path, monkeypatch
) -> None:
    import errno
    import os

    written = write_run(tmp_path / "made", "x", "m", {TASK: task_result(TASK, 3, 6)}, status="running")
    record = json.loads((written / "run.json").read_text(encoding="utf-8"))
    store.write_run(record)
    before = (store.root / "run.json").read_bytes()

    def full(*_: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    kept = r"run\.json: cannot write: the disk is full \(No space left on device\); the previous version"
    with pytest.raises(DataError, match=kept):
        store.write_run({**record, "status": "interrupted"})
    with pytest.raises(DataError, match=rf"{TASK}\.jsonl: cannot append sample 'a': the disk is full"):
        store.append(TASK, row("a"))
    monkeypatch.undo()
    assert (store.root / "run.json").read_bytes() == before
    assert not [p.name for p in store.root.iterdir() if p.name.endswith(".tmp")]  # nothing half-written


def test_temporary_names_are_unique_per_write(store: RunStore, tmp_path: Path, monkeypatch) -> None:
    import os

    seen: list[str] = []
    real = os.replace
    monkeypatch.setattr(os, "replace", lambda a, b: (seen.append(Path(a).name), real(a, b)))
    written = write_run(tmp_path / "made", "x", "m", {TASK: task_result(TASK, 3, 6)}, status="running")
    record = json.loads((written / "run.json").read_text(encoding="utf-8"))
    store.write_run(record)
    store.write_run(record)
    assert len(set(seen)) == 2 and all(name.startswith(f"run.json.{os.getpid()}.") for name in seen)


def test_the_run_lock_is_exclusive_and_names_its_holder(tmp_path: Path) -> None:
    import os

    from vlmbench.records.rundir import RunLock, RunLocked

    with RunLock(tmp_path / "run"):
        assert f"process {os.getpid()}" in (tmp_path / "run" / ".lock").read_text()
        with (
            pytest.raises(RunLocked, match=f"being written by process {os.getpid()}"),
            RunLock(tmp_path / "run"),
        ):
            pass
    with RunLock(tmp_path / "run"):  # released: it can be taken again
        pass
    assert (tmp_path / "run" / ".lock").read_text() == ""


# --- batches and the part files of data-parallel runs -------------------------------------------------


def test_a_batch_is_appended_in_order_and_synced_once(store: RunStore, monkeypatch) -> None:
    import os

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    store.append_batch(TASK, [row("a"), row("b"), row("c")])
    assert len(synced) == 1
    assert [r["id"] for r in lines_of(store)] == ["a", "b", "c"]
    store.append_batch(TASK, [])  # nothing to write: no file touched, no sync
    assert len(synced) == 1


def test_a_rank_appends_to_its_own_part_outside_samples(store: RunStore) -> None:
    store.append_batch(TASK, [row("a")], rank=1)
    assert store.part_path(TASK, 1) == store.root / "parts" / TASK / "rank-1.jsonl"
    assert store.part_paths(TASK) == [store.part_path(TASK, 1)]
    assert not store.samples_path(TASK).exists()


def test_done_anywhere_counts_finished_rows_of_the_samples_file_and_every_part(store: RunStore) -> None:
    store.append_batch(TASK, [row("a"), row("b", error="boom")])
    store.append_batch(TASK, [row("c")], rank=0)
    store.append_batch(TASK, [row("d"), row("e", error="boom")], rank=3)  # a rank a larger run had
    assert sorted(store.done_anywhere(TASK)) == ["a", "c", "d"]


def test_merge_puts_part_rows_after_the_samples_file_in_dataset_order(store: RunStore) -> None:
    order = {sample_id: i for i, sample_id in enumerate("abcdef")}
    store.append_batch(TASK, [row("b")])  # done before, by a one-process run
    store.append_batch(TASK, [row("a"), row("e")], rank=0)
    store.append_batch(TASK, [row("f"), row("d", error="boom")], rank=1)
    rows = store.merge_parts(TASK, order)
    assert [r["id"] for r in lines_of(store)] == ["b", "a", "d", "e", "f"]
    assert sorted(rows) == ["a", "b", "d", "e", "f"] and rows["d"]["error"] == "boom"  # counted as failed
    assert store.part_paths(TASK) == [] and not (store.root / "parts").exists()


def test_merge_prefers_a_finished_row_to_a_failed_one_and_skips_rows_it_has(store: RunStore) -> None:
    order = {"a": 0, "b": 1}
    store.append_batch(TASK, [row("a")])
    store.append_batch(TASK, [row("a", output="again"), row("b", error="boom")], rank=0)  # a killed merge
    store.append_batch(TASK, [row("b", output="retried")], rank=1)
    store.merge_parts(TASK, order)
    assert [(r["id"], r["output"]) for r in lines_of(store)] == [("a", "answer for a"), ("b", "retried")]


def test_a_merge_a_kill_interrupted_before_deleting_the_parts_is_not_duplicated(store: RunStore) -> None:
    order = {"a": 0, "b": 1}
    store.append_batch(TASK, [row("a"), row("b")], rank=0)
    kept = store.part_path(TASK, 0).read_bytes()
    store.merge_parts(TASK, order)
    merged = store.samples_path(TASK).read_bytes()
    store.part_path(TASK, 0).parent.mkdir(parents=True)
    store.part_path(TASK, 0).write_bytes(kept)  # as if the kill came between the replace and the unlink
    store.merge_parts(TASK, order)
    assert store.samples_path(TASK).read_bytes() == merged


def test_a_torn_part_tail_is_cut_by_its_rank_and_skipped_by_the_merge(store: RunStore) -> None:
    store.append_batch(TASK, [row("a")], rank=1)
    with store.part_path(TASK, 1).open("ab") as handle:
        handle.write(b'{"id": "b", "outp')
    assert sorted(store.done_anywhere(TASK)) == ["a"]
    store.repair_part(TASK, 1)
    store.append_batch(TASK, [row("c")], rank=1)
    assert sorted(store.merge_parts(TASK, {"a": 0, "b": 1, "c": 2})) == ["a", "c"]
    assert [r["id"] for r in lines_of(store)] == ["a", "c"]
