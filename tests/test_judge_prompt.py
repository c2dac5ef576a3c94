"""The judge's request is assembled exactly as MathVista's `create_test_prompt` does, from the task file."""

from __future__ import annotations

import pytest

from vlmbench.judge import judge_prompt, judge_sha256
from vlmbench.registry import get_task
from vlmbench.taskspec import JudgeSpec

TASK = get_task("mathvista_testmini")


def test_mathvista_declares_its_reference_extractor() -> None:
    judge = TASK.judge
    assert judge is not None
    assert judge.query == "query" and judge.max_tokens == 256 and judge.temperature == 0.0
    assert "lupantech/MathVista" in judge.source
    assert judge.instructions.startswith("Please read the following example. Then extract the answer")
    assert judge.instructions.count("Extracted answer:") == 5  # five few-shot examples
    # the reference keeps the literal backslash-n of its multiple-choice example
    assert "What fraction of the shape is blue?\\nChoices:\\n(A) 3/11" in judge.instructions


def test_the_request_is_demo_then_query_then_response_then_the_cue(shared_items) -> None:
    sample = next(s for s in shared_items("mathvista") if s.id == "2")
    text = judge_prompt(TASK, sample, "The cup holds 250 grams.")
    query = sample.meta["query"]
    assert (
        text
        == f"{TASK.judge.instructions.strip()}\n\n{query}\n\nThe cup holds 250 grams.\n\nExtracted answer: "
    )
    assert query.startswith("Hint: Please answer the question requiring an integer answer")


def test_a_response_with_braces_is_sent_as_written(shared_items) -> None:
    sample = shared_items("mathvista")[0]
    assert judge_prompt(TASK, sample, "x = {query} {0}").count("x = {query} {0}") == 1


def test_the_prompt_hash_follows_what_the_judge_is_asked_not_where_it_came_from() -> None:
    base = TASK.judge.model_dump()
    other_source = TASK.model_copy(update={"judge": JudgeSpec(**{**base, "source": "elsewhere"})})
    other_prompt = TASK.model_copy(update={"judge": JudgeSpec(**{**base, "instructions": "Extract."})})
    assert judge_sha256(other_source) == judge_sha256(TASK)
    assert judge_sha256(other_prompt) != judge_sha256(TASK)


@pytest.mark.parametrize(
    "template",
    ["{instructions} {query}", "{instructions} {response} {image}"],
    ids=["no-response", "unknown"],
)
def test_a_judge_template_must_place_the_response_and_name_only_known_fields(template: str) -> None:
    with pytest.raises(ValueError, match="judge template"):
        JudgeSpec(source="x", instructions="y", template=template)
