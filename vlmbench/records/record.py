"""The run record (`runs/<run_id>/run.json`) as one typed model.

Every record `vlmbench eval` writes is validated against `RunRecord` before it reaches the disk, and
every record the store or the leaderboard reads is validated again, so the model below is the whole
contract: a reader learns what a record holds from it (or from its JSON Schema,
`run_record.schema.json` beside this file, generated from it: `python -m vlmbench.records.record`)
without reading the writer. docs/records.md says what each part promises.

Closed models (`extra="forbid"`) for what the record itself decides; open dicts only for what other
modules own and document (a scorer's named metrics and breakdowns, the quality metrics, package
versions, the backend's own description).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from vlmbench.records.hashing import canonical_hash
from vlmbench.records.secrets import secret_keys
from vlmbench.records.status import RunStatus, TaskStatus

RECORD_VERSION = "2"
SCHEMA_FILE = Path(__file__).resolve().parent / "run_record.schema.json"
SHA256 = r"^[0-9a-f]{64}$"


class _Closed(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


# ---------------------------------------------------------------- what was evaluated


class FileHash(_Closed):
    """One file of a checkpoint folder, by its path inside the folder."""

    path: str
    bytes: int = Field(ge=0)
    sha256: str = Field(pattern=SHA256)


class _Fingerprint(_Closed):
    digest: str = Field(
        pattern=SHA256, description="sha256 over the identifying fields below; part of the run id"
    )
    note: str | None = Field(None, description="why this fingerprint identifies less than it should")

    def identity(self) -> dict[str, Any]:
        """The fields the digest covers (never a path, a note or a size that a hash already covers)."""
        raise NotImplementedError

    @model_validator(mode="after")
    def _digest_matches(self) -> _Fingerprint:
        if canonical_hash(self.identity()) != self.digest:
            raise ValueError("fingerprint digest does not match its fields (edited by hand?)")
        return self


class LocalFingerprint(_Fingerprint):
    """A checkpoint folder: every file `from_pretrained` reads (weights, adapter, configs, tokenizer,
    processor, chat template, remote code), each hashed whole."""

    kind: Literal["local"] = "local"
    path: str = Field(description="the folder as given (not part of the digest: content is)")
    files: list[FileHash]
    bytes: int = Field(ge=0)
    base: Fingerprint | None = Field(None, description="an adapter's base model, when the folder is one")

    def identity(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "files": [[f.path, f.sha256] for f in self.files],
            "base": self.base.digest if self.base else None,
        }


class HubFingerprint(_Fingerprint):
    """A hub id: the commit the requested revision resolved to (read from the local hub cache after the
    backend loaded it). `commit` is None when it could not be resolved: then only the name and revision
    identify the model, and `note` says so."""

    kind: Literal["hub"] = "hub"
    repo: str
    revision: str = "main"
    commit: str | None = None

    def identity(self) -> dict[str, Any]:
        return {"kind": self.kind, "repo": self.repo, "revision": self.revision, "commit": self.commit}


class ServerFingerprint(_Fingerprint):
    """A model behind an OpenAI-compatible server: the id (and root, where the server reports one) that
    the server's `/models` lists for the requested name, plus `--model-args revision=` when given."""

    kind: Literal["server"] = "server"
    model: str
    served_id: str | None = Field(None, description="the server's id for it; None: /models not offered")
    served_root: str | None = Field(None, description="what the server says it loaded (vLLM: `root`)")
    revision: str | None = None

    def identity(self) -> dict[str, Any]:
        keys = ("kind", "model", "served_id", "served_root", "revision")
        return {k: getattr(self, k) for k in keys}


class BaselineFingerprint(_Fingerprint):
    """A chance baseline: its strategy and seed are all there is to it."""

    kind: Literal["baseline"] = "baseline"
    strategy: str
    seed: int

    def identity(self) -> dict[str, Any]:
        return {"kind": self.kind, "strategy": self.strategy, "seed": self.seed}


class NameFingerprint(_Fingerprint):
    """A model string that is neither a folder nor a hub id (a custom backend's name)."""

    kind: Literal["name"] = "name"
    name: str

    def identity(self) -> dict[str, Any]:
        return {"kind": self.kind, "name": self.name}


Fingerprint = Annotated[
    LocalFingerprint | HubFingerprint | ServerFingerprint | BaselineFingerprint | NameFingerprint,
    Field(discriminator="kind"),
]
LocalFingerprint.model_rebuild()


