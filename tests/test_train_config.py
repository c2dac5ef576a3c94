"""Bad recipes fail before any training starts, with the file and the key named."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from train_adapters.config import (
    ALGORITHMS,
    RecipeError,
    apply_overrides,
    baselines_dir,
    check_ready,
    load_recipe,
    validate_recipe,
)


def _write(path: Path, data: dict) -> Path:
    path.write_text(yaml.safe_dump(data))
    return path


@pytest.mark.parametrize("algo", ALGORITHMS)
def test_shipped_recipes_validate(algo):
    recipe = load_recipe(algo)
    assert recipe.algorithm == algo
    resolved = recipe.resolved()
    assert set(resolved) & {"grpo", "dpo", "ppo"} <= {algo}


def test_rl_recipes_learn_slower_than_sft():
    """RL starts from the SFT checkpoint and must not undo it: its rate is well below SFT's. The shipped
    recipes are the tiny model's (the demo's sweep kept PPO at a third of SFT's rate, GRPO at a tenth,
    DPO at a hundredth; docs/training.md)."""
    sft = load_recipe("sft").learning_rate
    for algo in ("grpo", "dpo", "ppo"):
        ratio = sft / load_recipe(algo).learning_rate
        assert 3 <= ratio <= 100, algo


def test_the_shipped_recipes_train_the_embedded_model_on_what_they_evaluate():
    from train_adapters.config import default_tiny_model

    recipe = load_recipe("sft")
    assert recipe.model == str(default_tiny_model())  # `model: tiny`: no --model needed
    assert recipe.data.task == "synth_shapes" and recipe.data.difficulty == recipe.eval.difficulty == 2
    for algo in ("grpo", "dpo", "ppo"):  # the RL recipes evaluate on the same items as SFT
        rl = load_recipe(algo)
        assert (rl.data.task, rl.eval.difficulty, rl.eval.n) == (recipe.data.task, 2, recipe.eval.n)


def test_unknown_key_names_file_and_key(tmp_path):
    path = _write(tmp_path / "r.yaml", {"algorithm": "grpo", "model": "a/b", "grpo": {"betta": 0.1}})
    with pytest.raises(RecipeError, match=r"r\.yaml: grpo\.betta: unknown key"):
        load_recipe("grpo", path)


def test_a_recipe_that_is_not_utf8_names_file_and_line(tmp_path):
    path = tmp_path / "r.yaml"
    path.write_bytes(b"algorithm: grpo\nmodel: a/b\nname: r\xe9sum\xe9\n")
    with pytest.raises(RecipeError, match=r"r\.yaml:3: not valid UTF-8 \(byte 0xe9 at column 8\)"):
        load_recipe("grpo", path)


def test_wrong_type_names_file_and_key(tmp_path):
    path = _write(tmp_path / "r.yaml", {"algorithm": "sft", "model": "a/b", "max_steps": "ten"})
    with pytest.raises(RecipeError, match=r"r\.yaml: max_steps: .*integer"):
        load_recipe("sft", path)


def test_overrides_apply_and_are_validated(tmp_path):
    recipe = load_recipe("grpo", overrides=["grpo.beta=0.02", "learning_rate=3e-6", "data.task=synth_chart"])
    assert (recipe.grpo.beta, recipe.learning_rate, recipe.data.task) == (0.02, 3e-6, "synth_chart")
    with pytest.raises(RecipeError, match=r"grpo.loss_type"):
        load_recipe("grpo", overrides=["grpo.loss_type=nope"])
    with pytest.raises(RecipeError, match=r"expected key=value"):
        apply_overrides({}, ["beta"])


def test_algorithm_mismatch_and_unknown_algorithm():
    with pytest.raises(RecipeError, match=r"not 'dpo'"):
        load_recipe("dpo", baselines_dir() / "grpo.yaml")
    with pytest.raises(RecipeError, match=r"unknown algorithm"):
        load_recipe("rlhf")


def test_grpo_batch_must_hold_whole_groups():
    with pytest.raises(RecipeError, match=r"multiple of grpo.num_generations"):
        validate_recipe({"algorithm": "grpo", "model": "a/b", "batch_size": 6}, "x.yaml")


def test_config_hash_ignores_where_and_tracks_what():
    base = {"algorithm": "ppo", "model": "a/b"}
    one = validate_recipe({**base, "output_dir": "x"}, "s").config_hash()
    assert one == validate_recipe({**base, "output_dir": "y"}, "s").config_hash()
    assert one == validate_recipe({**base, "output_root": "z", "name": "n"}, "s").config_hash()
    assert one != validate_recipe({**base, "ppo": {"vf_coef": 0.5}}, "s").config_hash()


def test_run_folder_is_output_dir_or_root_algorithm_name(tmp_path):
    base = {"algorithm": "dpo", "model": "a/b", "output_root": str(tmp_path)}
    assert validate_recipe({**base, "name": "n"}, "s").run_dir == tmp_path / "dpo" / "n"
    assert validate_recipe({**base, "name": "n", "output_dir": "x"}, "s").run_dir == Path("x")
    with pytest.raises(RecipeError, match=r"no run folder chosen"):
        _ = validate_recipe(base, "s").run_dir  # train-baseline names it (train_adapters.rundir)


def test_start_model_under_latest_is_pinned_to_its_run(tmp_path):
    """The RL recipes start from train-runs/sft/latest/final; the recipe names the run it points to."""
    (tmp_path / "sft" / "20260101-000000-abcdef12" / "final").mkdir(parents=True)
    (tmp_path / "sft" / "latest").symlink_to("20260101-000000-abcdef12")
    recipe = load_recipe("grpo", model=str(tmp_path / "sft" / "latest" / "final"))
    assert recipe.model == str(tmp_path / "sft" / "20260101-000000-abcdef12" / "final")
    assert load_recipe("grpo", model="org/model").model == "org/model"


def test_unwritable_output_dir_fails_before_training(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    recipe = validate_recipe({"algorithm": "sft", "model": "a/b", "output_dir": str(blocker / "out")}, "s")
    with pytest.raises(RecipeError, match=r"output_dir .*not writable"):
        check_ready(recipe)


def test_task_without_scorer_fails_before_training(tmp_path, monkeypatch):
    task = yaml.safe_load((Path(__file__).parent.parent / "tasks" / "synth_scene.yaml").read_text())
    task["name"] = "unscored"
    del task["scorer"]
    (tmp_path / "unscored.yaml").write_text(yaml.safe_dump(task))
    monkeypatch.setenv("VLMBENCH_TASKS_PATH", str(tmp_path))
    recipe = validate_recipe({"algorithm": "grpo", "model": "a/b", "data": {"task": "unscored"}}, "s")
    with pytest.raises(RecipeError, match=r"unscored.*cannot be trained on.*scorer"):
        check_ready(recipe, create_output=False)


def test_missing_model_and_prompt_fail_before_training(tmp_path):
    recipe = validate_recipe({"algorithm": "sft", "model": str(tmp_path / "none")}, "s")
    with pytest.raises(RecipeError, match=r"model: .*neither a checkpoint"):
        check_ready(recipe, create_output=False)
    recipe = validate_recipe({"algorithm": "sft", "model": "a/b", "data": {"prompt": "socratic"}}, "s")
    with pytest.raises(RecipeError, match=r"no prompt 'socratic'"):
        check_ready(recipe, create_output=False)


def test_train_baseline_refuses_bad_recipe_without_training(tmp_path, monkeypatch):
    from train_adapters import cli

    def boom(*args, **kwargs):
        raise AssertionError("training must not start")

    for algo in ALGORITHMS:
        pytest.importorskip("torch")
        monkeypatch.setattr(f"train_adapters.{algo}.train", boom)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(RecipeError, match=r"not writable"):
        cli.train_baseline("sft", model="a/b", output_dir=blocker / "out")


def test_training_on_the_eval_items_is_refused():
    recipe = validate_recipe({"algorithm": "sft", "model": "a/b", "data": {"train_seed": 0}}, "s")
    with pytest.raises(RecipeError, match=r"data.train_seed: 0 is also the evaluation seed"):
        check_ready(recipe, create_output=False)
    ok = validate_recipe(
        {"algorithm": "sft", "model": "a/b", "data": {"train_seed": 0}, "eval": {"seed": 5}}, "s"
    )
    check_ready(ok, create_output=False)


def test_training_curves_go_to_tensorboard_unless_the_recipe_says_otherwise():
    base = {"algorithm": "sft", "model": "org/model"}
    assert validate_recipe(base, "r.yaml").report_to == ["tensorboard"]
    assert validate_recipe({**base, "report_to": "none"}, "r.yaml").report_to == ["none"]
    assert validate_recipe({**base, "report_to": ["tensorboard", "wandb"]}, "r.yaml").report_to[1] == "wandb"
    for bad, why in (("tensorbord", "'tensorbord' is not one of"), (["none", "wandb"], "cannot be combined")):
        with pytest.raises(RecipeError) as err:
            validate_recipe({**base, "report_to": bad}, "r.yaml")
        assert "r.yaml: report_to" in str(err.value) and why in str(err.value)
    # where curves are reported, and how a missing start would be built, do not decide the weights
    hashes = {
        validate_recipe({**base, **extra}, "r.yaml").config_hash()
        for extra in ({}, {"report_to": "none"}, {"start_overrides": ["max_steps=2"]})
    }
    assert len(hashes) == 1


def test_missing_tensorboard_falls_back_to_none_and_says_so_once(monkeypatch, capsys):
    from train_adapters import common

    recipe = validate_recipe({"algorithm": "sft", "model": "org/model"}, "r.yaml")
    monkeypatch.setattr(common, "tensorboard_available", lambda: False)
    monkeypatch.setattr(common, "_said", set())
    assert common.reporters(recipe) == ["none"]
    assert common.reporters(recipe) == ["none"]
    assert capsys.readouterr().err.count("tensorboard is not installed") == 1
    monkeypatch.setattr(common, "tensorboard_available", lambda: True)
    assert common.reporters(recipe) == ["tensorboard"]
    recipe.report_to = ["none"]
    assert common.reporters(recipe) == ["none"]


def test_a_reporter_that_is_not_installed_is_a_clear_error(monkeypatch):
    import importlib.util

    from train_adapters import common

    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "wandb" else real(name, *a)
    )
    recipe = validate_recipe({"algorithm": "grpo", "model": "org/model", "report_to": ["wandb"]}, "r.yaml")
    with pytest.raises(RecipeError, match="report_to: 'wandb' is not installed"):
        common.reporters(recipe)
