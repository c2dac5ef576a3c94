"""`vlmbench.names`: one slug rule for run folders, one rule for the embedded model's short name."""

from __future__ import annotations

from vlmbench.names import embedded_label, safe_name


def test_a_safe_name_is_a_short_plain_folder_name():
    assert safe_name("org/Model 7B: v2") == "org-Model-7B-v2"
    assert safe_name("../..") == "model"  # never hidden, never a path
    assert safe_name(".hidden") == "hidden"
    assert len(safe_name("x" * 100)) == 40
    assert safe_name("a" * 39 + "-b") == "a" * 39  # cut at 40, then no trailing separator


def test_the_embedded_models_cache_folder_reads_as_its_short_name():
    assert embedded_label("tiny-llava-v3") == "tiny-llava"
    assert embedded_label("tiny-llava") is None  # no builder version: a folder of the user's own
    assert embedded_label("my-tiny-llava-v3") is None
