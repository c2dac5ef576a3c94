"""Publishing replaces the board folder as a whole: a publish killed mid-way, or one that hits a full disk,
leaves the previous complete board; the next one succeeds and removes the leftovers; an --out holding
files vlmbench did not write is refused and left untouched."""

from __future__ import annotations

import csv
import errno
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from leaderboard_records import task_result, write_run
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.leaderboard import site
from vlmbench.leaderboard.publish import publish
from vlmbench.leaderboard.site import MARKER, PublishError
from vlmbench.records.store import Store

runner = CliRunner()
TASKS = ("synth_chart", "synth_scene")


def _store(tmp_path: Path, n_models: int) -> Path:
    """A store with models model-00 .. model-<n-1> (added to whatever the store held)."""
    runs = tmp_path / "runs"
    for i in range(n_models):
        write_run(runs, f"r{i:02}", f"model-{i:02}", {t: task_result(t, 3 + i % 5, 10) for t in TASKS})
    store = tmp_path / "s.sqlite"
    Store(store).add([runs])
    return store


def _models(folder: Path) -> set[str]:
    """The board's models, after checking that its index, pages, README, CSV, JSON and marker agree."""
    index = (folder / "index.html").read_text()
    linked = set(re.findall(r'<a class="model" href="models/([^"#]+)"', index))
    assert linked == {p.name for p in (folder / "models").iterdir()}, "index and model pages differ"
    names = {r["model"] for r in json.loads((folder / "results.json").read_text())["rows"]}
    with (folder / "results.csv").open(newline="") as handle:
        assert {line["model"] for line in csv.DictReader(handle)} == names
    readme = (folder / "README.md").read_text()
    assert all(f"| {name} |" in readme for name in names)
    assert len(names) == len(linked)
    written = json.loads((folder / MARKER).read_text())["written"]
    assert written == [e for e in site.tree(folder) if e != MARKER]
    return names


def _leftovers(parent: Path, name: str = "site") -> list[str]:
    return sorted(p.name for p in parent.iterdir() if p.name.startswith(f"{name}."))


