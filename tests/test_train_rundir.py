"""Run names (`train_adapters.rundir`): a run and its checkpoint are shown as `<algo>-<start>-<hash>`,
the start named by what it is (a training run by its algorithm and start, the embedded model by its
short name), never by a cache path; default-named folders carry that name and never collide."""

from __future__ import annotations

import json

from train_adapters.config import validate_recipe
from train_adapters.rundir import RECIPE_FILE, display_name, fresh_folder, start_label


def _run(folder, **recorded):
    folder.mkdir(parents=True)
    (folder / RECIPE_FILE).write_text(json.dumps(recorded))
    return folder


def test_the_start_is_named_by_what_it_is(tmp_path):
    assert start_label(str(tmp_path / "cache" / "tiny-llava-v3")) == "tiny-llava"  # not the cache path
    assert start_label("org/My Model") == "My-Model"
    assert start_label(str(tmp_path / "ckpt")) == "ckpt"
    sft = _run(tmp_path / "sft" / "sft-tiny-llava-aa7a6ced", algorithm="sft", start="tiny-llava")
    assert start_label(str(sft / "final")) == "sft-tiny-llava"
    grpo = _run(tmp_path / "grpo" / "g", algorithm="grpo", start="sft-tiny-llava")
    assert start_label(str(grpo / "final")) == "grpo-sft-tiny-llava"  # a chain reads as one


def test_a_run_from_before_display_names_is_named_from_its_recipe(tmp_path):
    old = _run(
        tmp_path / "sft" / "20261207-124300-aa7a6ced",
        algorithm="sft",
        recipe={"model": str(tmp_path / "cache" / "tiny-qwen2_vl-v3")},
    )
    assert start_label(str(old / "final")) == "sft-tiny-qwen2_vl"


def test_default_folders_are_the_display_name_and_never_collide(tmp_path):
    recipe = validate_recipe(
        {"algorithm": "grpo", "model": "org/model", "output_root": str(tmp_path)}, "test"
    )
    name = display_name(recipe)
    assert name == f"grpo-model-{recipe.config_hash()[:8]}"
    assert display_name(recipe, start="sft-tiny-llava") == f"grpo-sft-tiny-llava-{recipe.config_hash()[:8]}"
    first = fresh_folder(recipe, claim=True)
    second = fresh_folder(recipe, claim=True)
    assert (first.name, second.name) == (name, f"{name}-2")
    assert first.is_dir() and second.is_dir()
    assert fresh_folder(recipe, claim=False).name == f"{name}-3"  # a dry run creates nothing
    assert not (tmp_path / "grpo" / f"{name}-3").exists()
