"""Supervised fine-tuning (TRL SFTTrainer): the warm start the RL recipes begin from.

Targets are the gold answers in the form the task's prompt asks for (`data.target_answer`), trained on
the exact eval prompt; the loss covers the completion only.
"""

from __future__ import annotations

import time

from train_adapters import common
from train_adapters.config import Recipe


def train(recipe: Recipe, *, resume: bool = False) -> common.TrainResult:
    from trl import SFTConfig, SFTTrainer

    started = time.perf_counter()
    s = common.setup(recipe)
    train_set = common.dataset(s, with_target=True)
    args = SFTConfig(**common.trl_common(recipe), max_length=None, completion_only_loss=True)
    return common.train_with_trl(SFTTrainer, s, args, train_set, resume=resume, started=started)
