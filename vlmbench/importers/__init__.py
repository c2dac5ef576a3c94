"""Reading other harnesses' per-sample outputs, to score them here and say why numbers differ.

`FORMATS` (`registry`) maps a format name (`vlmbench score --from NAME`) to its reader, one small module
per harness (`mathvista`, `lmms_eval`, `vlmevalkit`, `lm_eval`). `score_foreign` (`compare`) scores a
file both ways - the harness's own extraction under `extracted` semantics, its raw responses under
vlmbench's conventions - and lists the samples whose verdicts differ.
"""

from __future__ import annotations

from vlmbench.importers.base import ForeignFile, ForeignFileError, ForeignSample, IdMap, ImportOptions
from vlmbench.importers.compare import ImportReport, Reading, Row, score_foreign
from vlmbench.importers.registry import FORMATS, get_reader, read_foreign

__all__ = [
    "FORMATS",
    "ForeignFile",
    "ForeignFileError",
    "ForeignSample",
    "IdMap",
    "ImportOptions",
    "ImportReport",
    "Reading",
    "Row",
    "get_reader",
    "read_foreign",
    "score_foreign",
]
