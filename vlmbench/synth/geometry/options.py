"""Four answer options: the answer, typical mistakes, then nearby values, in a fair random order."""

from __future__ import annotations

import math
import random

from vlmbench.synth.geometry.problem import Problem


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def answer_options(rng: random.Random, problem: Problem, unit: str, difficulty: int) -> tuple[list[str], int]:
    """The answer and three wrong options: up to `difficulty` typical mistakes, then nearby values.

    The answer's rank among the four values is drawn uniformly first (how many wrong options lie
    below it), so "pick the middle value" or "pick the largest" does no better than chance.
    """
    d = problem.decimals
    exact = problem.answer
    answer = _fmt(exact, d)
    value = float(answer)
    taken = {answer}
    wrong: list[str] = []
    gap = 2.0 if unit == "degrees" else (1.0 if d == 0 else 0.5)  # options never near-equal
    below = rng.randint(0, 3)  # wrong options smaller than the answer

    def usable(candidate: float, quota: bool = True) -> str | None:
        if not math.isfinite(candidate) or candidate <= 0:
            return None
        if unit == "degrees" and candidate >= 180:
            return None
        if d == 0 and not float(candidate).is_integer():
            return None
        text = _fmt(candidate, d)
        number = float(text)
        if number <= 0 or any(abs(number - float(t)) < gap for t in taken):
            return None
        n_below = sum(float(t) < value for t in wrong)
        if quota and (n_below >= below if number < value else len(wrong) - n_below >= 3 - below):
            return None
        return text

    mistakes = list(problem.mistakes)
    rng.shuffle(mistakes)
    for candidate in mistakes:
        if len(wrong) >= difficulty:
            break
        text = usable(candidate)
        if text is not None:
            taken.add(text)
            wrong.append(text)
    tries = 0
    while len(wrong) < 3:
        tries += 1
        widen = 1 + tries // 20  # a small answer leaves few nearby values: look farther
        if unit == "degrees":
            delta = float(rng.randint(4, 30 * widen))
        elif d == 0:
            delta = float(rng.randint(1, max(3, round(exact * 0.4)) * widen))
        else:
            delta = rng.randint(5, max(8, round(exact * 3)) * widen) / 10
        n_below = sum(float(t) < value for t in wrong)
        strict = tries < 100  # no room for the drawn rank (a small answer): any side will do
        direction = (-1 if n_below < below else 1) if strict else rng.choice((-1, 1))
        text = usable(exact + direction * delta, quota=strict)
        if text is not None:
            taken.add(text)
            wrong.append(text)
    options = [answer, *wrong]
    rng.shuffle(options)
    return options, options.index(answer)
