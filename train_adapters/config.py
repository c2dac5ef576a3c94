"""Training recipes (`baselines/<algo>.yaml`): a strict schema, overrides, and checks run before training.

Why strict: a typo in a recipe (`learning_rat: 1e-3`) must not silently train with a default for an hour.
Unknown keys and wrong types fail at load time with the file and the dotted key named; a task that cannot
be scored, an unwritable output folder and a missing model fail in `check_ready`, before any model loads.
Where a run's folder is (`output_root`, `name`, `output_dir`) is decided by `train_adapters.rundir`.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from vlmbench.errors import VlmbenchError, first_validation_error, read_utf8

ALGORITHMS = ("sft", "grpo", "dpo", "ppo")
LATEST = "latest"  # <output_root>/<algorithm>/latest: a link to the newest finished run
TINY_MODEL = "tiny"  # the embedded default model: vlmbench's cached tiny LLaVA (vlmbench.defaults)
# transformers' `report_to` integrations a recipe may name ("none": train_result.json and curves.png only)
REPORTERS = ("tensorboard", "wandb", "mlflow", "trackio", "none")
GRPO_LOSSES = ("grpo", "dr_grpo", "dapo", "bnpo", "cispo", "sapo", "luspo", "vespo")  # TRL 1.16
DPO_LOSSES = (
    "sigmoid",
    "hinge",
    "ipo",
    "robust",
    "bco_pair",
    "sppo_hard",
    "apo_zero",
    "apo_down",
    "sigmoid_norm",
)


class RecipeError(VlmbenchError):
    """A recipe that cannot be trained: bad key or type, unknown task, unwritable output folder."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=False, validate_assignment=True)


class LoraOptions(_Strict):
    r: int = Field(8, gt=0)
    alpha: int = Field(16, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "k_proj", "v_proj", "o_proj"])


class RewardOptions(_Strict):
    """Weights of the reward kinds of `vlmbench.rewards` (0 switches one off) and their options."""

    accuracy: float = 1.0
    format: float = 0.0
    length: float = 0.0
    step: float = 0.0
    convention: Literal["official", "robust"] = "official"
    partial_credit: bool = True
    length_target: int = Field(0, ge=0, description="tokens allowed before the length penalty starts")
    length_scale: float = Field(32.0, gt=0)
    length_unit: Literal["tokens", "chars"] = "tokens"

    def weights(self) -> dict[str, float]:
        return {"accuracy": self.accuracy, "format": self.format, "length": self.length, "step": self.step}


class DataOptions(_Strict):
    task: str = "synth_scene"
    prompt: str | None = Field(None, description="prompt style (direct / cot); None: the task's default")
    data_dir: Path | None = None
    train_n: int = Field(64, gt=0)
    train_seed: int = Field(
        1, ge=0, description="procedural tasks: a seed other than eval's gives held-out items"
    )
    difficulty: int | None = Field(None, ge=1, le=3)
    offset: int = Field(
        0, ge=0, description="non-procedural tasks: first training item (eval reads the start)"
    )
    curriculum: list[tuple[int, float] | tuple[str, int, float]] | None = Field(
        None,
        description="procedural items easy to hard: [[difficulty, share], ...] over the task, or rungs "
        "[[task, difficulty, share], ...] over procedural tasks sharing its prompts and scorer",
    )

    @field_validator("curriculum")
    @classmethod
    def _stages(cls, stages: list[tuple[Any, ...]] | None) -> list[tuple[Any, ...]] | None:
        if stages is not None and not stages:
            raise ValueError("a curriculum needs at least one stage (or null)")
        for stage in stages or []:
            difficulty, share = stage[-2], stage[-1]
            if difficulty not in (1, 2, 3) or share <= 0:
                raise ValueError(f"stage {list(stage)}: difficulty 1-3 and a share > 0")
        return stages


class EvalOptions(_Strict):
    """Evaluation of the checkpoint (and of the start model) under the task's protocol after training."""

    enabled: bool = True
    base: bool = True
    n: int = Field(50, gt=0)
    seed: int | None = Field(None, ge=0, description="procedural tasks: None keeps the task's own seed")
    difficulty: int | None = Field(None, ge=1, le=3)
    batch_size: int = Field(8, gt=0)
    results_dir: Path | None = Field(
        None, description="default: <output_root>/runs, or <output_dir>/runs when output_dir is given"
    )
    visual_gain: bool = Field(
        False, description="also evaluate with blank images and record the paired difference (visual gain)"
    )


