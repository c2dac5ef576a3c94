"""PPO for VLMs: vlmbench's own implementation (TRL 1.16 has no PPO trainer; its last one was text-only).

Why our own: the comparison needs PPO on the same model, processor, dataset and reward as GRPO and DPO,
and no maintained library offers PPO for image-text models on this stack. Label results
"vlmbench PPO (own implementation)".

One update step, for a batch of prompts:
1. Rollout: sample a response per prompt from the policy (image placeholder and vision delimiter tokens
   suppressed: a sampled placeholder breaks the next forward). The response ends at its first EOS.
2. Score: the task reward (`vlmbench.rewards`: the eval scorer + shaping), optionally normalised by
   running mean / std (`normalize_rewards`).
3. Old log-probs and values from the policy, reference log-probs from a frozen copy of the start model.
   Per-token reward r_t = -kl_coef * (logp_t - ref_logp_t), plus the score on the last response token.
4. GAE (gamma, lam) over the response tokens gives advantages (whitened over the batch's tokens) and
   returns = advantages + values.
5. `ppo_epochs` passes of: clipped policy loss max(-A r, -A clip(r, 1-eps, 1+eps)) with r = exp(logp - old),
   clipped value loss 0.5 max((V-R)^2, (clip(V, V_old +- eps_v) - R)^2) weighted by vf_coef, minus an
   entropy bonus; gradient clipping; an lr schedule step.
6. Adaptive KL (Ziegler et al.): kl_coef *= 1 + clip(KL / target - 1, -0.2, 0.2) * n / horizon.

The critic is a linear value head on the policy's last hidden state (a shared trunk: the cheapest critic).
A batch that raises (an image-token mismatch, a bad image) is skipped and counted. `save_steps` writes
`checkpoint-N/` (policy, value head, optimiser, scheduler, KL coefficient, step) that `--resume` continues.
"""

from __future__ import annotations

import copy
import json
import random
import time
from pathlib import Path
from typing import Any

from train_adapters import common, progress
from train_adapters.config import Recipe

PER_TOKEN_FIELDS = ("mm_token_type_ids", "token_type_ids")


class AdaptiveKL:
    """KL coefficient that tracks a target KL (fixed when `adaptive` is off)."""

    def __init__(self, value: float, target: float, horizon: int, adaptive: bool) -> None:
        self.value, self.target, self.horizon, self.adaptive = value, target, horizon, adaptive

    def update(self, kl: float, n: int) -> None:
        if self.adaptive:
            error = max(-0.2, min(0.2, kl / self.target - 1))
            self.value *= 1 + error * n / self.horizon


class RunningMoments:
    """Running mean / std of scores, for reward normalisation across steps."""

    def __init__(self) -> None:
        self.n, self.mean, self.m2 = 0, 0.0, 0.0

    def update(self, values: list[float]) -> None:
        for v in values:
            self.n += 1
            delta = v - self.mean
            self.mean += delta / self.n
            self.m2 += delta * (v - self.mean)

    @property
    def std(self) -> float:
        return (self.m2 / (self.n - 1)) ** 0.5 if self.n > 1 else 1.0


def masked_mean(x: Any, mask: Any) -> Any:
    return (x * mask).sum() / mask.sum().clamp(min=1)


def masked_whiten(x: Any, mask: Any) -> Any:
    mean = masked_mean(x, mask)
    var = masked_mean((x - mean) ** 2, mask)
    return (x - mean) * (var + 1e-8).rsqrt() * mask


def gae(rewards: Any, values: Any, mask: Any, gamma: float, lam: float) -> tuple[Any, Any]:
    """Generalised advantage estimation over response tokens (positions past the mask contribute 0)."""
    import torch

    values = values * mask
    advantages = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[:, 0])
    length = rewards.shape[1]
    for t in reversed(range(length)):
        next_value = values[:, t + 1] if t + 1 < length else torch.zeros_like(last)
        delta = rewards[:, t] + gamma * next_value - values[:, t]
        last = (delta + gamma * lam * last) * mask[:, t]
        advantages[:, t] = last
    return advantages, advantages + values


