"""`vlmbench compare RUN_A RUN_B`: a paired comparison of two runs on the samples both scored.

Both runs answered the same items, so the right test is a paired one: the exact McNemar test on the
items that flipped with Newcombe's paired interval for the difference (0/1 scores; a paired bootstrap
for partial-credit scores), and a paired
bootstrap for every other per-sample metric (output tokens, seconds, steps, step accuracy). An
unpaired test on paired data - two accuracies and their separate intervals - wastes most of the
information and calls real differences noise.

Items are paired on the intersection of sample ids, so a run that stopped early is compared on what
it finished. McNemar treats items as independent; where several questions share an image (GQA,
ChartQA, ScienceQA), their errors are correlated and its p-value is a little optimistic, so the
comparison also reports a cluster bootstrap of the difference (whole images resampled together) with
its own interval and p-value, and every other paired metric is bootstrapped by cluster. Clusters come
from the items recorded in the rows (`vlmbench.metrics.cluster_key`). Runs are only read, never
repaired or changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from vlmbench.errors import VlmbenchError
from vlmbench.metrics import cluster_key
from vlmbench.metrics.efficiency import output_tokens
from vlmbench.metrics.reasoning import count_backtracks, segment_steps, split_chain, step_accuracy
from vlmbench.records.rundir import RUN_FILE, RunStore, sample_from_row
from vlmbench.stats import PairedResult, mcnemar_exact, paired_bootstrap, paired_proportion_interval

ALPHA = 0.05
SCORE_KEYS = ("official", "robust")


@dataclass
class TaskComparison:
    """One task's paired comparison: `diff` is score(A) - score(B) on the shared items."""

    task: str
    metric: str
    n: int
    n_only_a: int
    n_only_b: int
    same_protocol: bool
    score_a: float
    score_b: float
    diff: float
    ci95: tuple[float, float]
    test: str  # "mcnemar_exact" (0/1 scores) or "paired_bootstrap"
    p_value: float
    a_right_b_wrong: list[str]
    a_wrong_b_right: list[str]
    paired: dict[str, PairedResult] = field(default_factory=dict)
    n_clusters: int = 0  # images (or items) the shared samples fall in
    clustered: PairedResult | None = None  # the difference by cluster bootstrap, when items share images
    protocol_fields: list[str] = field(default_factory=list)  # top-level protocol keys that differ
    # "A" or "B" when that run is the other's items with images ablated and nothing else differs: the
    # difference is then the other run's visual gain (A - B when B is ablated)
    ablated: str | None = None

    @property
    def significant(self) -> bool:
        return self.p_value < ALPHA

    def headline(self) -> dict[str, Any]:
        """The paired result in brief (no id lists, no other metrics): what a training summary records."""
        return {
            "diff": self.diff,
            "ci95": list(self.ci95),
            "test": self.test,
            "p_value": self.p_value,
            "n": self.n,
            "same_protocol": self.same_protocol,
            "better": len(self.a_right_b_wrong),
            "worse": len(self.a_wrong_b_right),
        }

    def to_json(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "metric": self.metric,
            "n": self.n,
            "n_only_a": self.n_only_a,
            "n_only_b": self.n_only_b,
            "same_protocol": self.same_protocol,
            "protocol_fields": self.protocol_fields,
            "ablated": self.ablated,
            "score_a": self.score_a,
            "score_b": self.score_b,
            "diff": self.diff,
            "ci95": list(self.ci95),
            "test": self.test,
            "p_value": self.p_value,
            "significant": self.significant,
            "a_right_b_wrong": self.a_right_b_wrong,
            "a_wrong_b_right": self.a_wrong_b_right,
            "paired": {name: result.to_json() for name, result in self.paired.items()},
            "n_clusters": self.n_clusters,
            "clustered": self.clustered.to_json() if self.clustered is not None else None,
        }


@dataclass
class Comparison:
    run_a: Path
    run_b: Path
    tasks: list[TaskComparison]
    alpha: float = ALPHA

    def to_json(self) -> dict[str, Any]:
        return {
            "run_a": str(self.run_a),
            "run_b": str(self.run_b),
            "alpha": self.alpha,
            "tasks": [t.to_json() for t in self.tasks],
        }


