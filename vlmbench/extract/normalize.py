"""Text normalisation shared by extractors and scorers. Every function here is idempotent."""

from __future__ import annotations

import re
import string
import unicodedata
from functools import lru_cache

_WS = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n.,;:!?\"'`*_()[]{}"
_ARTICLES = re.compile(r"^(?:the|a|an)\s+", re.IGNORECASE)
_PUNCT_TABLE = str.maketrans("", "", string.punctuation)


def collapse_spaces(text: str) -> str:
    return _WS.sub(" ", text).strip()


def strip_edges(text: str) -> str:
    """Drop surrounding quotes, brackets, markdown and trailing dots: `"**Yes.**"` -> `Yes`."""
    previous = None
    while previous != text:
        previous = text
        text = text.strip(_EDGE_PUNCT)
    return text


@lru_cache(maxsize=65536)  # option texts repeat across every response to the same item
def normalize_text(text: str) -> str:
    """Lower-case, NFKC, collapsed spaces, no edge punctuation, no leading article."""
    previous = None
    text = unicodedata.normalize("NFKC", text)
    while previous != text:
        previous = text
        text = collapse_spaces(strip_edges(text.lower()))
        text = _ARTICLES.sub("", text)
    return text


def remove_punctuation(text: str) -> str:
    """Delete ASCII punctuation characters (the lmms-eval `ignore_punctuation` rule)."""
    return text.translate(_PUNCT_TABLE)