class ModelInfo(_Closed):
    name: str = Field(min_length=1, description="--model as given")
    backend: str = Field(min_length=1)
    args: dict[str, Any] = Field(default_factory=dict, description="--model-args without its secrets")
    fingerprint: Fingerprint
    n_params: int | None = Field(None, ge=0, description="from safetensors headers; None if unknown")
    backend_info: dict[str, Any] = Field(default_factory=dict, description="the backend's describe()")

    @model_validator(mode="after")
    def _no_secrets(self) -> ModelInfo:
        found = secret_keys(self.args)
        if found:  # the writer strips them; a record that still holds one is never written or indexed
            raise ValueError(f"model.args holds secrets ({', '.join(found)}): records never carry them")
        return self


class Lineage(_Closed):
    """How a trained checkpoint came to be (written by `vlmbench train-baseline`)."""

    base_model: str
    algorithm: str
    config_hash: str
    steps: int = Field(ge=0)
    train_dir: str | None = Field(None, description="the training run's folder")
    base_fingerprint: str | None = Field(None, description="the start model's fingerprint digest")


# ---------------------------------------------------------------- per task


class Protocol(_Open):
    """Everything that decides a score except the model (`vlmbench.records.protocol`); hashed into
    `protocol_hash`."""

    protocol_version: str
    task: str
    task_version: str


class Metrics(_Open):
    """The scorer's metrics over every recorded sample (failed ones count as wrong), with 95% Wilson
    intervals (clustered by image where questions share one); scorers add named metrics, `breakdowns`
    and pass@k."""

    official: float = Field(ge=0.0, le=1.0)
    official_ci95: tuple[float, float]
    robust: float = Field(ge=0.0, le=1.0)
    robust_ci95: tuple[float, float]
    unparsed_rate: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _intervals_hold_values(self) -> Metrics:
        for key in ("official", "robust"):
            value, (low, high) = getattr(self, key), getattr(self, f"{key}_ci95")
            if not 0.0 <= low <= value + 1e-9 or not value - 1e-9 <= high <= 1.0:
                raise ValueError(f"{key}_ci95 {[low, high]} does not hold {key} {value}")
        return self


class JudgedResult(_Closed):
    """The task scored through its reference LLM extractor (`--judge`): its own column, under its own
    protocol hash (the task's protocol plus the judge model and prompt hash), never mixed with `metrics`."""

    label: str = Field(description="the column's name: official+judge:<model>")
    model: str = Field(min_length=1)
    prompt_sha256: str = Field(pattern=SHA256, description="sha256 of the task file's judge prompt")
    protocol_hash: str = Field(pattern=SHA256, description="hash of the task protocol + judge")
    n: int = Field(ge=0)
    n_failed: int = Field(ge=0, description="samples with no judged score: counted as wrong")
    failures: dict[str, int] = Field(default_factory=dict)
    n_rule: int = Field(0, ge=0, description="read by the reference's rules, no call")
    n_judged: int = Field(0, ge=0, description="read by the judge (or its cache)")
    official: float | None = Field(None, ge=0.0, le=1.0)
    official_ci95: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _consistent(self) -> JudgedResult:
        if sum(self.failures.values()) != self.n_failed or self.n_failed > self.n:
            raise ValueError(
                f"judge failures count {sum(self.failures.values())}, n_failed is {self.n_failed}"
            )
        if (self.official is None) != (self.official_ci95 is None):
            raise ValueError("a judged score comes with its interval")
        if self.official is None and self.n_failed < self.n:
            raise ValueError("a judged column with answered samples has a score")
        return self


