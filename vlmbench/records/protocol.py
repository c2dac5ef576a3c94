"""The protocol hash: everything that decides a score except the model (DESIGN.md, "Protocol hash").

Two results are comparable only when their protocol hashes match. The canonical JSON is versioned:
changing what enters it is deliberate (bump PROTOCOL_VERSION; a golden test pins a known hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

from vlmbench.data.fingerprint import data_source, dataset_fingerprint
from vlmbench.extract import get_extractor
from vlmbench.models.base import GenerationParams
from vlmbench.prompts import render_prompt
from vlmbench.records.hashing import canonical_hash
from vlmbench.schema import Sample
from vlmbench.scoring import get_scorer
from vlmbench.taskspec import TaskSpec

PROTOCOL_VERSION = "1"


def protocol(
    spec: TaskSpec,
    samples: Sequence[Sample],
    style: str,
    params: GenerationParams,
    image_ablation: str | None = None,
) -> dict[str, Any]:
    """The protocol as a plain dict (stored in run records beside its hash). An image ablation enters only
    when set, so the hashes of ordinary runs are those of before it existed."""
    extractor = get_extractor(spec.extractor)
    scorer = get_scorer(spec.scorer)
    proto = {
        "protocol_version": PROTOCOL_VERSION,
        "task": spec.name,
        "task_version": spec.version,
        "dataset_fingerprint": dataset_fingerprint(samples),
        "prompts_fingerprint": prompts_fingerprint(spec, samples, style),
        "n": len(samples),
        "prompt_style": style,
        "prompt_template": spec.prompts.templates[style],
        "choice_format": spec.prompts.choice_format,
        "system_prompt": spec.prompts.system,
        "extractor": {"name": extractor.name, "version": extractor.version},
        "scorer": {"id": scorer.id, "version": scorer.version},
        "generation": params.to_dict(),
    }
    if image_ablation:
        proto["image_ablation"] = image_ablation
    source = data_source(samples)
    if source is not None:  # hub loads only: dataset, split and the commit read (local runs unchanged)
        proto["data_source"] = source
    return proto


def prompts_fingerprint(spec: TaskSpec, samples: Sequence[Sample], style: str) -> str:
    """sha256 of every rendered prompt: prompts also read `meta` (ScienceQA's hint, MathVista's query),
    which the dataset fingerprint leaves out."""
    digest = hashlib.sha256()
    for sample in samples:
        digest.update(render_prompt(spec, sample, style).encode("utf-8") + b"\n\x00")
    return digest.hexdigest()


def judged_protocol(proto: Mapping[str, Any], model: str, prompt_sha256: str) -> dict[str, Any]:
    """The protocol of a judged column (`--judge`): the task's protocol plus the judge model and the hash
    of the judge prompt, so a judged score is comparable only with scores of the same judge."""
    return {**proto, "judge": {"model": model, "prompt_sha256": prompt_sha256}}


def protocol_hash(proto: dict[str, Any]) -> str:
    return canonical_hash(proto)