class PPO:
    """Policy + critic + frozen reference for one run; `step(rows)` is one PPO update."""

    def __init__(self, s: common.Setup) -> None:
        import torch
        from torch import nn
        from transformers import get_scheduler

        self.s, self.recipe, self.opts = s, s.recipe, s.recipe.ppo
        self.device = torch.device("cpu" if common.on_cpu() else "cuda")
        self.policy, self.processor = s.model.to(self.device), s.processor
        self.ref = copy.deepcopy(self.policy).eval().requires_grad_(False)
        if self.recipe.lora is not None:
            from peft import get_peft_model

            self.policy = get_peft_model(self.policy, common.peft_config(self.recipe))
        hidden = self.policy.config.get_text_config().hidden_size
        self.value_head = nn.Linear(hidden, 1).to(self.device)
        nn.init.zeros_(self.value_head.weight)
        nn.init.zeros_(self.value_head.bias)
        params = [p for p in self.policy.parameters() if p.requires_grad] + list(self.value_head.parameters())
        self.optimizer = torch.optim.AdamW(
            params, lr=self.recipe.learning_rate, weight_decay=self.recipe.weight_decay
        )
        self.scheduler = get_scheduler(
            self.recipe.lr_scheduler_type,
            self.optimizer,
            num_warmup_steps=int(self.recipe.warmup_ratio * self.recipe.max_steps),
            num_training_steps=self.recipe.max_steps,
        )
        o = self.opts
        self.kl = AdaptiveKL(o.init_kl_coef, o.target_kl, o.kl_horizon, o.adaptive_kl)
        self.moments = RunningMoments()
        self.reward = common.reward(s)
        self.banned = common.image_token_ids(self.policy, self.processor)
        self.eos = common.eos_ids(self.policy, self.processor)
        self.step_count = 0
        self.skipped = 0
        self.is_qwen = self.policy.config.model_type in ("qwen2_vl", "qwen2_5_vl", "qwen3_vl")

    # --- model passes ------------------------------------------------------------------------------------

    def _forward(
        self, model: Any, seq: Any, attn: Any, mm: dict[str, Any], prompt_len: int, value: bool
    ) -> tuple:
        """Log-probs of the response tokens, entropies, and (with `value`) the critic's values."""
        import torch
        import torch.nn.functional as F

        kw = dict(mm)
        for key in PER_TOKEN_FIELDS:
            if key in kw:
                kw[key] = F.pad(kw[key], (0, seq.shape[1] - kw[key].shape[1]))
        if not self.is_qwen:  # left padding: positions count real tokens (Qwen derives its own mrope ids)
            kw["position_ids"] = (attn.cumsum(-1) - 1).clamp(min=0)
        out = model(input_ids=seq, attention_mask=attn, output_hidden_states=value, use_cache=False, **kw)
        logits = out.logits[:, prompt_len - 1 : -1].float()
        if self.opts.temperature != 1.0:
            logits = logits / self.opts.temperature
        logp_all = torch.log_softmax(logits, -1)
        logp = logp_all.gather(-1, seq[:, prompt_len:, None]).squeeze(-1)
        entropy = -(logp_all.exp() * logp_all).sum(-1)
        values = None
        if value:
            hidden = out.hidden_states[-1][:, prompt_len - 1 : -1].float()
            values = self.value_head(hidden).squeeze(-1)
        return logp, entropy, values

    def rollout(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        """Sample one response per prompt and score it with the task reward."""
        import torch

        tok = self.processor.tokenizer
        tok.padding_side = "left"
        texts = [
            self.processor.apply_chat_template(r["prompt"], tokenize=False, add_generation_prompt=True)
            for r in rows
        ]
        images = [img for r in rows for img in r["images"]]
        inputs = self.processor(text=texts, images=images or None, return_tensors="pt", padding=True)
        inputs = inputs.to(self.device)
        self.policy.eval()
        with torch.no_grad():
            seq = self.policy.generate(
                **inputs,
                max_new_tokens=self.recipe.max_completion_length,
                do_sample=True,
                temperature=self.opts.temperature,
                top_k=0,
                top_p=1.0,
                suppress_tokens=self.banned,
                eos_token_id=sorted(self.eos),
                pad_token_id=tok.pad_token_id,
            )
        prompt_len = inputs["input_ids"].shape[1]
        response = seq[:, prompt_len:]
        is_eos = torch.isin(response, torch.tensor(sorted(self.eos), device=response.device))
        first = torch.where(
            is_eos.any(1),
            is_eos.float().argmax(1),
            torch.full_like(is_eos[:, 0], response.shape[1], dtype=torch.long),
        )
        positions = torch.arange(response.shape[1], device=response.device)[None]
        mask = (positions <= first[:, None]).float() * (positions < response.shape[1]).float()
        attn = torch.cat([inputs["attention_mask"], mask.long()], dim=1)
        mm = {k: v for k, v in inputs.items() if k not in ("input_ids", "attention_mask")}
        decoded = [
            tok.decode(row[: int(n)].tolist(), skip_special_tokens=True)
            for row, n in zip(response, first, strict=True)
        ]
        columns = {key: [r[key] for r in rows] for key in rows[0] if key not in ("prompt", "images")}
        columns["truncated"] = [bool(n >= response.shape[1]) for n in first.tolist()]
        scores = self.reward(decoded, **columns)
        return dict(seq=seq, attn=attn, mm=mm, prompt_len=prompt_len, mask=mask, scores=scores, texts=decoded)

    # --- one update ----------------------------------------------------------------------------------------

    def step(self, rows: list[dict[str, Any]]) -> dict[str, float]:
        import torch

        o = self.opts
        ro = self.rollout(rows)
        seq, attn, mm, plen, mask = ro["seq"], ro["attn"], ro["mm"], ro["prompt_len"], ro["mask"]
        raw = ro["scores"]
        scores = torch.tensor(raw, dtype=torch.float32, device=self.device)
        if o.normalize_rewards:
            self.moments.update(raw)
            scores = (scores - self.moments.mean) / max(self.moments.std, 1e-6)
        with torch.no_grad():
            old_logp, _, old_values = self._forward(self.policy, seq, attn, mm, plen, value=True)
            ref_logp, _, _ = self._forward(self.ref, seq, attn, mm, plen, value=False)
        kl_tokens = (old_logp - ref_logp) * mask
        rewards = -self.kl.value * kl_tokens
        last = (mask.sum(1) - 1).clamp(min=0).long()
        rewards[torch.arange(len(rows), device=self.device), last] += scores
        advantages, returns = gae(rewards, old_values, mask, o.gamma, o.lam)
        if o.whiten_advantages:
            advantages = masked_whiten(advantages, mask)
        self.policy.train()
        stats: dict[str, float] = {}
        for _ in range(o.ppo_epochs):
            logp, entropy, values = self._forward(self.policy, seq, attn, mm, plen, value=True)
            ratio = torch.exp(logp - old_logp)
            pg = torch.max(-advantages * ratio, -advantages * ratio.clamp(1 - o.clip_range, 1 + o.clip_range))
            pg_loss = masked_mean(pg, mask)
            v_clip = old_values + (values - old_values).clamp(-o.clip_range_value, o.clip_range_value)
            vf_loss = 0.5 * masked_mean(torch.max((values - returns) ** 2, (v_clip - returns) ** 2), mask)
            ent = masked_mean(entropy, mask)
            loss = pg_loss + o.vf_coef * vf_loss - o.entropy_coef * ent
            self.optimizer.zero_grad()
            loss.backward()
            params = [p for g in self.optimizer.param_groups for p in g["params"]]
            grad_norm = torch.nn.utils.clip_grad_norm_(params, self.recipe.max_grad_norm)
            self.optimizer.step()
            stats = {
                "loss": loss.item(),
                "pg_loss": pg_loss.item(),
                "vf_loss": vf_loss.item(),
                "entropy": ent.item(),
                "grad_norm": float(grad_norm),
                "clip_frac": masked_mean(((ratio - 1).abs() > o.clip_range).float(), mask).item(),
            }
        self.scheduler.step()
        mean_kl = (kl_tokens.sum(1)).mean().item()
        self.kl.update(mean_kl, len(rows))
        self.step_count += 1
        return {
            **stats,
            "score": sum(raw) / len(raw),
            "kl": mean_kl,
            "kl_coef": self.kl.value,
            "response_length": mask.sum(1).mean().item(),
            "learning_rate": self.scheduler.get_last_lr()[0],
        }

    # --- checkpoints ---------------------------------------------------------------------------------------

    def save(self, folder: Path) -> None:
        import torch

        folder.mkdir(parents=True, exist_ok=True)
        self.policy.save_pretrained(folder)
        self.processor.save_pretrained(folder)
        torch.save(
            {
                "value_head": self.value_head.state_dict(),
                "optimizer": self.optimizer.state_dict(),
                "scheduler": self.scheduler.state_dict(),
                "kl_coef": self.kl.value,
                "step": self.step_count,
                "moments": (self.moments.n, self.moments.mean, self.moments.m2),
                "skipped": self.skipped,
            },
            folder / "ppo_state.pt",
        )

    def load(self, folder: Path) -> None:
        from transformers import AutoModelForImageTextToText

        if self.recipe.lora is None:
            loaded = AutoModelForImageTextToText.from_pretrained(folder)
            self.policy.load_state_dict(loaded.state_dict())
        else:
            from peft import set_peft_model_state_dict
            from safetensors.torch import load_file

            set_peft_model_state_dict(self.policy, load_file(str(folder / "adapter_model.safetensors")))
        state = load_state(folder / "ppo_state.pt", self.device)
        self.value_head.load_state_dict(state["value_head"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.kl.value, self.step_count, self.skipped = state["kl_coef"], state["step"], state["skipped"]
        self.moments.n, self.moments.mean, self.moments.m2 = state["moments"]


class Watch:
    """What the TRL trainers get from transformers, for the own loop: every `logging_steps` steps one
    compact line (the window's means, `progress.format_step`), the raw stats too with --verbose, and
    TensorBoard scalars in `<run folder>/tensorboard/` when `report_to` names it (other reporters are
    transformers integrations the loop does not drive: said once)."""

    def __init__(self, recipe: Recipe, step: int) -> None:
        self.every, self.window = recipe.logging_steps, []
        self.reporter = progress.StepReporter(recipe.max_steps)
        self.reporter.start(step)
        wanted = common.reporters(recipe)
        others = [r for r in wanted if r not in ("tensorboard", "none")]
        if others:
            skipped = ", ".join(others)
            progress.write_line(f"ppo: report_to {skipped} is not wired to the own PPO loop; skipped")
        self.writer = None
        if "tensorboard" in wanted:
            from torch.utils.tensorboard import SummaryWriter

            self.writer = SummaryWriter(log_dir=str(recipe.run_dir / common.TENSORBOARD_DIR))

    def step(self, stats: dict[str, Any]) -> None:
        self.window.append(stats)
        step = int(stats["step"])
        if step % self.every:
            return
        logs = progress.window_mean(self.window)
        self.window = []
        self.reporter.report(step, logs)
        if progress.is_verbose():
            progress.write_line(json.dumps(stats))
        if self.writer is not None:
            for key, value in logs.items():
                if key != "step":
                    self.writer.add_scalar(f"train/{key}", value, step)
            self.writer.flush()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()


def load_state(path: Path, device: Any) -> dict[str, Any]:
    """A checkpoint's PPO state, read with `weights_only=True`: tensors and plain containers only, so a
    crafted `ppo_state.pt` cannot run code on `--resume` (a full unpickle would call what it names)."""
    import pickle

    import torch

    from vlmbench.errors import VlmbenchError

    try:
        return torch.load(path, weights_only=True, map_location=device)
    except pickle.UnpicklingError as err:
        lines = [line.strip() for line in str(err).splitlines()]
        why = next((line for line in lines if "Unsupported global" in line), lines[0] if lines else "")
        raise VlmbenchError(f"{path}: refused to load the PPO state: {why.split('. Please')[0]}") from None


def train(recipe: Recipe, *, resume: bool = False) -> common.TrainResult:
    import os

    import torch

    from vlmbench.errors import VlmbenchError

    if int(os.environ.get("WORLD_SIZE", "1")) > 1:  # each rank would train its own copy: refuse
        raise VlmbenchError("ppo runs in one process; launch it without accelerate's multi-process config")
    started = time.perf_counter()
    torch.manual_seed(recipe.seed)
    s = common.setup(recipe)
    from train_adapters.data import build_rows

    rows = build_rows(s.spec, s.train_samples, s.style, processor=s.processor, report=s.report)
    if not rows:
        raise VlmbenchError("no usable training items (all were skipped); see the data report")
    ppo = PPO(s)
    out = recipe.run_dir
    checkpoint = common.latest_checkpoint(out) if resume else None
    if checkpoint is not None:
        ppo.load(checkpoint)
    es = recipe.early_stopping
    stopper = common.EarlyStopper(es.patience, es.min_delta) if es.every else None
    held = None
    if stopper is not None:
        held = common.load_split(
            s.spec,
            n=es.n,
            seed=recipe.data.train_seed + 7919,
            difficulty=recipe.data.difficulty,
            data_dir=recipe.data.data_dir,
            offset=recipe.data.offset + recipe.data.train_n,
        )
    rng = random.Random(recipe.seed)
    order: list[int] = []
    log_path = out / "ppo_log.jsonl"
    history: list[dict[str, Any]] = []
    stopped = False
    watch = Watch(recipe, ppo.step_count)
    while ppo.step_count < recipe.max_steps:
        if len(order) < recipe.batch_size:
            fresh = list(range(len(rows)))
            rng.shuffle(fresh)
            order += fresh
        batch = [rows[i] for i in order[: recipe.batch_size]]
        del order[: recipe.batch_size]
        tick = time.perf_counter()
        try:
            stats = ppo.step(batch)
        except Exception as err:  # one bad batch (e.g. image tokens that do not match) is skipped, counted
            ppo.skipped += len(batch)
            ppo.step_count += 1
            stats = {"skipped_batch": 1.0, "error": f"{type(err).__name__}: {err}"}  # type: ignore[dict-item]
        stats = {"step": ppo.step_count, **stats, "step_time": round(time.perf_counter() - tick, 4)}
        history.append(stats)
        with log_path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(stats) + "\n")
        watch.step(stats)
        if recipe.save_steps and ppo.step_count % recipe.save_steps == 0:
            ppo.save(out / f"checkpoint-{ppo.step_count}")
        if stopper is not None and held is not None and ppo.step_count % es.every == 0:
            value = common.validation_reward(ppo.policy, s.processor, s.spec, held, s.style)
            history.append({"step": ppo.step_count, "validation_reward": value})
            if stopper.update(ppo.step_count, value):
                stopped = True
                break
    watch.close()
    final = common.save_final(ppo.policy, s.processor, out)
    result = common.TrainResult(
        checkpoint=final,
        steps=ppo.step_count,
        algorithm="ppo",
        config_hash=recipe.config_hash(),
        seconds=round(time.perf_counter() - started, 3),
        data={**s.report.to_dict(), "skipped_in_training": ppo.skipped},
        metrics={"log_history": history, "implementation": "vlmbench PPO (own implementation)"},
        stopped_early=stopped,
    )
    common.write_state(out, result)
    return result