class TaskResult(_Closed):
    protocol_hash: str = Field(pattern=SHA256)
    protocol: Protocol
    status: TaskStatus
    n_items: int = Field(ge=0, description="items the task has under this protocol")
    n: int = Field(0, ge=0, description="samples recorded: answered + failed")
    n_failed: int = Field(0, ge=0)
    failures: dict[str, int] = Field(default_factory=dict, description="failure reason -> samples")
    metric: str | None = Field(None, description="the task's main metric")
    metrics: Metrics | None = Field(None, description="None while running and for a failed task")
    tokens_in: int = Field(0, ge=0)
    tokens_out: int = Field(0, ge=0)
    truncation_rate: float = Field(0.0, ge=0.0, le=1.0)
    generation_seconds: float = Field(0.0, ge=0.0)
    quality: dict[str, Any] | None = Field(None, description="reasoning, efficiency, hacking metrics")
    samples_sha256: str | None = Field(
        None, pattern=SHA256, description="sha256 of samples/<task>.jsonl when this summary was written"
    )
    judge: JudgedResult | None = Field(None, description="the judged column, when run with --judge")

    @model_validator(mode="after")
    def _consistent(self) -> TaskResult:
        if self.n_failed > self.n or self.n > self.n_items:
            raise ValueError(f"n_failed {self.n_failed} <= n {self.n} <= n_items {self.n_items} fails")
        if sum(self.failures.values()) != self.n_failed:
            raise ValueError(f"failures count {sum(self.failures.values())}, n_failed is {self.n_failed}")
        if self.status in ("done", "partial") and (self.metrics is None or self.metric is None):
            raise ValueError(f"a {self.status} task needs metric and metrics")
        if self.status == "failed" and self.metrics is not None:
            raise ValueError("a failed task has no score (every sample failed)")
        if self.status == "done" and self.n_failed:
            raise ValueError("a done task has no failed samples")
        if self.status in ("done", "partial") and self.n != self.n_items:
            raise ValueError(f"a {self.status} task has a row for each of its {self.n_items} items")
        if self.status == "failed" and self.n not in (0, self.n_items):  # 0: the backend never answered
            raise ValueError(f"a failed task has a row for each of its {self.n_items} items, or none")
        return self

    @model_validator(mode="after")
    def _hash_matches(self) -> TaskResult:
        if canonical_hash(self.protocol.model_dump()) != self.protocol_hash:
            raise ValueError("protocol does not match its protocol_hash (edited by hand?)")
        if self.judge is not None and canonical_hash(self.judged_protocol()) != self.judge.protocol_hash:
            raise ValueError("judge.protocol_hash does not match the protocol and judge (edited by hand?)")
        return self

    def judged_protocol(self) -> dict[str, Any]:
        """The judged column's protocol: the task's plus the judge."""
        from vlmbench.records.protocol import judged_protocol

        if self.judge is None:
            raise ValueError("no judge")
        return judged_protocol(self.protocol.model_dump(), self.judge.model, self.judge.prompt_sha256)


# ---------------------------------------------------------------- the record


class RunRecord(_Closed):
    record_version: Literal["2"] = RECORD_VERSION
    run_id: str = Field(min_length=1, description="<model>-<backend>-<hash of config_id + fingerprint>")
    config_id: str = Field(pattern=SHA256, description="sha256 of the eval options that name the run")
    status: RunStatus
    failure: str | None = Field(None, description="why the run as a whole failed or stopped")
    created: str
    finished: str | None = None
    model: ModelInfo
    config: dict[str, Any] = Field(
        description="the eval options (EvalConfig), with the batch size and num_processes (data-parallel "
        "ranks of the latest entry), which do not name the run"
    )
    vlmbench_version: str
    packages: dict[str, str] = Field(default_factory=dict)
    git: dict[str, Any] | None = None
    hardware: dict[str, Any] = Field(default_factory=dict)
    wall_seconds: float = Field(0.0, ge=0.0)
    warnings: list[str] = Field(default_factory=list, description="options a task ignored, and the like")
    lineage: Lineage | None = None
    tasks: dict[str, TaskResult]

    @model_validator(mode="after")
    def _config_has_no_secrets(self) -> RunRecord:
        args = self.config.get("model_args")
        if isinstance(args, dict) and (found := secret_keys(args)):
            shown = ", ".join(found)
            raise ValueError(f"config.model_args holds secrets ({shown}): records never carry them")
        return self

    @model_validator(mode="after")
    def _tasks_named(self) -> RunRecord:
        for name, result in self.tasks.items():
            if result.protocol.task != name:
                raise ValueError(f"tasks.{name}: protocol names task {result.protocol.task!r}")
        return self


def validate_record(data: dict[str, Any]) -> RunRecord:
    """The typed record (raises pydantic's ValidationError); a record of an older version says so."""
    version = data.get("record_version") if isinstance(data, dict) else None
    if version is not None and str(version) != RECORD_VERSION:
        raise RecordVersionError(
            f"record version {version} (this vlmbench reads {RECORD_VERSION}): records before version 2 "
            "carry no model fingerprint, so their numbers cannot be tied to a model; rerun the eval"
        )
    return RunRecord.model_validate(data)


class RecordVersionError(ValueError):
    """A record written by another record version."""


def json_schema() -> dict[str, Any]:
    schema = RunRecord.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://github.com/vlmbench/vlmbench/records/run_record.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"


def main() -> None:
    """Write the JSON Schema file beside this module (`python -m vlmbench.records.record`)."""
    SCHEMA_FILE.write_text(schema_text(), encoding="utf-8")
    sys.stdout.write(f"wrote {SCHEMA_FILE}\n")


if __name__ == "__main__":  # pragma: no cover
    main()
