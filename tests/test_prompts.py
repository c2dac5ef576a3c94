"""Prompt rendering (`vlmbench.prompts.render_prompt`) from each task's templates.

Rendered for the real developer items in `shared/data` (read in place, skipped where absent) and, for
the tasks that have none there (AI2D, NLVR2, UniGeo), for small test samples.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from pydantic import ValidationError
from realdata import shared_data_dir

from vlmbench.data import load_samples
from vlmbench.errors import TaskSpecError, VlmbenchError
from vlmbench.prompts import render_prompt
from vlmbench.registry import get_task, load_task_file, task_names
from vlmbench.schema import LETTERS, Sample
from vlmbench.taskspec import PROMPT_FIELDS, Prompts

_REPO = Path(__file__).resolve().parents[1]
WITH_REAL_ITEMS = [
    "chartqa",
    "geometry3k",
    "gqa_testdev_balanced",
    "mathvista_testmini",
    "scienceqa_img",
    "vcr",
]
STYLES = ["direct", "cot"]
PLACEHOLDER = re.compile("|".join(re.escape(f"{{{name}}}") for name in sorted(PROMPT_FIELDS)))


def check_rendered(prompt: str, sample: Sample, template: str) -> None:
    """Everything the model must see is there, and no template syntax is left over."""
    question = sample.question.strip()
    query = str(sample.meta.get("query") or "") if "{query}" in template else ""
    assert question in prompt  # for MathVista: inside its query
    if query:
        assert query in prompt
    for choice in sample.choices or []:
        assert choice in prompt, choice
    # remove the sample's own text (which may hold braces, e.g. LaTeX); nothing brace-like may remain
    residue = prompt
    for text in sorted(
        [query, question, str(sample.meta.get("hint") or ""), *(sample.choices or [])], key=len
    )[::-1]:
        residue = residue.replace(text, "") if text else residue
    assert not PLACEHOLDER.search(prompt)
    assert "{" not in residue and "}" not in residue, residue
    assert prompt == prompt.strip() and prompt


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("task", WITH_REAL_ITEMS)
def test_every_template_renders_every_real_item(task: str, style: str) -> None:
    spec = get_task(task)
    samples = load_samples(spec, shared_data_dir())
    assert samples
    for sample in samples:
        check_rendered(render_prompt(spec, sample, style), sample, spec.prompts.templates[style])


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("task", [t for t in WITH_REAL_ITEMS if t != "mathvista_testmini"])
def test_options_are_listed_one_a_line_with_their_letters(task: str, style: str) -> None:
    spec = get_task(task)
    for sample in load_samples(spec, shared_data_dir()):
        prompt = render_prompt(spec, sample, style)
        for letter, choice in zip(LETTERS, sample.choices or [], strict=False):
            assert f"\n{letter}. {choice}" in prompt or prompt.startswith(f"{letter}. {choice}")


def test_scienceqa_context_line_appears_only_with_a_hint() -> None:
    spec = get_task("scienceqa_img")
    samples = load_samples(spec, shared_data_dir())
    with_hint = [s for s in samples if str(s.meta.get("hint") or "").strip()]
    without = [s for s in samples if not str(s.meta.get("hint") or "").strip()]
    assert with_hint and without  # the real items have both
    for sample in with_hint:
        for style in STYLES:
            prompt = render_prompt(spec, sample, style)
            assert prompt.startswith(f"Context: {sample.meta['hint'].strip()}\n{sample.question}")
    for sample in without:
        for style in STYLES:
            prompt = render_prompt(spec, sample, style)
            assert "Context:" not in prompt
            assert prompt.startswith(sample.question)


def test_mathvista_direct_prompt_is_the_official_query() -> None:
    spec = get_task("mathvista_testmini")
    samples = load_samples(spec, shared_data_dir())
    assert samples
    for sample in samples:
        assert render_prompt(spec, sample, "direct") == sample.meta["query"]
        cot = render_prompt(spec, sample, "cot")
        assert cot.startswith(sample.meta["query"]) and cot != sample.meta["query"]


def test_vcr_rationale_prompt_carries_the_gold_answer() -> None:
    spec = get_task("vcr")
    q2a, qa2r = load_samples(spec, shared_data_dir())
    prompt = render_prompt(spec, qa2r)
    assert f"Answer: {q2a.answer}" in prompt
    assert all(f"{letter}. {r}" in prompt for letter, r in zip(LETTERS, qa2r.choices or [], strict=False))


# --- every task, test samples ------------------------------------------------------------------------


def sample_for(task: str) -> Sample:
    """A small test sample of the kind the task holds (not a real benchmark item)."""
    spec = get_task(task)
    if spec.answer_type == "multiple_choice":
        return Sample(
            id="t", question="Which angle is largest?", answer="60", answer_type="multiple_choice",
            choices=["30", "45", "60"], meta={"hint": "Angles in degrees."},
        )  # fmt: skip
    if spec.answer_type == "boolean":
        return Sample(id="t", question="There are two dogs.", answer="True", answer_type="boolean")
    return Sample(id="t", question="What is the value of the bar?", answer="14", answer_type="integer")


@pytest.mark.parametrize("task", task_names())
def test_every_task_template_renders_a_test_sample(task: str) -> None:
    spec = get_task(task)
    sample = sample_for(task)
    assert set(STYLES) <= set(spec.prompts.templates)
    for style in spec.prompts.templates:
        check_rendered(render_prompt(spec, sample, style), sample, spec.prompts.templates[style])
    assert render_prompt(spec, sample) == render_prompt(spec, sample, spec.prompts.default)


@pytest.mark.parametrize(
    "question",
    [
        "<image>\nWhat is the value of the bar?",
        "<image> What is the value of the bar?",
        "<IMAGE>\n<image>\nWhat is the value of the bar?",
    ],
)
def test_image_placeholders_are_stripped_from_the_question(question: str) -> None:
    spec = get_task("chartqa")
    sample = Sample(id="t", question=question, answer="14", answer_type="integer")
    prompt = render_prompt(spec, sample, "direct")
    assert "<image>" not in prompt.lower()
    assert prompt.startswith("What is the value of the bar?\n")


def test_unknown_style_is_an_error_listing_the_known_styles() -> None:
    spec = get_task("chartqa")
    sample = Sample(id="t", question="q?", answer="1", answer_type="integer")
    with pytest.raises(VlmbenchError) as err:
        render_prompt(spec, sample, "fewshot")
    message = str(err.value)
    assert "'fewshot'" in message and "'chartqa'" in message
    assert "cot" in message and "direct" in message


def test_letters_field_and_choice_format_follow_the_task() -> None:
    prompts = Prompts(
        templates={"direct": "{question}\n{choices}\nPick one of {letters}.", "cot": "{question}"},
        choice_format="({letter}) {choice}",
    )
    spec = get_task("ai2d").model_copy(update={"prompts": prompts})
    sample = Sample(id="t", question="Q?", answer="b", answer_type="multiple_choice", choices=["a", "b", "c"])
    assert render_prompt(spec, sample, "direct") == "Q?\n(A) a\n(B) b\n(C) c\nPick one of A, B, C."


def test_hint_and_context_fields_render_from_meta_hint() -> None:
    prompts = Prompts(templates={"direct": "[{hint}] {context}{question}", "cot": "{question}"})
    spec = get_task("scienceqa_img").model_copy(update={"prompts": prompts})
    hinted = Sample(id="t", question="Q?", answer="1", answer_type="integer", meta={"hint": "  H  "})
    plain = Sample(id="u", question="Q?", answer="1", answer_type="integer", meta={"hint": "   "})
    assert render_prompt(spec, hinted, "direct") == "[H] Context: H\nQ?"
    assert render_prompt(spec, plain, "direct") == "[] Q?"


# --- template validation ------------------------------------------------------------------------------


def test_template_with_an_unknown_field_is_rejected_by_the_schema() -> None:
    with pytest.raises(ValidationError) as err:
        Prompts(templates={"direct": "{question} {foo}", "cot": "{question}"})
    assert "{foo}" in str(err.value)


def test_templates_must_include_direct_and_cot() -> None:
    with pytest.raises(ValidationError, match="cot"):
        Prompts(templates={"direct": "{question}"})


def test_task_file_with_an_unknown_template_field_names_the_file_and_line(tmp_path: Path) -> None:
    source = (_REPO / "tasks" / "chartqa.yaml").read_text(encoding="utf-8")
    original = 'direct: "{question}\\nAnswer the question'
    assert original in source
    path = tmp_path / "chartqa.yaml"
    path.write_text(source.replace(original, 'direct: "{foo}\\nAnswer the question'), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()
    prompts_line = lines.index("prompts:") + 1
    foo_line = next(n for n, text in enumerate(lines, start=1) if "{foo}" in text)
    with pytest.raises(TaskSpecError) as err:
        load_task_file(path)
    message = str(err.value)
    assert "{foo}" in message and "direct" in message
    located = re.match(rf"{re.escape(str(path))}:(\d+): ", message)
    assert located, message
    assert prompts_line <= int(located.group(1)) <= foo_line  # points into the prompts block
