"""Dataset fingerprints change with any id, question, option, gold answer or image byte - and only then."""

from __future__ import annotations

from dataclasses import replace

import pytest

from vlmbench.data.fingerprint import dataset_fingerprint
from vlmbench.schema import AnswerType, ImageRef, Sample


def _samples() -> list[Sample]:
    return [
        Sample("a", "How many?", "3", AnswerType.INTEGER, [ImageRef(data=b"png-1")]),
        Sample("b", "Which?", "cat", AnswerType.MULTIPLE_CHOICE, [ImageRef(data=b"png-2")], ["dog", "cat"]),
    ]


def test_golden_fingerprint_is_pinned():
    """Changing the fingerprint algorithm must be deliberate: bump FINGERPRINT_VERSION and this value."""
    assert (
        dataset_fingerprint(_samples()) == "86cd49908bcea1559504be0d4aa23524999adc2020adb998188348f02d7ac957"
    )


@pytest.mark.parametrize(
    "change",
    [
        {"id": "z"},
        {"question": "How many dots?"},
        {"answer": "4"},
        {"images": [ImageRef(data=b"png-x")]},
        {"answer_type": AnswerType.FLOAT},
    ],
)
def test_any_scored_field_changes_the_fingerprint(change):
    samples = _samples()
    changed = [replace(samples[0], **change), samples[1]]
    assert dataset_fingerprint(changed) != dataset_fingerprint(samples)


def test_options_and_order_change_the_fingerprint():
    samples = _samples()
    assert dataset_fingerprint(
        [samples[0], replace(samples[1], choices=["cat", "dog"])]
    ) != dataset_fingerprint(samples)
    assert dataset_fingerprint(samples[::-1]) != dataset_fingerprint(samples)


def test_meta_does_not_change_the_fingerprint():
    samples = _samples()
    assert dataset_fingerprint([replace(samples[0], meta={"note": "x"}), samples[1]]) == dataset_fingerprint(
        samples
    )


def test_image_files_are_hashed_by_content(tmp_path):
    one, two = tmp_path / "1.png", tmp_path / "2.png"
    one.write_bytes(b"png-1")
    two.write_bytes(b"png-1")
    on_disk = [replace(_samples()[0], images=[ImageRef(path=str(one))])]
    copy = [replace(_samples()[0], images=[ImageRef(path=str(two))])]
    in_memory = [_samples()[0]]
    assert dataset_fingerprint(on_disk) == dataset_fingerprint(copy) == dataset_fingerprint(in_memory)
    two.write_bytes(b"png-2")
    assert dataset_fingerprint(copy) != dataset_fingerprint(on_disk)
    assert dataset_fingerprint(copy, images=False) == dataset_fingerprint(on_disk, images=False)
