"""The shipped accelerate configs (baselines/accelerate/) and the SLURM example: every config is YAML that
accelerate itself loads, its process count is machines x GPUs per node, and a multi-node config leaves
the per-node values (machine rank, first node's address) to the launch command, which the SLURM script
fills in per node."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

BASELINES = Path(__file__).resolve().parents[1] / "baselines"
CONFIGS = sorted((BASELINES / "accelerate").glob("*.yaml"))
GPUS_PER_NODE = 8  # every shipped config is for 8-GPU nodes
SBATCH = BASELINES / "slurm" / "train_grpo_2x8.sbatch"


def _load(path: Path) -> dict:
    data = yaml.safe_load(path.read_text())
    assert isinstance(data, dict), f"{path.name}: not a YAML mapping"
    return data


def test_the_single_and_multi_node_configs_are_all_there() -> None:
    names = {p.name for p in CONFIGS}
    assert {"ddp.yaml", "zero2.yaml", "zero3.yaml", "fsdp.yaml"} <= names
    assert {"zero3_2x8.yaml", "fsdp_2x8.yaml"} <= names


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_process_count_is_machines_times_gpus_per_node(path: Path) -> None:
    config = _load(path)
    machines, processes = config["num_machines"], config["num_processes"]
    assert processes == machines * GPUS_PER_NODE, f"{path.name}: {processes} != {machines} x {GPUS_PER_NODE}"
    assert config["machine_rank"] == 0 and config["use_cpu"] is False


@pytest.mark.parametrize("path", CONFIGS, ids=lambda p: p.name)
def test_accelerate_reads_every_config(path: Path) -> None:
    from accelerate.commands.config.config_args import load_config_from_file

    loaded = load_config_from_file(str(path))
    config = _load(path)
    assert loaded.num_processes == config["num_processes"]
    assert loaded.distributed_type.value == config["distributed_type"]


@pytest.mark.parametrize("path", [p for p in CONFIGS if _load(p)["num_machines"] > 1], ids=lambda p: p.name)
def test_multi_node_configs_take_the_node_values_from_the_command_line(path: Path) -> None:
    config = _load(path)
    assert config["main_process_ip"] is None and isinstance(config["main_process_port"], int)
    assert config["rdzv_backend"] == "static" and config["same_network"] is True
    if config["distributed_type"] == "DEEPSPEED":  # one launcher per node, not DeepSpeed's pdsh
        assert config["deepspeed_config"]["deepspeed_multinode_launcher"] == "standard"
        assert config["deepspeed_config"]["zero_stage"] == 3


def test_the_slurm_script_starts_one_launcher_per_node_on_a_shipped_config() -> None:
    text = SBATCH.read_text()
    assert "#SBATCH --nodes=2" in text and "#SBATCH --ntasks-per-node=1" in text
    assert '--machine_rank "$SLURM_NODEID"' in text and '--main_process_ip "$MAIN_IP"' in text
    default = text.split("CONFIG=${CONFIG:-", 1)[1].split("}", 1)[0]
    assert (BASELINES.parent / default).is_file() and _load(BASELINES.parent / default)["num_machines"] == 2
    if shutil.which("bash"):
        assert subprocess.run(["bash", "-n", str(SBATCH)], check=False).returncode == 0