class EarlyStopping(_Strict):
    """Greedy validation reward on `n` training-distribution items every `every` steps (0: off)."""

    every: int = Field(0, ge=0)
    patience: int = Field(2, gt=0)
    n: int = Field(16, gt=0)
    min_delta: float = Field(0.0, ge=0)


class GRPOOptions(_Strict):
    """GRPO's knobs. The `vllm_*` ones are TRL's GRPOConfig fields of the same names (rollouts through
    vLLM on GPUs: docs/scaling.md); with `use_vllm` off they are not recorded, so the config hash of
    a recipe without them stays what it was. Whether vLLM and CUDA are there is checked before training
    (train_adapters.grpo.check_rollouts), not here: a dry run must build the config anywhere."""

    num_generations: int = Field(4, ge=2)
    beta: float = Field(0.04, ge=0)
    loss_type: Literal[GRPO_LOSSES] = "dapo"  # type: ignore[valid-type]
    epsilon: float = Field(0.2, gt=0)
    scale_rewards: Literal["group", "batch", "none"] = "group"
    temperature: float = Field(1.0, gt=0)
    mask_truncated_completions: bool = False
    use_vllm: bool = Field(False, description="rollouts through vLLM instead of model.generate")
    vllm_mode: Literal["colocate", "server"] = "colocate"
    vllm_server_base_url: str | None = Field(None, description="server mode; None: TRL's 0.0.0.0:8000")
    vllm_gpu_memory_utilization: float = Field(0.3, gt=0, le=1, description="colocate mode only")
    vllm_tensor_parallel_size: int = Field(1, ge=1, description="colocate mode only")
    vllm_max_model_length: int | None = Field(None, gt=0, description="None: the model's own")
    vllm_enable_sleep_mode: bool = Field(False, description="colocate: free vLLM's memory between rollouts")

    @model_validator(mode="after")
    def _vllm(self) -> GRPOOptions:
        if self.vllm_server_base_url is not None and self.vllm_mode != "server":
            raise ValueError("vllm_server_base_url is read in vllm_mode server only")
        if self.use_vllm and self.loss_type == "vespo":  # TRL refuses it with sequence-level IS
            raise ValueError("loss_type vespo with use_vllm needs token-level importance sampling")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: Any) -> dict[str, Any]:
        data = handler(self)
        if not self.use_vllm:
            for key in [k for k in data if k == "use_vllm" or k.startswith("vllm_")]:
                data.pop(key)
        return data


class DPOOptions(_Strict):
    beta: float = Field(0.1, gt=0)
    loss_type: Literal[DPO_LOSSES] = "sigmoid"  # type: ignore[valid-type]
    k: int = Field(4, ge=2, description="answers sampled per prompt to build preference pairs")
    temperature: float = Field(1.0, gt=0)
    pairs_per_prompt: int = Field(1, ge=1)
    preferences: Path | None = Field(None, description="a pairs JSONL from make-preferences; None: build now")


class PPOOptions(_Strict):
    ppo_epochs: int = Field(2, gt=0)
    clip_range: float = Field(0.2, gt=0)
    clip_range_value: float = Field(0.2, gt=0)
    vf_coef: float = Field(0.1, ge=0)
    gamma: float = Field(1.0, gt=0, le=1)
    lam: float = Field(0.95, ge=0, le=1)
    init_kl_coef: float = Field(0.05, ge=0)
    adaptive_kl: bool = True
    target_kl: float = Field(0.1, gt=0)
    kl_horizon: int = Field(1000, gt=0)
    entropy_coef: float = Field(0.0, ge=0)
    whiten_advantages: bool = True
    normalize_rewards: bool = True
    temperature: float = Field(1.0, gt=0)


