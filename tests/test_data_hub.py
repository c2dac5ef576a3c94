"""The HF-hub code path (`vlmbench.data.hub.load_hub_samples`) run on local copies in the hub's layout.

Nothing here touches the network: each test writes a small parquet copy with `datasets`, laid out as
the hub repository is (`<config or data>/<split>-00000-of-00001.parquet` plus a README whose `configs:`
block names the config and split, as the lmms-lab cards do), and passes its folder as `path` - the way
an air-gapped machine uses a `huggingface-cli download` copy.

Column names and types follow the dataset cards. Where `shared/data` has real items (ScienceQA, ChartQA,
MathVista, GQA) their text is used; images are small generated PIL stand-ins (`Image.new`), never the
benchmarks' own pictures. AI2D and NLVR2 rows are test items written in the hub schema: `shared/data`
holds no AI2D or NLVR2 items.
"""

from __future__ import annotations

import io
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from vlmbench.data.hub import load_hub_samples
from vlmbench.errors import DataError, VlmbenchError
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType, ImageRef
from vlmbench.taskspec import TaskSpec

datasets = pytest.importorskip("datasets")
from datasets import Dataset, Features, List, Value  # noqa: E402
from datasets import Image as ImageFeature  # noqa: E402
from hub_features import GQA_IMAGES, GQA_QUESTIONS, MATHVISTA_FEATURES, SCIENCEQA_FEATURES  # noqa: E402

_REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def offline_private_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Never reach the hub, and keep `datasets`' Arrow cache inside the test's tmp_path."""
    import huggingface_hub.constants

    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "hf-cache")
    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)


def shared_items(folder: str) -> list[dict[str, Any]]:
    for candidate in (
        os.environ.get("VLMBENCH_SHARED_DATA"),
        _REPO / "shared" / "data",
        _REPO.parent / "shared" / "data",
    ):
        if candidate and (Path(candidate) / folder / "items.jsonl").is_file():
            text = (Path(candidate) / folder / "items.jsonl").read_text(encoding="utf-8")
            return [json.loads(line) for line in text.splitlines() if line.strip()]
    pytest.skip(f"no shared/data/{folder} with real items")


def stand_in(width: int, height: int, colour: str = "teal") -> bytes:
    """A generated PNG standing in for a benchmark image (which is not redistributable here)."""
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, "PNG")
    return buffer.getvalue()


def image_value(data: bytes | None) -> dict[str, Any] | None:
    return {"bytes": data, "path": None} if data is not None else None


def hub_copy(root: Path, parts: dict[str, tuple[str, Dataset]], readme: bool = True) -> str:
    """Write {config: (split, dataset)} in the hub layout; config "default" lives under `data/`."""
    card = ["---", "configs:"]
    for config, (split, dataset) in parts.items():
        folder = "data" if config == "default" else config
        (root / folder).mkdir(parents=True, exist_ok=True)
        dataset.to_parquet(str(root / folder / f"{split}-00000-of-00001.parquet"))
        card += [
            f"- config_name: {config}",
            "  data_files:",
            f"  - split: {split}",
            f"    path: {folder}/{split}-*",
        ]
    if readme:
        (root / "README.md").write_text("\n".join([*card, "---", ""]), encoding="utf-8")
    return str(root)


class OpenCounter:
    """Counts PIL.Image.open calls, to show rows are not decoded while samples are built."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        original = Image.open

        def counting(*args: Any, **kwargs: Any) -> Any:
            self.calls += 1
            return original(*args, **kwargs)

        monkeypatch.setattr(Image, "open", counting)


# --- ScienceQA-IMG (lmms-lab/ScienceQA, config ScienceQA-IMG, split test) ------------------------------


