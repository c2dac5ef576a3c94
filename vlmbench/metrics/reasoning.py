"""Step quality of a reasoning chain, from the raw output alone (no model, no image).

METRICS_VERSION names the rules below; a change to any of them (segmentation, lexicon, claim
finding, tolerances) bumps it, so two runs' step metrics are comparable only under one version.

**The chain** is the reasoning part of an output: the inside of `<think>...</think>` when present;
else the text before the first `<answer>` tag; else the text before the last answer line ("Answer:",
"Final answer", "The answer is", a line holding `\\boxed{}`); else, as the extractors read a
markerless answer, a short output (at most 12 words on one line) is all answer and no chain, and a
short last line after other lines is the answer; else the whole output is the chain.

**Step segmentation** (`segment_steps`), first rule that applies:
1. `Step k` markers (at a line start, any case, optionally bold or after `#`): each marker starts a
   step running to the next marker; text before the first marker is one more step when non-empty;
2. numbered or bulleted lines (`1.`, `2)`, `(3)`, `-`, `*`, `•`) when at least two lines carry one:
   each marked line starts a step, unmarked lines continue the step above (a preamble is a step);
3. otherwise sentences: split after `.`, `!` or `?` followed by a space and an upper-case letter, a
   digit or an opening bracket, and at every line break. Decimals (`3.5`) never split; an
   abbreviation followed by a capital ("e.g. The") does - a known over-count.

**Backtracking** counts phrases of `BACKTRACK_LEXICON` (version `LEXICON_VERSION`) in the chain, case
insensitive, on word boundaries. "actually" is in the lexicon and is sometimes not a correction.

**Step accuracy**: arithmetic claims re-checked with sympy (see `vlmbench.metrics.arith` for what is
and is not seen). A chain with no checkable claim has accuracy None - unverifiable, never 0.

**Answer-chain consistency**: the extracted answer against the last value the chain derived (the
last side of its last equality). None when the chain derives no value or the answer is not a number
(a multiple-choice letter is read as its option's text).

**Information use**: the share of the question's distinct numbers, and of the options' texts, that
the chain mentions (numbers compared by value). It cannot see entities, nor numbers only in the image.

**Format compliance**: reasoning / answer tags, when used, are closed and not empty; when the prompt
asks for an "Answer:" line, an explicit answer (answer line, `<answer>` tag or `\\boxed{}`) is present.
"""

from __future__ import annotations

import itertools
import math
import re
from dataclasses import dataclass, field
from typing import Any

from vlmbench.extract.numbers import parse_numbers
from vlmbench.extract.regions import SHORT_WORDS, THINK_TAGS, last_boxed, split_reasoning
from vlmbench.metrics.arith import (
    Claim,
    Equality,
    assignments,
    check_equality,
    find_equalities,
    last_value,
)

METRICS_VERSION = "1"
LEXICON_VERSION = "1"
BACKTRACK_LEXICON: tuple[str, ...] = (
    "wait",
    "hmm",
    "actually",
    "let me re-check",
    "let me recheck",
    "let me check again",
    "let me double-check",
    "let me double check",
    "let me verify",
    "let me reconsider",
    "let me re-evaluate",
    "let me rethink",
    "let me recalculate",
    "let me redo",
    "let me try again",
    "on second thought",
    "i made a mistake",
    "i made an error",
    "that's not right",
    "that is not right",
    "that's wrong",
    "that is wrong",
    "that doesn't seem right",
    "oops",
    "correction",
    "i was wrong",
    "scratch that",
)
_STEP_MARK = re.compile(r"^[ \t]*(?:#+[ \t]*)?(?:\*\*|__)?step[ \t]*\d+\b", re.IGNORECASE | re.MULTILINE)
_LIST_MARK = re.compile(r"^[ \t]*(?:\d+[.)]|\(\d+\)|[-*•])[ \t]+\S")
_SENTENCE = re.compile(r"(?<=[.!?])[ \t]+(?=[A-Z0-9(\[])|\n+")
_ANSWER_LINE = re.compile(
    r"^[ \t>*#_]*(?:final[ \t]+answer|answer|(?:so|thus|therefore|hence)?,?[ \t]*the[ \t]+(?:final[ \t]+)?"
    r"answer[ \t]+is)\b",
    re.IGNORECASE | re.MULTILINE,
)
_ANSWER_OPEN = re.compile(r"<answer>", re.IGNORECASE)
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.IGNORECASE | re.DOTALL)


@dataclass(frozen=True)
class Chain:
    """An output split into its reasoning and its answer part, with what the tags looked like."""

    reasoning: str
    answer: str
    think_tags: bool  # a think tag (open or close) appears
    think_closed: bool  # ... and the reasoning was closed
    answer_tag: bool  # an <answer> tag appears
    answer_tag_closed: bool


