"""Where in a response the answer lives: reasoning tags, boxed answers, answer lines, the last line.

Every extractor walks the same regions in the same order, so "which part of the text counted" is one
documented rule rather than one per benchmark. Order (first region that yields an answer wins):

1. `boxed`       - the last `\\boxed{...}` (or `\\fbox{...}`)
2. `answer_tag`  - the last `<answer>...</answer>`
3. `answer_line` - the text after the last answer cue ("The answer is", "Answer:", "Final answer:", ...)
4. `whole`       - the whole response, when it is short (a direct answer)
5. `last_line`   - the last non-empty line, when it is short

Reasoning (`<think>...</think>`) is removed first. A response whose reasoning was never closed, or that
was truncated by the token limit without an explicit answer marker, yields no region: a chain cut off
mid-thought is never read as an answer.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

THINK_TAGS: tuple[tuple[str, str], ...] = (
    ("<think>", "</think>"),
    ("<thinking>", "</thinking>"),
    ("<reasoning>", "</reasoning>"),
    ("◁think▷", "◁/think▷"),
)

SHORT_WORDS = 12  # a response (or last line) this short is read as a direct answer
EXPLICIT = ("boxed", "answer_tag", "answer_line")

_ANSWER_TAG = re.compile(r"<answer>(.*?)(?:</answer>|$)", re.IGNORECASE | re.DOTALL)
_ANSWER_CUE = re.compile(
    r"(?:final\s+answer|correct\s+(?:answer|option|choice)|best\s+(?:answer|option)|the\s+answer"
    r"|\banswer|\bans)\b\s*(?:is|would\s+be|should\s+be|will\s+be|=|:|-)+\s*(?:[:=]\s*)?",
    re.IGNORECASE,
)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_MARKDOWN = re.compile(r"\*\*|__|`+|^#+\s*", re.MULTILINE)


class Region(NamedTuple):
    name: str
    text: str

    @property
    def explicit(self) -> bool:
        return self.name in EXPLICIT


class SplitResponse(NamedTuple):
    """A response with its reasoning separated from its answer part."""

    reasoning: str
    answer_part: str
    cut_off_in_reasoning: bool


def _tagless(text: str) -> bool:
    """No reasoning tag can be present: none of THINK_TAGS' opening characters occurs (the usual
    response, so splitting it costs two scans)."""
    return "<" not in text and "◁" not in text


def split_reasoning(text: str, tags: tuple[tuple[str, str], ...] = THINK_TAGS) -> SplitResponse:
    """Separate `<think>` reasoning from the answer.

    A closing tag without an opening one counts too (chat templates that open the tag in the prompt).
    An opening tag never closed means the model was cut off while thinking.
    """
    if _tagless(text):
        return SplitResponse("", text, False)
    lowered = text.lower()
    for open_tag, close_tag in tags:
        close_at = lowered.rfind(close_tag)
        if close_at >= 0:
            open_at = lowered.find(open_tag)
            start = open_at + len(open_tag) if 0 <= open_at < close_at else 0
            return SplitResponse(text[start:close_at], text[close_at + len(close_tag) :], False)
        open_at = lowered.find(open_tag)
        if open_at >= 0:
            return SplitResponse(text[open_at + len(open_tag) :], text[:open_at], True)
    return SplitResponse("", text, False)


def clean(text: str) -> str:
    """Unicode-normalise and drop markdown emphasis, which models wrap around answers."""
    if not text.isascii():
        text = unicodedata.normalize("NFKC", text)
    if "*" in text or "_" in text or "`" in text or "#" in text:
        text = _MARKDOWN.sub("", text)
    return text.strip()


def last_boxed(text: str) -> str | None:
    """Content of the last `\\boxed{...}`, with nested braces balanced."""
    if "\\" not in text:
        return None
    starts = [m.end() for m in _BOXED.finditer(text)]
    for start in reversed(starts):
        depth = 1
        for i in range(start, len(text)):
            if text[i] == "{":
                depth += 1
            elif text[i] == "}":
                depth -= 1
                if depth == 0:
                    return text[start:i].strip()
    return None


_CUE_WORDS = ("ans", "correct", "best")


def _cue_starts(lowered: str) -> list[int]:
    """Every position where a cue word starts, last first. str.find, not a lookahead regex: sre tries
    a zero-width pattern at every position, which cost more than the cue search itself."""
    starts = []
    for word in _CUE_WORDS:  # no cue word overlaps itself or starts where another does
        at = lowered.find(word)
        while at >= 0:
            starts.append(at)
            at = lowered.find(word, at + 1)
    starts.sort(reverse=True)
    return starts


def answer_line(text: str) -> str | None:
    """The rest of the line after the last answer cue ("The answer is", "Answer:" ...)."""
    lowered = text.lower()
    # Search from the last cue word backwards: the first hit is the last cue (its end is what counts).
    for start in _cue_starts(lowered):  # most responses have no cue word at all: an empty list
        match = _ANSWER_CUE.search(text, max(0, start - 8))
        if match is not None and match.end() > start:
            line = text[match.end() :].strip().split("\n", 1)[0].strip()
            return line or None
    return None


def word_count(text: str) -> int:
    return len(text.split())


def _short(text: str) -> bool:
    """`word_count(text) <= SHORT_WORDS` without splitting a long text into all of its words: with
    maxsplit the list stops at SHORT_WORDS + 1 items, one more than a short text has."""
    return len(text.split(None, SHORT_WORDS)) <= SHORT_WORDS


def regions(text: str, *, truncated: bool = False) -> list[Region]:
    """The candidate answer regions of a response, most explicit first (see module docstring)."""
    body = answer_body(text)
    return [] if body is None else body_regions(body, truncated=truncated)


def body_regions(body: str, *, truncated: bool = False) -> list[Region]:
    """`regions` of an answer part already split from its reasoning and cleaned (`answer_body`), for
    extractors that also read the body itself."""
    found: list[Region] = []
    boxed = last_boxed(body)
    if boxed:
        found.append(Region("boxed", boxed))
    tags = _ANSWER_TAG.findall(body) if "<" in body else []
    if tags and tags[-1].strip():
        found.append(Region("answer_tag", tags[-1].strip()))
    line = answer_line(body)
    if line:
        found.append(Region("answer_line", line))
    if truncated:  # only explicit markers count when the generation hit its limit
        return found
    if body and _short(body):
        found.append(Region("whole", body))
    lines = body.splitlines()
    if len(lines) > 1:  # one line (most direct answers) has no last line apart from the whole
        lines = [ln.strip() for ln in lines if ln.strip()]
        if len(lines) > 1 and _short(lines[-1]):
            found.append(Region("last_line", lines[-1]))
    return found


def answer_body(text: str) -> str | None:
    """The answer part of a response (reasoning removed), cleaned; None when cut off in reasoning."""
    if _tagless(text):  # split_reasoning's fast path, without building its result
        return clean(text)
    split = split_reasoning(text)
    return None if split.cut_off_in_reasoning else clean(split.answer_part)


def answer_text(text: str) -> str:
    """The answer part of a response (reasoning removed), cleaned; '' when cut off in reasoning."""
    body = answer_body(text)
    return "" if body is None else body
