"""vlmbench: comparable evaluation and RL baselines for visual-language-model reasoning."""

from vlmbench.schema import AnswerType, ImageRef, Sample

__version__ = "0.1.0"

__all__ = ["AnswerType", "ImageRef", "Sample", "__version__"]
