"""The protocol hash (DESIGN.md, "Protocol hash"): everything that decides a score except the model.

The golden values below pin the canonical protocol of one fixed setting. If this test fails, a change
altered what two runs need to share to be comparable. That must be deliberate: bump
`vlmbench.records.protocol.PROTOCOL_VERSION` (old and new records are then visibly incomparable) and
update the golden values in the same commit - never just the hash.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from realdata import shared_data_dir

from vlmbench.data import load_samples
from vlmbench.extract import EXTRACTORS
from vlmbench.models import GenerationParams
from vlmbench.records.protocol import PROTOCOL_VERSION, protocol, protocol_hash
from vlmbench.registry import get_task
from vlmbench.runner import EvalConfig, evaluate
from vlmbench.scoring.multiple_choice import Geometry3KScorer
from vlmbench.synth import generate
from vlmbench.taskspec import TaskSpec

GOLDEN_PROTOCOL = {
    "protocol_version": "1",
    "task": "synth_geometry",
    "task_version": "1.0",
    "dataset_fingerprint": "157a44b6239507579d0ddabab5c76c0d916f37d53e0b99cbc3ec80e697c912fa",
    "prompts_fingerprint": "b20caae6aa5b6ed98d861b5bd7e281dbe670b5e3f0b14b5f7e59ec3776d753be",
    "n": 5,
    "prompt_style": "direct",
    "prompt_template": (
        "{question}\n{choices}\nAnswer with the option's letter from the given choices directly."
    ),
    "choice_format": "{letter}. {choice}",
    "system_prompt": None,
    "extractor": {"name": "choice", "version": "1"},
    "scorer": {"id": "geometry3k", "version": "1"},
    "generation": {"max_new_tokens": 16, "temperature": 0.0, "top_p": 1.0, "seed": 0},
}
GOLDEN_HASH = "ec8c85160044d810c5f4ef882d677acb88b83a7ed92a1a43a3a2f6b4ee36c7cd"


@pytest.fixture(scope="module")
def spec() -> TaskSpec:
    return get_task("synth_geometry")


@pytest.fixture(scope="module")
def samples():
    return generate("geometry", 5, 1, 0)


PARAMS = GenerationParams(max_new_tokens=16)


def _hash(spec: TaskSpec, samples, style: str = "direct", params: GenerationParams = PARAMS) -> str:
    return protocol_hash(protocol(spec, samples, style, params))


def _with_prompts(spec: TaskSpec, **changes) -> TaskSpec:
    return spec.model_copy(update={"prompts": spec.prompts.model_copy(update=changes)})


def test_golden_protocol_and_hash(spec, samples) -> None:
    assert PROTOCOL_VERSION == "1", "a new PROTOCOL_VERSION needs new golden values below"
    assert protocol(spec, samples, "direct", PARAMS) == GOLDEN_PROTOCOL
    assert protocol_hash(GOLDEN_PROTOCOL) == GOLDEN_HASH
    assert _hash(spec, samples) == GOLDEN_HASH


def test_hash_is_canonical_json_independent_of_key_order() -> None:
    shuffled = dict(reversed(list(GOLDEN_PROTOCOL.items())))
    assert protocol_hash(shuffled) == GOLDEN_HASH


def test_task_version_changes_the_hash(spec, samples) -> None:
    assert _hash(spec.model_copy(update={"version": "1.1"}), samples) != GOLDEN_HASH


def test_prompt_style_template_format_and_system_prompt_change_the_hash(spec, samples) -> None:
    changed_template = {**spec.prompts.templates, "direct": spec.prompts.templates["direct"] + " "}
    variants = {
        "style": _hash(spec, samples, style="cot"),
        "template": _hash(_with_prompts(spec, templates=changed_template), samples),
        "choice_format": _hash(_with_prompts(spec, choice_format="({letter}) {choice}"), samples),
        "system": _hash(_with_prompts(spec, system="You are a careful geometer."), samples),
    }
    assert GOLDEN_HASH not in variants.values(), variants
    assert len(set(variants.values())) == len(variants), variants


def test_extractor_and_scorer_versions_change_the_hash(spec, samples, monkeypatch) -> None:
    with monkeypatch.context() as patch:
        patch.setitem(EXTRACTORS, "choice", dataclasses.replace(EXTRACTORS["choice"], version="2"))
        extractor_bumped = _hash(spec, samples)
    with monkeypatch.context() as patch:
        patch.setattr(Geometry3KScorer, "version", "2")
        scorer_bumped = _hash(spec, samples)
    other_extractor = _hash(spec.model_copy(update={"extractor": "by_answer_type"}), samples)
    assert _hash(spec, samples) == GOLDEN_HASH  # the patches are gone again
    assert len({GOLDEN_HASH, extractor_bumped, scorer_bumped, other_extractor}) == 4


@pytest.mark.parametrize(
    "params",
    [
        GenerationParams(max_new_tokens=17),
        GenerationParams(max_new_tokens=16, temperature=0.7),
        GenerationParams(max_new_tokens=16, top_p=0.9),
        GenerationParams(max_new_tokens=16, seed=1),
    ],
    ids=["max_new_tokens", "temperature", "top_p", "seed"],
)
def test_every_generation_param_changes_the_hash(spec, samples, params) -> None:
    assert _hash(spec, samples, params=params) != GOLDEN_HASH


def test_dataset_changes_the_hash(spec, samples) -> None:
    one_gold_changed = [*samples[:2], dataclasses.replace(samples[2], answer="9"), *samples[3:]]
    assert samples[2].answer != "9"
    assert _hash(spec, one_gold_changed) != GOLDEN_HASH
    assert _hash(spec, samples[:4]) != GOLDEN_HASH  # an item fewer
    assert _hash(spec, list(reversed(samples))) != GOLDEN_HASH  # another order


@pytest.mark.parametrize(
    ("model", "batch_size"),
    [("random", 1), ("random", 4), ("first-choice", 2), ("majority", 5)],
)
def test_runs_store_the_golden_hash_whatever_the_model_or_batch_size(
    tmp_path: Path, model: str, batch_size: int
) -> None:
    """The runner's stored hash for the same setting is the golden one: the model and the batch size
    do not enter the protocol, so baseline rows and model rows stay comparable."""
    config = EvalConfig(
        model=model, tasks="synth_geometry", synth={"n": 5}, batch_size=batch_size, output_dir=tmp_path
    )
    _, record = evaluate(config)
    task = record["tasks"]["synth_geometry"]
    assert task["protocol"] == GOLDEN_PROTOCOL
    assert task["protocol_hash"] == GOLDEN_HASH


def test_prompt_text_from_meta_enters_the_protocol():
    """ScienceQA's context line comes from meta.hint, which the dataset fingerprint leaves out."""
    spec = get_task("scienceqa_img")
    samples = load_samples(spec, shared_data_dir(), limit=3)
    params = GenerationParams(max_new_tokens=16)
    before = protocol_hash(protocol(spec, samples, "direct", params))
    hinted = [
        dataclasses.replace(samples[0], meta={**samples[0].meta, "hint": "A new context."}),
        *samples[1:],
    ]
    assert protocol_hash(protocol(spec, hinted, "direct", params)) != before