def scienceqa_copy(root: Path) -> tuple[str, list[dict[str, Any]], list[bytes]]:
    real = shared_items("scienceqa")
    images = [stand_in(20 + i, 10 + i) for i in range(len(real))]
    rows: dict[str, list[Any]] = {name: [] for name in SCIENCEQA_FEATURES}

    def add(image: bytes | None, question: str, choices: list[str], answer: int, **text: str | None) -> None:
        for name, value in (("image", image_value(image)), ("question", question), ("choices", choices)):
            rows[name].append(value)
        rows["answer"].append(answer)
        for name in ("hint", "task", "grade", "subject", "topic", "category", "skill", "lecture", "solution"):
            rows[name].append(text.get(name))

    for item, image in zip(real, images, strict=True):
        # the shared items lack subject/grade/topic/... (see shared/data/README.md): left empty here too
        add(image, item["question"], item["choices"], item["meta"]["answer_index"], hint=item["meta"]["hint"])
    # two test rows (not real items): one with every card field filled, one without an image
    add(
        stand_in(7, 7),
        "Which property do these objects have in common?",
        ["hard", "soft"],
        1,
        hint="Select the best answer.",
        task="closed choice",
        grade="grade2",
        subject="natural science",
        topic="physics",
        category="Materials",
        skill="Compare properties of objects",
        lecture="A property is something you can observe.",
        solution="Both objects are soft.",
    )
    add(None, "A text-only question?", ["yes", "no"], 0, hint="")
    dataset = Dataset.from_dict(rows, features=SCIENCEQA_FEATURES)
    return hub_copy(root, {"ScienceQA-IMG": ("test", dataset)}), real, images


def test_scienceqa_rows_become_samples_with_the_indexed_answer_text(tmp_path: Path) -> None:
    path, real, _ = scienceqa_copy(tmp_path)
    samples = load_hub_samples(get_task("scienceqa_img"), path=path)
    assert [s.id for s in samples[: len(real)]] == [f"test/{i}" for i in range(len(real))]
    for sample, item in zip(samples, real, strict=False):
        assert sample.question == item["question"]
        assert sample.choices == item["choices"]
        assert sample.answer == item["answer"]  # int index -> the option's text
        assert sample.answer_index == item["meta"]["answer_index"] == sample.meta["answer_index"]
        assert sample.answer_type is AnswerType.MULTIPLE_CHOICE
        assert sample.meta["hint"] == item["meta"]["hint"]


def test_scienceqa_card_fields_land_in_meta(tmp_path: Path) -> None:
    path, real, _ = scienceqa_copy(tmp_path)
    test_row = load_hub_samples(get_task("scienceqa_img"), path=path)[len(real)]
    assert test_row.answer == "soft"
    assert test_row.meta == {
        "hint": "Select the best answer.",
        "subject": "natural science",
        "grade": "grade2",
        "topic": "physics",
        "category": "Materials",
        "skill": "Compare properties of objects",
        "answer_index": 1,
    }


def test_scienceqa_img_drops_rows_without_an_image(tmp_path: Path) -> None:
    path, real, _ = scienceqa_copy(tmp_path)
    samples = load_hub_samples(get_task("scienceqa_img"), path=path)
    assert len(samples) == len(real) + 1
    assert "A text-only question?" not in {s.question for s in samples}
    assert all(len(s.images) == 1 for s in samples)


