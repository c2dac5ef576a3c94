"""The record stage: what a run writes, how it is named, and what reads it back (docs/records.md).

- `record`: the run record as one typed model (`RunRecord`); its JSON Schema ships beside it
  (`run_record.schema.json`), so a reader learns what a record holds without reading the writer.
- `fingerprint`: what was evaluated (a checkpoint's files, a hub commit, a server's model); part of the
  run id, so a changed model never reuses another model's samples.
- `status`: run and task statuses, failure reasons and the exit codes of `vlmbench eval`.
- `secrets`: which `--model-args` are secrets, kept out of records, run ids and boards.
- `protocol`, `hashing`: the protocol hash (everything that decides a score except the model).
- `rundir`: `runs/<run_id>/run.json` and `samples/<task>.jsonl` on disk (append, fsync, resume).
- `store`: the SQLite index the leaderboard reads.
- `provenance`: packages, git commit, hardware, parameter count.

Nothing here imports `vlmbench.models` backends, torch or transformers: records are read and indexed on
machines without them (`protocol` reads the scorers and prompts, never a backend).
"""
