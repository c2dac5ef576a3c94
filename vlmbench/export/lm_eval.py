"""`vlmbench tasks export --format lm-eval DIR`: a folder lm-eval reads with `--include_path DIR`.

It holds one task YAML per vlmbench task (`vlmbench_<task>.yaml`: generation settings, the hooks, the
metrics, and the task version and protocol in `metadata`), a `utils.py` that binds vlmbench's own hooks
(`vlmbench.export.lm_eval_hooks`) to each task, `vlmbench_export.json` (what the hooks read), and for
local and procedural data `data/<task>.jsonl`: one document per vlmbench sample, a key (`id`) plus the
question and answer lm-eval logs, never the images or the rest of an item. Hub-backed tasks name the
task file's hub dataset and let vlmbench's loader map its rows (`process_docs`).
"""

from __future__ import annotations

import json
import keyword
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import yaml

from vlmbench import __version__
from vlmbench.errors import DataError, VlmbenchError, os_error_reason
from vlmbench.export.lm_eval_hooks import MANIFEST, METRICS, doc_row
from vlmbench.taskspec import TaskSpec

EXPORT_VERSION = "1"
TASK_PREFIX = "vlmbench_"
TAG = "vlmbench"
UTILS = "utils"
DATA_DIR = "data"
_DATA_KEYS = ("dataset_fingerprint", "prompts_fingerprint", "n")  # unknown where the export saw no data


@dataclass
class ExportedTask:
    """One task of an export: where it reads its items and the protocol it was exported under."""

    name: str
    lm_eval_task: str
    yaml_file: Path
    source: str  # local | synth | hub
    n: int | None  # None: a hub dataset, counted when lm-eval loads it
    protocol_hash: str | None
    notes: list[str] = field(default_factory=list)


@dataclass
class ExportReport:
    out: Path
    tasks: list[ExportedTask]
    skipped: dict[str, str] = field(default_factory=dict)  # task -> why (only when no --tasks was given)


