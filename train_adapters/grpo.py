"""GRPO (TRL GRPOTrainer) with the task's scorer as reward, and every loss variant TRL 1.16 offers
(`grpo.loss_type`: grpo, dr_grpo, dapo, bnpo, cispo, sapo, luspo, vespo).

The reward handed to TRL is one `HybridReward` (weighted accuracy + shaping): it logs each part and the
fraction of groups whose rewards are all equal (`zero_spread_groups`), which is when GRPO learns nothing.
TRL itself suppresses the image placeholder token while sampling.

Rollouts come from `model.generate` unless `grpo.use_vllm` is on: then TRL generates them with vLLM,
in the training processes (`vllm_mode: colocate`) or from a separate `vllm serve` (`server`); the reward
is the same scorer either way. vLLM needs CUDA, so `check_rollouts` refuses the setting on a machine
without a GPU or without vLLM before any model loads; `grpo_args` builds the TRL config anywhere.
"""

from __future__ import annotations

import importlib.util
import time
from typing import Any

from train_adapters import common
from train_adapters.config import GRPOOptions, Recipe, RecipeError

VLLM_FIELDS = (
    "vllm_mode",
    "vllm_server_base_url",
    "vllm_gpu_memory_utilization",
    "vllm_tensor_parallel_size",
    "vllm_max_model_length",
    "vllm_enable_sleep_mode",
)


def vllm_args(g: GRPOOptions) -> dict[str, Any]:
    """GRPOConfig's vLLM fields from the recipe; none at all when `use_vllm` is off, so that config is
    TRL's default one."""
    if not g.use_vllm:
        return {}
    return {"use_vllm": True, **{name: getattr(g, name) for name in VLLM_FIELDS}}


def grpo_args(recipe: Recipe) -> Any:
    """The TRL GRPOConfig of `recipe` (needs TRL, not vLLM or a GPU)."""
    from trl import GRPOConfig

    g = recipe.grpo
    curriculum = recipe.data.curriculum is not None  # keep the easy-to-hard order
    return GRPOConfig(
        **common.trl_common(recipe),
        num_generations=g.num_generations,
        beta=g.beta,
        loss_type=g.loss_type,
        epsilon=g.epsilon,
        scale_rewards=g.scale_rewards,
        temperature=g.temperature,
        mask_truncated_completions=g.mask_truncated_completions,
        max_completion_length=recipe.max_completion_length,
        shuffle_dataset=not curriculum,
        **vllm_args(g),
    )


def _vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


def _cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def check_rollouts(recipe: Recipe) -> None:
    """Refuse `grpo.use_vllm: true` where TRL's vLLM path cannot run (both modes need vLLM installed
    and a CUDA device: colocate runs the engine, server mode syncs weights over NCCL)."""
    if not recipe.grpo.use_vllm:
        return
    fix = "set grpo.use_vllm=false to sample with model.generate (--dry-run shows the config anywhere)"
    if not _vllm_installed():
        raise RecipeError(f"grpo.use_vllm: true needs vLLM, which is not installed (pip install vllm); {fix}")
    if not _cuda_available():
        raise RecipeError(f"grpo.use_vllm: true needs a CUDA GPU and this machine has none; {fix}")


def train(recipe: Recipe, *, resume: bool = False) -> common.TrainResult:
    from trl import GRPOTrainer

    check_rollouts(recipe)
    started = time.perf_counter()
    s = common.setup(recipe)
    train_set = common.dataset(s)
    g = recipe.grpo
    args = grpo_args(recipe)
    reward = common.reward(s, group_size=g.num_generations)

    def spread() -> dict:  # read after training: the counter fills as rewards are computed
        return {"zero_spread_groups": {"groups": reward.counter.groups, "fraction": reward.counter.fraction}}

    return common.train_with_trl(
        GRPOTrainer,
        s,
        args,
        train_set,
        resume=resume,
        started=started,
        extra_metrics=spread,
        reward_funcs=[reward],
    )
