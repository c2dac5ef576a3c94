"""Data-parallel eval: which process this is, which items it answers, and where the processes wait for
each other, so that N processes started by accelerate's launcher write the run one process would.

The process group is accelerate's (`PartialState`: gloo on CPU, NCCL on GPUs); a process that no
launcher started is rank 0 of 1 and never imports torch for it. Each task's items still to do are dealt
round-robin over the ranks (`shard`). Every point where ranks wait for each other goes through
`together`: a rank that raised says so there, and every other rank stops with an error naming it rather
than waiting for a rank that will not come. A rank that dies is seen by the others as a closed
connection, or after the process group's timeout ($VLMBENCH_DIST_TIMEOUT seconds, default 1800), and
the launcher stops the rest of the group.

`relaunch` is `vlmbench eval --num-processes N`: the same command, once per rank, through
`accelerate launch`.
"""

from __future__ import annotations

import atexit
import importlib.util
import os
import socket
import subprocess
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from vlmbench.errors import VlmbenchError

T = TypeVar("T")
TIMEOUT_ENV = "VLMBENCH_DIST_TIMEOUT"
EXIT_FILE_ENV = "VLMBENCH_EXIT_FILE"  # where rank 0 leaves its exit code for `relaunch`
NUM_PROCESSES_FLAGS = ("--num-processes", "--num_processes")
_AT_EXIT: list[Any] = []  # the process group's teardown, registered once


class RankFailed(VlmbenchError):
    """Another rank of this run failed; its error is in the message (and in that rank's output)."""


def shard(items: Sequence[T], rank: int, world: int) -> list[T]:
    """Rank `rank`'s share of `items`: items rank, rank + world, rank + 2 * world, ... Over the ranks the
    shares are disjoint and cover `items`; they depend only on the order of `items`, never on timing."""
    if world < 1 or not 0 <= rank < world:
        raise ValueError(f"rank {rank} of {world} processes does not exist")
    return list(items[rank::world])


def launched() -> bool:
    """Started as one of several ranks (torchrun / accelerate launch set WORLD_SIZE)."""
    return int(os.environ.get("WORLD_SIZE", "1")) > 1


def env_rank() -> int:
    """This process's rank as its launcher set it, without starting anything (0 when not launched)."""
    return int(os.environ.get("RANK", "0"))


def single_process_launch_note() -> str | None:
    """Why `accelerate launch --cpu --num_processes N` runs one process: accelerate's CPU launcher starts
    several only through mpirun; it sets MASTER_ADDR for N > 1 but starts one process without a rank."""
    cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true"
    if cpu and "MASTER_ADDR" in os.environ and not launched():
        return (
            "accelerate launch --cpu started a single process (its CPU launcher needs mpirun for more); "
            "the run is the same, but for N processes use `vlmbench eval --num-processes N` or "
            "`accelerate launch --multi_gpu --num_processes N` (gloo on a machine without GPUs)"
        )
    return None


@dataclass(frozen=True)
class Ranks:
    """This process's place among the run's processes."""

    rank: int = 0
    world: int = 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def shard(self, items: Sequence[T]) -> list[T]:
        return shard(items, self.rank, self.world)

    def gather(self, value: Any) -> list[Any]:
        """`value` from every rank, in rank order (a picklable object)."""
        if self.world == 1:
            return [value]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, value)
        return out

    def agree(self, error: BaseException | None, where: str) -> None:
        """Wait here for every rank. When other ranks bring an error, raise RankFailed naming them (a
        rank that brings its own error raises that one itself, see `together`)."""
        texts = self.gather(None if error is None else f"{type(error).__name__}: {error}")
        failed = [(rank, text) for rank, text in enumerate(texts) if text is not None and rank != self.rank]
        if failed and error is None:
            named = "; ".join(f"rank {rank}: {text}" for rank, text in failed)
            raise RankFailed(f"{where}: {named}")


@contextmanager
def together(ranks: Ranks, where: str) -> Iterator[None]:
    """Run the block on every rank, then wait for all of them; an error on any rank is an error on
    every rank (each raises its own, or RankFailed naming the ranks that failed)."""
    try:
        yield
    except Exception as err:
        with suppress(Exception):  # the group itself broke (a rank died): report this rank's own error
            ranks.agree(err, where)
        raise
    ranks.agree(None, where)