def read_run(root: Path) -> dict[str, Any]:
    """A run's run.json; a clear error naming the file when it is missing or malformed."""
    root = Path(root)
    if not root.is_dir():
        raise VlmbenchError(f"{root}: not a run directory")
    record = RunStore(root).read_run()
    if record is None:
        raise VlmbenchError(f"{root / RUN_FILE}: no run record (is this a `vlmbench eval` run directory?)")
    return record


def _score(row: dict[str, Any], metric: str, path: Path) -> float:
    value = row.get(metric)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise VlmbenchError(f"{path}: sample {row['id']!r} has no numeric {metric!r} score")
    return float(value)


def _cluster(row: dict[str, Any]) -> str:
    """The image cluster of a recorded row (its own id for rows recorded without their item)."""
    return cluster_key(sample_from_row(row)) if "sample" in row else row["id"]


def _chain_values(row: dict[str, Any]) -> dict[str, float | None]:
    """Per-sample metrics read from the raw output alone (no Sample needed)."""
    chain = split_chain(row.get("output") or "")
    check = step_accuracy(chain.reasoning)
    return {
        "output_tokens": float(output_tokens(row)),
        "seconds": float(row.get("seconds") or 0.0),
        "steps": float(len(segment_steps(chain.reasoning))),
        "backtracks": float(count_backtracks(chain.reasoning)),
        "step_accuracy": check.accuracy,
    }


