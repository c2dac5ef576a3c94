"""Training rewards that are the evaluation's own code: a reward for task T calls T's extractor and scorer.

Why here and not in `train_adapters`: a change to a scorer must change the eval and the reward together
(DESIGN.md, "Rewards = scorers"), so the reward lives next to the scorers and imports them; it is never
a copy. Nothing here imports torch or TRL.

Every reward function has TRL's signature `fn(completions, **columns) -> list[float]`: `completions` are
strings or conversational turns, and `columns` are the dataset's columns as lists (one value per
completion). The columns written by `train_adapters.data` carry what rebuilds the `Sample` a scorer needs:
`sample_id`, `question`, `answer`, `answer_type`, `answer_index`, `choices` and `meta_json`.

Kinds: `accuracy` (the scorer's per-sample score, full or partial credit), `format` (the answer form the
task's prompt asks for), `length` (a penalty past a token budget, dense), `step` (verified reasoning steps
from `vlmbench.metrics.reasoning`) and a weighted `hybrid`. `Curriculum` orders procedural items by
difficulty; `ZeroSpreadCounter` counts GRPO groups whose rewards are all equal (they teach nothing).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.extract import get_extractor
from vlmbench.extract.regions import SHORT_WORDS, answer_line, split_reasoning, word_count
from vlmbench.schema import Sample
from vlmbench.scoring import get_scorer
from vlmbench.taskspec import TaskSpec

RewardFn = Callable[..., list[float]]
REWARD_KINDS = ("accuracy", "format", "length", "step")
CONVENTIONS = ("official", "robust")
# The dataset columns a reward reads to rebuild a Sample (written by `sample_columns`, for every algorithm).
SAMPLE_COLUMNS = ("sample_id", "question", "answer", "answer_type", "answer_index", "choices", "meta_json")


def completion_text(completion: Any) -> str:
    """The text of a completion: a string, or conversational turns whose content is a string or parts."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, dict):
        completion = [completion]
    texts = []
    for turn in completion or []:
        content = turn.get("content", "") if isinstance(turn, dict) else turn
        if isinstance(content, str):
            texts.append(content)
        else:
            texts.extend(part.get("text", "") for part in content if part.get("type") == "text")
    return "".join(texts)


def sample_columns(sample: Sample) -> dict[str, Any]:
    """The columns that rebuild `sample` for scoring (images are not needed to score)."""
    return {
        "sample_id": sample.id,
        "question": sample.question,
        "answer": sample.answer,
        "answer_type": sample.answer_type.value,
        "answer_index": sample.answer_index,
        "choices": list(sample.choices) if sample.choices is not None else None,
        "meta_json": json.dumps(sample.meta, ensure_ascii=False, sort_keys=True),
    }


def sample_from_columns(columns: dict[str, Sequence[Any]], i: int) -> Sample:
    """Row `i` of batched reward columns as the Sample the scorer sees in evaluation."""
    missing = [c for c in ("sample_id", "answer", "answer_type") if c not in columns]
    if missing:
        raise VlmbenchError(f"reward columns lack {missing}; build the dataset with train_adapters.data")
    meta = columns.get("meta_json")
    choices = columns.get("choices")
    index = columns.get("answer_index")
    return Sample(
        id=str(columns["sample_id"][i]),
        question=str(columns["question"][i]) if "question" in columns else "",
        answer=str(columns["answer"][i]),
        answer_type=columns["answer_type"][i],
        choices=list(choices[i]) if choices is not None and choices[i] is not None else None,
        meta=json.loads(meta[i]) if meta is not None and meta[i] else {},
        answer_index=index[i] if index is not None else None,
    )


def _truncated(columns: dict[str, Any], i: int, eos_ids: frozenset[int] | None) -> bool:
    """Whether completion i hit its token limit, as evaluation's finish_reason == 'length' means."""
    flags = columns.get("truncated")
    if flags is not None:
        return bool(flags[i])
    ids = columns.get("completion_ids")
    if ids is None or eos_ids is None or not len(ids[i]):
        return False
    return int(ids[i][-1]) not in eos_ids