class Recipe(_Strict):
    algorithm: Literal[ALGORITHMS]  # type: ignore[valid-type]
    model: str
    output_root: Path = Field(
        Path("train-runs"), description="run folders go to <output_root>/<algorithm>/<name>/"
    )
    name: str | None = Field(
        None, description="the run folder's name; None: <algorithm>-<start>-<config_hash[:8]>"
    )
    output_dir: Path | None = Field(None, description="the run folder itself (output_root and name unused)")
    seed: int = 0
    max_steps: int = Field(20, gt=0)
    learning_rate: float = Field(1e-5, gt=0)
    lr_scheduler_type: Literal["cosine", "linear", "constant", "constant_with_warmup"] = "cosine"
    warmup_ratio: float = Field(0.0, ge=0, lt=1)
    batch_size: int = Field(4, gt=0, description="prompts per device step (GRPO: completions per step)")
    gradient_accumulation_steps: int = Field(1, gt=0)
    max_completion_length: int = Field(16, gt=0)
    max_grad_norm: float = Field(1.0, gt=0)
    weight_decay: float = Field(0.0, ge=0)
    save_steps: int = Field(0, ge=0, description="checkpoint every N steps for --resume (0: only at the end)")
    logging_steps: int = Field(1, gt=0)
    report_to: list[str] = Field(
        default_factory=lambda: ["tensorboard"],
        description="where training curves go besides train_result.json: tensorboard, wandb, ... or none",
    )
    start_overrides: list[str] = Field(
        default_factory=list,
        description="key=value overrides of the SFT run that builds a missing <root>/sft/latest/final start",
    )
    gradient_checkpointing: bool = False
    lora: LoraOptions | None = None
    rewards: RewardOptions = Field(default_factory=RewardOptions)
    data: DataOptions = Field(default_factory=DataOptions)
    eval: EvalOptions = Field(default_factory=EvalOptions)
    early_stopping: EarlyStopping = Field(default_factory=EarlyStopping)
    grpo: GRPOOptions = Field(default_factory=GRPOOptions)
    dpo: DPOOptions = Field(default_factory=DPOOptions)
    ppo: PPOOptions = Field(default_factory=PPOOptions)

    @field_validator("report_to", mode="before")
    @classmethod
    def _reporters(cls, value: Any) -> Any:
        value = [value] if isinstance(value, str) else value
        if isinstance(value, list):
            unknown = [v for v in value if v not in REPORTERS]
            if unknown:
                raise ValueError(f"{unknown[0]!r} is not one of {', '.join(REPORTERS)}")
            if "none" in value and len(value) > 1:
                raise ValueError("'none' cannot be combined with other reporters")
        return value

    @field_validator("name")
    @classmethod
    def _plain_name(cls, name: str | None) -> str | None:
        if name is not None and (name in ("", ".", "..", LATEST) or re.search(r"[/\\\x00]", name)):
            raise ValueError(f"{name!r} is not a run folder name (a plain name other than {LATEST!r})")
        return name

    @model_validator(mode="after")
    def _check(self) -> Recipe:
        if self.algorithm == "grpo" and self.batch_size % self.grpo.num_generations:
            g = self.grpo.num_generations
            raise ValueError(f"batch_size {self.batch_size} must be a multiple of grpo.num_generations {g}")
        return self

    @property
    def run_dir(self) -> Path:
        """The run's folder: `output_dir`, else `<output_root>/<algorithm>/<name>`."""
        if self.output_dir is not None:
            return self.output_dir
        if self.name is None:
            raise RecipeError("no run folder chosen: set output_dir or name (train-baseline picks one)")
        return self.output_root / self.algorithm / self.name

    def resolved(self) -> dict[str, Any]:
        """The recipe as plain JSON: only the chosen algorithm's section, with every default filled in."""
        data = self.model_dump(mode="json")
        for algo in ("grpo", "dpo", "ppo"):
            if algo != self.algorithm:
                data.pop(algo)
        return data

    def config_hash(self) -> str:
        """sha256 of what decides the trained weights (where they and their curves are written do not)."""
        data = self.resolved()
        for where in ("output_root", "name", "output_dir", "eval", "report_to", "start_overrides"):
            data.pop(where)
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def _parse_value(text: str) -> Any:
    return yaml.safe_load(text) if text else ""


