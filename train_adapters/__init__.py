"""Glue from vlmbench Tasks and rewards to training: one data path, one reward path, one module per
algorithm (`sft`, `grpo`, `dpo` with TRL; `ppo`, our own). `vlmbench` never imports this package; the
CLI loads `train_adapters.cli` lazily. See docs/training.md."""