def accuracy_reward(
    spec: TaskSpec,
    *,
    convention: str = "official",
    partial: bool = True,
    eos_ids: Iterable[int] | None = None,
) -> RewardFn:
    """The task scorer's score of each completion: exactly the per-sample number evaluation records.

    `partial=True` keeps a scorer's fractional credit (relaxed or soft metrics); `partial=False` gives 1
    only to a fully correct answer. `eos_ids` lets the reward see truncation from `completion_ids`
    (a truncated chain is read only by its explicit answer markers, as in evaluation).
    """
    if convention not in CONVENTIONS:
        raise VlmbenchError(f"unknown score convention {convention!r}; choose one of {CONVENTIONS}")
    scorer, extractor = get_scorer(spec.scorer), get_extractor(spec.extractor)
    eos = frozenset(int(e) for e in eos_ids) if eos_ids is not None else None

    def accuracy(completions: Sequence[Any], **columns: Any) -> list[float]:
        out = []
        for i, completion in enumerate(completions):
            sample = sample_from_columns(columns, i)
            score = scorer.score(
                completion_text(completion), sample, extractor, truncated=_truncated(columns, i, eos)
            )
            value = score.official if convention == "official" else score.robust
            out.append(value if partial else float(value >= 1.0))
        return out

    accuracy.__name__ = f"accuracy_{spec.name}"
    return accuracy


def expected_format(spec: TaskSpec, style: str | None = None) -> str:
    """The answer form the task's prompt template asks for: `think_answer` (<think>..</think><answer>..),
    `answer_line` (a final "Answer: ..." line) or `short` (a single short phrase)."""
    template = spec.prompts.templates[style or spec.prompts.default]
    if "</answer>" in template or "<think>" in template:  # not `"Answer: <answer>"`, a placeholder
        return "think_answer"
    if re.search(r"answer:", template, re.IGNORECASE):
        return "answer_line"
    return "short"


_THINK_ANSWER = re.compile(r"^\s*<think>.*?</think>\s*<answer>.*?\S.*?</answer>\s*$", re.DOTALL)


def format_ok(text: str, form: str) -> bool:
    """Whether `text` has the form the prompt asked for (the extractor's own region rules decide)."""
    if form == "think_answer":
        return bool(_THINK_ANSWER.match(text))
    split = split_reasoning(text)
    if split.cut_off_in_reasoning:
        return False
    body = split.answer_part.strip()
    if form == "answer_line":
        lines = [ln for ln in body.splitlines() if ln.strip()]
        return bool(lines) and answer_line(lines[-1]) is not None
    return bool(body) and "\n" not in body and word_count(body) <= SHORT_WORDS


def format_reward(spec: TaskSpec, style: str | None = None, eos_ids: Iterable[int] | None = None) -> RewardFn:
    """1 when a completion has the answer form the task's prompt asks for and ended by itself (one cut
    off by the token limit is not well formed, whatever it says), else 0."""
    form = expected_format(spec, style)
    eos = frozenset(int(e) for e in eos_ids) if eos_ids is not None else None

    def fmt(completions: Sequence[Any], **columns: Any) -> list[float]:
        return [
            float(not _truncated(columns, i, eos) and format_ok(completion_text(c), form))
            for i, c in enumerate(completions)
        ]

    fmt.__name__ = f"format_{form}"
    return fmt


def length_reward(target: int = 0, scale: float = 32.0, unit: str = "tokens") -> RewardFn:
    """Minus the length past `target`, over `scale` (0 within budget), in `tokens` (from completion ids;
    words when none are given) or `chars`. Dense: with target 0 it separates completions of different
    lengths, which is what gives a random model's groups a spread in tests where accuracy is always 0."""
    if unit not in ("tokens", "chars"):
        raise VlmbenchError(f"unknown length unit {unit!r}; choose tokens or chars")

    def size(i: int, completion: Any, ids: Any) -> int:
        if unit == "chars":
            return len(completion_text(completion))
        return len(ids[i]) if ids is not None else len(completion_text(completion).split())

    def length(completions: Sequence[Any], **columns: Any) -> list[float]:
        ids = columns.get("completion_ids")
        return [-max(0, size(i, c, ids) - target) / scale for i, c in enumerate(completions)]

    length.__name__ = "length_penalty"
    return length


def step_reward(missing: float = 0.0) -> RewardFn:
    """The fraction of verifiable reasoning steps (arithmetic) that are correct; `missing` when a
    completion has no verifiable step. Reuses the eval's step metric, imported lazily (it may be absent)."""

    def step(completions: Sequence[Any], **columns: Any) -> list[float]:
        from vlmbench.metrics.reasoning import step_accuracy

        out = []
        for c in completions:
            check = step_accuracy(completion_text(c))
            out.append(float(check.accuracy) if check.accuracy is not None else missing)
        return out

    step.__name__ = "step_accuracy"
    return step