class _Function(str):
    """A YAML `!function utils.<name>` reference."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(_Function, lambda dumper, value: dumper.represent_scalar("!function", str(value)))


def _fn(task: str, hook: str) -> _Function:
    return _Function(f"{UTILS}.{task}_{hook}")


def _source(spec: TaskSpec, data: Path | None) -> str:
    """Where `vlmbench.data.load_samples` will read the task from, given `data` (the same rule as eval)."""
    from vlmbench.data import local_path

    if data is not None:
        if spec.source.synth is None:
            return "local"
        try:
            local_path(spec, data)
            return "local"
        except DataError:
            return "synth"
    if spec.source.synth is not None:
        return "synth"
    if spec.source.hub is not None:
        return "hub"
    raise VlmbenchError(
        f"task {spec.name!r} has no hub source ({spec.source.hub_note or 'local data only'}): pass --data"
    )


@dataclass
class _Plan:
    spec: TaskSpec
    entry: dict[str, Any]
    docs: list[dict[str, Any]] | None
    notes: list[str]


def _plan(spec: TaskSpec, data: Path | None, prompt: str | None, limit: int | None) -> _Plan:
    """The task's manifest entry (protocol included) and its documents, from vlmbench's own loader and
    the generation settings `vlmbench eval` would use with the same options."""
    from vlmbench.data import load_samples
    from vlmbench.records.protocol import protocol, protocol_hash
    from vlmbench.registry import task_index
    from vlmbench.runner import EvalConfig, generation_params

    style = prompt or spec.prompts.default
    if style not in spec.prompts.templates:
        known = ", ".join(sorted(spec.prompts.templates))
        raise VlmbenchError(f"task {spec.name!r} has no prompt {style!r}; known: {known}")
    params = generation_params(spec, EvalConfig(prompt=style), style)
    source = _source(spec, data)
    notes = []
    if source == "hub":
        docs, n, phash = None, None, None
        proto = {k: v for k, v in protocol(spec, [], style, params).items() if k not in _DATA_KEYS}
        notes.append("hub data: the dataset fingerprint and protocol hash are logged when lm-eval loads it")
    else:
        samples = load_samples(spec, data if source == "local" else None, limit=limit)
        if not samples:
            raise VlmbenchError(f"task {spec.name!r}: no samples to export")
        docs = [doc_row(s, i) for i, s in enumerate(samples)]
        proto = protocol(spec, samples, style, params)
        n, phash = len(samples), protocol_hash(proto)
    if getattr(spec, "judge", None) is not None:
        notes.append("the task's reference LLM extractor (judge) is not run in lm-eval: rule-based scores")
    entry = {
        "lm_eval_task": TASK_PREFIX + spec.name,
        "task_version": spec.version,
        "task_file": str(task_index().get(spec.name, "")),
        "source": source,
        "data": str(Path(data).resolve()) if source == "local" and data is not None else None,
        "limit": limit,
        "n": n,
        "style": style,
        "generation": params.to_dict(),
        "protocol": proto,
        "protocol_hash": phash,
        "notes": notes,
    }
    return _Plan(spec, entry, docs, notes)


def _dataset(plan: _Plan, out: Path) -> dict[str, Any]:
    name = plan.spec.name
    if plan.docs is not None:  # local or procedural: vlmbench's samples as an lm-eval json dataset
        path = (out / DATA_DIR / f"{name}.jsonl").resolve()
        return {
            "dataset_path": "json",
            "dataset_kwargs": {"data_files": {"test": str(path)}},
            "test_split": "test",
        }
    hub = plan.spec.source.hub
    assert hub is not None
    config: dict[str, Any] = {"dataset_path": hub.path}
    if hub.name:
        config["dataset_name"] = hub.name
    if hub.revision:
        config["dataset_kwargs"] = {"revision": hub.revision}
    config["test_split"] = hub.split
    config["process_docs"] = _fn(name, "process_docs")
    return config


def task_config(plan: _Plan, out: Path) -> dict[str, Any]:
    """The lm-eval task config (lm_eval.config.task.TaskConfig field names) of one planned task."""
    spec, entry, name = plan.spec, plan.entry, plan.spec.name
    generation = entry["generation"]
    sampling = generation["temperature"] > 0
    gen_kwargs: dict[str, Any] = {
        "until": [],  # vlmbench stops at the model's EOS only; lm-eval adds the EOS string itself
        "do_sample": sampling,
        "temperature": generation["temperature"],
        "max_gen_toks": generation["max_new_tokens"],
    }
    if sampling:
        gen_kwargs["top_p"] = generation["top_p"]
    config: dict[str, Any] = {"task": entry["lm_eval_task"], "tag": [TAG], **_dataset(plan, out)}
    config.update(
        output_type="generate_until",
        doc_to_image=_fn(name, "doc_to_image"),
        doc_to_text=_fn(name, "doc_to_text"),
        doc_to_target="answer",
    )
    if spec.prompts.system:  # the system turn under --apply_chat_template; raw: lm-eval reads it as Jinja
        config["description"] = "{% raw %}" + spec.prompts.system + "{% endraw %}"
    config.update(
        num_fewshot=0,
        generation_kwargs=gen_kwargs,
        process_results=_fn(name, "process_results"),
        metric_list=[
            {"metric": m, "aggregation": _fn(name, m), "higher_is_better": m != "unparsed_rate"}
            for m in METRICS
        ],
        metadata={
            "version": spec.version,
            "vlmbench": {
                "task": name,
                "task_version": spec.version,
                "protocol_hash": entry["protocol_hash"],
                "protocol": entry["protocol"],
                "source": entry["source"],
                "data": entry["data"],
                "limit": entry["limit"],
                "exported_by": f"vlmbench {__version__}",
            },
        },
    )
    return config


def _header(plan: _Plan) -> str:
    spec, entry = plan.spec, plan.entry
    template = json.dumps(spec.prompts.templates[entry["style"]], ensure_ascii=False)
    lines = [
        f"vlmbench task {spec.name} v{spec.version}, exported for lm-evaluation-harness "
        f"by vlmbench {__version__}",
        f"protocol hash: {entry['protocol_hash'] or 'unknown until the hub data is loaded'}",
        f"prompt ({entry['style']}): {template}",
        f"system prompt: {json.dumps(spec.prompts.system) if spec.prompts.system else 'none'}",
        f"scorer: {spec.scorer}; extractor: {spec.extractor}; "
        f"greedy: {entry['generation']['temperature'] == 0}",
        "Run with --apply_chat_template: vlmbench always applies the model's chat template.",
        "robust and unparsed_rate read every output as finished: lm-eval passes no finish reason.",
        *plan.notes,
        "Generated: edit the vlmbench task file and export again instead of editing this file.",
    ]
    return "".join(f"# {line}\n" for line in lines)


def utils_source(names: Sequence[str]) -> str:
    """The generated `utils.py`: names lm-eval's `!function` tags resolve, bound to vlmbench's hooks."""
    hooks = ("process_docs", "doc_to_text", "doc_to_image", "process_results", *METRICS)
    lines = [
        f'"""lm-eval hooks of a vlmbench export (vlmbench {__version__}; do not edit).',
        "",
        "Each name is vlmbench's own code (vlmbench.export.lm_eval_hooks) bound to one task of",
        f'{MANIFEST}: prompts, images and scores come from vlmbench itself."""',
        "",
        "from vlmbench.export.lm_eval_hooks import hooks_for",
    ]
    for name in names:
        lines += ["", f"_{name} = hooks_for(__file__, {name!r})"]
        lines += [f"{name}_{hook} = _{name}.{hook}" for hook in hooks]
    return "\n".join(lines) + "\n"