def compare_task(
    run_a: Path,
    run_b: Path,
    record_a: dict[str, Any],
    record_b: dict[str, Any],
    task: str,
    metric: str = "official",
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> TaskComparison:
    """The paired comparison of one task present in both runs."""
    path_a = RunStore(run_a).samples_path(task)
    path_b = RunStore(run_b).samples_path(task)
    rows_a, rows_b = RunStore(run_a).done_rows(task), RunStore(run_b).done_rows(task)
    shared = [i for i in rows_a if i in rows_b]
    if not shared:
        raise VlmbenchError(f"{path_a} and {path_b}: no sample ids in common for task {task!r}")
    a = [_score(rows_a[i], metric, path_a) for i in shared]
    b = [_score(rows_b[i], metric, path_b) for i in shared]
    clusters = [_cluster(rows_a[i]) for i in shared]
    n_clusters = len(set(clusters))
    shares_images = n_clusters < len(shared)
    groups = clusters if shares_images else None
    overall = paired_bootstrap(a, b, n_boot=n_boot, seed=seed)
    clustered = paired_bootstrap(a, b, groups, n_boot=n_boot, seed=seed) if shares_images else None
    binary = all(v in (0.0, 1.0) for v in a + b)
    a_only = [i for i, x, y in zip(shared, a, b, strict=True) if x > y]
    b_only = [i for i, x, y in zip(shared, a, b, strict=True) if y > x]
    p_value = mcnemar_exact(len(a_only), len(b_only)) if binary else overall.p_value
    ci95 = overall.ci95
    if binary:
        both = sum(1 for x, y in zip(a, b, strict=True) if x == y == 1.0)
        ci95 = paired_proportion_interval(
            both, len(a_only), len(b_only), len(shared) - both - len(a_only) - len(b_only)
        )
    values_a = [_chain_values(rows_a[i]) for i in shared]
    values_b = [_chain_values(rows_b[i]) for i in shared]
    paired: dict[str, PairedResult] = {}
    other = [
        k
        for k in SCORE_KEYS
        if k != metric and all(isinstance(rows_a[i].get(k), int | float) for i in shared)
    ]
    for key in other:
        xs = [float(rows_a[i][key]) for i in shared]
        ys = [float(rows_b[i].get(key) or 0.0) for i in shared]
        paired[key] = paired_bootstrap(xs, ys, groups, n_boot=n_boot, seed=seed)
    for key in values_a[0]:
        triples = [(x[key], y[key], c) for x, y, c in zip(values_a, values_b, clusters, strict=True)]
        triples = [(x, y, c) for x, y, c in triples if x is not None and y is not None]
        if key == "seconds" and not any(x or y for x, y, _ in triples):
            continue  # untimed backends (baselines) record no time
        if triples:
            xs, ys, cs = ([t[k] for t in triples] for k in range(3))
            paired[key] = paired_bootstrap(xs, ys, cs if shares_images else None, n_boot=n_boot, seed=seed)
    hash_a = record_a["tasks"][task].get("protocol_hash")
    hash_b = record_b["tasks"][task].get("protocol_hash")
    proto_a = record_a["tasks"][task].get("protocol") or {}
    proto_b = record_b["tasks"][task].get("protocol") or {}
    differing = sorted(k for k in set(proto_a) | set(proto_b) if proto_a.get(k) != proto_b.get(k))
    return TaskComparison(
        task=task,
        metric=metric,
        n=len(shared),
        n_only_a=len(rows_a) - len(shared),
        n_only_b=len(rows_b) - len(shared),
        same_protocol=hash_a is not None and hash_a == hash_b,
        score_a=overall.mean_a,
        score_b=overall.mean_b,
        diff=overall.diff,
        ci95=ci95,
        test="mcnemar_exact" if binary else "paired_bootstrap",
        p_value=p_value,
        a_right_b_wrong=a_only,
        a_wrong_b_right=b_only,
        paired=paired,
        n_clusters=n_clusters,
        clustered=clustered,
        protocol_fields=differing,
        ablated=_ablated_side(proto_a, proto_b, differing),
    )


def _ablated_side(proto_a: dict[str, Any], proto_b: dict[str, Any], differing: list[str]) -> str | None:
    """Which run ("A" / "B") is the other's items with images ablated, when nothing else differs."""
    if differing != ["image_ablation"]:
        return None
    if proto_b.get("image_ablation") and not proto_a.get("image_ablation"):
        return "B"
    if proto_a.get("image_ablation") and not proto_b.get("image_ablation"):
        return "A"
    return None  # both ablated, in different ways


def compare_runs(
    run_a: Path,
    run_b: Path,
    task: str | None = None,
    metric: str = "official",
    *,
    n_boot: int = 1000,
    seed: int = 0,
) -> Comparison:
    """Compare two run directories task by task (every task both ran, or only `task`)."""
    if metric not in SCORE_KEYS:
        raise VlmbenchError(f"unknown metric {metric!r}; choose one of {', '.join(SCORE_KEYS)}")
    run_a, run_b = Path(run_a), Path(run_b)
    record_a, record_b = read_run(run_a), read_run(run_b)
    if task is not None:
        from vlmbench.registry import task_aliases

        task = task_aliases().get(task, task)  # an alias names the task its runs recorded
        for root, record in ((run_a, record_a), (run_b, record_b)):
            if task not in record["tasks"]:
                known = ", ".join(sorted(record["tasks"])) or "none"
                raise VlmbenchError(f"{root / RUN_FILE}: task {task!r} is not in this run (it has: {known})")
        names = [task]
    else:
        names = [t for t in record_a["tasks"] if t in record_b["tasks"]]
        if not names:
            raise VlmbenchError(f"{run_a} and {run_b}: no task in common")
    tasks = [
        compare_task(run_a, run_b, record_a, record_b, name, metric, n_boot=n_boot, seed=seed)
        for name in names
    ]
    return Comparison(run_a, run_b, tasks)


def legend(result: Comparison) -> list[str]:
    """One line per mark and column a comparison table prints, so no symbol is left to guess."""
    lines = [
        "A, B: each run's score on the shared samples; A-B: their difference with its 95% interval",
        "p: two-sided p-value of the test named in `test` (mcnemar_exact: exact McNemar on flipped samples)",
        "A>B / B>A: samples A got right and B wrong / B right and A wrong",
        "*: p < 0.05 (two-sided; not corrected for comparing several tasks)",
        "-: no value (nothing measurable for that metric)",
    ]
    if any(not t.same_protocol and not t.ablated for t in result.tasks):
        lines.append("(!): the runs used different protocols for that task, so the scores are not comparable")
    return lines