def current() -> Ranks:
    """This process's ranks: accelerate's process group when a launcher started several processes
    (made once, torn down at exit), else rank 0 of 1."""
    if not launched():
        return Ranks()
    import torch
    from accelerate import PartialState

    cpu = os.environ.get("ACCELERATE_USE_CPU", "").lower() == "true" or not torch.cuda.is_available()
    local = int(os.environ.get("LOCAL_WORLD_SIZE", "1"))
    if not cpu and torch.cuda.device_count() < local:  # NCCL refuses two ranks on one GPU
        raise VlmbenchError(
            f"{local} ranks on this machine but {torch.cuda.device_count()} GPUs: NCCL needs a GPU per rank "
            "(fewer processes, or ACCELERATE_USE_CPU=true for gloo)"
        )
    seconds = float(os.environ.get(TIMEOUT_ENV) or 1800)
    state = PartialState(cpu=cpu, timeout=timedelta(seconds=seconds))  # made once per process
    if _close not in _AT_EXIT:
        _AT_EXIT.append(_close)
        atexit.register(_close)
    return Ranks(state.process_index, state.num_processes)


def _close() -> None:
    """Tear the process group down before the interpreter does (gloo aborts at exit otherwise)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        dist.destroy_process_group()


def without_num_processes(argv: Sequence[str]) -> list[str]:
    """`argv` less its `--num-processes N` (either spelling, `=` or not): the command each rank runs."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg in NUM_PROCESSES_FLAGS:
            skip = True
        elif not arg.startswith(tuple(f"{flag}=" for flag in NUM_PROCESSES_FLAGS)):
            out.append(arg)
    return out


def processes_to_launch(requested: int | None) -> int:
    """How many ranks `--num-processes` asks this command to start (0: run here). Inside a launched
    run it may only repeat the launcher's count."""
    if requested is not None and requested < 1:
        raise VlmbenchError(f"--num-processes must be at least 1, got {requested}")
    if launched():
        world = int(os.environ["WORLD_SIZE"])
        if requested not in (None, world):
            raise VlmbenchError(
                f"--num-processes {requested} inside a run launched as {world} processes: drop it, the "
                "launcher sets the processes"
            )
        return 0
    if requested and requested > 1 and importlib.util.find_spec("accelerate") is None:
        raise VlmbenchError(
            "--num-processes launches through accelerate, which is not installed: pip install 'vlmbench[hf]'"
        )
    return requested if requested and requested > 1 else 0


def free_port() -> int:
    """A TCP port free now, for the group's rendezvous (two runs on one machine never share 29500)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def launch_command(argv: Sequence[str], num_processes: int, port: int) -> list[str]:
    """`accelerate launch` running `vlmbench <argv>` in `num_processes` processes on this machine.
    accelerate's multi-process launcher is torchrun; on a machine without GPUs its ranks use gloo
    (`--cpu` would start a single process: accelerate's CPU launcher needs mpirun for more)."""
    return [
        sys.executable,
        "-m",
        "accelerate.commands.launch",
        "--multi_gpu",
        "--num_processes",
        str(num_processes),
        "--num_machines",
        "1",
        "--mixed_precision",
        "no",
        "--dynamo_backend",
        "no",
        "--main_process_port",
        str(port),
        "--quiet",
        "-m",
        "vlmbench",
        *without_num_processes(argv),
    ]


def relaunch(argv: Sequence[str], num_processes: int, cpu: bool, exit_file: Path) -> int:
    """Run `vlmbench <argv>` as `num_processes` ranks and wait; the exit code is rank 0's (the launcher
    turns any rank's non-zero code into 1, so rank 0 leaves its own in `exit_file`)."""
    env = {**os.environ, EXIT_FILE_ENV: str(exit_file)}
    if cpu:
        env["ACCELERATE_USE_CPU"] = "true"
    command = launch_command(argv, num_processes, free_port())
    try:
        code = subprocess.run(command, env=env, check=False).returncode
    except KeyboardInterrupt:  # the ranks got the Ctrl-C too; rank 0 records where the run stopped
        code = 130
    try:
        return int(exit_file.read_text(encoding="utf-8").strip())
    except (OSError, ValueError):
        return code


def leave_exit_code(code: object) -> None:
    """Rank 0 of a relaunched run: write its exit code where `relaunch` reads it."""
    target = os.environ.get(EXIT_FILE_ENV)
    if not target or env_rank() != 0:
        return
    value = code if isinstance(code, int) else (0 if code is None else 1)
    with suppress(OSError):
        Path(target).write_text(f"{value}\n", encoding="utf-8")
