"""What every algorithm shares: model and processor loading, the task's datasets and rewards, TRL
arguments common to all trainers, checkpoints for `--resume`, and early stopping on a validation reward.

Why shared: the four baselines differ only in their update rule; everything a result depends on besides
that (data, prompt, reward, schedule) is built here once, so the comparison is of algorithms alone.
"""

from __future__ import annotations

import importlib.util
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from train_adapters import progress
from train_adapters.config import Recipe, RecipeError, check_ready
from train_adapters.data import DataReport, build_rows, load_split, to_dataset
from train_adapters.rundir import FINAL, STATE, latest_checkpoint
from vlmbench.rewards import Curriculum, HybridReward, build_reward_parts
from vlmbench.schema import Sample
from vlmbench.taskspec import TaskSpec


@dataclass
class TrainResult:
    """Where the trained checkpoint is, how far training went, and what it logged."""

    checkpoint: Path
    steps: int
    algorithm: str
    config_hash: str
    seconds: float
    data: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, Any] = field(default_factory=dict)
    stopped_early: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "checkpoint": str(self.checkpoint)}


@dataclass
class Setup:
    """The loaded pieces of one training run."""

    recipe: Recipe
    spec: TaskSpec
    style: str
    model: Any
    processor: Any
    train_samples: list[Sample]
    report: DataReport


def on_cpu() -> bool:
    import torch

    return not torch.cuda.is_available()


def load_model(path: str) -> tuple[Any, Any]:
    """The checkpoint as `AutoModelForImageTextToText` with its processor (image-only for Qwen-VL on CPU)."""
    from transformers import AutoModelForImageTextToText

    from vlmbench.models.processors import load_processor

    model = AutoModelForImageTextToText.from_pretrained(path)
    processor = load_processor(path)
    if processor.tokenizer.pad_token_id is None:
        processor.tokenizer.pad_token = processor.tokenizer.eos_token
    return model, processor


def eos_ids(model: Any, processor: Any) -> set[int]:
    eos = model.generation_config.eos_token_id
    eos = eos if eos is not None else processor.tokenizer.eos_token_id
    return {int(e) for e in (eos if isinstance(eos, (list, tuple)) else [eos]) if e is not None}


def image_token_ids(model: Any, processor: Any) -> list[int]:
    """Token ids a policy must never sample: image / video placeholders and vision delimiters. A sampled
    placeholder makes the next forward fail with 'image features and image tokens do not match'."""
    config = model.config
    ids = {getattr(config, k, None) for k in ("image_token_id", "image_token_index", "video_token_id")}
    ids |= {getattr(config, k, None) for k in ("vision_start_token_id", "vision_end_token_id")}
    tok = processor.tokenizer
    for name in ("<image>", "<|image_pad|>", "<|video_pad|>", "<fake_token_around_image>", "<global-img>"):
        token = tok.convert_tokens_to_ids(name)
        if isinstance(token, int) and token != tok.unk_token_id:
            ids.add(token)
    return sorted(int(i) for i in ids if i is not None and i >= 0)


def curriculum_of(recipe: Recipe) -> Curriculum | list[tuple[str, int, float]] | None:
    """`data.curriculum` as `load_split` takes it: stages `[difficulty, share]` over the task's own
    difficulties (a `Curriculum`), or rungs naming tasks `[task, difficulty, share]` (a stage without a
    task in a mixed list is the recipe's own task)."""
    stages = recipe.data.curriculum
    if not stages:
        return None
    if all(len(stage) == 2 for stage in stages):
        return Curriculum(tuple((int(d), float(share)) for d, share in stages))  # type: ignore[misc]
    task = recipe.data.task
    return [
        (str(s[0]), int(s[1]), float(s[2])) if len(s) == 3 else (task, int(s[0]), float(s[1])) for s in stages
    ]


def setup(recipe: Recipe) -> Setup:
    """Check the recipe, load the model, and build the training samples (bad items skipped, counted)."""
    spec = check_ready(recipe)
    style = recipe.data.prompt or spec.prompts.default
    model, processor = load_model(recipe.model)
    d = recipe.data
    curriculum = curriculum_of(recipe)
    samples = load_split(
        spec,
        n=d.train_n,
        seed=d.train_seed,
        difficulty=d.difficulty,
        data_dir=d.data_dir,
        offset=d.offset,
        curriculum=curriculum,
    )
    return Setup(recipe, spec, style, model, processor, samples, DataReport())