def test_hub_images_stay_encoded_until_load(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path, _, images = scienceqa_copy(tmp_path)
    opened = OpenCounter(monkeypatch)
    samples = load_hub_samples(get_task("scienceqa_img"), path=path)
    assert opened.calls == 0
    for sample, data in zip(samples, images, strict=False):
        (ref,) = sample.images
        assert isinstance(ref, ImageRef) and ref.loader is None
        assert ref.data == data  # the stored PNG bytes, untouched
    first = samples[0].images[0].load()
    assert opened.calls == 1
    assert (first.mode, first.size) == ("RGB", (20, 10))


def test_limit_stops_after_that_many_samples(tmp_path: Path) -> None:
    path, real, _ = scienceqa_copy(tmp_path)
    samples = load_hub_samples(get_task("scienceqa_img"), path=path, limit=3)
    assert [s.question for s in samples] == [i["question"] for i in real[:3]]


# --- AI2D (lmms-lab/ai2d, split test) ---------------------------------------------------------------

# The lmms-lab/ai2d card: question (string), options (sequence of strings), answer (string "0".."3"),
# image (image). shared/data has no AI2D items, so these rows are test items in the hub schema.
AI2D_FEATURES = Features(
    {
        "question": Value("string"),
        "options": List(Value("string")),
        "answer": Value("string"),
        "image": ImageFeature(),
    }
)


def ai2d_copy(root: Path, answers: list[str]) -> str:
    rows = {
        "question": [f"Which stage comes after stage {i}?" for i in range(len(answers))],
        "options": [["egg", "larva", "pupa", "adult"] for _ in answers],
        "answer": answers,
        "image": [image_value(stand_in(12, 8 + i)) for i in range(len(answers))],
    }
    return hub_copy(root, {"default": ("test", Dataset.from_dict(rows, features=AI2D_FEATURES))})


def test_ai2d_answer_index_string_selects_the_option(tmp_path: Path) -> None:
    samples = load_hub_samples(get_task("ai2d"), path=ai2d_copy(tmp_path, ["0", "3", "2"]))
    assert [s.id for s in samples] == ["test/0", "test/1", "test/2"]
    assert [s.answer for s in samples] == ["egg", "adult", "pupa"]
    assert [s.answer_letter for s in samples] == ["A", "D", "C"]
    assert all(s.choices == ["egg", "larva", "pupa", "adult"] for s in samples)
    assert all(s.answer_type is AnswerType.MULTIPLE_CHOICE for s in samples)
    assert samples[2].images[0].load().size == (12, 10)


def test_answer_index_outside_the_options_is_an_error_naming_the_row(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("ai2d"), path=ai2d_copy(tmp_path, ["1", "4"]))
    message = str(err.value)
    assert "row 1" in message and "'4'" in message and "4 choices" in message


def test_an_answer_that_is_not_an_index_is_an_error_naming_the_row(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_hub_samples(get_task("ai2d"), path=ai2d_copy(tmp_path, ["B"]))
    assert "row 0" in str(err.value) and "'B'" in str(err.value)


# --- ChartQA (lmms-lab-encoder/ChartQA, split test) ---------------------------------------------------------

# The lmms-lab/ChartQA card: type ("human_test" / "augmented_test"), question, answer (strings), image.
CHARTQA_FEATURES = Features(
    {"type": Value("string"), "question": Value("string"), "answer": Value("string"), "image": ImageFeature()}
)


def test_chartqa_ids_split_and_answer_types(tmp_path: Path) -> None:
    real = shared_items("chartqa")
    rows = {
        "type": [f"{item['meta']['split']}_test" for item in real],
        "question": [item["question"] for item in real],
        "answer": [item["answer"] for item in real],
        "image": [image_value(stand_in(30, 20)) for _ in real],
    }
    path = hub_copy(tmp_path, {"default": ("test", Dataset.from_dict(rows, features=CHARTQA_FEATURES))})
    samples = load_hub_samples(get_task("chartqa"), path=path)
    assert len(samples) == len(real)
    places: dict[str, int] = {}
    for sample, item in zip(samples, real, strict=True):
        split = item["meta"]["split"]
        places[split] = places.get(split, -1) + 1
        assert sample.id == f"test_{split}/{places[split]}"  # the row's place among rows of its type
        assert (
            sample.meta["split"] == item["meta"]["split"]
        )  # human_test -> human, augmented_test -> augmented
        assert (sample.question, sample.answer) == (item["question"], item["answer"])
        assert sample.choices is None
        # the same normalised type as the local copy: numbers are scored as numbers
        assert sample.answer_type is AnswerType(item["answer_type"]), sample.id
    assert {s.meta["split"] for s in samples} == {"human", "augmented"}


# --- MathVista (AI4Math/MathVista, split testmini) -------------------------------------------------


def test_mathvista_hub_rows_match_the_local_items(tmp_path: Path) -> None:
    real = shared_items("mathvista")
    rows: dict[str, list[Any]] = {name: [] for name in MATHVISTA_FEATURES}
    for item in real:
        meta = item["meta"]
        rows["pid"].append(item["id"])
        rows["question"].append(item["question"])
        rows["image"].append(meta["original_image"])
        # MathVista's images are not in shared/data: a stand-in as wide as the recorded image
        rows["decoded_image"].append(image_value(stand_in(meta["metadata"]["img_width"], 4)))
        rows["choices"].append(item["choices"])
        for name in ("unit", "precision", "question_type", "answer_type", "metadata", "query"):
            rows[name].append(meta[name])
        rows["answer"].append(item["answer"])
    path = hub_copy(tmp_path, {"default": ("testmini", Dataset.from_dict(rows, features=MATHVISTA_FEATURES))})
    spec = get_task("mathvista_testmini")
    hub = load_hub_samples(spec, path=path)
    assert [s.id for s in hub] == [item["id"] for item in real]
    for sample, item in zip(hub, real, strict=True):
        assert sample.question == item["question"]
        assert sample.choices == item["choices"]
        assert sample.answer == item["answer"]
        assert sample.answer_type is AnswerType(item["answer_type"]), sample.id
        if item["choices"] is not None:
            assert sample.choices[sample.answer_index] == item["answer"]
        for key in ("question_type", "answer_type", "precision", "unit", "query", "metadata"):
            assert sample.meta[key] == item["meta"][key], (sample.id, key)
        (ref,) = sample.images
        assert ref.data is not None and ref.load().size == (item["meta"]["metadata"]["img_width"], 4)


# --- NLVR2 (lmms-lab/NLVR2, split balanced_dev) ----------------------------------------------------

# No real NLVR2 items in shared/data; columns as in the official lil-lab/nlvr release: identifier,
# sentence, label ("True"/"False"), left_image, right_image. These rows are test items.
NLVR2_FEATURES = Features(
    {
        "identifier": Value("string"),
        "sentence": Value("string"),
        "label": Value("string"),
        "left_image": ImageFeature(),
        "right_image": ImageFeature(),
    }
)


def test_nlvr2_rows_carry_the_left_then_the_right_image(tmp_path: Path) -> None:
    rows = {
        "identifier": ["dev-1-0-0", "dev-1-0-1"],
        "sentence": ["There are two dogs in total.", "There are two dogs in total."],
        "label": ["True", "False"],
        "left_image": [image_value(stand_in(11, 5)), image_value(stand_in(13, 5))],
        "right_image": [image_value(stand_in(12, 6)), image_value(stand_in(14, 6))],
    }
    # the plain layout without a README: datasets finds data/<split>-00000-of-00001.parquet by name
    path = hub_copy(
        tmp_path,
        {"default": ("balanced_dev", Dataset.from_dict(rows, features=NLVR2_FEATURES))},
        readme=False,
    )
    samples = load_hub_samples(get_task("nlvr2"), path=path)
    assert [s.id for s in samples] == ["dev-1-0-0", "dev-1-0-1"]
    assert [s.answer for s in samples] == ["True", "False"]
    assert all(s.answer_type is AnswerType.BOOLEAN for s in samples)
    assert samples[0].meta["identifier"] == "dev-1-0-0"
    assert [[ref.load().size for ref in s.images] for s in samples] == [
        [(11, 5), (12, 6)],
        [(13, 5), (14, 6)],
    ]
    assert all(ref.data is not None for s in samples for ref in s.images)


# --- GQA (lmms-lab/GQA: questions in testdev_balanced_instructions, images in testdev_balanced_images) --

# Only the question columns vlmbench reads are written (the card lists more: entailed, equivalent,
# annotations, semantic, semanticStr); `groups` and `types` are modelled as structs, and a second test
# covers uploads that keep such annotations as JSON strings. The questions are the real shared GQA items.
GQA_READ = Features(
    {
        name: GQA_QUESTIONS[name]
        for name in ("id", "imageId", "question", "answer", "fullAnswer", "isBalanced", "groups", "types")
    }
)


def gqa_parts(
    real: list[dict[str, Any]], types_as_json: bool = False
) -> tuple[Dataset, Dataset, dict[str, bytes]]:
    features = GQA_READ.copy()
    if types_as_json:
        features["types"] = Value("string")
    questions = Dataset.from_dict(
        {
            "id": [item["id"] for item in real],
            "imageId": [item["meta"]["imageId"] for item in real],
            "question": [item["question"] for item in real],
            "answer": [item["answer"] for item in real],
            "fullAnswer": [item["meta"]["fullAnswer"] for item in real],
            "isBalanced": [item["meta"]["isBalanced"] for item in real],
            "groups": [item["meta"]["groups"] for item in real],
            "types": [
                json.dumps(item["meta"]["types"]) if types_as_json else item["meta"]["types"] for item in real
            ],
        },
        features=features,
    )
    ids = [*sorted({item["meta"]["imageId"] for item in real}), "n999999"]  # plus an unused image
    pictures = {image_id: stand_in(40 + n, 30, "olive") for n, image_id in enumerate(ids)}
    images = Dataset.from_dict(
        {"id": list(pictures), "image": [image_value(p) for p in pictures.values()]}, features=GQA_IMAGES
    )
    return questions, images, pictures


def check_gqa(samples: list[Any], real: list[dict[str, Any]], pictures: dict[str, bytes]) -> None:
    assert [s.id for s in samples] == [item["id"] for item in real]
    for sample, item in zip(samples, real, strict=True):
        assert (sample.question, sample.answer) == (item["question"], item["answer"])
        assert sample.answer_type is AnswerType.TEXT
        (ref,) = sample.images
        assert ref.data == pictures[item["meta"]["imageId"]]  # joined on imageId, still encoded
        for key in ("imageId", "fullAnswer", "types", "groups"):
            assert sample.meta[key] == item["meta"][key], (sample.id, key)


def test_gqa_images_are_joined_from_the_image_config_of_the_same_local_copy(tmp_path: Path) -> None:
    real = shared_items("gqa")
    questions, images, pictures = gqa_parts(real)
    path = hub_copy(
        tmp_path,
        {
            "testdev_balanced_instructions": ("testdev", questions),
            "testdev_balanced_images": ("testdev", images),
        },
    )
    check_gqa(load_hub_samples(get_task("gqa_testdev_balanced"), path=path), real, pictures)


def local_gqa_spec(questions_dir: str, images_dir: str) -> TaskSpec:
    spec = get_task("gqa_testdev_balanced")
    hub = spec.source.hub
    assert hub is not None and hub.images_from is not None
    join = hub.images_from.model_copy(update={"path": images_dir})
    hub = hub.model_copy(update={"path": questions_dir, "images_from": join})
    return spec.model_copy(update={"source": spec.source.model_copy(update={"hub": hub})})


def test_gqa_images_are_joined_from_a_second_dataset(tmp_path: Path) -> None:
    real = shared_items("gqa")
    questions, images, pictures = gqa_parts(real)
    q_dir = hub_copy(tmp_path / "questions", {"testdev_balanced_instructions": ("testdev", questions)})
    i_dir = hub_copy(tmp_path / "images", {"testdev_balanced_images": ("testdev", images)})
    check_gqa(load_hub_samples(local_gqa_spec(q_dir, i_dir)), real, pictures)


def test_gqa_question_whose_image_is_missing_is_an_error_naming_the_image(tmp_path: Path) -> None:
    real = shared_items("gqa")
    questions, _, _ = gqa_parts(real)
    only_other = Dataset.from_dict(
        {"id": ["n999999"], "image": [image_value(stand_in(5, 5))]}, features=GQA_IMAGES
    )
    q_dir = hub_copy(tmp_path / "questions", {"testdev_balanced_instructions": ("testdev", questions)})
    i_dir = hub_copy(tmp_path / "images", {"testdev_balanced_images": ("testdev", only_other)})
    with pytest.raises(DataError) as err:
        load_hub_samples(local_gqa_spec(q_dir, i_dir))
    assert real[0]["meta"]["imageId"] in str(err.value)


def test_annotations_stored_as_json_strings_are_decoded_into_meta(tmp_path: Path) -> None:
    real = shared_items("gqa")
    questions, images, _ = gqa_parts(real, types_as_json=True)
    assert isinstance(questions[0]["types"], str)
    q_dir = hub_copy(tmp_path / "questions", {"testdev_balanced_instructions": ("testdev", questions)})
    i_dir = hub_copy(tmp_path / "images", {"testdev_balanced_images": ("testdev", images)})
    samples = load_hub_samples(local_gqa_spec(q_dir, i_dir))
    assert [s.meta["types"] for s in samples] == [item["meta"]["types"] for item in real]


# --- errors -----------------------------------------------------------------------------------------


def test_missing_datasets_package_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` now raises ImportError
    with pytest.raises(VlmbenchError) as err:
        load_hub_samples(get_task("ai2d"))
    assert "datasets" in str(err.value) and "pip install" in str(err.value)


def test_task_without_a_hub_source_says_to_use_local_data() -> None:
    with pytest.raises(VlmbenchError) as err:
        load_hub_samples(get_task("unigeo"))
    assert "'unigeo'" in str(err.value) and "calculation_test.pk" in str(err.value)


def test_unreadable_local_copy_is_an_error_naming_the_path(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(VlmbenchError) as err:
        load_hub_samples(get_task("ai2d"), path=str(tmp_path / "empty"))
    assert str(tmp_path / "empty") in str(err.value)


# --- a row's image path stays inside the copy or the caches -------------------------------------------


def test_an_image_given_by_a_path_outside_the_dataset_fails_only_its_row(tmp_path: Path) -> None:
    """A hostile upload can store `{"bytes": None, "path": "/etc/passwd"}`: that row's sample fails
    when loaded, naming the row, and the file is never read; a path inside the local copy still works."""
    secret = tmp_path / "secret.png"
    Image.new("RGB", (5, 5), "red").save(secret)
    copy = tmp_path / "copy"
    (copy / "pics").mkdir(parents=True)
    Image.new("RGB", (9, 4), "teal").save(copy / "pics" / "inside.png")
    (copy / "pics" / "link.png").symlink_to(secret)
    paths = [
        "pics/inside.png",
        str(secret),
        "../secret.png",
        "pics/link.png",
        str(copy / "pics" / "inside.png"),
    ]
    rows = {
        "question": [f"Question {i}?" for i in range(len(paths))],
        "options": [["egg", "larva", "pupa", "adult"] for _ in paths],
        "answer": ["0" for _ in paths],
        "image": [{"bytes": None, "path": p} for p in paths],
    }
    # the {bytes, path} struct an Image(decode=False) column yields, stored as such (to_parquet would
    # embed the files of an Image column)
    features = Features({**AI2D_FEATURES, "image": {"bytes": Value("binary"), "path": Value("string")}})
    path = hub_copy(copy, {"default": ("test", Dataset.from_dict(rows, features=features))})
    samples = load_hub_samples(get_task("ai2d"), path=path)
    assert samples[0].images[0].load().size == (9, 4)
    assert samples[4].images[0].load().size == (9, 4)
    for index in (1, 2, 3):
        with pytest.raises(DataError) as err:
            samples[index].images[0].load()
        assert f"row {index}" in str(err.value) and "outside the dataset folders" in str(err.value)
        assert samples[index].images[0].path is None