def split_chain(output: str) -> Chain:
    """Reasoning vs answer part, by the rule in the module docstring."""
    lowered = output.lower()
    think = any(o in lowered or c in lowered for o, c in THINK_TAGS)
    answer_tag = "<answer>" in lowered
    answer_closed = bool(_ANSWER_TAG.search(output)) if answer_tag else False
    if think:
        split = split_reasoning(output)
        return Chain(
            split.reasoning,
            split.answer_part,
            True,
            not split.cut_off_in_reasoning,
            answer_tag,
            answer_closed,
        )
    if answer_tag:
        at = _ANSWER_OPEN.search(output)
        assert at is not None
        return Chain(output[: at.start()], output[at.start() :], False, False, True, answer_closed)
    cut = _answer_line_start(output)
    if cut is None:
        cut = _last_short_line(output)
    return Chain(output[:cut], output[cut:], False, False, False, False)


def _last_short_line(text: str) -> int:
    """Where a markerless answer starts: a short one-line output is all answer; else a short last
    line after the chain is the answer (the rule the extractors read answers by); else no answer."""
    body = text.rstrip()
    lines = body.split("\n")
    if len(lines) == 1:
        return 0 if len(body.split()) <= SHORT_WORDS else len(text)
    if len(lines[-1].split()) <= SHORT_WORDS:
        return body.rfind("\n") + 1
    return len(text)


def _answer_line_start(text: str) -> int | None:
    """Where the last answer line starts (an answer cue at a line start, or a line with \\boxed)."""
    starts = [m.start() for m in _ANSWER_LINE.finditer(text)]
    boxed = text.rfind("\\boxed")
    if boxed >= 0:
        starts.append(text.rfind("\n", 0, boxed) + 1)
    return max(starts) if starts else None


def segment_steps(chain: str) -> list[str]:
    """The steps of a chain (see the module docstring for the rule)."""
    text = chain.strip()
    if not text:
        return []
    marks = [m.start() for m in _STEP_MARK.finditer(text)]
    if marks:
        bounds = ([0] if text[: marks[0]].strip() else []) + marks + [len(text)]
        return [s for s in (text[a:b].strip() for a, b in itertools.pairwise(bounds)) if s]
    lines = [ln for ln in text.splitlines() if ln.strip()]
    if sum(1 for ln in lines if _LIST_MARK.match(ln)) >= 2:
        steps: list[str] = []
        for ln in lines:
            if _LIST_MARK.match(ln) or not steps:
                steps.append(ln.strip())
            else:
                steps[-1] += "\n" + ln.strip()
        return steps
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def count_backtracks(chain: str) -> int:
    """Occurrences of lexicon phrases (self-corrections) in the chain, on word boundaries."""
    text = " ".join(chain.lower().split())
    if not text:
        return 0
    count = 0
    for phrase in BACKTRACK_LEXICON:
        at = text.find(phrase)
        while at >= 0:
            end = at + len(phrase)
            if (at == 0 or not text[at - 1].isalnum()) and (end == len(text) or not text[end].isalnum()):
                count += 1
            at = text.find(phrase, end)
    return count


@dataclass
class StepCheck:
    """The arithmetic claims of a text, re-checked. `accuracy` is None when nothing was verifiable."""

    n_verifiable: int
    n_correct: int
    accuracy: float | None
    claims: list[Claim] = field(default_factory=list)
    n_skipped: int = 0  # claims with an unknown the text never gives a value to

    @property
    def wrong(self) -> list[Claim]:
        return [c for c in self.claims if not c.correct]


def step_accuracy(text: str) -> StepCheck:
    """Find every arithmetic claim (`a op b = c`, chains, percentages, simple equations) in `text`
    and re-check it with sympy; the share of verifiable claims that are right."""
    return _check(find_equalities(text))


def _check(equalities: list[Equality]) -> StepCheck:
    if not equalities:
        return StepCheck(0, 0, None)
    values = assignments(equalities)
    claims: list[Claim] = []
    skipped = 0
    for eq in equalities:
        found, missed = check_equality(eq, values)
        claims.extend(found)
        skipped += missed
    correct = sum(1 for c in claims if c.correct)
    return StepCheck(len(claims), correct, correct / len(claims) if claims else None, claims, skipped)


def derived_value(chain: str) -> tuple[float, ...] | None:
    """The value(s) the chain's last equality ends on (see `arith.last_value`); None if none."""
    return last_value(find_equalities(chain))


def answer_value(extracted: str | None, choices: list[str] | None) -> float | None:
    """The extracted answer as a number (a choice letter as its option's number), else None."""
    if extracted is None:
        return None
    text = extracted.strip()
    if choices and len(text) == 1 and text.isalpha():
        index = ord(text.upper()) - ord("A")
        if not 0 <= index < len(choices):
            return None
        text = choices[index]
    numbers = parse_numbers(text)
    if len(numbers) != 1:
        return None
    number = numbers[0]
    return number.value / 100 if number.percent else number.value


def consistent(answer: float | None, derived: tuple[float, ...] | None) -> bool | None:
    """Does the answer equal a derived value (relative tolerance 1e-6, or 1% for a rounded answer)?"""
    if answer is None or derived is None or not math.isfinite(answer):
        return None
    for value in derived:
        scale = max(abs(value), abs(answer), 1e-12)
        if abs(value - answer) <= 1e-6 * scale:
            return True
        # an answer rounded to fewer digits than the chain carried (1/3 -> 0.33)
        if value != int(value) and abs(value - answer) <= 0.01 * scale and len(_digits(answer)) < 4:
            return True
    return False


