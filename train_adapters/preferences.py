"""On-policy preference pairs without human labels: sample k answers per prompt from the current model,
score each with the task's reward (its eval scorer, plus the recipe's shaping terms), and pair a better
answer with a worse one.

Why the scorer: a pair then says exactly what evaluation rewards (correct over incorrect), so DPO
optimises the benchmark's own rule. A pair is kept only when the chosen answer is strictly better and
never less accurate than the rejected one; prompts whose k answers all score the same give no pair and
are counted (`zero_spread`), like GRPO's flat groups.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench.models.base import GenerationParams
from vlmbench.prompts import build_request
from vlmbench.rewards import HybridReward, accuracy_reward, sample_columns
from vlmbench.schema import Sample
from vlmbench.taskspec import TaskSpec


@dataclass
class PreferenceStats:
    prompts: int = 0
    pairs: int = 0
    zero_spread: int = 0
    failed: int = 0
    mean_accuracy: float = 0.0
    skipped: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if k != "skipped"} | {"skipped": len(self.skipped)}


def _turn(text: str) -> list[dict[str, Any]]:
    return [{"role": "assistant", "content": [{"type": "text", "text": text}]}]


def make_preferences(
    model: Any,
    processor: Any,
    spec: TaskSpec,
    samples: Sequence[Sample],
    style: str,
    *,
    reward: HybridReward | None = None,
    k: int = 4,
    temperature: float = 1.0,
    max_new_tokens: int = 16,
    seed: int = 0,
    pairs_per_prompt: int = 1,
) -> tuple[list[dict[str, Any]], PreferenceStats]:
    """Pairs `{sample_id, chosen, rejected, chosen_reward, rejected_reward, ...}` (texts, not turns)."""
    from train_adapters.common import generate

    accuracy = accuracy_reward(spec)
    reward = reward or HybridReward([("accuracy", accuracy, 1.0)])
    was_training = model.training
    model.eval()
    stats = PreferenceStats()
    pairs: list[dict[str, Any]] = []
    acc_total = 0.0
    for start in range(0, len(samples), 8):
        batch = list(samples[start : start + 8])
        texts: list[list[str]] = [[] for _ in batch]
        truncated: list[list[bool]] = [[] for _ in batch]
        for j in range(k):
            params = GenerationParams(
                max_new_tokens=max_new_tokens, temperature=temperature, seed=seed + 1000 * start + j
            )
            requests = [build_request(spec, smp, style, params) for smp in batch]
            try:
                responses = generate(model, processor, requests, params)
            except Exception as err:  # skip the batch's prompts, count them, go on
                for smp in batch:
                    stats.skipped[smp.id] = f"{type(err).__name__}: {err}"
                break
            for i, response in enumerate(responses):
                texts[i].append(response.text)
                truncated[i].append(response.truncated)
        for i, smp in enumerate(batch):
            if len(texts[i]) < k:
                stats.failed += 1
                continue
            stats.prompts += 1
            columns = {key: [value] * k for key, value in sample_columns(smp).items()}
            columns["truncated"] = truncated[i]
            cand = texts[i]
            acc = accuracy(cand, **columns)
            total = reward(cand, **columns)
            acc_total += sum(acc) / k
            order = sorted(range(k), key=lambda j: total[j], reverse=True)
            found = 0
            for hi in order:
                for lo in reversed(order):
                    if found >= pairs_per_prompt:
                        break
                    if total[hi] > total[lo] and acc[hi] >= acc[lo] and cand[hi] != cand[lo]:
                        pairs.append(
                            {
                                "sample_id": smp.id,
                                "chosen": cand[hi],
                                "rejected": cand[lo],
                                "chosen_reward": total[hi],
                                "rejected_reward": total[lo],
                                "chosen_accuracy": acc[hi],
                                "rejected_accuracy": acc[lo],
                            }
                        )
                        found += 1
                        order = [j for j in order if j not in (hi, lo)]
                        break
                if found >= pairs_per_prompt:
                    break
            stats.zero_spread += found == 0
    stats.pairs = len(pairs)
    stats.mean_accuracy = acc_total / stats.prompts if stats.prompts else 0.0
    if was_training:
        model.train()
    return pairs, stats


def pair_rows(pairs: Sequence[dict[str, Any]], rows_by_id: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """DPO rows: the prompt row of each pair's sample plus `chosen` / `rejected` assistant turns."""
    out = []
    for pair in pairs:
        row = rows_by_id.get(pair["sample_id"])
        if row is not None:
            out.append({**row, "chosen": _turn(pair["chosen"]), "rejected": _turn(pair["rejected"])})
    return out


def write_pairs(pairs: Sequence[dict[str, Any]], path: Path) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as handle:
        for pair in pairs:
            handle.write(json.dumps(pair, ensure_ascii=False) + "\n")
    return path


def read_pairs(path: Path) -> list[dict[str, Any]]:
    from vlmbench.errors import DataError, located, read_utf8

    pairs = []
    for number, line in enumerate(read_utf8(Path(path)).splitlines(), start=1):
        if not line.strip():
            continue
        try:
            pair = json.loads(line)
        except json.JSONDecodeError as err:
            raise DataError(located(path, number, f"malformed pair ({err.msg})")) from None
        if not all(isinstance(pair.get(key), str) for key in ("sample_id", "chosen", "rejected")):
            raise DataError(located(path, number, "a pair needs string sample_id, chosen and rejected"))
        pairs.append(pair)
    return pairs
