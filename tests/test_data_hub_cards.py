"""The hub loader on tables shaped exactly like each dataset card, with the real items of `shared/data`.

Each test builds an in-memory `datasets.Dataset` with the card's column names and types (images as
`datasets.Image()` features holding the shared images' own bytes) and serves it in place of the hub by
replacing `vlmbench.data.hub.fetch`, the one function that calls `load_dataset`. So the task file's real
hub block - dataset id, config, split, revision, field mapping, id rule, label decoding - runs unchanged,
and where a benchmark has local items the hub copy must give the *same* samples: same ids, same gold
answers, same image bytes, hence the same dataset fingerprint (so `vlmbench compare` pairs the two runs).
The cards each schema follows are named in the task files' `source:` comments.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hub_features import GQA_IMAGES, GQA_QUESTIONS, MATHVISTA_FEATURES, SCIENCEQA_FEATURES
from realdata import shared_data_dir

from vlmbench.data import load_samples
from vlmbench.data.fingerprint import data_source, dataset_fingerprint
from vlmbench.data.hub import load_hub_samples, resolved_revision
from vlmbench.errors import DataError
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType, Sample

datasets = pytest.importorskip("datasets")
from datasets import ClassLabel, Dataset, Features, Value  # noqa: E402
from datasets import Image as ImageFeature  # noqa: E402

Tables = dict[tuple[str, str | None, str], Dataset]


class FakeHub:
    """Serves tables by (dataset id, config, split) and records the revision each load asked for."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, tables: Tables) -> None:
        self.tables = tables
        self.calls: list[tuple[str, str | None, str, str | None]] = []
        monkeypatch.setattr("vlmbench.data.hub.fetch", self.fetch)

    def fetch(self, path: str, name: str | None, split: str, revision: str | None) -> Dataset:
        self.calls.append((path, name, split, revision))
        return self.tables[(path, name, split)]


def raw_items(folder: str) -> list[dict[str, Any]]:
    text = (shared_data_dir() / folder / "items.jsonl").read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def image_bytes(folder: str, item: dict[str, Any]) -> bytes:
    return (shared_data_dir() / folder / item["image"]).read_bytes()


def local(task: str) -> list[Sample]:
    return load_samples(get_task(task), shared_data_dir())


def hub_block(task: str) -> tuple[str, str | None, str]:
    hub = get_task(task).source.hub
    assert hub is not None
    return hub.path, hub.name, hub.split


def same_items(hub: list[Sample], local_samples: list[Sample]) -> None:
    """The hub samples carrying the local ids are the local samples: fields and fingerprint."""
    by_id = {s.id: s for s in hub}
    assert {s.id for s in local_samples} <= set(by_id)
    paired = [by_id[s.id] for s in local_samples]
    for h, loc in zip(paired, local_samples, strict=True):
        assert (h.question, h.choices, h.answer, h.answer_type) == (
            loc.question,
            loc.choices,
            loc.answer,
            loc.answer_type,
        ), loc.id
    assert dataset_fingerprint(paired) == dataset_fingerprint(local_samples)


# --- ChartQA: lmms-lab-encoder/ChartQA, split test --------------------------------------------------

CHARTQA = Features(
    {"type": Value("string"), "question": Value("string"), "answer": Value("string"), "image": ImageFeature()}
)


def chartqa_table(types: dict[str, str] | None = None) -> Dataset:
    """test_human.json then test_augmented.json in file order (as the upload script writes them): each
    shared item at its own index in its file, filler rows (not real items) in the gaps."""
    items = raw_items("chartqa")
    rows: dict[str, list[Any]] = {name: [] for name in CHARTQA}
    for split in ("human", "augmented"):
        placed = {i["meta"]["index_in_file"]: i for i in items if i["meta"]["split"] == split}
        for position in range(max(placed) + 1):
            item = placed.get(position)
            rows["type"].append((types or {}).get(split, f"{split}_test"))
            rows["question"].append(item["question"] if item else f"Filler question {split} {position}?")
            rows["answer"].append(item["answer"] if item else "filler")
            data = image_bytes("chartqa", item) if item else image_bytes("chartqa", items[0])
            rows["image"].append({"bytes": data, "path": None})
    return Dataset.from_dict(rows, features=CHARTQA)


