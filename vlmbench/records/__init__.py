"""The record stage: what a run writes, how it is named, and what reads it back.

- `protocol`, `hashing`: the protocol hash (everything that decides a score except the model).
- `rundir`: `runs/<run_id>/run.json` and `samples/<task>.jsonl` on disk (append, fsync, resume).
- `store`: the SQLite index the leaderboard reads.
- `provenance`: packages, git commit, hardware, weights, parameter count.

Nothing here imports `vlmbench.models` backends, torch or transformers: records are read and indexed on
machines without them (`protocol` reads the scorers and prompts, never a backend).
"""
