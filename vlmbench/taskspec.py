"""The schema of a task file (`tasks/<task>.yaml`): declarative, validated, no executable code.

Unknown keys are errors (a typo in a task file must not silently change a protocol).
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath, PureWindowsPath
from string import Formatter
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from vlmbench.schema import AnswerType

PROMPT_FIELDS = frozenset({"question", "choices", "hint", "context", "query", "letters"})


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class FieldMap(_Strict):
    """How a hub dataset's columns become Sample fields."""

    id: str | None = Field(None, description="id column; None: use id_template")
    id_template: str = Field(
        "{index}",
        description="id when no id column: row columns, `index`, `group_index` (see id_group), `meta[key]`",
    )
    id_group: str | None = Field(
        None, description="column whose rows are counted apart: `group_index` is the row's place among them"
    )
    question: str
    choices: str | None = None
    answer: str
    answer_format: Literal["text", "index", "letter", "letter_or_index", "boolean"] = Field(
        "text", description="boolean: only True/False (bool or string); 0/1 are refused as ambiguous"
    )
    answer_type: str | None = Field(None, description="column holding the answer type, if any")
    images: list[str] = Field(default_factory=list, description="image columns (an image or a list)")
    meta: dict[str, str] = Field(default_factory=dict, description="meta key <- column")
    value_maps: dict[str, dict[str, str]] = Field(default_factory=dict, description="meta key -> {raw: new}")
    references: str | None = Field(None, description="column with a list of accepted answers")


class ImageJoin(_Strict):
    """Images kept in a second dataset config, joined by key (GQA's testdev_balanced_images)."""

    path: str
    name: str | None = None
    split: str
    key: str = Field(description="key column in the image dataset")
    question_key: str = Field(description="column of the question dataset holding that key")
    image: str = "image"


class HubSource(_Strict):
    path: str
    name: str | None = None
    split: str
    revision: str | None = Field(
        None, description="dataset commit sha; None loads the branch head and records the commit read"
    )
    fields: FieldMap
    images_from: ImageJoin | None = None
    require_image: bool = Field(False, description="drop rows without an image (an *-IMG subset)")

    @field_validator("revision")
    @classmethod
    def _check_revision(cls, value: str | None) -> str | None:
        """A branch or tag name moves; only a full commit sha pins what a protocol hash stands for."""
        if value is not None and not re.fullmatch(r"[0-9a-f]{40}", value):
            raise ValueError(f"revision {value!r} must be a full 40-character commit sha (or null)")
        return value


def _relative_folder(value: str) -> str:
    """A folder a task file names must stay under the data root: relative, no `..` (a task file is
    not trusted to pick which files of the machine are read)."""
    posix = PurePosixPath(value.replace("\\", "/"))
    if posix.is_absolute() or PureWindowsPath(value).drive or ".." in posix.parts:
        raise ValueError(f"{value!r} must be a relative folder inside the data root (no '..', not absolute)")
    return value


class LocalSource(_Strict):
    format: Literal["items_jsonl", "vcr_jsonl", "unigeo_pickle"] = "items_jsonl"
    dir: str = Field(description="folder name under a --data root (e.g. ../shared/data/<dir>)")
    file: str = "items.jsonl"
    images_dir: str | None = Field(None, description="image root for formats that keep images apart")
    object_refs: Literal["number", "name"] = Field("number", description="VCR: how object references read")
    draw_boxes: bool = Field(True, description="VCR: draw the referenced objects' boxes on the image")

    @field_validator("dir", "images_dir")
    @classmethod
    def _check_folder(cls, value: str | None) -> str | None:
        return None if value is None else _relative_folder(value)

    @field_validator("file")
    @classmethod
    def _check_file(cls, value: str) -> str:
        if not value or value in (".", "..") or "/" in value or "\\" in value:
            raise ValueError(f"{value!r} must be a bare file name (no folder)")
        return value


class SynthSource(_Strict):
    """A procedural task: items drawn by `vlmbench.synth` (defaults; runs may override them)."""

    generator: str
    difficulty: int = Field(1, ge=1, le=3)
    n: int = Field(200, gt=0)
    seed: int = Field(0, ge=0)


class Source(_Strict):
    synth: SynthSource | None = None
    hub: HubSource | None = None
    hub_note: str | None = None
    local: LocalSource
    size: int | None = Field(None, description="items in the official split, for listings")