def _check_name(name: str) -> None:
    if not name.isidentifier() or keyword.iskeyword(name):
        raise VlmbenchError(
            f"task {name!r}: not a Python identifier, so lm-eval hooks cannot be named after it"
        )


def _prepare(out: Path, overwrite: bool) -> None:
    """An export goes into a new or empty folder, or replaces an earlier export when told to."""
    if not out.exists():
        return
    if not out.is_dir():
        raise VlmbenchError(f"{out}: not a folder")
    manifest = out / MANIFEST
    if manifest.is_file():
        if not overwrite:
            raise VlmbenchError(f"{out} holds an export already; pass --overwrite to replace it")
        try:
            old = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            old = {}
        for name in [*old.get("files", []), MANIFEST]:
            target = out / name
            if target.is_file() and target.resolve().is_relative_to(out.resolve()):
                target.unlink()
    elif any(out.iterdir()):
        raise VlmbenchError(f"{out} is not empty and holds no vlmbench export; choose a new folder")


def _selection(tasks: str | None) -> tuple[list[str], bool]:
    from vlmbench.registry import resolve_tasks, task_names

    if tasks:
        return resolve_tasks(tasks), True
    return task_names(), False


def export_lm_eval(
    out: Path | str,
    tasks: str | None = None,
    data: Path | str | None = None,
    prompt: str | None = None,
    limit: int | None = None,
    overwrite: bool = False,
) -> ExportReport:
    """Write the lm-eval card package for `tasks` (names / globs; default: every task that can be
    exported from `data`, or without it from the hub and the generators) into `out`."""
    from vlmbench.registry import get_task

    out, data = Path(out), Path(data) if data is not None else None
    if limit is not None and limit <= 0:
        raise VlmbenchError(f"--limit must be positive, got {limit}")
    if data is not None and not data.is_dir():
        raise VlmbenchError(f"--data {data}: not a folder")
    names, explicit = _selection(tasks)
    plans, skipped = [], {}
    for name in names:
        _check_name(name)
        try:
            plans.append(_plan(get_task(name), data, prompt, limit))
        except VlmbenchError as err:
            if explicit:
                raise
            skipped[name] = str(err)
    if not plans:
        raise VlmbenchError(
            "no task could be exported" + "".join(f"\n  {k}: {v}" for k, v in skipped.items())
        )
    _prepare(out, overwrite)
    try:
        return _write(out, plans, skipped)
    except OSError as err:
        raise VlmbenchError(f"cannot write the export to {out}: {os_error_reason(err)}") from err


def _write(out: Path, plans: list[_Plan], skipped: dict[str, str]) -> ExportReport:
    out.mkdir(parents=True, exist_ok=True)
    files, exported = [f"{UTILS}.py"], []
    for plan in plans:
        name = plan.spec.name
        if plan.docs is not None:
            docs = out / DATA_DIR / f"{name}.jsonl"
            docs.parent.mkdir(exist_ok=True)
            docs.write_text(
                "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in plan.docs), encoding="utf-8"
            )
            files.append(f"{DATA_DIR}/{name}.jsonl")
        yaml_file = out / f"{plan.entry['lm_eval_task']}.yaml"
        body = yaml.dump(
            task_config(plan, out), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100
        )
        body = re.sub(r"!function '([\w.]+)'", r"!function \1", body)  # plain, as lm-eval's own cards
        yaml_file.write_text(_header(plan) + body, encoding="utf-8")
        files.append(yaml_file.name)
        entry = plan.entry
        exported.append(
            ExportedTask(
                name,
                entry["lm_eval_task"],
                yaml_file,
                entry["source"],
                entry["n"],
                entry["protocol_hash"],
                plan.notes,
            )
        )
    (out / f"{UTILS}.py").write_text(utils_source([p.spec.name for p in plans]), encoding="utf-8")
    manifest = {
        "format": "lm-eval",
        "export_version": EXPORT_VERSION,
        "vlmbench_version": __version__,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "tasks": {p.spec.name: p.entry for p in plans},
        "files": files,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return ExportReport(out, exported, skipped)
