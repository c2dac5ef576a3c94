"""Publishing: comparable columns only, ranks with ties, chance rows, escaping, and the four outputs."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pytest
from leaderboard_records import lineage, sample_row, task_result, write_run

from vlmbench.leaderboard.board import load_board
from vlmbench.leaderboard.publish import gain_range, md_escape, publish, script_json
from vlmbench.leaderboard.table import build_table, format_params, statistical_ranks
from vlmbench.records.store import Store
from vlmbench.runner import EvalConfig, evaluate

SYNTH = ["synth_chart", "synth_geometry", "synth_scene", "synth_table_math"]
XSS = "<script>alert(1)</script>"


def _board(
    tmp_path: Path, aggregate: str = "mean", tasks: tuple[str, ...] = ("synth_chart", "synth_scene")
) -> Path:
    from vlmbench.registry import get_task

    lines = [f"name: b{aggregate}", "title: Test board", f"aggregate: {aggregate}", "tasks:"]
    for task in tasks:
        spec = get_task(task)
        lines.append(f'  - {{task: {task}, version: "{spec.version}", metric: {spec.metrics.main}}}')
    path = tmp_path / f"b{aggregate}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _both(correct: tuple[int, int], n: int = 100, **proto) -> dict:
    return {
        "synth_chart": task_result("synth_chart", correct[0], n, **proto),
        "synth_scene": task_result("synth_scene", correct[1], n),
    }


def test_different_prompts_never_share_a_column(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "a", "model-a", _both((80, 70)))
    write_run(runs, "b", "model-b", _both((60, 50)))
    write_run(runs, "c", "model-c", _both((90, 40), style="cot"))  # chart under the chain-of-thought prompt
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    table = build_table(load_board(_board(tmp_path)), store)
    chart = [c for c in table.columns if c.task == "synth_chart"]
    assert [c.primary for c in chart] == [True, False]
    main, other = chart
    assert main.protocol_hash != other.protocol_hash
    assert other.label.startswith("synth_chart [proto ") and "prompt_style: cot (main: direct)" in other.why
    rows = {r.name: r for r in table.rows}
    for row in rows.values():  # every cell of a column comes from a run under that column's protocol
        for key, cell in row.cells.items():
            column = next(c for c in table.columns if c.key == key)
            record = table.runs[cell.run_id]["record"]
            assert record["tasks"][column.task]["protocol_hash"] == column.protocol_hash
    assert main.key not in rows["model-c"].cells and other.key in rows["model-c"].cells
    assert rows["model-c"].aggregate is None and rows["model-c"].missing == ["synth_chart"]
    assert rows["model-a"].aggregate == pytest.approx(0.75)
    out = publish(load_board(_board(tmp_path)), store, tmp_path / "site")
    page = out.index.read_text()
    assert 'id="other-protocols"' in page and 'data-section="prompt: cot"' in page and other.label in page
    fewer = Store(tmp_path / "fewer.sqlite")  # model-c is no longer on the board: its page must go
    fewer.add([runs / "a", runs / "b"])
    again = publish(load_board(_board(tmp_path)), fewer, tmp_path / "site")
    assert len(again.model_pages) == len(out.model_pages) - 1
    assert sorted((tmp_path / "site" / "models").glob("*.html")) == sorted(again.model_pages)
    publish(load_board(_board(tmp_path)), store, tmp_path / "site")
    data = json.loads(out.json.read_text())
    assert [c["main"] for c in data["columns"]] == [True, False, True]


def test_runs_of_the_same_weights_share_one_row_whatever_lineage_they_carry(tmp_path: Path) -> None:
    """A trained checkpoint's eval carries its lineage; its blank-image run, or a later plain
    `vlmbench eval` of the same folder, may not. The weights are one model: one row, with its lineage."""
    runs = tmp_path / "runs"
    write_run(runs, "trained", "ckpt/final", _both((80, 70)), lineage=lineage("grpo"))
    write_run(runs, "plain", "ckpt/final", {"synth_chart": task_result("synth_chart", 60, 100, style="cot")})
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    table = build_table(load_board(_board(tmp_path)), store)
    [row] = table.rows
    assert row.algorithm == "grpo" and row.base_model == "base-model"
    assert row.runs == ["plain", "trained"] and len(row.cells) == 3


def test_ranks_mark_statistical_ties() -> None:
    assert statistical_ranks([(0.8, 0.9), (0.75, 0.85), (0.5, 0.6), (0.1, 0.2)]) == [1, 1, 3, 4]
    assert statistical_ranks([(0.5, 0.6), (0.55, 0.65), (0.62, 0.7)]) == [2, 1, 1]


def test_table_ranks_and_best(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "a", "strong", _both((900, 880), n=1000))
    write_run(runs, "b", "close", _both((890, 875), n=1000))
    write_run(runs, "c", "weak", _both((500, 450), n=1000))
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    table = build_table(load_board(_board(tmp_path)), store)
    ranks = [(r.name, r.rank, r.tied) for r in table.rows]
    assert ranks == [("strong", 1, True), ("close", 1, True), ("weak", 3, False)]
    strong, close, _ = table.rows
    assert strong.cells["synth_chart"].best and close.cells["synth_chart"].tied_best
    assert strong.agg_lo < strong.aggregate < strong.agg_hi
    mean_rank = build_table(load_board(_board(tmp_path, "mean_rank")), store)
    assert [(r.name, r.aggregate, r.rank) for r in mean_rank.rows] == [
        ("strong", 1.0, 1),
        ("close", 1.0, 1),
        ("weak", 3.0, 3),
    ]


def test_latest_run_of_a_model_counts_and_other_versions_are_left_out(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "old", "m", _both((10, 10)), finished="2026-01-01T00:00:00+00:00")
    write_run(runs, "new", "m", _both((90, 90)), finished="2026-02-01T00:00:00+00:00")
    stale = task_result("synth_scene", 5, 10, task_version="0.9")
    write_run(runs, "stale", "other", {"synth_scene": stale})
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    table = build_table(load_board(_board(tmp_path)), store)
    assert [r.name for r in table.rows] == ["m"]
    assert table.rows[0].cells["synth_chart"].run_id == "new"
    assert any("synth_scene v0.9 are left out" in n for n in table.notes)


def test_pinned_protocol_decides_the_main_column(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "a", "a", _both((80, 70)))
    write_run(runs, "b", "b", _both((60, 50)))
    cot = _both((90, 40), style="cot")
    write_run(runs, "c", "c", cot)
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    path = _board(tmp_path)
    prefix = cot["synth_chart"]["protocol_hash"][:10]
    path.write_text(
        path.read_text().replace(
            "metric: relaxed_accuracy}", f"metric: relaxed_accuracy, protocol: {prefix}}}"
        )
    )
    table = build_table(load_board(path), store)
    main = next(c for c in table.columns if c.task == "synth_chart" and c.primary)
    assert main.protocol_hash.startswith(prefix)
    assert [r.name for r in table.rows if r.aggregate is not None] == ["c"]


def test_chance_rows_from_real_baseline_runs(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    for model in ("random", "majority", "first-choice"):
        evaluate(
            EvalConfig(
                model=model, backend="baseline", tasks="synth_chart,synth_scene", limit=8, output_dir=runs
            )
        )
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    out = publish(load_board(_board(tmp_path)), store, tmp_path / "site", samples_per_task=3)
    data = json.loads(out.json.read_text())
    rows = {r["model"]: r for r in data["rows"]}
    assert set(rows) == {"random", "majority"}  # the board lists which chance rows it shows
    assert all(r["baseline"] for r in rows.values()) and data["notes"] == []
    page = next(p for p in out.model_pages if p.name.startswith("random-")).read_text()
    # procedural items are regenerated for the browser: a thumbnail for every sample shown
    assert page.count('src="data:image/jpeg;base64,') == 6
    assert "chance" in out.index.read_text() and "(chance)" in out.readme.read_text()


def test_missing_chance_rows_say_how_to_make_them(tmp_path: Path) -> None:
    write_run(tmp_path / "runs", "a", "a", _both((80, 70)))
    store = Store(tmp_path / "s.sqlite")
    store.add([tmp_path / "runs"])
    table = build_table(load_board(_board(tmp_path)), store)
    assert any("vlmbench eval --backend baseline --model random" in n for n in table.notes)


def test_outputs_are_self_contained_and_escaped(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    rows = [
        sample_row("x1", "<b>bold</b> <script>alert(2)</script>", "A", 1.0, prompt='Is <i>this</i> "it"?')
    ]
    write_run(runs, "a", XSS, _both((80, 70)), samples={"synth_chart": rows}, n_params=7_000_000_000)
    write_run(
        runs,
        "b",
        "quote \"q\" & 's' | pipe",
        _both((60, 50)),
        lineage=lineage("grpo", "b0"),
    )
    write_run(runs, "hub", "hub-model", {"chartqa": task_result("chartqa", 5, 10)}, samples={"chartqa": rows})
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    board = _board(tmp_path, tasks=("synth_chart", "synth_scene", "chartqa"))
    out = publish(load_board(board), store, tmp_path / "site")
    index = out.index.read_text()
    assert XSS not in index and "&lt;script&gt;alert(1)&lt;/script&gt;" in index
    assert "quote &#34;q&#34; &amp; &#39;s&#39; | pipe" in index
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", index), "no CDN or remote asset"
    assert "<link" not in index and index.count("<script") == 2  # the config JSON and the inline code
    page = next(p for p in out.model_pages if p.name.startswith("script-alert-1-script-")).read_text()
    assert (
        "<script>alert(2)" not in page
        and "&lt;b&gt;bold&lt;/b&gt;" in page
        and "&lt;i&gt;this&lt;/i&gt;" in page
    )
    hub_page = next(p for p in out.model_pages if p.name.startswith("hub-model-")).read_text()
    assert "hub data is not downloaded while publishing" in hub_page and 'class="ph"' in hub_page
    readme = out.readme.read_text()
    assert "<script>" not in readme and "&lt;script&gt;alert\\(1\\)" not in readme
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in readme and "\\| pipe" in readme
    table_lines = [line for line in readme.splitlines() if line.startswith("| ")]
    assert len({line.count(" | ") for line in table_lines}) == 1  # no name breaks the columns
    with out.csv.open() as handle:
        long = list(csv.DictReader(handle))
    assert {r["model"] for r in long} == {XSS, "quote \"q\" & 's' | pipe", "hub-model"}
    assert len(long) == 5 and all(r["protocol_hash"] and r["run_id"] for r in long)
    assert json.loads(out.json.read_text())["rows"][0]["model"] in {XSS, "quote \"q\" & 's' | pipe"}


def test_script_json_cannot_close_the_script() -> None:
    text = str(script_json({"name": "</script><script>alert(1)</script>", "x": "a&b <!--"}))
    assert "</" not in text and "<!--" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "x": "a&b <!--"}
    assert md_escape("a|b <c> *d*") == "a\\|b &lt;c&gt; \\*d\\*"


def test_format_params() -> None:
    assert [format_params(n) for n in (None, 950, 1_500_000, 7_615_616_512)] == ["-", "950", "1.5M", "7.62B"]


def test_empty_store_publishes_an_empty_board(tmp_path: Path) -> None:
    out = publish("synth", Store(tmp_path / "s.sqlite"), tmp_path / "site")
    assert "no finished results" in out.index.read_text()
    assert out.csv.read_text().startswith("board,model,")
    assert all(
        f"{t}: no finished results in the store." in json.loads(out.json.read_text())["notes"] for t in SYNTH
    )


def test_methodology_comes_from_task_files_and_protocols(tmp_path: Path) -> None:
    from vlmbench.registry import get_task
    from vlmbench.scoring import get_scorer

    runs = tmp_path / "runs"
    write_run(runs, "a", "a", _both((80, 70)))
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    index = publish(load_board(_board(tmp_path)), store, tmp_path / "site").index.read_text()
    spec = get_task("synth_chart")
    proto_hash = _both((80, 70))["synth_chart"]["protocol_hash"]
    assert proto_hash in index and "generated by chart" in index
    assert spec.prompts.templates["direct"].split("\n")[-1] in index
    assert get_scorer(spec.scorer).describe()["official"].split("(")[0].strip() in index


def test_publishing_imports_no_model_code(tmp_path: Path) -> None:
    import subprocess
    import sys

    write_run(tmp_path / "runs", "a", "a", _both((80, 70)))
    probe = (
        "import sys; from vlmbench.records.store import Store; "
        "from vlmbench.leaderboard.publish import publish; "
        f"s = Store({str(tmp_path / 's.sqlite')!r}); s.add([{str(tmp_path / 'runs')!r}]); "
        f"publish('synth', s, {str(tmp_path / 'site')!r}); "
        "bad = [m for m in sys.modules if m.split('.')[0] in ('torch', 'transformers') or "
        "m.startswith('vlmbench.models')]; print(bad)"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_browser_thumbnails_from_a_local_data_folder(tmp_path: Path, shared_data: Path) -> None:
    runs = tmp_path / "runs"
    config = EvalConfig(
        model="random", backend="baseline", tasks="chartqa", limit=4, output_dir=runs, data_dir=shared_data
    )
    evaluate(config)
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    out = publish("default", store, tmp_path / "site", samples_per_task=4)
    [page] = out.model_pages
    assert page.read_text().count('src="data:image/jpeg;base64,') == 4
    assert "images unavailable" not in page.read_text()


def test_csv_cells_that_a_spreadsheet_would_run_as_formulas_are_quoted(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "a", '=HYPERLINK("http://x","click")', _both((80, 70)))
    write_run(runs, "b", "-2+3", _both((60, 50)))
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    out = publish(load_board(_board(tmp_path)), store, tmp_path / "site")
    with out.csv.open() as handle:
        names = {r["model"] for r in csv.DictReader(handle)}
    assert names == {'\'=HYPERLINK("http://x","click")', "'-2+3"}
    assert {r["model"] for r in json.loads(out.json.read_text())["rows"]} == {
        '=HYPERLINK("http://x","click")',
        "-2+3",
    }  # only the CSV, which spreadsheets open, is guarded


def test_model_pages_name_records_by_run_id_not_by_the_publishers_paths(tmp_path: Path) -> None:
    runs = tmp_path / "runs"
    write_run(runs, "run-a", "model-a", _both((80, 70)))
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    out = publish(load_board(_board(tmp_path)), store, tmp_path / "site")
    (page,) = out.model_pages
    text = page.read_text()
    assert "run-a/run.json" in text and str(tmp_path) not in text


# ---------------------------------------------------------------- intervals, partial results, fingerprints


def _published(tmp_path: Path, allow_partial: bool = True):
    """`full` answered every sample; `half` lost 3 of its 100 chart samples to HTTP 500 (added with
    --allow-partial), counted as wrong: 60 right of 100."""
    runs = tmp_path / "runs"
    write_run(runs, "a", "full", _both((80, 70)))
    partial = {
        "synth_chart": task_result("synth_chart", 60, 100, failed=3),
        "synth_scene": task_result("synth_scene", 50, 100),
    }
    write_run(runs, "b", "half", partial)
    store = Store(tmp_path / "s.sqlite")
    store.add([runs], allow_partial=allow_partial)
    return publish(load_board(_board(tmp_path)), store, tmp_path / "site")


def test_intervals_are_shown_as_intervals_with_the_method_named_once(tmp_path: Path) -> None:
    from vlmbench.stats import INTERVAL_NOTE

    out = _published(tmp_path)
    readme, index = out.readme.read_text(), out.index.read_text()
    assert "| **80.0** (71.1–86.7) n=100 |" in readme  # a range: the Wilson interval is not symmetric
    assert "| 75.0 (69.1–80.9) |" in readme  # the aggregate too
    assert '>80.0</a><span class="ci">71.1–86.7</span>' in index
    assert '<strong>75.0</strong><span class="n">69.1–80.9</span>' in index
    for text in (readme, index):
        assert "±" not in text and text.count(INTERVAL_NOTE) == 1
        assert "[71.1, 86.7]" not in text  # the board shows ranges, not a wall of brackets
    page = next(p for p in out.model_pages if p.name.startswith("full-")).read_text()
    assert ">80.0 [71.1, 86.7]</td>" in page and page.count(INTERVAL_NOTE) == 1 and "±" not in page


def test_csv_and_json_carry_ci_low_and_ci_high(tmp_path: Path) -> None:
    from vlmbench.stats import INTERVAL_NOTE, wilson_interval

    out = _published(tmp_path)
    low, high = wilson_interval(80, 100)
    with out.csv.open() as handle:
        reader = csv.DictReader(handle)
        assert reader.fieldnames is not None and not any("ci95" in f for f in reader.fieldnames)
        lines = {(r["model"], r["task"]): r for r in reader}
    chart = lines[("full", "synth_chart")]
    assert (float(chart["ci_low"]), float(chart["ci_high"])) == pytest.approx((low, high))
    data = json.loads(out.json.read_text())
    assert data["interval"] == INTERVAL_NOTE
    full = next(r for r in data["rows"] if r["model"] == "full")
    cell = full["cells"]["synth_chart"]
    assert (cell["ci_low"], cell["ci_high"]) == pytest.approx((low, high)) and "ci95" not in cell
    assert full["aggregate_ci_low"] < full["aggregate"] < full["aggregate_ci_high"]
    assert "aggregate_ci95" not in full


def test_a_partial_cell_says_how_many_samples_failed_on_every_output(tmp_path: Path) -> None:
    out = _published(tmp_path)
    readme = out.readme.read_text()
    assert "| 60.0 (50.2–69.1) n=100, 3 failed |" in readme
    assert "| 55.0 (48.3–61.7) (3 failed) |" in readme  # the aggregate it enters says so too
    assert "counted as wrong" in readme and any("1 result(s) are partial" in n for n in _notes(out))
    index = out.index.read_text()
    cell = re.search(r'<td class="num partial"[^>]*>.*?</td>', index, re.S)
    assert cell is not None
    marker = "3 of 100 samples failed (HTTP 500: 3) and count as wrong"
    assert f'<span class="failed" title="{marker}">3 failed</span>' in cell.group(0)
    with out.csv.open() as handle:
        lines = {(r["model"], r["task"]): r for r in csv.DictReader(handle)}
    assert (lines[("half", "synth_chart")]["n_failed"], lines[("half", "synth_chart")]["failures"]) == (
        "3",
        '{"HTTP 500": 3}',
    )
    assert lines[("full", "synth_chart")]["n_failed"] == "0"
    half = next(r for r in json.loads(out.json.read_text())["rows"] if r["model"] == "half")
    assert half["cells"]["synth_chart"]["n_failed"] == 3 and half["n_failed"] == 3
    assert half["cells"]["synth_chart"]["failures"] == {"HTTP 500": 3}
    assert half["cells"]["synth_scene"]["n_failed"] == 0
    page = next(p for p in out.model_pages if p.name.startswith("half-")).read_text()
    assert ">3 failed</span>" in page and "(added with --allow-partial)" in page


def _notes(out) -> list[str]:
    return json.loads(out.json.read_text())["notes"]


def test_a_partial_run_is_not_on_the_board_unless_allowed(tmp_path: Path) -> None:
    out = _published(tmp_path, allow_partial=False)
    assert [r["model"] for r in json.loads(out.json.read_text())["rows"]] == ["full"]
    assert "failed" not in out.readme.read_text().split("Values:")[0]


def test_model_pages_show_the_model_fingerprint(tmp_path: Path) -> None:
    from vlmbench.records.fingerprint import hub_fingerprint, local_fingerprint

    checkpoint = tmp_path / "ckpt"
    checkpoint.mkdir()
    (checkpoint / "config.json").write_text("{}")
    (checkpoint / "model.safetensors").write_bytes(b"x" * 1234)
    local = local_fingerprint(checkpoint).model_dump(mode="json")
    hub = hub_fingerprint("org/hub-model", revision="0123456789abcdef" * 2 + "01234567").model_dump(
        mode="json"
    )
    runs = tmp_path / "runs"
    write_run(runs, "a", "local-model", _both((80, 70)), fingerprint=local)
    write_run(runs, "b", "org/hub-model", _both((60, 50)), fingerprint=hub)
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    out = publish(load_board(_board(tmp_path)), store, tmp_path / "site")
    local_page = next(p for p in out.model_pages if p.name.startswith("local-model-")).read_text()
    total = 2 + 1234
    assert (
        f'<code title="{local["digest"]}">local {local["digest"][:12]}</code> 2 files, {total:,} bytes'
        in local_page
    )
    hub_page = next(p for p in out.model_pages if p.name.startswith("org-hub-model-")).read_text()
    assert f"hub {hub['digest'][:12]}</code> org/hub-model@{hub['revision']}, commit 0123456789ab" in hub_page
    assert "weights sha256" not in local_page + hub_page


# ---------------------------------------------------------------- board layout: main table, sections, gains

DEFAULT = [
    "mathvista_testmini", "geometry3k", "unigeo", "scienceqa_img", "ai2d", "chartqa", "vcr", "nlvr2",
    "gqa_testdev_balanced",
]  # fmt: skip
JUDGE = {"model": "gpt-4o-mini", "prompt_sha256": "0" * 64}


def _scores(ident: str, n: int, correct: int) -> list[dict]:
    return [sample_row(f"{ident}{i}", "x", "A", 1.0 if i < correct else 0.0) for i in range(n)]


@pytest.fixture
def default_board(tmp_path: Path):
    """The default board as a new user's store makes it: two models on all nine tasks; model-a also run
    under the chain-of-thought prompt (chartqa), on a `--limit 10` subset (ai2d), with the LLM judge
    (MathVista) and with blank images (ScienceQA, samples at hand: a paired gain) and shuffled images
    (GQA, no samples: a difference of means); model-z has only a blank-image run."""
    runs = tmp_path / "runs"
    for run_id, base in (("a", 70), ("b", 50)):
        tasks = {t: task_result(t, base, 100) for t in DEFAULT}
        write_run(runs, run_id, f"model-{run_id}", tasks, samples={"scienceqa_img": _scores("s", 100, base)})
    write_run(runs, "a-cot", "model-a", {"chartqa": task_result("chartqa", 80, 100, style="cot")})
    write_run(runs, "a-limit", "model-a", {"ai2d": task_result("ai2d", 9, 10)})
    write_run(
        runs,
        "a-judge",
        "model-a",
        {"mathvista_testmini": task_result("mathvista_testmini", 75, 100, judge=JUDGE)},
    )
    blank = task_result("scienceqa_img", 40, 100, image_ablation="blank")
    write_run(
        runs, "a-blank", "model-a", {"scienceqa_img": blank}, samples={"scienceqa_img": _scores("s", 100, 40)}
    )
    write_run(
        runs,
        "a-shuffle",
        "model-a",
        {"gqa_testdev_balanced": task_result("gqa_testdev_balanced", 45, 100, image_ablation="shuffle")},
    )
    write_run(
        runs,
        "z-blank",
        "model-z",
        {"scienceqa_img": task_result("scienceqa_img", 30, 100, image_ablation="blank")},
    )
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    return store


def test_the_main_table_has_one_column_per_task_and_other_protocols_have_sections(
    default_board: Store, tmp_path: Path
) -> None:
    table = build_table(load_board("default"), default_board)
    assert [c.key for c in table.primary] == DEFAULT  # one main column per task, keyed by the task
    assert {s.title: [c.task for c in s.columns] for s in table.sections} == {
        "LLM judge: official+judge:gpt-4o-mini": ["mathvista_testmini"],
        "subset (--limit): n=10": ["ai2d"],
        "prompt: cot": ["chartqa"],
    }
    judged = table.sections[0].columns[0]
    assert (
        judged.label.startswith("MathVista official+judge:gpt-4o-mini [proto ") and "LLM judge" in judged.why
    )
    out = publish(load_board("default"), default_board, tmp_path / "site")
    index = out.index.read_text()
    main = index[index.index('<table id="board">') : index.index("</table>")]
    headers = re.findall(r'<th data-key="([^"]+)"', main)
    assert headers == ["rank", "model", "size", "backend", "algorithm", *DEFAULT, "aggregate"]
    assert "[proto " not in main and "official+judge" not in main  # nothing but main protocols up there
    sections = re.findall(r'<section class="protocol" id="([^"]+)" data-section="([^"]+)">', index)
    assert [title for _, title in sections] == [s.title for s in table.sections]
    assert index.index('id="other-protocols"') > index.index("</table>")  # below the main table
    readme = out.readme.read_text()
    head = next(line for line in readme.splitlines() if line.startswith("| rank |"))
    assert head.count(" | ") == 5 + len(DEFAULT)  # rank model size backend algorithm, 9 tasks, mean
    assert "[proto" not in head
    order = [readme.index(h) for h in ("| rank |", "## Other protocols", "### prompt: cot", "## Visual gain")]
    assert order == sorted(order)
    with out.csv.open() as handle:
        lines = list(csv.DictReader(handle))
    by_run = {(r["run_id"], r["section"]) for r in lines}
    assert {("a-cot", "prompt: cot"), ("a-limit", "subset (--limit): n=10"), ("a", "main")} <= by_run
    assert ("a-judge", "LLM judge: official+judge:gpt-4o-mini") in by_run
    assert all((r["section"] == "main") == (r["main_column"] == "1") for r in lines)
    data = json.loads(out.json.read_text())
    assert {c["key"]: c["section"] for c in data["columns"]}["chartqa"] == "main"
    assert [s["title"] for s in data["sections"]] == [s.title for s in table.sections]


def test_an_image_ablation_is_the_visual_gain_of_its_models_row(default_board: Store, tmp_path: Path) -> None:
    table = build_table(load_board("default"), default_board)
    assert [r.name for r in table.rows] == ["model-a", "model-b"]  # no row for an ablated run
    assert not any(c.protocol.get("image_ablation") for c in table.columns)  # nor a column
    model_a = table.rows[0]
    assert model_a.rank == 1 and model_a.aggregate == pytest.approx(0.7)  # the ablations change no mean
    blank, shuffle = model_a.gains["scienceqa_img~blank"], model_a.gains["gqa_testdev_balanced~shuffle"]
    assert blank.paired and blank.test == "mcnemar_exact" and blank.n == 100
    assert blank.value == pytest.approx(0.3) and blank.lo < 0.3 < blank.hi  # 70 right with images, 40 blank
    assert not shuffle.paired and shuffle.value == pytest.approx(0.25) and shuffle.p_value is None
    assert "difference of means" in shuffle.method
    assert {"a-blank", "a-shuffle"} <= set(model_a.runs)
    assert any(n.startswith("model-z: its blank-image run of scienceqa_img") for n in table.notes)
    out = publish(load_board("default"), default_board, tmp_path / "site")
    index = out.index.read_text()
    row = re.search(rf'<tr data-key="{model_a.key}".*?</tr>', index, re.S)
    assert (
        row is not None and ">+30.0 vs blank</a>" in row.group(0) and ">+25.0 vs shuffle</a>" in row.group(0)
    )
    gains = index[index.index('id="gains"') :]
    assert "<strong>+30.0</strong>" in gains and "paired, n=100" in gains and "difference of means" in gains
    page = next(p for p in out.model_pages if p.name.startswith("model-a-")).read_text()
    assert 'id="visual-gain"' in page and f"+30.0 [{gain_range(blank)}]" in page
    assert "<code>a-blank</code>" in page  # the model page names the ablated run
    readme = out.readme.read_text()
    main_row = next(line for line in readme.splitlines() if line.startswith("| 1 | model-a |"))
    assert "visual gain +30.0 vs blank" in main_row
    assert "| model-a | +30.0 (" in readme and "; paired, n=100)" in readme
    assert "model-z" not in readme.split("Notes:")[0]
    with out.csv.open() as handle:
        gain_lines = [r for r in csv.DictReader(handle) if r["section"] == "visual gain"]
    assert {(r["task"], r["ablation"], r["gain_method"], r["run_id"]) for r in gain_lines} == {
        ("scienceqa_img", "blank", "paired", "a-blank"),
        ("gqa_testdev_balanced", "shuffle", "difference of means", "a-shuffle"),
    }
    data = json.loads(out.json.read_text())
    row_a = next(r for r in data["rows"] if r["model"] == "model-a")
    assert row_a["visual_gain"]["scienceqa_img~blank"]["ablated_score"] == pytest.approx(0.4)
    assert [g["key"] for g in data["visual_gain_columns"]] == [
        "scienceqa_img~blank",
        "gqa_testdev_balanced~shuffle",
    ]


def test_the_mean_says_which_task_a_row_lacks(default_board: Store, tmp_path: Path) -> None:
    write_run(tmp_path / "more", "c", "model-c", {t: task_result(t, 60, 100) for t in DEFAULT[:-1]})
    default_board.add([tmp_path / "more"])
    out = publish(load_board("default"), default_board, tmp_path / "site")
    row = next(line for line in out.readme.read_text().splitlines() if "| model-c |" in line)
    assert row.endswith("| - (lacks GQA) |")
    assert '<span class="n lacks">lacks GQA</span>' in out.index.read_text()


PNG = b"\x89PNG\r\n\x1a\n" + b"curves"  # what the page links to is copied, never drawn again


def test_a_trained_checkpoint_is_shown_by_its_run_name_with_its_training_curves(tmp_path: Path) -> None:
    """Boards name a trained checkpoint `<algo>-<start>-<hash>` (its run's display name), never
    `.../final` or a cache path, and its page shows the run's curves.png, copied beside the page under
    the row's own name; without the PNG the board still publishes, without the picture."""
    shown = "grpo-sft-tiny-llava-1a2b3c4d"
    train = tmp_path / "train-runs" / "grpo" / shown
    train.mkdir(parents=True)
    (train / "train_recipe.json").write_text(json.dumps({"algorithm": "grpo", "display_name": shown}))
    (train / "curves.png").write_bytes(PNG)
    runs = tmp_path / "train-runs" / "runs"
    cache = tmp_path / "cache" / "tiny-llava-v3"
    write_run(runs, "base", str(cache), _both((10, 10)))
    # train_dir as recorded: relative to where training ran, found again from the eval run's folder
    trained = {**lineage("grpo", str(cache)), "train_dir": f"train-runs/grpo/{shown}"}
    write_run(runs, "trained", str(train / "final"), _both((80, 70)), lineage=trained)
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    out = tmp_path / "site"
    published = publish(_board(tmp_path), store, out)
    pages = {p.name: p.read_text() for p in published.model_pages}
    [page_name] = [name for name in pages if name.startswith(shown)]
    slug = page_name.removesuffix(".html")
    assert (out / "models" / f"{slug}-curves.png").read_bytes() == PNG
    page = pages[page_name]
    assert f'<img src="{slug}-curves.png"' in page and f"<h1>{shown}</h1>" in page
    assert "grpo from tiny-llava (embedded default)" in " ".join(page.split())
    readme = published.readme.read_text()
    assert shown in readme and "tiny-llava (embedded default)" in readme
    assert "/final" not in readme and "tiny-llava-v3" not in readme
    assert not any("curves" in name for name in pages if not name.startswith(shown))

    (train / "curves.png").unlink()
    again = publish(_board(tmp_path), store, out)  # over the previous board, now without the picture
    assert not list((out / "models").glob("*.png"))
    assert all("Training curves" not in p.read_text() for p in again.model_pages)


def test_trained_runs_from_before_display_names_are_named_from_their_lineage(tmp_path: Path) -> None:
    """The published training_demo board's runs (`<UTC time>-<hash>` folders, not at hand here): each
    checkpoint is `<algo>-<start>-<hash>`, its start named as the start's own row is, without its hash."""
    runs = tmp_path / "runs"
    sft_model, grpo_model = "demo-runs/sft/20261207-124300-aa7a6ced/final", "demo-runs/grpo/2026-9564/final"
    sft = {**lineage("sft", "demo-runs/tiny"), "train_dir": "demo-runs/sft/20261207-124300-aa7a6ced"}
    grpo = {**lineage("grpo", sft_model), "train_dir": "demo-runs/grpo/2026-9564"}
    write_run(runs, "grpo", grpo_model, _both((80, 70)), lineage=grpo)  # listed before its start
    write_run(runs, "sft", sft_model, _both((70, 60)), lineage=sft)
    write_run(runs, "tiny", "demo-runs/tiny", _both((0, 0)))
    store = Store(tmp_path / "s.sqlite")
    store.add([runs])
    publish(_board(tmp_path), store, tmp_path / "site")
    rows = json.loads((tmp_path / "site" / "results.json").read_text())["rows"]
    shown = {r["model"]: r["base_model"] for r in rows}
    sft_name, grpo_name = f"sft-tiny-{sft['config_hash'][:8]}", f"grpo-sft-tiny-{grpo['config_hash'][:8]}"
    assert shown == {grpo_name: sft_name, sft_name: "demo-runs/tiny", "demo-runs/tiny": None}