def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {
        p.relative_to(folder).as_posix(): (p.read_bytes() if p.is_file() else b"", p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
    }


# A publish in a child process that stops at a chosen point (writes `ready`, then sleeps to be killed).
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from vlmbench.leaderboard import publish as pub, site

    store, out, ready, where = sys.argv[1:5]

    def stop():
        Path(ready).write_text(str(os.getpid()))
        time.sleep(120)

    if where == "pages":  # after the third model page of the new board
        write, written = pub.write_file, []
        def write_file(path, text):
            write(path, text)
            written.append(path)
            if path.parent.name == "models" and len(written) == 4:  # index.html, then 3 pages
                stop()
        pub.write_file = write_file
    elif where == "between-renames":  # no exchange: the old board is aside, the new not yet in place
        site._exchange = lambda a, b: False
        rename = os.rename
        def paused(src, dst):
            rename(src, dst)
            if Path(src) == Path(out).resolve():
                stop()
        os.rename = paused
    elif where == "after-exchange":  # the new board is in place, the old not yet removed
        exchange = site._exchange
        def paused(a, b):
            assert exchange(a, b)
            stop()
        site._exchange = paused
    pub.publish("synth", store, out)
    """
)


def _killed_publish(tmp_path: Path, store: Path, out: Path, where: str) -> None:
    script, ready = tmp_path / "child.py", tmp_path / "ready"
    script.write_text(CHILD)
    child = subprocess.Popen(
        [sys.executable, str(script), str(store), str(out), str(ready), where],
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 120
    while not ready.exists():
        assert child.poll() is None, f"the child ended before the stop point: {child.stderr.read()}"
        assert time.monotonic() < deadline, "the child never reached the stop point"
        time.sleep(0.05)
    child.kill()  # SIGKILL: no cleanup runs
    child.wait()
    ready.unlink()


def test_a_publish_killed_while_writing_pages_leaves_the_previous_board(tmp_path: Path) -> None:
    store, out = _store(tmp_path, 3), tmp_path / "site"
    publish("synth", store, out)
    before = _snapshot(out)
    assert _models(out) == {"model-00", "model-01", "model-02"}
    _store(tmp_path, 8)  # five more models: the new board is bigger than the old
    _killed_publish(tmp_path, store, out, "pages")
    assert _snapshot(out) == before  # not one byte of the old board changed
    assert _models(out) == {"model-00", "model-01", "model-02"}
    [half] = _leftovers(tmp_path)  # the half-written new board, beside it
    assert re.fullmatch(r"site\.tmp-\d+-[0-9a-f]{8}", half)
    assert len(list((tmp_path / half / "models").iterdir())) == 3
    published = publish("synth", store, out)  # the next publish succeeds and removes the leftover
    assert _models(out) == {f"model-{i:02}" for i in range(8)} and len(published.model_pages) == 8
    assert _leftovers(tmp_path) == []


@pytest.mark.parametrize("where", ["between-renames", "after-exchange"])
def test_a_publish_killed_during_the_swap_leaves_complete_boards_and_the_next_one_cleans_up(
    tmp_path: Path, where: str
) -> None:
    if where == "after-exchange" and site._renameat2() is None:
        pytest.skip("no renameat2 on this system")
    store, out = _store(tmp_path, 2), tmp_path / "site"
    publish("synth", store, out)
    _store(tmp_path, 4)
    _killed_publish(tmp_path, store, out, where)
    boards = [tmp_path / name for name in _leftovers(tmp_path)]
    if where == "after-exchange":  # the new board in place, the old one beside it
        assert _models(out) == {f"model-{i:02}" for i in range(4)}
        assert [len(_models(b)) for b in boards] == [2]
    else:  # the one window of the two-rename swap: both boards complete, beside the folder
        assert not out.exists()
        assert sorted(len(_models(b)) for b in boards) == [2, 4]
    publish("synth", store, out)
    assert len(_models(out)) == 4 and _leftovers(tmp_path) == []


def test_the_two_rename_swap_puts_the_old_board_back_when_the_second_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = _store(tmp_path, 2), tmp_path / "site"
    publish("synth", store, out)
    monkeypatch.setattr(site, "_exchange", lambda a, b: False)  # as where renameat2 is missing
    _store(tmp_path, 3)
    publish("synth", store, out)
    assert len(_models(out)) == 3 and _leftovers(tmp_path) == []
    before = _snapshot(out)
    rename, calls = os.rename, []

    def second_fails(src: str, dst: str) -> None:
        calls.append(src)
        if len(calls) == 2:  # the old board is aside; the new one cannot be put in place
            raise OSError(errno.EIO, os.strerror(errno.EIO), dst)
        rename(src, dst)

    monkeypatch.setattr(os, "rename", second_fails)
    _store(tmp_path, 4)
    with pytest.raises(
        PublishError, match=r"site: cannot write the board: Input/output error; .*left as it was"
    ):
        publish("synth", store, out)
    assert _snapshot(out) == before and _leftovers(tmp_path) == []


@pytest.mark.parametrize(
    ("code", "said"), [(errno.ENOSPC, "the disk is full"), (errno.EROFS, "not writable")]
)
def test_a_full_or_read_only_disk_ends_in_one_line_and_keeps_the_old_board(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, code: int, said: str
) -> None:
    store, out = _store(tmp_path, 3), tmp_path / "site"
    publish("synth", store, out)
    before = _snapshot(out)
    _store(tmp_path, 5)
    write_text, pages = Path.write_text, []

    def full(self: Path, *args: object, **kwargs: object) -> int:
        if self.parent.name == "models":
            pages.append(self)
            if len(pages) == 2:
                raise OSError(code, os.strerror(code))  # as write() raises it: no file name
        return write_text(self, *args, **kwargs)

    monkeypatch.setattr(Path, "write_text", full)
    result = runner.invoke(
        app, ["leaderboard", "publish", "--board", "synth", "--store", str(store), "--out", str(out)]
    )
    assert result.exit_code == 2 and "Traceback" not in result.output
    [line] = result.output.strip().splitlines()
    assert re.fullmatch(
        rf"error: {re.escape(str(out))}/models/[\w.-]+\.html: cannot write the board: {said} "
        rf"\({os.strerror(code)}\); {re.escape(str(out))} is left as it was",
        line,
    ), line
    assert _snapshot(out) == before and _leftovers(tmp_path) == []


def _user_folder(root: Path) -> Path:
    folder = root / "mine"
    (folder / "data").mkdir(parents=True)
    (folder / "notes.txt").write_text("my notes")
    (folder / "data" / "x.csv").write_text("a,b\n")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    (folder / "index.html").write_text("<p>my own page</p>")
    return folder


@pytest.mark.parametrize("as_dot", [False, True])
def test_an_out_folder_of_other_files_is_refused_and_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, as_dot: bool
) -> None:
    store, folder = _store(tmp_path, 2), _user_folder(tmp_path)
    before, around = _snapshot(folder), _leftovers(tmp_path, "mine")
    if as_dot:
        monkeypatch.chdir(folder)
    args = ["leaderboard", "publish", "--board", "synth", "--store", str(store)]
    result = runner.invoke(app, [*args, "--out", "." if as_dot else str(folder)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    if as_dot:
        assert "is the current folder or holds it" in result.output
    else:
        assert "holds files vlmbench did not write (.git, data, index.html and more)" in result.output
    assert _snapshot(folder) == before and _leftovers(tmp_path, "mine") == around
    if as_dot:
        with pytest.raises(PublishError, match="is the current folder or holds it"):
            publish("synth", store, tmp_path)  # a folder holding the current one


def test_a_board_with_a_file_added_by_hand_is_refused(tmp_path: Path) -> None:
    store, out = _store(tmp_path, 2), tmp_path / "site"
    publish("synth", store, out)
    (out / "CNAME").write_text("board.example.org\n")
    before = _snapshot(out)
    with pytest.raises(PublishError, match=r"site: holds files vlmbench did not write \(CNAME\)"):
        publish("synth", store, out)
    assert _snapshot(out) == before


def test_an_out_that_is_a_file_or_a_mount_point_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store, out = _store(tmp_path, 1), tmp_path / "site"
    out.write_text("not a folder")
    with pytest.raises(PublishError, match="not a folder"):
        publish("synth", store, out)
    assert out.read_text() == "not a folder"
    out.unlink()
    out.mkdir()
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out)
    with pytest.raises(PublishError, match=r"site: is a mount point, .* \(e\.g\. --out .*site/board\)"):
        publish("synth", store, out)
    assert list(out.iterdir()) == [] and _leftovers(tmp_path) == []


def test_new_empty_symlinked_and_pre_marker_boards_are_published(tmp_path: Path) -> None:
    store = _store(tmp_path, 2)
    empty = tmp_path / "empty"
    empty.mkdir()
    publish("synth", store, empty)
    assert len(_models(empty)) == 2
    publish("synth", store, tmp_path / "new" / "deeper")
    assert len(_models(tmp_path / "new" / "deeper")) == 2
    (tmp_path / "link").symlink_to(empty)
    publish("synth", store, tmp_path / "link")  # the folder it points to is replaced, the link kept
    assert (tmp_path / "link").is_symlink() and len(_models(empty)) == 2
    (empty / MARKER).unlink()  # a board published before the marker: vlmbench's names only
    publish("synth", store, empty)
    assert len(_models(empty)) == 2


def test_leftovers_of_live_publishes_and_folders_not_ours_are_kept(tmp_path: Path) -> None:
    store, out = _store(tmp_path, 1), tmp_path / "site"
    live = tmp_path / f"site.tmp-{os.getppid()}-0123abcd"  # our parent (pytest's) is alive
    (live / "models").mkdir(parents=True)
    (live / MARKER).write_text("{}")
    lookalike = tmp_path / "site.old-999999999-0123abcd"  # no such process, but not ours
    lookalike.mkdir()
    (lookalike / "keep.txt").write_text("mine")
    publish("synth", store, out)
    assert live.is_dir() and (lookalike / "keep.txt").is_file()
