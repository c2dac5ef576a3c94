"""The scorer contract: one scorer per benchmark, two conventions kept apart.

`official` reproduces the benchmark's own code (or its de-facto reference) bug for bug, reading the raw
response exactly as that code does; it is the leaderboard number. `robust` puts vlmbench's extractor in
front of the *same* comparison; with the unparsed rate it is a diagnostic. Both are per-sample floats
in 0..1 and are aggregated by `vlmbench.scoring.aggregate`.

A third entry point, `from_extracted`, scores an answer another harness already extracted (its
`extraction` column, its filtered answer): only the benchmark's own normalisation and equality run,
as its code does after its extraction step. Scores made that way say so (`semantics: "extracted"`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, ClassVar

from vlmbench.extract import Extraction, Extractor, Status
from vlmbench.schema import Sample

# How a prediction is read: as a raw model response (extract, then compare), or as an answer another
# harness already extracted (normalise and compare only). Reports and per-sample rows name it.
SEMANTICS_RESPONSE = "response"
SEMANTICS_EXTRACTED = "extracted"
EXTRACTED_METHOD = "given_extraction"
_STATUS_VALUES = {status: status.value for status in Status}  # a dict lookup, not Enum's descriptor


@dataclass(slots=True)
class SampleScore:
    """One sample's scores under both conventions, with what each convention read."""

    id: str
    official: float
    robust: float
    extracted: str | None
    status: str
    method: str
    official_extracted: str | None = None
    missing: bool = False
    extra: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Scorer:
    """Base class: subclasses implement `official` and `compare`; `score` wires in the extractor."""

    id: ClassVar[str]
    version: ClassVar[str]
    metric: ClassVar[str] = "accuracy"
    official_convention: ClassVar[str]
    robust_convention: ClassVar[str] = "vlmbench extractor in front of the official comparison"

    def official(self, response: str, sample: Sample) -> tuple[float, str | None]:
        """The reference implementation's score, and the answer it read (None when it read none)."""
        raise NotImplementedError

    def compare(self, extraction: Extraction, sample: Sample) -> float:
        """The official comparison applied to an `ok` extraction."""
        raise NotImplementedError

    def judge_rules(self, response: str, sample: Sample) -> str | None:
        """For tasks with a reference LLM extractor (`judge:` in the task file): what the reference reads
        by rule before asking it, or None where it asks. By default only an empty response is read."""
        return "" if response == "" else None

    def extra(self, response: str, sample: Sample, extraction: Extraction) -> dict[str, float]:
        """Named per-sample metrics beside official / robust (none by default)."""
        return {}

    def score(
        self, response: str, sample: Sample, extractor: Extractor, *, truncated: bool = False
    ) -> SampleScore:
        official, official_read = self.official(response, sample)
        extraction = extractor(response, sample, truncated=truncated)
        status = extraction.status
        robust = self.compare(extraction, sample) if status is Status.OK else 0.0
        return SampleScore(
            id=sample.id,
            official=float(official),
            robust=float(robust),
            extracted=extraction.answer,
            status=_STATUS_VALUES[status],
            method=extraction.method,
            official_extracted=official_read,
            extra=self.extra(response, sample, extraction),
        )

    def from_extracted(self, extracted: str, sample: Sample) -> tuple[float, str | None]:
        """The benchmark's own scoring *after* its extraction step, applied to an answer another harness
        extracted: the score, and the normalised answer it compared (None when it could read none)."""
        raise NotImplementedError

    def score_extracted(self, extracted: str, sample: Sample) -> SampleScore:
        """`from_extracted` as a SampleScore. There is no response for vlmbench's extractor to read, so
        both columns hold the official verdict; an answer that normalises to nothing is unparsed."""
        value, read = self.from_extracted(extracted, sample)
        status = Status.OK if read not in (None, "") else Status.NO_ANSWER
        return SampleScore(
            id=sample.id,
            official=float(value),
            robust=float(value),
            extracted=read,
            status=status.value,
            method=EXTRACTED_METHOD,
            official_extracted=read,
        )

    def missing(self, sample: Sample) -> SampleScore:
        """A sample with no prediction: wrong under every convention, and counted as missing."""
        return SampleScore(
            sample.id, 0.0, 0.0, None, Status.NO_ANSWER.value, "missing_prediction", missing=True
        )

    def task_metrics(self, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> dict[str, Any]:
        """Task-level named metrics beside the means (VCR's Q->AR, NLVR2's consistency)."""
        return {}

    def headline(self, samples: Sequence[Sample], scores: Sequence[SampleScore]) -> tuple[float, float]:
        """The task's main number under each convention: the mean per-sample score by default."""
        n = len(scores)
        if not n:
            return 0.0, 0.0
        return sum(s.official for s in scores) / n, sum(s.robust for s in scores) / n

    def headline_units(self, samples: Sequence[Sample]) -> int:
        """How many independent units the headline averages over (for its confidence interval)."""
        return len(samples)

    @classmethod
    def describe(cls) -> dict[str, str]:
        return {
            "id": cls.id,
            "version": cls.version,
            "metric": cls.metric,
            "official": cls.official_convention,
            "robust": cls.robust_convention,
        }
