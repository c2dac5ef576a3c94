"""The judge's request for one response, assembled exactly as the task file's reference template says."""

from __future__ import annotations

from vlmbench.prompts import prompt_fields
from vlmbench.records.hashing import canonical_hash
from vlmbench.schema import Sample
from vlmbench.taskspec import JudgeSpec, TaskSpec


def _spec(task: TaskSpec) -> JudgeSpec:
    if task.judge is None:
        raise ValueError(f"task {task.name!r} declares no judge")
    return task.judge


def judge_prompt(task: TaskSpec, sample: Sample, response: str) -> str:
    """The text the judge receives (format fields are substituted once: a response holding `{x}` is
    sent as written)."""
    judge = _spec(task)
    query = prompt_fields(task, sample)[judge.query]
    return judge.template.format(instructions=judge.instructions.strip(), query=query, response=response)


def judge_sha256(task: TaskSpec) -> str:
    """The judge prompt's identity in the protocol: everything that decides what the judge is asked
    (not `source`, which only says where it came from)."""
    return canonical_hash(_spec(task).model_dump(exclude={"source"}))