def test_chartqa_hub_ids_are_the_local_ids_and_the_items_pair(monkeypatch: pytest.MonkeyPatch) -> None:
    hub = FakeHub(monkeypatch, {hub_block("chartqa"): chartqa_table()})
    samples = load_hub_samples(get_task("chartqa"))
    assert hub.calls == [("lmms-lab-encoder/ChartQA", None, "test", get_task("chartqa").source.hub.revision)]
    assert samples[0].id == "test_human/0" and samples[-1].id.startswith("test_augmented/")
    same_items(samples, local("chartqa"))
    assert {s.meta["split"] for s in samples} == {"human", "augmented"}


def test_chartqa_unknown_type_fails_naming_dataset_split_and_column(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHub(monkeypatch, {hub_block("chartqa"): chartqa_table({"augmented": "augmented_val"})})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("chartqa"))
    message = str(err.value)
    assert "lmms-lab-encoder/ChartQA" in message and "split test" in message
    assert "'type'" in message and "augmented_val" in message


def test_a_missing_column_fails_before_any_row_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHub(monkeypatch, {hub_block("chartqa"): chartqa_table().remove_columns("type")})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("chartqa"))
    message = str(err.value)
    assert "lmms-lab-encoder/ChartQA (split test)" in message
    assert "'type'" in message and "missing" in message and "['answer', 'image', 'question']" in message


def test_an_image_column_that_holds_no_images_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    table = chartqa_table().cast_column("image", ImageFeature(decode=False))
    table = Dataset.from_dict({**table.remove_columns("image").to_dict(), "image": list(range(len(table)))})
    FakeHub(monkeypatch, {hub_block("chartqa"): table})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("chartqa"))
    assert "'image'" in str(err.value) and "not an image column" in str(err.value)


# --- ScienceQA-IMG: lmms-lab-encoder/ScienceQA, config ScienceQA-IMG, split test --------------------


def scienceqa_table(answers: list[int] | None = None) -> Dataset:
    items = raw_items("scienceqa")
    rows: dict[str, list[Any]] = {name: [] for name in SCIENCEQA_FEATURES}
    for n, item in enumerate(items):
        rows["image"].append({"bytes": image_bytes("scienceqa", item), "path": None})
        rows["question"].append(item["question"])
        rows["choices"].append(item["choices"])
        rows["answer"].append(item["meta"]["answer_index"] if answers is None else answers[n])
        for name in ("hint", "task", "grade", "subject", "topic", "category", "skill", "lecture", "solution"):
            rows[name].append(item["meta"].get(name))
    return Dataset.from_dict(rows, features=SCIENCEQA_FEATURES)


def test_scienceqa_hub_gold_answers_are_the_local_ones(monkeypatch: pytest.MonkeyPatch) -> None:
    """The int8 answer is an index into choices: the gold is the option's text, as in the local items.
    The card has no pid column, so the hub ids are row ids that cannot equal the local pids."""
    FakeHub(monkeypatch, {hub_block("scienceqa_img"): scienceqa_table()})
    samples = load_hub_samples(get_task("scienceqa_img"))
    locals_ = local("scienceqa_img")
    assert [s.answer for s in samples] == [s.answer for s in locals_]
    assert [s.answer_type for s in samples] == [AnswerType.MULTIPLE_CHOICE] * len(locals_)
    assert [s.id for s in samples] == [f"test/{i}" for i in range(len(locals_))]
    assert not {s.id for s in samples} & {s.id for s in locals_}  # the known gap: see docs/data.md


def test_scienceqa_answer_index_outside_the_choices_names_the_column(monkeypatch: pytest.MonkeyPatch) -> None:
    answers = [item["meta"]["answer_index"] for item in raw_items("scienceqa")]
    answers[3] = 7
    FakeHub(monkeypatch, {hub_block("scienceqa_img"): scienceqa_table(answers)})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("scienceqa_img"))
    message = str(err.value)
    assert "lmms-lab-encoder/ScienceQA (config ScienceQA-IMG, split test) row 3" in message
    assert "'answer'" in message


# --- GQA: lmms-lab-encoder/GQA, testdev_balanced_instructions + testdev_balanced_images --------------


