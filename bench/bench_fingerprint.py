"""Model fingerprint cost: the first fingerprint of a checkpoint hashes every file; later ones cost a
stat per file (the hash cache), until a file changes. Goal: a rerun of an unchanged multi-GB checkpoint
adds well under a second; the first pays sha256 once (about 1-2 GB/s on one core).

    python bench/bench_fingerprint.py [--gb 1.0] [--shards 4]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from pathlib import Path

from vlmbench.records.fingerprint import local_fingerprint


def make_checkpoint(folder: Path, gigabytes: float, shards: int) -> int:
    """Shards of random bytes (incompressible, like weights) plus a config and a tokenizer."""
    size = int(gigabytes * 1024**3 / shards)
    block = os.urandom(1 << 24)
    for i in range(shards):
        with (folder / f"model-{i + 1:05d}-of-{shards:05d}.safetensors").open("wb") as handle:
            for _ in range(size // len(block)):
                handle.write(block)
            handle.write(block[: size % len(block)])
    (folder / "config.json").write_text(json.dumps({"model_type": "bench"}))
    (folder / "tokenizer.json").write_text(json.dumps({"vocab": {str(i): i for i in range(50000)}}))
    return size * shards


def timed(folder: Path) -> tuple[float, str]:
    start = time.perf_counter()
    digest = local_fingerprint(folder).digest
    return time.perf_counter() - start, digest


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=1.0, help="checkpoint size in GiB")
    parser.add_argument("--shards", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["VLMBENCH_CACHE"] = str(Path(tmp) / "cache")
        folder = Path(tmp) / "ckpt"
        folder.mkdir()
        total = make_checkpoint(folder, args.gb, args.shards)
        cold, first = timed(folder)
        warm, second = timed(folder)
        shard = next(folder.glob("*.safetensors"))
        with shard.open("r+b") as handle:  # one byte edited in place: only that shard is hashed again
            handle.seek(total // args.shards // 2)
            byte = handle.read(1)
            handle.seek(-1, os.SEEK_CUR)
            handle.write(bytes([byte[0] ^ 1]))
        edited, third = timed(folder)
    assert first == second != third
    print(json.dumps({
        "checkpoint_gib": round(total / 1024**3, 2),
        "shards": args.shards,
        "first_seconds": round(cold, 3),
        "first_gib_per_second": round(total / 1024**3 / cold, 2),
        "cached_seconds": round(warm, 4),
        "one_shard_edited_seconds": round(edited, 3),
    }, indent=1))  # fmt: skip


if __name__ == "__main__":
    main()
