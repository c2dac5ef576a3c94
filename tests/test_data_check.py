"""`vlmbench data check`: every task's shared data passes; each kind of bad data fails its own check.

The shared developer items (`shared/data`) are checked in place. Hub sources are served by replacing
`vlmbench.data.hub.fetch` with card-shaped in-memory tables (as in test_data_hub_cards.py).
"""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from realdata import TASK_OF, shared_data_dir
from typer.testing import CliRunner

from vlmbench.cli import app
from vlmbench.data.check import EXIT_FAILED, check_task
from vlmbench.registry import get_task

datasets = pytest.importorskip("datasets")
from datasets import Dataset, Features, List, Value  # noqa: E402
from datasets import Image as ImageFeature  # noqa: E402

runner = CliRunner()


def statuses(report: Any) -> dict[str, str]:
    return {check.name: check.status for check in report.checks}


@pytest.mark.parametrize("task", sorted(TASK_OF.values()))
def test_every_tasks_shared_data_passes(task: str) -> None:
    report = check_task(get_task(task), shared_data_dir())
    assert report.ok, report.checks
    assert report.exit_code == 0
    assert report.n > 0
    checks = statuses(report)
    assert checks["schema"] == checks["ids"] == checks["answers"] == "ok"
    assert checks["count"] == "warn"  # a developer sample, smaller than the documented split
    assert sum(report.answer_types.values()) == report.n


def test_the_cli_prints_the_report_and_exits_0_on_shared_data() -> None:
    result = runner.invoke(app, ["data", "check", "chartqa", "--data", str(shared_data_dir())])
    assert result.exit_code == 0, result.output
    for word in ("schema", "count", "ids", "images", "answers", "40 images decode"):
        assert word in result.output


def test_the_cli_json_is_the_report() -> None:
    result = runner.invoke(
        app, ["data", "check", "scienceqa_img", "--data", str(shared_data_dir()), "--json"]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["task"] == "scienceqa_img" and report["ok"] is True and report["n"] == 40
    assert report["answer_types"] == {"multiple_choice": 40}
    assert [c["name"] for c in report["checks"]] == ["schema", "count", "ids", "images", "answers"]


def copy_items(tmp_path: Path, folder: str, edit: Any = None) -> Path:
    """The shared folder's items and images under tmp_path, each item passed through `edit`."""
    source = shared_data_dir() / folder
    target = tmp_path / folder
    (target / "images").mkdir(parents=True)
    items = [json.loads(line) for line in (source / "items.jsonl").read_text(encoding="utf-8").splitlines()]
    for item in items:
        if item.get("image"):
            (target / item["image"]).write_bytes((source / item["image"]).read_bytes())
    items = [edit(n, item) for n, item in enumerate(items)] if edit else items
    (target / "items.jsonl").write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return tmp_path


def test_a_corrupt_image_fails_the_images_check_and_exits_2(tmp_path: Path) -> None:
    root = copy_items(tmp_path, "chartqa")
    first = json.loads((root / "chartqa" / "items.jsonl").read_text().splitlines()[0])
    (root / "chartqa" / first["image"]).write_bytes(b"\x89PNG\r\n\x1a\nnot really a png")
    report = check_task(get_task("chartqa"), root)
    assert statuses(report)["images"] == "fail" and first["id"] in next(
        c.detail for c in report.checks if c.name == "images"
    )
    result = runner.invoke(app, ["data", "check", "chartqa", "--data", str(root)])
    assert result.exit_code == EXIT_FAILED


def test_an_image_over_the_pixel_cap_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VLMBENCH_MAX_IMAGE_PIXELS", "100")
    report = check_task(get_task("chartqa"), copy_items(tmp_path, "chartqa"))
    detail = next(c.detail for c in report.checks if c.name == "images")
    assert statuses(report)["images"] == "fail" and "cap" in detail


def test_a_schema_error_is_a_failed_check_not_a_crash(tmp_path: Path) -> None:
    def drop_answer(n: int, item: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in item.items() if not (n == 2 and k == "answer")}

    report = check_task(get_task("chartqa"), copy_items(tmp_path, "chartqa", drop_answer))
    assert [(c.name, c.status) for c in report.checks] == [("schema", "fail")]
    assert "items.jsonl:3" in report.checks[0].detail and "'answer'" in report.checks[0].detail
    assert report.exit_code == EXIT_FAILED


def test_a_task_without_data_there_fails_with_the_reason(tmp_path: Path) -> None:
    result = runner.invoke(app, ["data", "check", "ai2d", "--data", str(tmp_path), "--json"])
    assert result.exit_code == EXIT_FAILED
    report = json.loads(result.output)
    assert report["checks"][0]["name"] == "schema" and "items.jsonl" in report["checks"][0]["detail"]


# --- a hub source ------------------------------------------------------------------------------------

AI2D = Features(
    {
        "question": Value("string"),
        "options": List(Value("string")),
        "answer": Value("string"),
        "image": ImageFeature(),
    }
)


def png(width: int, height: int) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "teal").save(buffer, "PNG")
    return buffer.getvalue()


def serve_ai2d(monkeypatch: pytest.MonkeyPatch, n: int, images: list[bytes] | None = None) -> None:
    table = Dataset.from_dict(
        {
            "question": [f"Which stage follows stage {i}?" for i in range(n)],
            "options": [["egg", "larva", "pupa", "adult"]] * n,
            "answer": [str(i % 4) for i in range(n)],
            "image": [{"bytes": b, "path": None} for b in (images or [png(8, 6)] * n)],
        },
        features=AI2D,
    )
    monkeypatch.setattr("vlmbench.data.hub.fetch", lambda path, name, split, revision: table)


def test_a_hub_split_with_the_documented_count_passes_and_names_its_revision(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    spec = get_task("ai2d")
    serve_ai2d(monkeypatch, spec.source.size or 0)
    report = check_task(spec)
    assert report.ok, report.checks
    assert statuses(report) == dict.fromkeys(("schema", "count", "ids", "images", "answers"), "ok")
    assert report.source == f"hub: lmms-lab/ai2d@{spec.source.hub.revision}"
    assert report.data_source is not None and report.data_source["pinned"] is True


def test_a_hub_split_with_another_count_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    serve_ai2d(monkeypatch, 12)
    report = check_task(get_task("ai2d"))
    assert statuses(report)["count"] == "fail" and report.exit_code == EXIT_FAILED
    assert "12 items, but the split documents 3088" in next(
        c.detail for c in report.checks if c.name == "count"
    )


def test_limit_reads_a_prefix_and_does_not_fail_the_count(monkeypatch: pytest.MonkeyPatch) -> None:
    serve_ai2d(monkeypatch, 12)
    report = check_task(get_task("ai2d"), limit=5)
    assert report.n == 5 and statuses(report)["count"] == "warn" and report.ok