@dataclass
class ZeroSpreadCounter:
    """Counts groups (the completions of one prompt) whose rewards are all equal: their GRPO advantages
    are zero, so they cost compute and teach nothing. Training logs `fraction`."""

    groups: int = 0
    zero_spread: int = 0
    last_fraction: float = 0.0

    def update(self, rewards: Sequence[float], group_size: int, tol: float = 1e-9) -> float:
        """Add a batch laid out as consecutive groups; returns this batch's zero-spread fraction."""
        if group_size <= 0 or len(rewards) % group_size:
            raise VlmbenchError(f"{len(rewards)} rewards do not split into groups of {group_size}")
        batch = [rewards[k : k + group_size] for k in range(0, len(rewards), group_size)]
        flat = sum(1 for g in batch if max(g) - min(g) <= tol)
        self.groups += len(batch)
        self.zero_spread += flat
        self.last_fraction = flat / len(batch) if batch else 0.0
        return self.last_fraction

    @property
    def fraction(self) -> float:
        return self.zero_spread / self.groups if self.groups else 0.0


class HybridReward:
    """A weighted sum of reward functions, itself a reward function. When called with `group_size`
    consecutive completions per prompt, it feeds a ZeroSpreadCounter and logs per-part means through
    TRL's `log_metric` callback when one is passed."""

    def __init__(
        self,
        parts: list[tuple[str, RewardFn, float]],
        group_size: int | None = None,
        counter: ZeroSpreadCounter | None = None,
        name: str = "hybrid",
    ) -> None:
        self.parts = parts
        self.group_size = group_size
        self.counter = counter or ZeroSpreadCounter()
        self.__name__ = name

    def __call__(self, completions: Sequence[Any], **columns: Any) -> list[float]:
        total = [0.0] * len(completions)
        log = columns.get("log_metric")
        for name, fn, weight in self.parts:
            values = fn(completions, **columns)
            if log is not None and values:
                log(f"reward_parts/{name}", sum(values) / len(values))
            for i, value in enumerate(values):
                total[i] += weight * (0.0 if value is None or math.isnan(value) else value)
        if self.group_size and len(total) % self.group_size == 0 and total:
            fraction = self.counter.update(total, self.group_size)
            if log is not None:
                log("zero_spread_groups", fraction)
        return total


def build_reward_parts(
    spec: TaskSpec,
    weights: dict[str, float],
    *,
    style: str | None = None,
    convention: str = "official",
    partial: bool = True,
    length_target: int = 0,
    length_scale: float = 32.0,
    length_unit: str = "tokens",
    eos_ids: Iterable[int] | None = None,
) -> list[tuple[str, RewardFn, float]]:
    """(name, function, weight) for every reward kind with a non-zero weight."""
    unknown = sorted(set(weights) - set(REWARD_KINDS))
    if unknown:
        raise VlmbenchError(f"unknown reward kinds {unknown}; known: {list(REWARD_KINDS)}")
    makers: dict[str, Callable[[], RewardFn]] = {
        "accuracy": lambda: accuracy_reward(spec, convention=convention, partial=partial, eos_ids=eos_ids),
        "format": lambda: format_reward(spec, style, eos_ids),
        "length": lambda: length_reward(length_target, length_scale, length_unit),
        "step": lambda: step_reward(),
    }
    return [(kind, makers[kind](), float(w)) for kind, w in weights.items() if w]


@dataclass(frozen=True)
class Curriculum:
    """A schedule over procedural difficulty: `stages` are (difficulty, share of training) in order,
    e.g. ((1, 0.5), (2, 0.3), (3, 0.2)). Easy items first keep early groups from all scoring 0."""

    stages: tuple[tuple[int, float], ...]

    def __post_init__(self) -> None:
        if not self.stages:
            raise VlmbenchError("a curriculum needs at least one stage")
        for difficulty, share in self.stages:
            if difficulty not in (1, 2, 3) or share <= 0:
                raise VlmbenchError(
                    f"bad curriculum stage ({difficulty}, {share}): difficulty 1-3, share > 0"
                )

    @classmethod
    def linear(cls, start: int = 1, end: int = 3) -> Curriculum:
        """Equal shares from `start` to `end` difficulty."""
        levels = range(start, end + 1) if end >= start else range(start, end - 1, -1)
        return cls(tuple((d, 1.0) for d in levels))

    def difficulty_at(self, progress: float) -> int:
        """The difficulty at a fraction 0..1 of training."""
        total = sum(s for _, s in self.stages)
        edge = 0.0
        for difficulty, share in self.stages:
            edge += share / total
            if progress < edge:
                return difficulty
        return self.stages[-1][0]

    def plan(self, n: int) -> list[int]:
        """The difficulty of each of `n` training items, in training order."""
        return [self.difficulty_at((k + 0.5) / n) for k in range(n)]

    def samples(self, generator: str, n: int, seed: int) -> list[Sample]:
        """`n` procedural items ordered by the schedule (item k of a difficulty is always the same)."""
        from vlmbench.synth import generate

        plan = self.plan(n)
        by_level = {d: iter(generate(generator, plan.count(d), d, seed)) for d in sorted(set(plan))}
        return [next(by_level[d]) for d in plan]