def _digits(value: float) -> str:
    text = repr(value)
    return text.split(".", 1)[1] if "." in text else ""


def information_use(chain: str, question: str, choices: list[str] | None) -> dict[str, float | None]:
    """Shares of the question's distinct numbers and of the option texts that the chain mentions."""
    q_numbers = _numbers(question)
    out: dict[str, float | None] = {"info_use_numbers": None, "info_use_choices": None}
    seen = 0
    total = 0
    if q_numbers:
        c_numbers = _numbers(chain)
        hits = len(q_numbers & c_numbers)
        out["info_use_numbers"] = hits / len(q_numbers)
        seen, total = seen + hits, total + len(q_numbers)
    texts = [c.strip().lower() for c in choices or [] if c.strip()]
    if texts:
        lowered = chain.lower()
        hits = sum(1 for t in texts if _mentions(lowered, t))
        out["info_use_choices"] = hits / len(texts)
        seen, total = seen + hits, total + len(texts)
    out["info_use"] = seen / total if total else None
    return out


_PLAIN_NUMBER = re.compile(r"\d+(?:,\d{3})*(?:\.\d+)?")


def _numbers(text: str) -> set[float]:
    """The numbers of a text by value as written (`1,200` = `1200.0`; `25%` is 25)."""
    return {float(n.replace(",", "")) if "," in n else float(n) for n in _PLAIN_NUMBER.findall(text)}


def _mentions(text: str, phrase: str) -> bool:
    at = text.find(phrase)
    while at >= 0:
        before = text[at - 1] if at else " "
        after = text[at + len(phrase)] if at + len(phrase) < len(text) else " "
        if not before.isalnum() and not after.isalnum():
            return True
        at = text.find(phrase, at + 1)
    return False


def format_compliance(
    output: str, chain: Chain | None = None, *, expect_answer_line: bool = False
) -> dict[str, bool]:
    """Tags closed and non-empty where used; an explicit answer present where the prompt asks for one."""
    chain = chain or split_chain(output)
    tags_ok = True
    if chain.think_tags and (not chain.think_closed or not chain.reasoning.strip()):
        tags_ok = False
    if chain.answer_tag:
        inner = _ANSWER_TAG.findall(output)
        tags_ok = tags_ok and chain.answer_tag_closed and bool(inner and inner[-1].strip())
    explicit = bool(
        (chain.answer_tag and chain.answer_tag_closed)
        or _ANSWER_LINE.search(chain.answer or output)
        or last_boxed(output)
    )
    return {
        "format_tags_ok": tags_ok,
        "format_answer_marker": explicit,
        "format_ok": tags_ok and (explicit or not expect_answer_line),
    }


def whitespace_tokens(text: str) -> int:
    return len(text.split())


def reasoning_metrics(
    output: str,
    *,
    question: str,
    choices: list[str] | None,
    extracted: str | None,
    n_output_tokens: int | None,
    expect_answer_line: bool = False,
) -> dict[str, Any]:
    """Every step-quality metric of one output, JSON-safe (None = not measurable for this output).

    Token counts are the backend's when `n_output_tokens` is given: the chain's share of the output's
    whitespace tokens times that count; else whitespace tokens.
    """
    return chain_metrics(
        output,
        split_chain(output),
        question=question,
        choices=choices,
        extracted=extracted,
        n_output_tokens=n_output_tokens,
        expect_answer_line=expect_answer_line,
    )


def chain_metrics(
    output: str,
    chain: Chain,
    *,
    question: str,
    choices: list[str] | None,
    extracted: str | None,
    n_output_tokens: int | None,
    expect_answer_line: bool = False,
) -> dict[str, Any]:
    """`reasoning_metrics` for an output already split (callers that also need the split share it)."""
    steps = segment_steps(chain.reasoning)
    words_chain = whitespace_tokens(chain.reasoning)
    if n_output_tokens:
        words_all = whitespace_tokens(output)
        chain_tokens = round(n_output_tokens * words_chain / words_all) if words_all else 0
    else:
        chain_tokens = words_chain
    backtracks = count_backtracks(chain.reasoning)
    equalities = find_equalities(chain.reasoning)
    check = _check(equalities)
    derived = last_value(equalities)
    result: dict[str, Any] = {
        "steps": len(steps),
        "chain_tokens": chain_tokens,
        "backtracks": backtracks,
        "backtrack_rate": 100.0 * backtracks / len(steps) if steps else None,
        "step_claims": check.n_verifiable,
        "step_correct": check.n_correct,
        "step_accuracy": check.accuracy,
        "step_skipped": check.n_skipped,
        "answer_chain_consistent": consistent(answer_value(extracted, choices), derived),
    }
    result.update(information_use(chain.reasoning, question, choices))
    result.update(format_compliance(output, chain, expect_answer_line=expect_answer_line))
    return result