def dataset(s: Setup, *, with_target: bool = False, samples: list[Sample] | None = None) -> Any:
    rows = build_rows(
        s.spec,
        samples or s.train_samples,
        s.style,
        processor=s.processor,
        with_target=with_target,
        report=s.report,
    )
    return to_dataset(rows)


def reward(s: Setup, group_size: int | None = None) -> HybridReward:
    """The recipe's weighted reward for this task: the eval scorer plus the shaping terms."""
    r = s.recipe.rewards
    parts = build_reward_parts(
        s.spec,
        r.weights(),
        style=s.style,
        convention=r.convention,
        partial=r.partial_credit,
        length_target=r.length_target,
        length_unit=r.length_unit,
        length_scale=r.length_scale,
        eos_ids=eos_ids(s.model, s.processor),
    )
    return HybridReward(parts, group_size=group_size, name="reward")


def trl_common(recipe: Recipe) -> dict[str, Any]:
    """Arguments every TRL config takes, from the recipe."""
    return dict(
        output_dir=str(recipe.run_dir),
        use_cpu=on_cpu(),
        bf16=False,
        fp16=False,
        seed=recipe.seed,
        max_steps=recipe.max_steps,
        learning_rate=recipe.learning_rate,
        lr_scheduler_type=recipe.lr_scheduler_type,
        warmup_steps=recipe.warmup_ratio,
        per_device_train_batch_size=recipe.batch_size,
        gradient_accumulation_steps=recipe.gradient_accumulation_steps,
        max_grad_norm=recipe.max_grad_norm,
        weight_decay=recipe.weight_decay,
        logging_steps=recipe.logging_steps,
        save_strategy="steps" if recipe.save_steps else "no",
        save_steps=recipe.save_steps or 500,
        gradient_checkpointing=recipe.gradient_checkpointing,
        report_to=reporters(recipe),
        disable_tqdm=not progress.is_verbose(),  # --verbose: transformers' own bar too
        dataloader_num_workers=0,
    )


TENSORBOARD_DIR = "tensorboard"  # in the run folder (transformers' default, `runs/`, holds the eval runs)
_said: set[str] = set()


def tensorboard_available() -> bool:
    return (
        importlib.util.find_spec("tensorboard") is not None
        or importlib.util.find_spec("tensorboardX") is not None
    )


def reporters(recipe: Recipe) -> list[str]:
    """The recipe's `report_to` as transformers takes it. TensorBoard (the default) is dropped, said
    once, where it is not installed: curves still go to train_result.json and curves.png. W&B and the
    others must be installed when named."""
    wanted = [r for r in recipe.report_to if r != "none"]
    if "tensorboard" in wanted and not tensorboard_available():
        wanted.remove("tensorboard")
        if "tensorboard" not in _said:
            _said.add("tensorboard")
            progress.write_line(
                "tensorboard is not installed: no TensorBoard logs (curves go to train_result.json and "
                "curves.png); pip install tensorboard, or report_to=none to silence this"
            )
    for name in wanted:
        if name != "tensorboard" and importlib.util.find_spec(name) is None:
            raise RecipeError(
                f"report_to: {name!r} is not installed (pip install {name}), or drop it from report_to"
            )
    return wanted or ["none"]


def watch(trainer: Any, recipe: Recipe) -> None:
    """The compact per-step line on stderr; transformers' raw log dicts only with --verbose; TensorBoard
    logs in `<run folder>/tensorboard/`."""
    from transformers.integrations import TensorBoardCallback
    from transformers.trainer_callback import PrinterCallback, ProgressCallback

    trainer.add_callback(progress.step_callback(recipe.max_steps))
    if not progress.is_verbose():
        trainer.remove_callback(PrinterCallback)
        trainer.remove_callback(ProgressCallback)
    for callback in trainer.callback_handler.callbacks:
        if isinstance(callback, TensorBoardCallback) and callback.logging_dir is None:
            callback.logging_dir = str(Path(recipe.run_dir) / TENSORBOARD_DIR)


def peft_config(recipe: Recipe) -> Any:
    if recipe.lora is None:
        return None
    from peft import LoraConfig

    lora = recipe.lora
    return LoraConfig(
        r=lora.r,
        lora_alpha=lora.alpha,
        lora_dropout=lora.dropout,
        target_modules=lora.target_modules,
        task_type="CAUSAL_LM",
    )


