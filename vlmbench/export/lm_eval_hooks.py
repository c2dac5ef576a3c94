"""What an exported lm-eval task calls at run time: vlmbench's own loader, prompts and scorers.

The generated `utils.py` of an export binds these hooks to one task each (`hooks_for(__file__, name)`),
so lm-eval renders the prompt with `vlmbench.prompts.render_prompt`, loads pixels with
`ImageRef.load`, scores with the task's scorer and aggregates with `vlmbench.scoring.aggregate` - there
is no second copy of a prompt or a scorer to drift. lm-eval re-executes `utils.py` for every
`!function` it resolves, so the state (the task's samples, loaded once) lives here, in an ordinary
module, keyed by manifest and task.

lm-eval's documents are keys into vlmbench's samples (`id`), never the samples themselves: gold answers,
`meta` (hints, references) and images always come from vlmbench's loader, and the protocol hash
recomputed from them must equal the one recorded at export (else the data or the task file changed).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from vlmbench.errors import TaskNotFoundError, VlmbenchError
from vlmbench.models.base import GenerationParams
from vlmbench.schema import Sample
from vlmbench.scoring import SampleScore, Scorer, aggregate, get_scorer
from vlmbench.taskspec import TaskSpec

MANIFEST = "vlmbench_export.json"
IMAGE_PLACEHOLDER = "<image>"  # lm-eval's placeholder (hf_vlms.DEFAULT_IMAGE_PLACEHOLDER)
METRICS = ("official", "robust", "unparsed_rate")
# the protocol fields that do not depend on the data: checked even where the export saw no data (hub)
_STATIC = ("task", "task_version", "prompt_style", "prompt_template", "choice_format", "system_prompt")
_STATIC += ("extractor", "scorer", "generation")

_log = logging.getLogger("vlmbench.export")


class ExportMismatch(VlmbenchError):
    """The data or the task file differ from what the export recorded: its scores would not be the
    exported protocol's."""


def doc_row(sample: Sample, index: int) -> dict[str, Any]:
    """One lm-eval document: a key into vlmbench's samples, plus what lm-eval logs (its `target`)."""
    return {"id": sample.id, "index": index, "question": sample.question, "answer": sample.answer}


def sample_item(score: SampleScore) -> dict[str, Any]:
    """A per-sample metric value lm-eval carries to the aggregation (and writes with --log_samples)."""
    return score.to_dict()


def item_score(item: dict[str, Any]) -> SampleScore:
    return SampleScore(**item)


