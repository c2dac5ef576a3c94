"""Prompt rendering from a task's templates: the one place a Sample becomes the text a model reads.

Templates may use: {question}, {choices} (one option a line, per `choice_format`), {letters}
("A, B, C, D"), {hint} (meta.hint), {context} ("Context: <hint>\\n" or ""), {query} (meta.query).
"""

from __future__ import annotations

import re

from vlmbench.errors import VlmbenchError
from vlmbench.models.base import GenerationParams, Request
from vlmbench.schema import LETTERS, Sample
from vlmbench.taskspec import TaskSpec

# Some hub copies inline a model-specific image placeholder in the question text; the backend places
# images itself, so the placeholder is dropped.
_IMAGE_TOKEN = re.compile(r"<image>\s*", re.IGNORECASE)


def choices_block(sample: Sample, choice_format: str = "{letter}. {choice}") -> str:
    return "\n".join(
        choice_format.format(letter=LETTERS[i], choice=c) for i, c in enumerate(sample.choices or [])
    )


def render_prompt(spec: TaskSpec, sample: Sample, style: str | None = None) -> str:
    style = style or spec.prompts.default
    try:
        template = spec.prompts.templates[style]
    except KeyError:
        known = ", ".join(sorted(spec.prompts.templates))
        raise VlmbenchError(f"task {spec.name!r} has no prompt {style!r}; known: {known}") from None
    return template.format(**prompt_fields(spec, sample)).strip()


def prompt_fields(spec: TaskSpec, sample: Sample) -> dict[str, str]:
    """The values a task file's templates may name (taskspec.PROMPT_FIELDS): prompts and the judge's
    request read the same ones."""
    hint = str(sample.meta.get("hint") or "").strip()
    return {
        "question": _IMAGE_TOKEN.sub("", sample.question).strip(),
        "choices": choices_block(sample, spec.prompts.choice_format),
        "letters": ", ".join(sample.letters),
        "hint": hint,
        "context": f"Context: {hint}\n" if hint else "",
        "query": str(sample.meta.get("query") or sample.question),
    }


def build_request(spec: TaskSpec, sample: Sample, style: str, params: GenerationParams) -> Request:
    """The Request a backend receives for `sample` under the task's prompt `style`."""
    return Request(
        id=sample.id,
        system=spec.prompts.system,
        prompt=render_prompt(spec, sample, style),
        images=list(sample.images),
        params=params,
        sample=sample,
    )
