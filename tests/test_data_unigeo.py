"""UniGeo calculation problems from the official pickle (`vlmbench.data.unigeo.load_unigeo_pickle`).

`shared/data` has no UniGeo items, so these records are test problems written in the official
calculation schema - the fields chen-judge/UniGeo's Geoformer reads in `Geoformer/src/geo_data.py`:
`English_problem`, `choice_nums` (four numbers), `label` (index of the right one), `id`, and `image`
(a 2-D grayscale uint8 array; the loader there stacks it into three channels), plus `numbers` and
`manual_program`, which vlmbench does not use.
"""

from __future__ import annotations

import pickle
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from vlmbench.data import load_samples
from vlmbench.data.unigeo import load_unigeo_pickle
from vlmbench.errors import DataError
from vlmbench.registry import get_task
from vlmbench.schema import AnswerType


def record(ident: int, **overrides: Any) -> dict[str, Any]:
    """A test problem in the official calculation schema (not a real UniGeo item)."""
    image = np.zeros((24, 32), dtype=np.uint8)
    image[4:20, 6:26] = 255  # a white square on black: a stand-in diagram
    base: dict[str, Any] = {
        "id": ident,
        "English_problem": "As shown in the figure, AB is parallel to CD, angle 1 = 50.0, then angle 2 = ()",
        "choice_nums": [30.0, 12.5, 50.0, 130.0],
        "label": 2,
        "image": image,
        "numbers": [50.0],
        "manual_program": ["g_minus", "C_3", "N_0"],
    }
    base.update(overrides)
    return base


def write_pickle(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_bytes(pickle.dumps(records))
    return path


def test_records_become_multiple_choice_samples_with_numbers_as_options(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(7), record(8, label=1)])
    first, second = load_unigeo_pickle(path)
    assert (first.id, second.id) == ("7", "8")
    assert first.question == record(7)["English_problem"]
    assert first.choices == ["30", "12.5", "50", "130"]  # integral floats without ".0"
    assert first.answer_type is AnswerType.MULTIPLE_CHOICE
    assert (first.answer, first.answer_index, first.answer_letter) == ("50", 2, "C")
    assert (second.answer, second.answer_index) == ("12.5", 1)
    assert first.meta["answer_index"] == 2


def test_the_diagram_loads_lazily_as_an_rgb_image(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1)])
    (sample,) = load_unigeo_pickle(path)
    (ref,) = sample.images
    assert ref.path is None and ref.data is None and ref.loader is not None  # nothing decoded yet
    image = ref.load()
    assert (image.mode, image.size) == ("RGB", (32, 24))
    assert image.getpixel((0, 0)) == (0, 0, 0) and image.getpixel((16, 12)) == (255, 255, 255)


def test_a_record_without_an_image_has_none(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1, image=None)])
    assert load_unigeo_pickle(path)[0].images == []


def test_label_outside_the_choices_is_an_error_naming_the_record(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1), record(2, label=4)])
    with pytest.raises(DataError) as err:
        load_unigeo_pickle(path)
    assert str(path) in str(err.value) and "record 1" in str(err.value) and "label 4" in str(err.value)


@pytest.mark.parametrize(
    "bad",
    [{"label": None}, {"label": "C"}, {"choice_nums": [30.0, "twelve", 50.0, 130.0]}, {"choice_nums": None}],
)
def test_a_label_or_option_that_is_not_a_number_is_an_error_naming_the_record(
    tmp_path: Path, bad: dict[str, Any]
) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1), record(2, **bad)])
    with pytest.raises(DataError) as err:
        load_unigeo_pickle(path)
    assert "record 1" in str(err.value) and ("label" in str(err.value) or "choice_nums" in str(err.value))


def test_a_record_that_is_not_a_dict_is_an_error_naming_it(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1), "English_problem choice_nums label"])  # type: ignore[list-item]
    with pytest.raises(DataError) as err:
        load_unigeo_pickle(path)
    assert "record 1" in str(err.value) and "dict" in str(err.value)


@pytest.mark.parametrize("field", ["English_problem", "choice_nums", "label"])
def test_missing_field_is_an_error_naming_the_record_and_field(tmp_path: Path, field: str) -> None:
    broken = record(2)
    del broken[field]
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1), broken])
    with pytest.raises(DataError) as err:
        load_unigeo_pickle(path)
    assert "record 1" in str(err.value) and repr(field) in str(err.value)