def apply_overrides(data: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """`key=value` and `section.key=value` (values as YAML scalars) onto a recipe mapping."""
    for item in overrides:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise RecipeError(
                f"override {item!r}: expected key=value (e.g. learning_rate=1e-5, grpo.beta=0.02)"
            )
        node = data
        parts = key.strip().split(".")
        for part in parts[:-1]:
            child = node.get(part)
            if child is None:
                child = node[part] = {}
            if not isinstance(child, dict):
                raise RecipeError(f"override {item!r}: {part!r} is not a section")
            node = child
        node[parts[-1]] = _parse_value(value)
    return data


def read_recipe_file(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(read_utf8(Path(path), RecipeError)) or {}
    except OSError as err:
        raise RecipeError(f"{path}: cannot read recipe ({err.strerror or err})") from None
    except yaml.YAMLError as err:
        raise RecipeError(f"{path}: malformed YAML ({getattr(err, 'problem', err)})") from None
    if not isinstance(data, dict):
        raise RecipeError(f"{path}: a recipe must be a YAML mapping")
    return data


def validate_recipe(data: dict[str, Any], source: str) -> Recipe:
    """A Recipe, or a RecipeError naming `source` and the first bad key (and how many more there are)."""
    try:
        return Recipe.model_validate(data)
    except ValidationError as err:
        raise RecipeError(f"{source}: {first_validation_error(err, unknown_key='unknown key')}") from None


def baselines_dir() -> Path:
    """The shipped recipes: inside the wheel, else the repository's `baselines/`."""
    import vlmbench

    bundled = Path(vlmbench.__file__).resolve().parent / "_bundled" / "baselines"
    return bundled if bundled.is_dir() else Path(__file__).resolve().parent.parent / "baselines"


def load_recipe(
    algorithm: str,
    config: Path | None = None,
    overrides: list[str] | None = None,
    **given: Any,
) -> Recipe:
    """The resolved recipe: the file (default `baselines/<algorithm>.yaml`), then `given` options
    (model, task, output_dir, name; None means not given), then `key=value` overrides; a start model
    under a `latest/` link is pinned to the run it points to."""
    if algorithm not in ALGORITHMS:
        raise RecipeError(f"unknown algorithm {algorithm!r}; choose one of {', '.join(ALGORITHMS)}")
    path = Path(config) if config else baselines_dir() / f"{algorithm}.yaml"
    data = read_recipe_file(path)
    data.setdefault("algorithm", algorithm)
    if data["algorithm"] != algorithm:
        raise RecipeError(f"{path}: algorithm: the recipe is for {data['algorithm']!r}, not {algorithm!r}")
    for key, value in given.items():
        if value is None:
            continue
        if key == "task":
            data.setdefault("data", {})["task"] = value
        else:
            data[key] = str(value) if isinstance(value, Path) else value
    apply_overrides(data, list(overrides or []))
    recipe = validate_recipe(data, str(path))
    recipe.model = tiny_path(pin_latest(recipe.model))
    return recipe


def default_tiny_model() -> Path:
    """Where the embedded default model lives (`vlmbench eval`'s default; built on first use)."""
    from vlmbench.defaults import TINY_ARCH, TINY_VERSION, cache_dir

    return cache_dir() / f"tiny-{TINY_ARCH}-v{TINY_VERSION}"


def tiny_path(model: str) -> str:
    """`tiny` (unless a folder of that name is here) is the embedded default model's cache folder, so the
    recipe, its config hash and the lineage name the weights trained; `train-baseline` builds it."""
    return str(default_tiny_model()) if model == TINY_MODEL and not Path(model).exists() else model


def not_writable(folder: Path, err: OSError) -> RecipeError:
    return RecipeError(f"output_dir {folder}: not writable ({err.strerror or err})")


def check_writable(folder: Path) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as err:
        raise not_writable(folder, err) from None


def check_ready(recipe: Recipe, *, create_output: bool = True) -> Any:
    """Everything that can fail before training, checked now: the task loads and can be scored, the
    prompt style exists, the model is there, the run folder is writable. Returns the TaskSpec."""
    spec = check_recipe(recipe, read_gold=create_output)
    check_output(recipe, create=create_output)
    return spec


def check_recipe(recipe: Recipe, *, read_gold: bool = True, model: bool = True) -> Any:
    """`check_ready` without the run folder (train-baseline decides it in between); `read_gold` also
    scores gold answers through the reward (it loads a few items); `model=False` skips the start model
    (a dry run of an RL recipe whose SFT start would be built first). Returns the TaskSpec."""
    from vlmbench.extract import EXTRACTORS
    from vlmbench.registry import get_task
    from vlmbench.scoring import SCORERS

    try:
        spec = get_task(recipe.data.task)
    except VlmbenchError as err:
        raise RecipeError(f"data.task: task {recipe.data.task!r} cannot be trained on: {err}") from None
    if not spec.scorer or spec.scorer not in SCORERS or spec.extractor not in EXTRACTORS:
        raise RecipeError(f"data.task: task {spec.name!r} has no scorer, so it has no reward")
    style = recipe.data.prompt or spec.prompts.default
    if style not in spec.prompts.templates:
        raise RecipeError(f"data.prompt: task {spec.name!r} has no prompt {style!r}")
    check_held_out(recipe, spec)
    check_curriculum(recipe, spec)
    if model:
        check_model(recipe.model)
    if read_gold:
        check_reward_reads_gold(recipe, spec, style)
    return spec


def check_curriculum(recipe: Recipe, spec: Any) -> None:
    """Rungs that name other tasks must be procedural and read like the recipe's task (same prompt
    templates, extractor and scorer): the reward and the SFT targets are the recipe task's."""
    from vlmbench.registry import get_task

    stages = recipe.data.curriculum or []
    if stages and spec.source.synth is None:
        raise RecipeError(f"data.curriculum: task {spec.name!r} is not procedural")
    for stage in stages:
        if len(stage) != 3 or stage[0] == spec.name:
            continue
        try:
            other = get_task(str(stage[0]))
        except VlmbenchError as err:
            raise RecipeError(f"data.curriculum: {err}") from None
        if other.source.synth is None:
            raise RecipeError(f"data.curriculum: task {other.name!r} is not procedural")
        same = (other.prompts.templates, other.extractor, other.scorer) == (
            spec.prompts.templates,
            spec.extractor,
            spec.scorer,
        )
        if not same:
            raise RecipeError(
                f"data.curriculum: task {other.name!r} does not share {spec.name!r}'s prompts, extractor "
                "and scorer, so its items cannot be trained on with this task's targets and reward"
            )


def check_model(model: str) -> None:
    if Path(model).exists() or not (model.startswith((".", "/", "~")) or model.count("/") != 1):
        return
    if Path(model) == default_tiny_model():  # the embedded default: built when training starts
        return
    hint, parts = "", Path(model).parts
    if LATEST in parts:  # the shipped RL recipes start from train-runs/sft/latest/final
        link = Path(*parts[: parts.index(LATEST) + 1])
        hint = f" ({link} appears when a run in {link.parent} finishes: train one first, or pass --model)"
    raise RecipeError(f"model: {model!r} is neither a checkpoint folder nor a hub id{hint}")


def check_output(recipe: Recipe, *, create: bool = True) -> None:
    """The run folder is writable (`create`: made now, else only checked where it exists)."""
    if not create and recipe.output_dir is None and recipe.name is None:
        return  # not chosen yet: train-baseline picks it (train_adapters.rundir)
    folder = recipe.run_dir
    if create:
        check_writable(folder)
    elif folder.exists() and not os.access(folder, os.W_OK):
        raise RecipeError(f"output_dir {folder}: not writable")


def pin_latest(model: str) -> str:
    """`<root>/<algo>/latest/...` with the link replaced by the run folder it points to, so that the
    recipe, its config hash and the lineage name the run a model started from, not a moving pointer."""
    parts = Path(model).parts
    if LATEST not in parts:
        return model
    at = parts.index(LATEST)
    link = Path(*parts[: at + 1])
    if not link.is_symlink():
        return model
    return str(Path(*parts[:at], os.readlink(link), *parts[at + 1 :]))


def check_reward_reads_gold(recipe: Recipe, spec: Any, style: str, n: int = 5) -> None:
    """Refuse a reward that gives gold answers 0: e.g. an `official` convention that reads the raw
    response (exact match) under a prompt asking for an `Answer:` line. Such a run would learn nothing."""
    if not recipe.rewards.accuracy:
        return
    from train_adapters.data import load_split, target_answer
    from vlmbench.models.base import Response
    from vlmbench.runner import score_response
    from vlmbench.scoring import get_scorer

    d = recipe.data
    samples = load_split(
        spec, n=n, seed=d.train_seed, difficulty=d.difficulty, data_dir=d.data_dir, offset=d.offset
    )
    scorer = get_scorer(spec.scorer)
    scores = [
        getattr(
            score_response(scorer, spec, s, Response(target_answer(spec, s, style))),
            recipe.rewards.convention,
        )
        for s in samples
    ]
    if samples and not any(scores):
        raise RecipeError(
            f"rewards.convention: gold answers written as the {style!r} prompt asks score 0 under the "
            f"{recipe.rewards.convention!r} convention of scorer {spec.scorer!r}; use convention: robust"
        )


def check_held_out(recipe: Recipe, spec: Any) -> None:
    """Refuse a recipe whose training items are the items its evaluation reads: procedural tasks must
    train on another seed than they evaluate on; other tasks must train past the first `eval.n` items."""
    if not recipe.eval.enabled:
        return
    synth = spec.source.synth
    if synth is not None:
        eval_seed = recipe.eval.seed if recipe.eval.seed is not None else synth.seed
        if recipe.data.train_seed == eval_seed:
            raise RecipeError(
                f"data.train_seed: {eval_seed} is also the evaluation seed; train on another seed"
            )
    elif recipe.data.offset < recipe.eval.n:
        raise RecipeError(
            f"data.offset: training from item {recipe.data.offset} overlaps the first eval.n items"
        )
