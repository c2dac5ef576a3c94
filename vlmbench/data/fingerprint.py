"""Dataset fingerprints: one hash that changes when any item's id, question, options, gold answer or
image bytes change. Run records carry it (it enters the protocol hash), so two numbers are known to come
from the same items - and a regenerated procedural set is proven byte-identical."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path

from vlmbench.schema import ImageRef, Sample

FINGERPRINT_VERSION = "1"


def image_digest(image: ImageRef) -> str:
    """sha256 of the encoded image (bytes in memory, else the file); '' for loader-only images."""
    if image.data is not None:
        return hashlib.sha256(image.data).hexdigest()
    if image.path is not None and Path(image.path).is_file():
        return hashlib.sha256(Path(image.path).read_bytes()).hexdigest()
    return ""


def sample_record(sample: Sample, images: bool = True) -> dict[str, object]:
    return {
        "id": sample.id,
        "question": sample.question,
        "choices": sample.choices,
        "answer": sample.answer,
        "answer_type": sample.answer_type.value,
        "images": [image_digest(i) for i in sample.images] if images else [],
    }


def dataset_fingerprint(samples: Iterable[Sample], images: bool = True) -> str:
    """sha256 over the canonical JSON of every sample's record, in order."""
    digest = hashlib.sha256(f"vlmbench-dataset-v{FINGERPRINT_VERSION}".encode())
    for sample in samples:
        line = json.dumps(sample_record(sample, images), sort_keys=True, ensure_ascii=False)
        digest.update(line.encode("utf-8") + b"\n")
    return digest.hexdigest()


def data_source(samples: Iterable[Sample]) -> dict[str, object] | None:
    """Where hub-loaded samples came from (dataset, config, split, commit), else None. It enters the
    protocol only when present, so local-data protocols hash as they did before it existed."""
    source = getattr(samples, "source", None)
    return dict(source) if isinstance(source, dict) else None
