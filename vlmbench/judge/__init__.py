"""LLM answer extraction for tasks whose reference pipeline has one (MathVista): `--judge openai:MODEL@URL`.

The task file declares the reference's extraction prompt (`judge:`); the reference's own rules run
first (`Scorer.judge_rules`), the judge reads only what they cannot, and its answer goes through the
task's official normalisation and equality (`Scorer.from_extracted`). Every judge call is cached on disk,
so rescoring is free and offline; a failed call is a per-sample error with its reason, never "". Judged
scores are their own column (`official+judge:MODEL`, under a protocol hash that includes the judge) and
are never mixed with the rule-based ones.
"""

from vlmbench.judge.cache import JudgeCache
from vlmbench.judge.client import Judge, Verdict
from vlmbench.judge.prompt import judge_prompt, judge_sha256
from vlmbench.judge.scoring import JudgedScore, judge_samples, judged_summary, judged_tasks
from vlmbench.judge.target import JudgeTarget

__all__ = [
    "Judge",
    "JudgeCache",
    "JudgeTarget",
    "JudgedScore",
    "Verdict",
    "judge_prompt",
    "judge_samples",
    "judge_sha256",
    "judged_summary",
    "judged_tasks",
]