def test_gqa_hub_ids_are_question_ids_and_images_join_to_the_same_bytes(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    items = raw_items("gqa")
    questions = Dataset.from_dict(
        {
            "id": [i["id"] for i in items],
            "imageId": [i["meta"]["imageId"] for i in items],
            "question": [i["question"] for i in items],
            "answer": [i["answer"] for i in items],
            "fullAnswer": [i["meta"]["fullAnswer"] for i in items],
            "isBalanced": [i["meta"]["isBalanced"] for i in items],
            "groups": [i["meta"]["groups"] for i in items],
            "entailed": [json.dumps(i["meta"].get("entailed")) for i in items],
            "equivalent": [json.dumps(i["meta"].get("equivalent")) for i in items],
            "types": [i["meta"]["types"] for i in items],
            "annotations": [json.dumps(i["meta"].get("annotations")) for i in items],
            "semantic": [json.dumps(i["meta"].get("semantic")) for i in items],
            "semanticStr": [i["meta"].get("semanticStr") for i in items],
        },
        features=GQA_QUESTIONS,
    )
    pictures = {i["meta"]["imageId"]: image_bytes("gqa", i) for i in items}
    images = Dataset.from_dict(
        {"id": list(pictures), "image": [{"bytes": b, "path": None} for b in pictures.values()]},
        features=GQA_IMAGES,
    )
    path, name, split = hub_block("gqa_testdev_balanced")
    hub = FakeHub(
        monkeypatch,
        {(path, name, split): questions, (path, "testdev_balanced_images", split): images},
    )
    samples = load_hub_samples(get_task("gqa_testdev_balanced"))
    assert [call[:3] for call in hub.calls] == [
        ("lmms-lab-encoder/GQA", "testdev_balanced_instructions", "testdev"),
        ("lmms-lab-encoder/GQA", "testdev_balanced_images", "testdev"),
    ]
    same_items(samples, local("gqa_testdev_balanced"))


# --- MathVista: AI4Math/MathVista, split testmini -----------------------------------------------------


def test_mathvista_hub_ids_are_pids(monkeypatch: pytest.MonkeyPatch) -> None:
    items = raw_items("mathvista")
    features = MATHVISTA_FEATURES
    stand_in = image_bytes("chartqa", raw_items("chartqa")[0])  # MathVista's images are not in shared/data
    table = Dataset.from_dict(
        {
            "pid": [i["id"] for i in items],
            "question": [i["question"] for i in items],
            "image": [i["meta"]["original_image"] for i in items],
            "decoded_image": [{"bytes": stand_in, "path": None} for _ in items],
            "choices": [i["choices"] for i in items],
            "unit": [i["meta"]["unit"] for i in items],
            "precision": [i["meta"]["precision"] for i in items],
            "answer": [i["answer"] for i in items],
            "question_type": [i["meta"]["question_type"] for i in items],
            "answer_type": [i["meta"]["answer_type"] for i in items],
            "metadata": [i["meta"]["metadata"] for i in items],
            "query": [i["meta"]["query"] for i in items],
        },
        features=features,
    )
    spec = get_task("mathvista_testmini")
    FakeHub(monkeypatch, {hub_block("mathvista_testmini"): table})
    samples = load_hub_samples(spec)
    locals_ = local("mathvista_testmini")
    assert [s.id for s in samples] == [s.id for s in locals_]
    assert [(s.answer, s.answer_type, s.choices) for s in samples] == [
        (s.answer, s.answer_type, s.choices) for s in locals_
    ]
    assert [s.meta["metadata"] for s in samples] == [s.meta["metadata"] for s in locals_]


# --- NLVR2: lmms-lab/NLVR2, split balanced_dev --------------------------------------------------------


def nlvr2_table(labels: list[Any], dtype: Value | ClassLabel) -> Dataset:
    picture = image_bytes("chartqa", raw_items("chartqa")[0])  # no NLVR2 images in shared/data
    features = Features(
        {
            "identifier": Value("string"),
            "sentence": Value("string"),
            "label": dtype,
            "left_image": ImageFeature(),
            "right_image": ImageFeature(),
        }
    )
    return Dataset.from_dict(
        {
            "identifier": [f"dev-1-0-{n}" for n in range(len(labels))],
            "sentence": ["The left image contains twice as many dogs as the right image." for _ in labels],
            "label": labels,
            "left_image": [{"bytes": picture, "path": None} for _ in labels],
            "right_image": [{"bytes": picture, "path": None} for _ in labels],
        },
        features=features,
    )


@pytest.mark.parametrize(
    ("labels", "dtype"),
    [
        (["True", "False"], Value("string")),
        (["true", "false"], Value("string")),
        ([True, False], Value("bool")),
    ],
)
def test_nlvr2_true_false_labels_become_the_scorers_gold(
    monkeypatch: pytest.MonkeyPatch, labels: list[Any], dtype: Value
) -> None:
    FakeHub(monkeypatch, {hub_block("nlvr2"): nlvr2_table(labels, dtype)})
    samples = load_hub_samples(get_task("nlvr2"))
    assert [s.answer for s in samples] == ["True", "False"]
    assert [s.id for s in samples] == ["dev-1-0-0", "dev-1-0-1"]
    assert all(s.answer_type is AnswerType.BOOLEAN and len(s.images) == 2 for s in samples)


def test_nlvr2_labels_stored_as_0_1_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Which of 0 / 1 means true is the uploader's choice: guessing would score every item backwards."""
    FakeHub(monkeypatch, {hub_block("nlvr2"): nlvr2_table([1, 0], Value("int64"))})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("nlvr2"))
    message = str(err.value)
    assert "lmms-lab/NLVR2 (split balanced_dev)" in message and "'label'" in message


