"""Mathematical equivalence of two answers (`0.5` = `1/2` = `\\frac{1}{2}`, `2\\sqrt{3}` = `\\sqrt{12}`).

Plain numbers are compared directly (fast path, relative tolerance 1e-6); anything else goes through
math-verify, which parses LaTeX and plain expressions with sympy. Parse failures mean "not equal".
"""

from __future__ import annotations

import math
from functools import lru_cache

from vlmbench.extract.numbers import parse_numbers

REL_TOL = 1e-6


def _single_number(text: str) -> float | None:
    numbers = parse_numbers(text)
    if len(numbers) != 1:
        return None
    stripped = text.strip().strip("$").strip()
    # only a bare number (optionally with sign / percent / unit-free) takes the fast path
    return numbers[0].value if not any(c.isalpha() or c == "\\" for c in stripped) else None


@lru_cache(maxsize=65536)
def math_equal(a: str, b: str) -> bool:
    """True when `a` and `b` denote the same value or expression."""
    if a.strip() == b.strip():
        return True
    x, y = _single_number(a), _single_number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=REL_TOL, abs_tol=1e-12)
    return _verify(a, b)


def _verify(a: str, b: str) -> bool:
    try:
        from math_verify import parse, verify

        parsed_a, parsed_b = parse(_as_latex(a)), parse(_as_latex(b))
        if not parsed_a or not parsed_b:
            return False
        return bool(verify(parsed_b, parsed_a))
    except Exception:  # math-verify raises on exotic input; inequality is the safe answer
        return False


def _as_latex(text: str) -> str:
    text = text.strip()
    return text if text.startswith("$") else f"${text}$"
