"""GRPO (TRL GRPOTrainer) with the task's scorer as reward, and every loss variant TRL 1.16 offers
(`grpo.loss_type`: grpo, dr_grpo, dapo, bnpo, cispo, sapo, luspo, vespo).

The reward handed to TRL is one `HybridReward` (weighted accuracy + shaping): it logs each part and the
fraction of groups whose rewards are all equal (`zero_spread_groups`), which is when GRPO learns nothing.
TRL itself suppresses the image placeholder token while sampling.
"""

from __future__ import annotations

import time

from train_adapters import common
from train_adapters.config import Recipe


def train(recipe: Recipe, *, resume: bool = False) -> common.TrainResult:
    from trl import GRPOConfig, GRPOTrainer

    started = time.perf_counter()
    s = common.setup(recipe)
    train_set = common.dataset(s)
    g = recipe.grpo
    curriculum = recipe.data.curriculum is not None  # keep the easy-to-hard order
    args = GRPOConfig(
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
    )
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
