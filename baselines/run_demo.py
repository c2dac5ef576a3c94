"""The demo of issue 7: SFT a tiny VLM that sees on a procedural task, then GRPO, DPO and PPO from that
checkpoint, each evaluated on the same held-out items under the same protocol, with its visual gain and a
paired exact McNemar test against SFT, and the verdict in words.

    python baselines/run_demo.py --out demo-runs            # 4 min 52 s on 2 idle CPU cores
    python baselines/run_demo.py --out demo-runs --sweep 1  # the RL sweep, round 1, on validation items

Everything goes through the public entry points (`train_adapters.cli.train_baseline`, which trains and
then evaluates with `vlmbench.runner.evaluate`; `vlmbench.compare.compare_runs` for the exact McNemar
test), so the numbers are those a user gets from `vlmbench train-baseline`. Each checkpoint is also
evaluated with every image blanked (`eval.visual_gain`); the paired difference is its visual gain.
Each stage trains into a folder of its own, `<out>/<algo>/<algo>-<start>-<config hash[:8]>/`, with every
eval run in `<out>/runs/`; a rerun of the script reuses the newest finished SFT stage (`<out>/sft/latest`) and
trains the RL stages again into new folders, never over the old ones.

The model is the tiny random-weight LLaVA (`make_tiny_model`: 64 image tokens, 0.2 M parameters). The
task is `synth_shapes` at difficulty 2 (colour, shape and count of 1-4 large shapes), trained on the
shapes ladder (difficulties 1-3). Test items are the task's seed 0; the RL settings were chosen by
`--sweep` on validation items (seed `VAL_SEED`), never on the test items (docs/training.md).
Results land in `<out>/demo_results.json` and are printed as a table and one verdict line per stage.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

ALPHA = 0.05
VAL_SEED = 5  # the RL sweep's validation items; the test items are the task's own seed (0)
TRAIN_SEED = 1  # training items (SFT and RL alike): held out from both
# What every stage shares: the eval items (difficulty 2 of synth_shapes), short answers, blank-image runs.
COMMON = ["save_steps=0", "logging_steps=25", "max_completion_length=8", "eval.batch_size=32",
          "eval.visual_gain=true", "eval.difficulty=2", f"data.train_seed={TRAIN_SEED}"]  # fmt: skip
# SFT: the shipped recipe (baselines/sft.yaml) as it is; see docs/training.md for why these values.
SFT: list[str] = []
# The RL stages from the SFT checkpoint, as chosen by `--sweep` on the validation items (docs/training.md).
RL: dict[str, list[str]] = {
    "grpo": ["max_steps=150", "learning_rate=1e-4", "batch_size=32", "grpo.num_generations=8",
             "grpo.beta=0.0", "grpo.loss_type=dr_grpo", "rewards.format=0.0", "data.train_n=1200"],
    "dpo": ["max_steps=100", "learning_rate=1e-5", "batch_size=8", "dpo.k=8", "dpo.beta=0.1",
            "rewards.format=0.0", "data.train_n=800"],
    "ppo": ["max_steps=500", "learning_rate=3e-4", "batch_size=16", "ppo.init_kl_coef=0.1",
            "rewards.format=0.0", "data.train_n=2400"],
}  # fmt: skip
SWEEP_BASE = {
    "grpo": ["learning_rate=3e-4"],
    "dpo": ["learning_rate=1e-4"],
    "ppo": ["max_steps=150", "learning_rate=1e-4", "ppo.init_kl_coef=0.02"],
}
RL_DATA = ["data.difficulty=2", "data.curriculum=null"]  # RL trains on the eval's distribution
# The sweep, in rounds (docs/training.md): round 1 a few settings per algorithm (learning rate, KL beta,
# generations); round 2 longer runs around round 1's best. Each setting overrides SWEEP_BASE (the RL
# lists as they were when the sweep ran: GRPO 150 steps, DPO 100, PPO 150, KL coefficient 0.02).
SWEEP: list[dict[str, list[list[str]]]] = [
    {
        "grpo": [
            ["learning_rate=1e-4"], ["learning_rate=3e-4"], ["learning_rate=1e-3"],
            ["learning_rate=3e-4", "grpo.beta=0.04"], ["learning_rate=3e-4", "grpo.num_generations=4"],
        ],
        "dpo": [["learning_rate=3e-5"], ["learning_rate=1e-4"], ["learning_rate=3e-4"], ["dpo.beta=0.3"]],
        "ppo": [
            ["learning_rate=3e-5"], ["learning_rate=1e-4"], ["learning_rate=3e-4"], ["ppo.init_kl_coef=0.1"],
        ],
    },
    {
        "grpo": [
            ["learning_rate=1e-4", "max_steps=500"], ["learning_rate=3e-5", "max_steps=500"],
            ["learning_rate=1e-4", "max_steps=500", "grpo.beta=0.04"],
        ],
        "dpo": [["learning_rate=1e-5"], ["learning_rate=3e-5", "dpo.beta=0.3"]],
        "ppo": [["learning_rate=1e-4", "ppo.init_kl_coef=0.1", "max_steps=500"],
                ["learning_rate=3e-4", "ppo.init_kl_coef=0.1", "max_steps=500"]],
    },
]  # fmt: skip


def say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def paired(run_a: Path, run_b: Path, task: str) -> dict[str, Any]:
    """A minus B on the items both runs share: difference, Newcombe interval, exact McNemar p."""
    from vlmbench.compare import compare_runs

    return compare_runs(run_a, run_b, task).tasks[0].headline()


def verdict(algo: str, vs: dict[str, Any]) -> str:
    """One line in words: '<ALGO> vs SFT: +x points, p = ..., significant / not significant'."""
    significant = vs["p_value"] < ALPHA
    word = "significant" if significant else "not significant"
    if significant:
        word += " (better)" if vs["diff"] > 0 else " (worse)"
    return (
        f"{algo.upper()} vs SFT: {100 * vs['diff']:+.1f} points "
        f"[{100 * vs['ci95'][0]:+.1f}, {100 * vs['ci95'][1]:+.1f}], p = {vs['p_value']:.3g} "
        f"(exact McNemar, {vs['better']} better / {vs['worse']} worse of {vs['n']}), {word} at {ALPHA}"
    )


def run_stage(algo: str, model: Path, out: Path, task: str, eval_n: int, extra: list[str]) -> dict[str, Any]:
    from train_adapters.cli import train_baseline

    where = [f"data.task={task}", f"eval.n={eval_n}", f"output_root={out}"]
    overrides = [*COMMON, *(SFT if algo == "sft" else [*RL[algo], *RL_DATA]), *where, *extra]
    started = time.perf_counter()
    summary = train_baseline(algo, model=str(model), overrides=overrides)
    summary["wall_seconds"] = round(time.perf_counter() - started, 1)
    summary["overrides"] = overrides
    ev = summary["eval_trained"]
    say(f"{algo}: {summary['steps']} steps in {summary['train_seconds']:.0f}s, accuracy {ev['official']:.3f}")
    if "visual_gain" in ev:
        gain = ev["visual_gain"]
        say(f"  visual gain {gain['diff']:+.3f} ({gain['better']} answers right only with the image)")
    return summary


def sft_stage(out: Path, task: str, eval_n: int) -> dict[str, Any]:
    """The newest finished SFT stage under `out`, else a new one (from a fresh tiny model)."""
    from vlmbench.models.tiny import make_tiny_model

    latest = out / "sft" / "latest" / "train_result.json"
    if latest.is_file():  # rerunning the script reuses the newest finished SFT stage
        return json.loads(latest.read_text())
    tiny = out / "tiny"
    if not (tiny / "config.json").is_file():
        make_tiny_model(tiny, "llava")
    return run_stage("sft", tiny, out, task, eval_n, ["eval.base=true"])


def evaluate_on(model: Path, out: Path, task: str, n: int, seed: int) -> Path:
    """`model` greedily on `n` items of `task` (difficulty 2) drawn with `seed`: its eval run folder."""
    from vlmbench.runner import EvalConfig, evaluate

    config = EvalConfig(
        model=str(model), backend="hf", tasks=task, batch_size=32, output_dir=out / "runs",
        synth={"n": n, "seed": seed, "difficulty": 2},
    )  # fmt: skip
    root, _ = evaluate(config, notify=lambda _: None)
    return root


def sweep(out: Path, task: str, eval_n: int, algos: list[str], round_: int) -> dict[str, Any]:
    """Round `round_` of SWEEP: each setting trained from the SFT checkpoint and scored on the validation
    items (seed VAL_SEED), paired with SFT there. Rows of earlier rounds in `<out>/sweep_results.json`
    are kept; per algorithm the best validation accuracy over every round so far is chosen (the earlier
    row on a tie). Test items are never read."""
    sft = sft_stage(out, task, eval_n)
    start = Path(sft["checkpoint"])
    sft_val = evaluate_on(start, out, task, eval_n, VAL_SEED)
    val = [f"eval.seed={VAL_SEED}", "eval.base=false", "eval.visual_gain=false"]
    path = out / "sweep_results.json"
    results: dict[str, Any] = json.loads(path.read_text()) if path.is_file() else {}
    results.update(task=task, eval_n=eval_n, val_seed=VAL_SEED, sft=str(start))
    results.setdefault("rows", [])
    results["rows"] = [r for r in results["rows"] if r.get("round", 1) != round_]  # a round run again
    for algo in algos:
        for setting in SWEEP[round_ - 1].get(algo, []):
            summary = run_stage(algo, start, out, task, eval_n, [*val, *SWEEP_BASE[algo], *setting])
            vs = paired(Path(summary["eval_trained"]["run"]), sft_val, task)
            row = {"round": round_, "algo": algo, "setting": setting,
                   "accuracy": summary["eval_trained"]["official"], "vs_sft": vs,
                   "train_seconds": summary["train_seconds"], "wall_seconds": summary["wall_seconds"],
                   "run_dir": summary["run_dir"]}  # fmt: skip
            results["rows"].append(row)
            say(f"  sweep {algo} {' '.join(setting)}: validation {row['accuracy']:.3f}, {verdict(algo, vs)}")
            path.write_text(json.dumps(results, indent=2) + "\n")
    chosen: dict[str, list[str]] = {}
    for algo in sorted({r["algo"] for r in results["rows"]}):
        rows = sorted((r for r in results["rows"] if r["algo"] == algo), key=lambda r: r.get("round", 1))
        chosen[algo] = max(rows, key=lambda r: r["accuracy"])["setting"]  # max keeps the first of ties
    results["chosen"] = chosen
    path.write_text(json.dumps(results, indent=2) + "\n")
    return results


def table(results: dict[str, Any]) -> None:
    say(
        "\n| model | accuracy [95% CI] | visual gain [95% CI] | vs SFT (paired) [95% CI] | p (McNemar) "
        "| train s |\n|---|---|---|---|---|---|"
    )
    base = results["stages"]["sft"].get("eval_base")
    if base:
        lo, hi = base["official_ci95"]
        vg = base.get("visual_gain")
        gain = f"{vg['diff']:+.3f} [{vg['ci95'][0]:+.3f}, {vg['ci95'][1]:+.3f}]" if vg else ""
        say(f"| tiny random start | {base['official']:.3f} [{lo:.3f}, {hi:.3f}] | {gain} | | | |")
    for algo, summary in results["stages"].items():
        ev = summary["eval_trained"]
        lo, hi = ev["official_ci95"]
        vs = summary.get("vs_sft")
        diff = f"{vs['diff']:+.3f} [{vs['ci95'][0]:+.3f}, {vs['ci95'][1]:+.3f}]" if vs else ""
        p = f"{vs['p_value']:.3g}" if vs else ""
        vg = ev.get("visual_gain")
        gain = f"{vg['diff']:+.3f} [{vg['ci95'][0]:+.3f}, {vg['ci95'][1]:+.3f}]" if vg else ""
        seconds = summary["train_seconds"]
        say(f"| {algo} | {ev['official']:.3f} [{lo:.3f}, {hi:.3f}] | {gain} | {diff} | {p} | {seconds:.0f} |")
    say("")
    for summary in results["stages"].values():
        if summary.get("verdict"):
            say(summary["verdict"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path("demo-runs"))
    parser.add_argument("--task", default="synth_shapes")
    parser.add_argument("--eval-n", type=int, default=300)
    parser.add_argument("--algos", default="grpo,dpo,ppo")
    parser.add_argument(
        "--sweep",
        type=int,
        default=0,
        metavar="ROUND",
        help="run round ROUND (1, 2) of the RL sweep on validation items, not the demo",
    )
    parser.add_argument(
        "--settings", type=Path, help="take each RL stage's setting from a sweep_results.json"
    )
    args = parser.parse_args()
    out = args.out  # as given: model names on the published board are these paths, so keep them relative
    algos = [a for a in args.algos.split(",") if a]
    started = time.perf_counter()
    if args.sweep:
        chosen = sweep(out, args.task, args.eval_n, algos, args.sweep)["chosen"]
        say(f"chosen on the validation items: {json.dumps(chosen)} ({time.perf_counter() - started:.0f}s)")
        return
    chosen = json.loads(args.settings.read_text())["chosen"] if args.settings else {}
    results: dict[str, Any] = {"task": args.task, "eval_n": args.eval_n, "stages": {}}
    results["stages"]["sft"] = sft_stage(out, args.task, args.eval_n)
    start = Path(results["stages"]["sft"]["checkpoint"])
    sft_run = Path(results["stages"]["sft"]["eval_trained"]["run"])
    for algo in algos:
        summary = run_stage(
            algo, start, out, args.task, args.eval_n, ["eval.base=false", *chosen.get(algo, [])]
        )
        summary["vs_sft"] = paired(Path(summary["eval_trained"]["run"]), sft_run, args.task)
        summary["verdict"] = verdict(algo, summary["vs_sft"])
        say("  " + summary["verdict"])
        results["stages"][algo] = summary
        (out / "demo_results.json").write_text(json.dumps(results, indent=2) + "\n")
    results["wall_seconds"] = round(time.perf_counter() - started, 1)
    (out / "demo_results.json").write_text(json.dumps(results, indent=2) + "\n")
    table(results)
    say(f"\n{results['wall_seconds']:.0f}s in all")


if __name__ == "__main__":
    main()