class Prompts(_Strict):
    system: str | None = None
    templates: dict[str, str]
    default: str = "direct"
    choice_format: str = "{letter}. {choice}"

    @field_validator("templates")
    @classmethod
    def _check_templates(cls, templates: dict[str, str]) -> dict[str, str]:
        missing = {"direct", "cot"} - set(templates)
        if missing:
            raise ValueError(f"prompt templates must include {sorted(missing)}")
        for style, template in templates.items():
            for _, name, _, _ in Formatter().parse(template):
                if name is not None and name not in PROMPT_FIELDS:
                    raise ValueError(
                        f"template {style!r} uses unknown field {{{name}}}; allowed: {sorted(PROMPT_FIELDS)}"
                    )
        return templates

    @model_validator(mode="after")
    def _check_default(self) -> Prompts:
        if self.default not in self.templates:
            raise ValueError(f"default prompt {self.default!r} is not a template")
        return self


class Metrics(_Strict):
    main: str
    breakdowns: list[str] = Field(default_factory=list, description="meta paths, e.g. meta.split")
    named: list[str] = Field(default_factory=list, description="extra task-level metrics the scorer adds")
    text_metrics: list[str] = Field(
        default_factory=list, description="text overlap metrics (vlmbench.metrics.text), e.g. [f1, rougeL]"
    )

    @field_validator("text_metrics")
    @classmethod
    def _check_text_metrics(cls, names: list[str]) -> list[str]:
        from vlmbench.metrics.text import check_names

        check_names(names)
        return names


class Generation(_Strict):
    max_new_tokens: int = Field(gt=0)
    max_new_tokens_cot: int = Field(1024, gt=0)
    temperature: float = 0.0


JUDGE_FIELDS = frozenset({"instructions", "query", "response"})


class JudgeSpec(_Strict):
    """The benchmark's own LLM answer extractor, for tasks whose reference pipeline has one (MathVista).
    Declared here, never in code, so the prompt a judge sees is part of the task file and its hash."""

    source: str = Field(description="where the reference prompt and template come from (repo, file, commit)")
    instructions: str = Field(description="the reference's few-shot extraction prompt, verbatim")
    template: str = Field(description="how the reference builds a request: {instructions} {query} {response}")
    query: str = Field("question", description="what {query} is: a prompt field (question, query, ...)")
    max_tokens: int = Field(256, gt=0)
    temperature: float = Field(0.0, ge=0.0)

    @field_validator("template")
    @classmethod
    def _check_template(cls, template: str) -> str:
        names = {name for _, name, _, _ in Formatter().parse(template) if name is not None}
        unknown = names - JUDGE_FIELDS
        if unknown or "response" not in names:
            raise ValueError(f"judge template must use {{response}} and only {sorted(JUDGE_FIELDS)}")
        return template

    @field_validator("query")
    @classmethod
    def _check_query(cls, query: str) -> str:
        if query not in PROMPT_FIELDS:
            raise ValueError(f"judge query {query!r} is not a prompt field; allowed: {sorted(PROMPT_FIELDS)}")
        return query


TASK_NAME = r"^[a-z0-9][a-z0-9_.-]*$"


class TaskSpec(_Strict):
    name: str
    version: str
    aliases: list[str] = Field(
        default_factory=list,
        description="other names users type for this task (lmms-eval's, short ones); they resolve to `name` "
        "before anything runs, so they never enter a run's identity or protocol",
    )
    title: str
    description: str
    citation: str
    license: str
    homepage: str | None = None
    tags: list[str] = Field(default_factory=list)
    source: Source
    answer_type: AnswerType | Literal["per_item"]
    item_expansion: Literal["vcr"] | None = Field(None, description="one item -> several samples")
    prompts: Prompts
    extractor: str
    scorer: str
    metrics: Metrics
    generation: Generation
    judge: JudgeSpec | None = Field(None, description="the reference pipeline's LLM extractor, if it has one")
    notes: str | None = None

    @field_validator("aliases")
    @classmethod
    def _check_aliases(cls, aliases: list[str]) -> list[str]:
        import re

        for alias in aliases:
            if not re.match(TASK_NAME, alias) or any(ch in alias for ch in "*?[,"):
                raise ValueError(f"alias {alias!r}: lower-case letters, digits, '_', '.', '-' only")
        if len(set(aliases)) != len(aliases):
            raise ValueError(f"aliases repeat a name: {aliases}")
        return aliases

    @model_validator(mode="after")
    def _check_names(self) -> TaskSpec:
        if self.name in self.aliases:
            raise ValueError(f"alias {self.name!r} is the task's own name")
        from vlmbench.extract import EXTRACTORS
        from vlmbench.scoring import SCORERS
        from vlmbench.synth import generator_names

        synth = self.source.synth
        if synth is not None and synth.generator not in generator_names():
            raise ValueError(f"unknown generator {synth.generator!r}; known: {generator_names()}")
        if self.extractor not in EXTRACTORS:
            raise ValueError(f"unknown extractor {self.extractor!r}; known: {sorted(EXTRACTORS)}")
        if self.scorer not in SCORERS:
            raise ValueError(f"unknown scorer {self.scorer!r}; known: {sorted(SCORERS)}")
        return self