def test_duplicate_ids_are_an_error(tmp_path: Path) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(3), record(3)])
    with pytest.raises(DataError, match="duplicate id '3'"):
        load_unigeo_pickle(path)


def test_a_file_that_is_not_a_pickle_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "calculation_test.pk"
    path.write_text("not a pickle")
    with pytest.raises(DataError) as err:
        load_unigeo_pickle(path)
    assert str(path) in str(err.value)


def test_load_samples_finds_the_official_release_file_in_the_data_folder(tmp_path: Path) -> None:
    write_pickle(tmp_path / "calculation_test.pk", [record(1), record(2, label=0)])
    samples = load_samples(get_task("unigeo"), tmp_path)
    assert [(s.id, s.answer) for s in samples] == [("1", "50"), ("2", "30")]
    (nested := tmp_path / "data" / "unigeo").mkdir(parents=True)
    write_pickle(nested / "calculation_test.pk", [record(5)])
    assert [s.id for s in load_samples(get_task("unigeo"), tmp_path / "data")] == ["5"]


# --- a pickle is a program: only the release's own types are admitted ------------------------------


class TouchOnLoad:
    """Unpickling this calls `pathlib.Path.touch(marker)`: the shape of a crafted data file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (Path.touch, (self.marker,))


class ShellOnLoad:
    """Unpickling this runs a shell command that would create `marker`."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        import os

        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize(("payload", "refused"), [(TouchOnLoad, "Path.touch"), (ShellOnLoad, "system")])
def test_a_pickle_that_would_run_code_is_refused_and_nothing_runs(
    tmp_path: Path, payload: type, refused: str
) -> None:
    marker = tmp_path / "pwned"
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1, English_problem=payload(marker))])
    with pytest.raises(DataError) as err:
        load_samples(get_task("unigeo"), tmp_path)  # the path `vlmbench score --task unigeo` takes
    assert not marker.exists()
    message = str(err.value)
    assert str(path) in message and "refused to unpickle global" in message and refused in message


def test_a_global_smuggled_inside_an_array_is_refused(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    image = np.array([TouchOnLoad(marker)], dtype=object)  # object arrays pickle their elements
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1, image=image)])
    with pytest.raises(DataError, match="refused to unpickle global"):
        load_unigeo_pickle(path)
    assert not marker.exists()


@pytest.mark.parametrize("protocol", range(pickle.HIGHEST_PROTOCOL + 1))
def test_release_shaped_pickles_of_every_protocol_load(tmp_path: Path, protocol: int) -> None:
    """Numbers as numpy scalars, the diagram as an array, a set: what numpy 2 writes, any protocol."""
    rich = record(4, choice_nums=[np.float64(30), 12.5, np.float32(50), 130], label=np.int64(2))
    rich["numbers"] = {50.0}
    path = tmp_path / "calculation_test.pk"
    path.write_bytes(pickle.dumps([rich], protocol=protocol))
    (sample,) = load_unigeo_pickle(path)
    assert (sample.answer, sample.choices) == ("50", ["30", "12.5", "50", "130"])
    assert sample.images[0].load().size == (32, 24)


@pytest.mark.parametrize("protocol", [0, 1, 2, 3])
def test_pickles_written_by_numpy_1_load(tmp_path: Path, protocol: int) -> None:
    """The release predates numpy 2: its arrays name `numpy.core.multiarray` (a text GLOBAL below
    protocol 4, so renaming the module in the bytes gives exactly what numpy 1 wrote)."""
    data = pickle.dumps([record(9)], protocol=protocol).replace(b"numpy._core", b"numpy.core")
    assert b"numpy.core.multiarray" in data
    path = tmp_path / "calculation_test.pk"
    path.write_bytes(data)
    (sample,) = load_unigeo_pickle(path)
    assert sample.images[0].load().getpixel((16, 12)) == (255, 255, 255)


def test_a_pickle_that_is_not_a_list_of_problems_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "calculation_test.pk"
    path.write_bytes(pickle.dumps(7))
    with pytest.raises(DataError, match="expected a list of problems"):
        load_unigeo_pickle(path)


def test_a_diagram_over_the_pixel_cap_fails_its_sample_only(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_pickle(tmp_path / "calculation_test.pk", [record(1)])
    (sample,) = load_unigeo_pickle(path)
    monkeypatch.setenv("VLMBENCH_MAX_IMAGE_PIXELS", "100")
    with pytest.raises(DataError) as err:
        sample.images[0].load()
    assert "record 0" in str(err.value) and "32x24" in str(err.value)