@dataclass
class TaskHooks:
    """One exported task's lm-eval functions, over the samples vlmbench's loader gives for it."""

    name: str
    entry: dict[str, Any]
    _scores: dict[int, dict[str, Any]] = field(default_factory=dict, repr=False)

    @cached_property
    def spec(self) -> TaskSpec:
        from vlmbench.registry import get_task, load_task_file

        try:
            return get_task(self.name)
        except TaskNotFoundError:  # a task from a VLMBENCH_TASKS_PATH folder that is not set now
            path = Path(self.entry["task_file"])
            if not path.is_file():
                raise
            return load_task_file(path)

    @cached_property
    def params(self) -> GenerationParams:
        return GenerationParams(**self.entry["generation"])

    @cached_property
    def scorer(self) -> Scorer:
        return get_scorer(self.spec.scorer)

    @cached_property
    def ordered(self) -> list[Sample]:
        """The task's samples as vlmbench loads them, checked against the export's protocol."""
        from vlmbench.data import load_samples

        data = self.entry.get("data")
        samples = load_samples(self.spec, Path(data) if data else None, limit=self.entry.get("limit"))
        self._check(samples)
        return samples

    @cached_property
    def samples(self) -> dict[str, Sample]:
        return {s.id: s for s in self.ordered}

    def _check(self, samples: Sequence[Sample]) -> None:
        from vlmbench.records.protocol import protocol, protocol_hash

        now = protocol(self.spec, samples, self.entry["style"], self.params)
        recorded, recorded_hash = self.entry.get("protocol") or {}, self.entry.get("protocol_hash")
        changed = [k for k in _STATIC if k in recorded and recorded[k] != now.get(k)]
        if recorded_hash and not changed and protocol_hash(now) != recorded_hash:
            changed = [k for k in recorded if recorded[k] != now.get(k)] or ["protocol"]
        if changed:
            raise ExportMismatch(
                f"task {self.name!r} no longer matches its export ({', '.join(changed)} changed); "
                "export it again with `vlmbench tasks export`"
            )
        # where the export saw no data (hub), this line is the only record of the hash the run used
        level = logging.INFO if recorded_hash else logging.WARNING
        _log.log(
            level,
            "vlmbench task %s: protocol hash %s over %d samples",
            self.name,
            protocol_hash(now),
            len(samples),
        )

    def sample(self, doc: dict[str, Any]) -> Sample:
        try:
            return self.samples[str(doc["id"])]
        except KeyError:
            raise ExportMismatch(
                f"task {self.name!r}: document {doc.get('id')!r} is no vlmbench sample"
            ) from None

    # --- the lm-eval task functions ---

    def process_docs(self, dataset: Any) -> Any:
        """Hub tasks: the documents are vlmbench's samples of the same dataset (its field mapping, ids,
        image joins), not the raw rows lm-eval loaded."""
        import datasets

        return datasets.Dataset.from_list([doc_row(s, i) for i, s in enumerate(self.ordered)])

    def doc_to_text(self, doc: dict[str, Any]) -> str:
        """vlmbench's prompt, after one `<image>` per image: with `--apply_chat_template`, lm-eval's
        interleaving turns that into the user turn vlmbench sends (images first, then the text)."""
        from vlmbench.prompts import render_prompt

        sample = self.sample(doc)
        return IMAGE_PLACEHOLDER * len(sample.images) + render_prompt(self.spec, sample, self.entry["style"])

    def doc_to_image(self, doc: dict[str, Any]) -> list[Any]:
        return [ref.load() for ref in self.sample(doc).images]

    def process_results(self, doc: dict[str, Any], results: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The task's scorer on the generated text. lm-eval hands over text only, with no finish
        reason, so the output counts as complete (`truncated=False`): see docs/export.md."""
        from vlmbench.extract import get_extractor

        sample = self.sample(doc)
        score = self.scorer.score(results[0], sample, get_extractor(self.spec.extractor), truncated=False)
        item = sample_item(score)
        return dict.fromkeys(METRICS, item)

    def metrics(self, items: Sequence[dict[str, Any]]) -> dict[str, Any]:
        """vlmbench's task metrics over the scored samples (the headline may not be a mean: VCR's Q->AR)."""
        key = hash(json.dumps(list(items), sort_keys=True))  # the same items for each of the metrics
        if key not in self._scores:
            scores = [item_score(i) for i in items]
            samples = [self.samples[s.id] for s in scores]
            self._scores = {key: aggregate(self.scorer, samples, scores, self.spec.metrics.breakdowns)}
        return self._scores[key]

    def official(self, items: Sequence[dict[str, Any]]) -> float:
        return float(self.metrics(items)["official"])

    def robust(self, items: Sequence[dict[str, Any]]) -> float:
        return float(self.metrics(items)["robust"])

    def unparsed_rate(self, items: Sequence[dict[str, Any]]) -> float:
        return float(self.metrics(items)["unparsed_rate"])


_HOOKS: dict[tuple[str, str, int], TaskHooks] = {}


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise VlmbenchError(f"{path}: cannot read the export manifest ({err})") from err


def hooks_for(utils_file: str | Path, task: str) -> TaskHooks:
    """The hooks of `task` in the export whose `utils.py` is `utils_file` (one object per process)."""
    folder = Path(utils_file).resolve().parent
    try:
        stamp = (folder / MANIFEST).stat().st_mtime_ns  # a re-export in the same process is read again
    except OSError:
        stamp = 0
    key = (str(folder), task, stamp)
    if key not in _HOOKS:
        entry = read_manifest(folder)["tasks"].get(task)
        if entry is None:
            raise VlmbenchError(f"{folder / MANIFEST}: no task {task!r} in this export")
        _HOOKS[key] = TaskHooks(task, entry)
    return _HOOKS[key]
