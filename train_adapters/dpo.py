"""DPO (TRL DPOTrainer) on on-policy pairs that vlmbench builds itself (`preferences.make_preferences`):
k sampled answers per prompt from the start model, ranked by the task's scorer (+ shaping), best vs worst.

No human preference data is needed, and the pairs encode exactly the eval's rule. Pairs may also come from
a file written by `vlmbench make-preferences` (`dpo.preferences`).
"""

from __future__ import annotations

import time

from train_adapters import common, preferences
from train_adapters.config import Recipe
from train_adapters.data import build_rows, to_dataset


def train(recipe: Recipe, *, resume: bool = False) -> common.TrainResult:
    from trl import DPOConfig, DPOTrainer

    started = time.perf_counter()
    s = common.setup(recipe)
    d = recipe.dpo
    rows = build_rows(s.spec, s.train_samples, s.style, processor=s.processor, report=s.report)
    if d.preferences is not None:
        pairs = preferences.read_pairs(d.preferences)
        stats: dict = {"source": str(d.preferences), "pairs": len(pairs)}
    else:
        usable = {r["sample_id"] for r in rows}
        pairs, pstats = preferences.make_preferences(
            s.model,
            s.processor,
            s.spec,
            [x for x in s.train_samples if x.id in usable],
            s.style,
            reward=common.reward(s),
            k=d.k,
            temperature=d.temperature,
            max_new_tokens=recipe.max_completion_length,
            seed=recipe.seed,
            pairs_per_prompt=d.pairs_per_prompt,
        )
        stats = pstats.to_dict()
        preferences.write_pairs(pairs, recipe.run_dir / "preferences.jsonl")
    train_set = to_dataset(preferences.pair_rows(pairs, {r["sample_id"]: r for r in rows}))
    args = DPOConfig(**common.trl_common(recipe), beta=d.beta, loss_type=[d.loss_type], max_length=None)
    return common.train_with_trl(
        DPOTrainer,
        s,
        args,
        train_set,
        resume=resume,
        started=started,
        extra_metrics=lambda: {"preferences": stats},
    )
