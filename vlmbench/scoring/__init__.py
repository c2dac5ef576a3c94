"""Official scoring, one scorer per benchmark (see `base` for the official / robust contract)."""

from __future__ import annotations

from vlmbench.errors import VlmbenchError
from vlmbench.scoring.aggregate import aggregate, breakdown
from vlmbench.scoring.base import SampleScore, Scorer
from vlmbench.scoring.chartqa import ChartQAScorer, relaxed_correctness
from vlmbench.scoring.gqa import GQAScorer
from vlmbench.scoring.mathvista import MathVistaScorer
from vlmbench.scoring.multiple_choice import AI2DScorer, Geometry3KScorer, ScienceQAScorer, UniGeoScorer
from vlmbench.scoring.nlvr2 import NLVR2Scorer
from vlmbench.scoring.vcr import VCRScorer

SCORERS: dict[str, type[Scorer]] = {
    cls.id: cls
    for cls in (
        MathVistaScorer,
        ChartQAScorer,
        ScienceQAScorer,
        AI2DScorer,
        Geometry3KScorer,
        UniGeoScorer,
        GQAScorer,
        NLVR2Scorer,
        VCRScorer,
    )
}


def get_scorer(name: str) -> Scorer:
    try:
        return SCORERS[name]()
    except KeyError:
        raise VlmbenchError(f"unknown scorer {name!r}; known: {', '.join(sorted(SCORERS))}") from None


__all__ = ["SCORERS", "SampleScore", "Scorer", "aggregate", "breakdown", "get_scorer", "relaxed_correctness"]