def test_nlvr2_label_as_class_label_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    table = nlvr2_table([1, 0], ClassLabel(names=["False", "True"]))
    FakeHub(monkeypatch, {hub_block("nlvr2"): table})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("nlvr2"))
    assert "'label'" in str(err.value) and "ClassLabel" in str(err.value)


def test_nlvr2_an_unknown_string_label_names_the_row(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHub(monkeypatch, {hub_block("nlvr2"): nlvr2_table(["True", "maybe"], Value("string"))})
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("nlvr2"))
    assert "row 1" in str(err.value) and "'maybe'" in str(err.value) and "'label'" in str(err.value)


# --- revisions: pinned in the task file, or recorded as read ----------------------------------------


@pytest.mark.parametrize(
    "task", ["chartqa", "scienceqa_img", "ai2d", "mathvista_testmini", "gqa_testdev_balanced", "nlvr2"]
)
def test_each_hub_block_names_the_revision_or_says_it_must_be_pinned(task: str) -> None:
    hub = get_task(task).source.hub
    assert hub is not None
    text = next(Path(__file__).resolve().parents[1].glob(f"tasks/{task}.yaml")).read_text(encoding="utf-8")
    if hub.revision is None:
        assert "NOT pinned" in text
    else:
        assert len(hub.revision) == 40


def test_a_hub_load_records_its_source_and_a_local_load_does_not(monkeypatch: pytest.MonkeyPatch) -> None:
    FakeHub(monkeypatch, {hub_block("chartqa"): chartqa_table()})
    spec = get_task("chartqa")
    source = data_source(load_hub_samples(spec))
    assert source == {
        "hub": "lmms-lab-encoder/ChartQA",
        "name": None,
        "split": "test",
        "revision": spec.source.hub.revision,
        "pinned": True,
    }
    assert data_source(local("chartqa")) is None


def test_the_protocol_carries_the_data_source_only_for_hub_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    from vlmbench.models.base import GenerationParams
    from vlmbench.records.protocol import protocol

    FakeHub(monkeypatch, {hub_block("chartqa"): chartqa_table()})
    spec = get_task("chartqa")
    params = GenerationParams(max_new_tokens=16)
    from_hub = protocol(spec, load_hub_samples(spec), "direct", params)
    from_local = protocol(spec, local("chartqa"), "direct", params)
    assert from_hub["data_source"]["revision"] == spec.source.hub.revision
    assert "data_source" not in from_local


def test_an_unpinned_load_reads_the_commit_back_from_the_cache_path(tmp_path: Path) -> None:
    sha = "0123456789abcdef0123456789abcdef01234567"
    folder = tmp_path / "lmms-lab-encoder___gqa" / "testdev_balanced_instructions" / "0.0.0" / sha
    Dataset.from_dict({"id": ["1"]}).save_to_disk(str(folder))
    assert resolved_revision(datasets.load_from_disk(str(folder))) == sha
    assert resolved_revision(Dataset.from_dict({"id": ["1"]})) is None  # in memory: nothing to read


def test_a_branch_name_is_not_a_revision() -> None:
    from pydantic import ValidationError

    from vlmbench.taskspec import HubSource

    with pytest.raises(ValidationError, match="40-character commit sha"):
        HubSource.model_validate(
            {"path": "x/y", "split": "test", "revision": "main", "fields": {"question": "q", "answer": "a"}}
        )
