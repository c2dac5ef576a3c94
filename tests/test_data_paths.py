"""Data paths stay under their root (`vlmbench.data.paths`): an image named `../../x`, by an absolute
path or through a symlink that leads out of the data folder is never read - that one sample fails
naming the item - and a task file cannot point the loader at a folder outside `--data`.

Every file here is written by the test: a "secret" outside the data folder stands for any file on the
machine (`/etc/passwd` in the audit), and the items are test items, not benchmark items.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmbench.data import load_samples
from vlmbench.data.fingerprint import image_digest
from vlmbench.data.paths import confined_image, inside, resolves_inside
from vlmbench.errors import DataError, TaskSpecError
from vlmbench.registry import get_task, load_task_file
from vlmbench.schema import ImageRef

_REPO = Path(__file__).resolve().parents[1]


def item(ident: str, image: str | None) -> dict[str, Any]:
    """A multiple-choice test item with one image."""
    return {"id": ident, "question": "Which?", "choices": ["2", "3"], "answer": "3", "image": image}


@pytest.fixture
def layout(tmp_path: Path) -> dict[str, Path]:
    """data/geometry3k/{items.jsonl, images/ok.png} and, outside data/, secret/secret.png."""
    data = tmp_path / "data"
    bench = data / "geometry3k"
    (bench / "images").mkdir(parents=True)
    Image.new("RGB", (8, 6), "teal").save(bench / "images" / "ok.png")
    (tmp_path / "secret").mkdir()
    Image.new("RGB", (5, 5), "red").save(tmp_path / "secret" / "secret.png")
    return {"data": data, "bench": bench, "secret": tmp_path / "secret" / "secret.png"}


def write_items(folder: Path, items: Sequence[dict[str, Any]]) -> Path:
    path = folder / "items.jsonl"
    path.write_text("".join(json.dumps(i) + "\n" for i in items), encoding="utf-8")
    return path


def escaping_names(layout: dict[str, Path]) -> dict[str, str]:
    """Three ways out of the benchmark folder: `..`, an absolute path, a symlink inside it."""
    (layout["bench"] / "images" / "link.png").symlink_to(layout["secret"])
    return {
        "dotdot": "../../secret/secret.png",
        "absolute": str(layout["secret"]),
        "symlink": "images/link.png",
    }


@pytest.mark.parametrize("way", ["dotdot", "absolute", "symlink"])
def test_an_image_outside_the_data_folder_fails_its_own_sample_naming_the_item(
    layout: dict[str, Path], way: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = escaping_names(layout)[way]
    path = write_items(layout["bench"], [item("good", "images/ok.png"), item("evil", name)])
    opened: list[str] = []
    real_open = Image.open
    monkeypatch.setattr(Image, "open", lambda fp, *a, **k: opened.append(str(fp)) or real_open(fp, *a, **k))

    good, evil = load_samples(get_task("geometry3k"), layout["data"])  # the run loads; nothing escapes
    assert good.images[0].load().size == (8, 6)
    with pytest.raises(DataError) as err:
        evil.images[0].load()
    message = str(err.value)
    assert f"{path}:2" in message and "'evil'" in message and "outside the data folder" in message
    assert not any("secret" in p for p in opened)  # the file was never opened
    assert evil.images[0].path is None and not evil.images[0].exists()
    assert image_digest(evil.images[0]) == ""  # the fingerprint does not read it either


def test_an_out_of_root_image_fails_one_sample_of_an_eval_and_the_run_goes_on(
    layout: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from vlmbench.models.baseline import BaselineBackend
    from vlmbench.runner import EvalConfig, evaluate

    write_items(layout["bench"], [item("good", "images/ok.png"), item("evil", "../../secret/secret.png")])
    answer = BaselineBackend.generate

    def looking(self: BaselineBackend, requests: Sequence[Any]) -> list[Any]:
        for request in requests:
            [ref.load() for ref in request.images]  # what a real backend does before generating
        return answer(self, requests)

    monkeypatch.setattr(BaselineBackend, "generate", looking)
    config = EvalConfig(tasks="geometry3k", data_dir=layout["data"], output_dir=tmp_path / "runs")
    root, _ = evaluate(config)
    rows = {
        r["id"]: r for r in map(json.loads, (root / "samples" / "geometry3k.jsonl").read_text().splitlines())
    }
    assert not rows["good"].get("error")
    assert "DataError" in rows["evil"]["error"] and "outside the data folder" in rows["evil"]["error"]


def test_images_in_subfolders_and_symlinks_that_stay_inside_are_accepted(layout: dict[str, Path]) -> None:
    (layout["bench"] / "images" / "alias.png").symlink_to(layout["bench"] / "images" / "ok.png")
    write_items(layout["bench"], [item("a", "images/alias.png"), item("b", "images/../images/ok.png")])
    samples = load_samples(get_task("geometry3k"), layout["data"])
    assert [s.images[0].load().size for s in samples] == [(8, 6), (8, 6)]


def test_an_image_name_that_is_not_a_string_is_an_error_naming_the_line(layout: dict[str, Path]) -> None:
    path = write_items(layout["bench"], [item("a", "images/ok.png"), {**item("b", None), "images": [7]}])
    with pytest.raises(DataError) as err:
        load_samples(get_task("geometry3k"), layout["data"])
    assert f"{path}:2" in str(err.value) and "file names" in str(err.value)


def test_a_benchmark_folder_symlinked_out_of_the_data_root_is_refused_naming_the_task_file(
    layout: dict[str, Path], tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_items(elsewhere, [item("a", None)])
    (layout["data"] / "chartqa").symlink_to(elsewhere, target_is_directory=True)
    with pytest.raises(DataError) as err:
        load_samples(get_task("chartqa"), layout["data"])
    message = str(err.value)
    assert str(_REPO / "tasks" / "chartqa.yaml") in message
    assert "source.local.dir" in message and "outside the data root" in message


def test_an_items_file_symlinked_out_of_its_folder_is_refused(
    layout: dict[str, Path], tmp_path: Path
) -> None:
    outside = write_items(tmp_path, [item("a", None)])
    (layout["bench"] / "items.jsonl").symlink_to(outside)
    with pytest.raises(DataError, match="resolves outside"):
        load_samples(get_task("geometry3k"), layout["data"])


def task_text(**local: str) -> str:
    """The geometry3k task file with its `source.local` block replaced."""
    text = (_REPO / "tasks" / "geometry3k.yaml").read_text(encoding="utf-8")
    shipped = "  local:\n    format: items_jsonl\n    dir: geometry3k\n"
    assert shipped in text
    return text.replace(
        shipped, "  local:\n" + "".join(f"    {k}: {json.dumps(v)}\n" for k, v in local.items())
    )


@pytest.mark.parametrize(
    ("local", "key"),
    [
        ({"dir": "../../etc"}, "dir"),
        ({"dir": "/etc"}, "dir"),
        ({"dir": "geometry3k", "file": "../../etc/passwd"}, "file"),
        ({"dir": "vcr", "images_dir": "../../home"}, "images_dir"),
    ],
)
def test_a_task_file_naming_a_folder_or_file_outside_the_data_root_is_refused_with_file_and_line(
    tmp_path: Path, local: dict[str, str], key: str
) -> None:
    path = tmp_path / "geometry3k.yaml"
    path.write_text(task_text(**local), encoding="utf-8")
    with pytest.raises(TaskSpecError) as err:
        load_task_file(path)
    line = next(n for n, text in enumerate(path.read_text().splitlines(), start=1) if f"{key}:" in text)
    assert f"{path}:{line}:" in str(err.value) and key in str(err.value)


def test_the_shipped_task_files_still_validate() -> None:
    for path in sorted((_REPO / "tasks").glob("*.yaml")):
        load_task_file(path)


def test_the_helpers(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    assert inside(tmp_path / "in", "a/b.png") == tmp_path / "in" / "a" / "b.png"
    assert inside(tmp_path / "in", "../x.png") is None
    assert inside(tmp_path / "in", "/etc/passwd") is None
    assert not resolves_inside(tmp_path / "in" / "bad\0name", [tmp_path])
    refused = confined_image(tmp_path / "in", "../x.png", "items.jsonl:3 (item 'q')")
    assert refused == ImageRef(refused=refused.refused) and "items.jsonl:3 (item 'q')" in str(refused.refused)