def save_final(model: Any, processor: Any, output_dir: Path) -> Path:
    """The trained weights as an ordinary checkpoint folder (LoRA merged), ready for `vlmbench eval`."""
    final = Path(output_dir) / FINAL
    if hasattr(model, "merge_and_unload"):
        model = model.merge_and_unload()
    model.save_pretrained(final)
    processor.save_pretrained(final)
    return final


def save_trainer_final(trainer: Any, processor: Any, output_dir: Path) -> Path:
    """`save_final` for a TRL trainer under accelerate: the trainer gathers sharded weights (ZeRO-3,
    FSDP) and only the main process writes."""
    final = Path(output_dir) / FINAL
    accelerator = trainer.accelerator
    if hasattr(trainer.model, "merge_and_unload"):  # LoRA: merge into the base weights
        if accelerator.is_main_process:
            save_final(accelerator.unwrap_model(trainer.model), processor, output_dir)
    else:
        trainer.save_model(str(final))
        if accelerator.is_main_process:
            processor.save_pretrained(final)
    accelerator.wait_for_everyone()
    return final


def is_main_process() -> bool:
    """True unless this is a non-zero rank of a distributed launch (`accelerate launch`)."""
    import os

    return int(os.environ.get("RANK", "0")) == 0


def end_distributed() -> None:
    """Tear the process group down; gloo runs abort at exit otherwise (see notes/training-on-cpu.md)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def write_state(output_dir: Path, result: TrainResult) -> None:
    if not is_main_process():
        return
    (Path(output_dir) / STATE).write_text(json.dumps(result.to_dict(), indent=2, default=str) + "\n")


# --- validation reward and early stopping -------------------------------------------------------------


def generate(model: Any, processor: Any, requests: list[Any], params: Any) -> list[Any]:
    """Responses for `requests` from an in-memory model, decoded as the eval's HF backend decodes (chat
    template, left padding, new tokens up to the first EOS, special tokens skipped). Image placeholder
    tokens are suppressed, so sampled text never carries a placeholder into a later forward pass."""
    import torch

    from vlmbench.models.base import Response
    from vlmbench.models.hf import chat_messages

    tok = processor.tokenizer
    tok.padding_side = "left"
    texts = [
        processor.apply_chat_template(chat_messages(r), tokenize=False, add_generation_prompt=True)
        for r in requests
    ]
    images = [ref.load() for r in requests for ref in r.images]
    inputs = processor(text=texts, images=images or None, return_tensors="pt", padding=True).to(model.device)
    eos = eos_ids(model, processor)
    pad = model.generation_config.pad_token_id
    options: dict[str, Any] = {
        "max_new_tokens": params.max_new_tokens,
        "do_sample": params.temperature > 0,
        "pad_token_id": pad if pad is not None else tok.pad_token_id,
        "eos_token_id": sorted(eos),
        "suppress_tokens": image_token_ids(model, processor),
    }
    if params.temperature > 0:
        options.update(temperature=params.temperature, top_p=params.top_p, top_k=0)
        torch.manual_seed(params.seed)
    else:
        options.update(temperature=None, top_p=None, top_k=None)
    with torch.inference_mode():
        output = model.generate(**inputs, **options)
    out = []
    for row in output[:, inputs["input_ids"].shape[1] :].tolist():
        end = next((k for k, t in enumerate(row) if t in eos), None)
        kept = row if end is None else row[:end]
        out.append(
            Response(
                text=tok.decode(kept, skip_special_tokens=True),
                n_output_tokens=len(kept),
                finish_reason="length" if end is None else "stop",
            )
        )
    return out


def validation_reward(model: Any, processor: Any, spec: TaskSpec, samples: list[Sample], style: str) -> float:
    """Mean official score of greedy answers on `samples`, decoded and scored as in evaluation."""
    from vlmbench.models.base import Response
    from vlmbench.prompts import build_request
    from vlmbench.runner import EvalConfig, generation_params, score_response
    from vlmbench.scoring import get_scorer

    was_training = model.training
    model.eval()
    params = generation_params(spec, EvalConfig(), style)
    scorer = get_scorer(spec.scorer)
    total = 0.0
    for k in range(0, len(samples), 8):
        batch = samples[k : k + 8]
        requests = [build_request(spec, smp, style, params) for smp in batch]
        try:
            responses = generate(model, processor, requests, params)
        except Exception as err:  # a failed batch scores 0 rather than ending training
            responses = [Response.failed(str(err))] * len(batch)
        total += sum(
            score_response(scorer, spec, smp, r).official for smp, r in zip(batch, responses, strict=True)
        )
    if was_training:
        model.train()
    return total / max(1, len(samples))


class EarlyStopper:
    """Stops when the validation reward has not improved by `min_delta` for `patience` checks."""

    def __init__(self, patience: int, min_delta: float) -> None:
        self.patience, self.min_delta = patience, min_delta
        self.best: float | None = None
        self.bad = 0
        self.history: list[tuple[int, float]] = []

    def update(self, step: int, value: float) -> bool:
        """Record a check; True when training should stop."""
        self.history.append((step, value))
        if self.best is None or value > self.best + self.min_delta:
            self.best, self.bad = value, 0
        else:
            self.bad += 1
        return self.bad >= self.patience


def early_stopping_callback(s: Setup, model_ref: Any) -> Any:
    """A transformers callback running `validation_reward` every `early_stopping.every` steps (None: off)."""
    es = s.recipe.early_stopping
    if not es.every:
        return None
    from transformers import TrainerCallback

    held = load_split(
        s.spec,
        n=es.n,
        seed=s.recipe.data.train_seed + 7919,
        difficulty=s.recipe.data.difficulty,
        data_dir=s.recipe.data.data_dir,
        offset=s.recipe.data.offset + s.recipe.data.train_n,
    )
    stopper = EarlyStopper(es.patience, es.min_delta)

    class ValidationStop(TrainerCallback):
        stopped = False

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if state.global_step % es.every == 0:
                value = validation_reward(kwargs.get("model", model_ref), s.processor, s.spec, held, s.style)
                state.log_history.append({"step": state.global_step, "validation_reward": value})
                if stopper.update(state.global_step, value):
                    control.should_training_stop = True
                    ValidationStop.stopped = True
            return control

    ValidationStop.stopper = stopper  # type: ignore[attr-defined]
    return ValidationStop()


def train_with_trl(
    trainer_cls: Any,
    s: Setup,
    args: Any,
    train_set: Any,
    *,
    resume: bool,
    started: float,
    extra_metrics: Callable[[], dict[str, Any]] | None = None,
    **trainer_kwargs: Any,
) -> TrainResult:
    """The shared tail of the TRL adapters (sft, grpo, dpo): the trainer on the setup's model, processor,
    LoRA config and early-stopping callback, then `run_trainer`. `extra_metrics` is read after training."""
    callback = early_stopping_callback(s, s.model)
    trainer = trainer_cls(
        model=s.model,
        args=args,
        train_dataset=train_set,
        processing_class=s.processor,
        peft_config=peft_config(s.recipe),
        callbacks=[callback] if callback else None,
        **trainer_kwargs,
    )
    watch(trainer, s.recipe)
    return run_trainer(trainer, s, resume, started, callback, extra_metrics)


def run_trainer(
    trainer: Any,
    s: Setup,
    resume: bool,
    started: float,
    callback: Any,
    extra_metrics: Callable[[], dict[str, Any]] | None = None,
) -> TrainResult:
    """Train (continuing from the newest checkpoint with `resume`), save the final checkpoint, record."""
    checkpoint = latest_checkpoint(s.recipe.run_dir) if resume else None
    trainer.train(resume_from_checkpoint=str(checkpoint) if checkpoint else None)
    final = save_trainer_final(trainer, s.processor, s.recipe.run_dir)
    logs = [h for h in trainer.state.log_history if isinstance(h, dict)]
    accelerator = trainer.accelerator
    plugin = getattr(accelerator.state, "deepspeed_plugin", None)
    distributed = {
        "type": str(accelerator.distributed_type).rsplit(".", 1)[-1],
        "num_processes": accelerator.num_processes,
        "zero_stage": plugin.zero_stage if plugin is not None else None,
    }
    result = TrainResult(
        checkpoint=final,
        steps=int(trainer.state.global_step),
        algorithm=s.recipe.algorithm,
        config_hash=s.recipe.config_hash(),
        seconds=round(time.perf_counter() - started, 3),
        data=s.report.to_dict(),
        metrics={"log_history": logs, "distributed": distributed},
        stopped_early=bool(callback is not None and type(callback).stopped),
    )
    if extra_metrics is not None:
        result.metrics.update(extra_metrics())
    write_state(s.recipe.run_dir, result)
    return result
