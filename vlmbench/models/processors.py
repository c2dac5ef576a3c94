"""Loading a checkpoint's processor on machines without torchvision.

Qwen2-VL / Qwen2.5-VL processors declare a video processor, and building it needs torchvision - whose
PyPI build is CUDA-only and breaks next to the CPU torch wheel. Without torchvision these checkpoints
get the same processor minus its video part, which is all image benchmarks need.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

QWEN_VL_TYPES = {"qwen2_vl", "qwen2_5_vl"}


def image_only_processor(base: type) -> type:
    """`base` (a Qwen-VL processor class) without its video processor, which needs torchvision."""
    from transformers.processing_utils import ProcessorMixin

    class ImageOnlyProcessor(base):  # type: ignore[misc, valid-type]
        def __init__(self, image_processor=None, tokenizer=None, chat_template=None, **kwargs):
            kwargs.pop("video_processor", None)
            self.image_token, self.video_token = "<|image_pad|>", "<|video_pad|>"
            self.image_token_id = tokenizer.convert_tokens_to_ids(self.image_token)
            self.video_token_id = tokenizer.convert_tokens_to_ids(self.video_token)
            ProcessorMixin.__init__(self, image_processor, tokenizer, chat_template=chat_template)

    ImageOnlyProcessor.__name__ = ImageOnlyProcessor.__qualname__ = f"ImageOnly{base.__name__}"
    return ImageOnlyProcessor


def _model_type(path: str | Path) -> str | None:
    config = Path(path) / "config.json"
    if not config.is_file():
        return None
    try:
        return json.loads(config.read_text()).get("model_type")
    except (OSError, ValueError):
        return None


def load_processor(path: str | Path, trust_remote_code: bool = False) -> Any:
    """The checkpoint's processor; for Qwen-VL without torchvision, an image-only one."""
    from transformers import AutoProcessor

    model_type = _model_type(path)
    if model_type in QWEN_VL_TYPES and importlib.util.find_spec("torchvision") is None:
        from transformers import Qwen2_5_VLProcessor, Qwen2VLProcessor

        base = Qwen2VLProcessor if model_type == "qwen2_vl" else Qwen2_5_VLProcessor
        return image_only_processor(base).from_pretrained(str(path))
    return AutoProcessor.from_pretrained(str(path), trust_remote_code=trust_remote_code)
