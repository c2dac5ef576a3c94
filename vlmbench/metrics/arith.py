"""Arithmetic claims in free text (`3 + 4 * 2 = 11`, `12% of 50 = 6`, `x/2 = 3`) and their re-check.

How a claim is found (what this module can see):

- the text is read as tokens: numbers (`1,234`, `3.5`, `.5`, `25%`), operators (`+ - * / ^ **` and
  `× · ÷ −`, LaTeX `\\times \\cdot \\div`), parentheses, `sqrt` / `√`, `\\frac{a}{b}`, single-letter
  unknowns (`x`, `2x`), `=` and `≈`. `12% of 50` reads as `0.12 * 50`; `3 x 4` as `3 * 4`; a unit word
  right after a number (`3 cm + 4 cm = 7 cm`) is skipped; `$`, `°` and `^\\circ` are ignored,
  `x²` reads as `x^2`. Any other word or
  punctuation ends an expression, so `Step 2: 3 + 4 = 7.` yields `3 + 4 = 7`;
- an equality chain `e0 = e1 = ... = ek` gives one claim per adjacent pair in which at least one side
  computes something (an operator or a function); `7 = 7` and `x = 4` are not claims. `x = 4` (one
  unknown alone on one side, a number on the other) assigns a value instead;
- a claim with unknowns is checked after substituting the last value the text assigns to each; one
  whose unknowns are never assigned is skipped (`n_skipped`), never counted as wrong.

How a claim is checked: both sides are evaluated exactly with sympy (decimals as rationals, `sqrt(2)`
as a surd). A side that is a bare number was written at some precision: the claim holds when the
exact value, rounded (half either way) or truncated to the digits shown, gives that number
(`10/3 = 3.33`, `2/3 = 0.67` or `0.66`, `100/7 = 14`; not `sqrt(2) = 1.5`); an integer result must be
exact (`7 * 3 = 20` is wrong). A percentage may state the fraction or the number of percent
(`1/4 = 25%` and `15 / 30 * 100 = 50%` both hold). Two computed sides must agree exactly. Division by
zero makes a claim wrong.

What it cannot see: arithmetic in words ("three plus four is seven"), claims split across lines,
values read off an image (`the bar is 12`), and whether a right computation was the right one to do.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

if TYPE_CHECKING:  # sympy costs ~0.4 s to import: loaded by the first claim that needs checking
    import sympy

MAX_EXPONENT = 64  # larger powers are not arithmetic a chain would show; they are skipped
MAX_TOKENS = 64  # longer runs of math are formulas, not steps
MAX_BITS = 4096  # a power whose result needs more bits than this is not a step a chain shows

_FRAC = re.compile(r"\\[dt]?frac\s*\{([^{}]*)\}\s*\{([^{}]*)\}")
_SQRT = re.compile(r"\\sqrt\s*\{([^{}]*)\}")
_REPLACE = (
    ("\\times", " * "),
    ("\\cdot", " * "),
    ("\\div", " / "),
    ("\\left", " "),
    ("\\right", " "),
    ("\\approx", " ≈ "),
    ("^{\\circ}", " "),
    ("^\\circ", " "),
    ("$", " "),
)
_TOKEN = re.compile(
    r"(?P<num>\d{1,3}(?:,\d{3})+(?:\.\d+)?(?!\d)|\d+(?:\.\d+)?|\.\d+)(?P<pct>\s*%)?"
    r"|(?P<op>\*\*|[-+*/^×·∙⋅÷−–])"
    r"|(?P<eq>==|=|≈|≅)"
    r"|(?P<lp>\()|(?P<rp>\))"
    r"|(?P<func>sqrt|√)"
    r"|(?P<word>[A-Za-z]+)"
    r"|(?P<space>[ \t]+)"
    r"|(?P<other>.)",
    re.DOTALL,
)
_OPS = {"×": "*", "·": "*", "∙": "*", "⋅": "*", "÷": "/", "−": "-", "–": "-", "**": "^"}


class Tok(NamedTuple):
    kind: str  # num | op | eq | lp | rp | func | var | unit
    text: str
    start: int
    end: int
    decimals: int = 0  # digits shown after the point (percent: +2)
    percent: bool = False
    glued: bool = False  # no space before it (2x)
    raw: str = ""  # as written, where it differs (`of`, `×`)


@dataclass(frozen=True)
class Claim:
    """One checked equality: `lhs = rhs` as written, the exact value of each side, and the verdict."""

    text: str
    lhs: str
    rhs: str
    lhs_value: float
    rhs_value: float
    correct: bool


@dataclass(frozen=True)
class Equality:
    """An equality chain found in a text: its sides as token lists, in order."""

    sides: tuple[tuple[Tok, ...], ...]
    trees: tuple[Any, ...]  # each side parsed (see `_parse`)
    approx: tuple[bool, ...]  # per `=` sign: was it `≈`
    start: int
    end: int


_TIMES_X = re.compile(r"(?<=\d)\s*[xX]\s*(?=\d)")


_UNIT_SQUARE = re.compile(r"(?<=[A-Za-z]{2})[²³]")  # cm², m³: part of a unit
_SUPERSCRIPT = str.maketrans({"²": "^2", "³": "^3", "°": " "})


def normalize(text: str) -> str:
    """LaTeX fractions and roots to plain operators; currency and degree signs to spaces; `3x4` to
    `3 * 4`; `x²` to `x^2` (but `cm²` to `cm`)."""
    if "x" in text or "X" in text:
        text = _TIMES_X.sub(" * ", text)
    if "²" in text or "³" in text or "°" in text:
        text = _UNIT_SQUARE.sub("", text).translate(_SUPERSCRIPT)
    if "\\" in text:
        for _ in range(3):  # nested \frac{\frac{..}{..}}{..}
            text = _FRAC.sub(r"((\1)/(\2))", text)
        text = _SQRT.sub(r"sqrt(\1)", text)
        for old, new in _REPLACE:
            text = text.replace(old, new)
    elif "$" in text:
        text = text.replace("$", " ")
    return text


def _tokens(line: str) -> list[Tok | None]:
    """Tokens of one line; None marks a break (a word or punctuation that ends an expression)."""
    out: list[Tok | None] = []
    last_end = -1
    for m in _TOKEN.finditer(line):
        kind = m.lastgroup
        if kind == "pct":  # the inner group of a number
            kind = "num"
        glued = m.start() == last_end
        if kind == "space":
            continue
        last_end = m.end()
        if kind == "num":
            body = m["num"]
            decimals = len(body.split(".", 1)[1]) if "." in body else 0
            pct = m["pct"] is not None
            out.append(Tok("num", body.replace(",", ""), m.start(), m.end(), decimals + 2 * pct, pct, glued))
        elif kind == "op":
            op = m["op"]
            out.append(Tok("op", _OPS.get(op, op), m.start(), m.end(), glued=glued, raw=op))
        elif kind == "eq":
            out.append(Tok("eq", m["eq"], m.start(), m.end()))
        elif kind in ("lp", "rp"):
            out.append(Tok(kind, m.group(), m.start(), m.end(), glued=glued))
        elif kind == "func":
            out.append(Tok("func", "sqrt", m.start(), m.end(), raw=m["func"]))
        elif kind == "word":
            out.append(_word(m.group(), m.start(), m.end(), glued, out))
        else:
            out.append(None)
    return out


def _word(word: str, start: int, end: int, glued: bool, before: list[Tok | None]) -> Tok | None:
    prev = before[-1] if before else None
    if len(word) == 1:
        if word in "xX" and prev is not None and prev.kind in ("num", "rp") and not glued:
            return Tok("op", "*", start, end, glued=False, raw=word)  # `3 x 4`, `(2 + 1) x 4`
        return Tok("var", word, start, end, glued=glued)
    if word == "of" and prev is not None and prev.kind == "num" and prev.percent:
        return Tok("op", "*", start, end, raw="of")
    if prev is not None and prev.kind == "num":
        return Tok("unit", word, start, end)  # `3 cm`: dropped when an operator or `=` follows
    return None


def _runs(tokens: list[Tok | None]) -> list[list[Tok]]:
    runs: list[list[Tok]] = []
    current: list[Tok] = []
    for i, tok in enumerate(tokens):
        if tok is not None and tok.kind == "unit":
            nxt = tokens[i + 1] if i + 1 < len(tokens) else None
            if nxt is not None and nxt.kind in ("op", "eq", "rp"):
                continue
            tok = None
        if tok is None:
            if current:
                runs.append(current)
            current = []
        else:
            current.append(tok)
    if current:
        runs.append(current)
    return [r for r in runs if any(t.kind == "eq" for t in r)]


def find_equalities(text: str) -> list[Equality]:
    """Every equality chain in the text, line by line, in order."""
    found: list[Equality] = []
    if "=" not in text and "≈" not in text and "≅" not in text:
        return found
    text = normalize(text)
    for piece in _PIECES.finditer(text):
        line = piece.group()
        if "=" in line or "≈" in line or "≅" in line:
            for run in _runs(_tokens(line)):
                eq = _equality(run, piece.start())
                if eq is not None:
                    found.append(eq)
    return found


# Characters that always end an expression: only the pieces between them that hold `=` are tokenised.
_PIECES = re.compile(r"(?:[^\n:;!?,.]|\.(?=\d)|,(?=\d{3}(?!\d)))+")


def _equality(run: list[Tok], offset: int) -> Equality | None:
    if len(run) > MAX_TOKENS:
        return None
    sides: list[list[Tok]] = [[]]
    approx: list[bool] = []
    for tok in run:
        if tok.kind == "eq":
            sides.append([])
            approx.append(tok.text in ("≈", "≅"))
        else:
            sides[-1].append(tok)
    # the first side may start with prose-like debris (`a 3 + 4`): keep its longest parsable suffix;
    # likewise the last side's longest parsable prefix
    head = sides[0]
    if head and head[0].kind == "op" and head[0].glued:
        head = head[1:]  # `x² - 2`: an operator glued to what broke the run continues it, it is no sign
    first = _longest(head, suffix=True)
    last = _longest(sides[-1], suffix=False)
    middle = [(tuple(side), _parse(tuple(side))) for side in sides[1:-1]]
    if any(tree is None for _, tree in middle):
        return None  # a broken middle: not an arithmetic chain
    kept: list[tuple[tuple[Tok, ...], Any]] = [first, *middle, last]
    while len(kept) > 1 and kept[0][1] is None:
        kept.pop(0)
        approx.pop(0)
    while len(kept) > 1 and kept[-1][1] is None:
        kept.pop()
        approx.pop()
    if len(kept) < 2 or kept[0][1] is None:
        return None
    start, end = kept[0][0][0].start, kept[-1][0][-1].end
    return Equality(
        tuple(side for side, _ in kept),
        tuple(tree for _, tree in kept),
        tuple(approx),
        start + offset,
        end + offset,
    )


def _longest(side: list[Tok], *, suffix: bool) -> tuple[tuple[Tok, ...], Any]:
    """The longest parsable suffix (or prefix) of a side and its tree; ((), None) when none is."""
    for cut in range(len(side)):
        part = tuple(side[cut:]) if suffix else tuple(side[: len(side) - cut])
        tree = _parse(part)
        if tree is not None:
            return part, tree
    return (), None


# --- parsing: a tiny recursive-descent parser into nested tuples, evaluated with sympy --------------


class _Fail(Exception):
    pass


def _parse(side: tuple[Tok, ...]) -> tuple[Any, ...] | None:
    """The expression tree of a side, or None when it is not one well-formed expression."""
    if not side:
        return None
    try:
        tree, at = _expr(side, 0)
    except (_Fail, IndexError, RecursionError):
        return None
    return tree if at == len(side) else None


def _expr(t: tuple[Tok, ...], i: int) -> tuple[Any, int]:
    left, i = _term(t, i)
    while i < len(t) and t[i].kind == "op" and t[i].text in "+-":
        op = t[i].text
        right, i = _term(t, i + 1)
        left = (op, left, right)
    return left, i


def _term(t: tuple[Tok, ...], i: int) -> tuple[Any, int]:
    left, i = _unary(t, i)
    while i < len(t):
        tok = t[i]
        if tok.kind == "op" and tok.text in "*/":
            right, i = _unary(t, i + 1)
            left = (tok.text, left, right)
        elif tok.kind == "lp" or (tok.kind in ("var", "func") and tok.glued):
            right, i = _power(t, i)  # implicit product: 2(3 + 4), 2x, 3sqrt(2)
            left = ("*", left, right)
        else:
            break
    return left, i


def _unary(t: tuple[Tok, ...], i: int) -> tuple[Any, int]:
    if t[i].kind == "op" and t[i].text in "+-":
        operand, j = _unary(t, i + 1)
        return (("neg", operand) if t[i].text == "-" else operand), j
    return _power(t, i)


def _power(t: tuple[Tok, ...], i: int) -> tuple[Any, int]:
    base, i = _atom(t, i)
    if i < len(t) and t[i].kind == "op" and t[i].text == "^":
        exponent, i = _unary(t, i + 1)  # right associative: 2^3^2 = 2^9
        return ("^", base, exponent), i
    return base, i


def _atom(t: tuple[Tok, ...], i: int) -> tuple[Any, int]:
    tok = t[i]
    if tok.kind == "num":
        return ("num", tok.text, tok.percent), i + 1
    if tok.kind == "var":
        return ("var", tok.text), i + 1
    if tok.kind == "lp":
        inner, j = _expr(t, i + 1)
        if j >= len(t) or t[j].kind != "rp":
            raise _Fail
        return inner, j + 1
    if tok.kind == "func":
        operand, j = _power(t, i + 1) if t[i + 1].kind != "lp" else _atom(t, i + 1)
        return ("sqrt", operand), j
    raise _Fail


def is_literal(tree: Any) -> bool:
    """A bare (possibly negated) number: a value as written, not a computation."""
    if tree[0] == "neg":
        return is_literal(tree[1])
    return tree[0] == "num"


def is_variable(tree: Any) -> bool:
    return tree[0] == "var"


def symbols_of(tree: Any) -> set[str]:
    if tree[0] == "var":
        return {tree[1]}
    if tree[0] == "num":
        return set()
    return set().union(*(symbols_of(child) for child in tree[1:]))


class _Undecidable(Exception):
    pass


def evaluate(tree: Any, values: dict[str, sympy.Expr] | None = None) -> sympy.Expr:
    """The exact value of a tree with sympy; unknowns take `values`; raises on what it cannot decide."""
    if not values:
        return _evaluate_constant(tree)
    return _evaluate(tree, values)


@lru_cache(maxsize=1 << 16)
def _evaluate_constant(tree: Any) -> sympy.Expr:
    return _evaluate(tree, None)


def _evaluate(tree: Any, values: dict[str, sympy.Expr] | None) -> sympy.Expr:
    import sympy

    kind = tree[0]
    if kind == "num":
        value = sympy.Rational(tree[1])
        return value / 100 if tree[2] else value
    if kind == "var":
        if values is None or tree[1] not in values:
            raise _Undecidable(tree[1])
        return values[tree[1]]
    if kind == "neg":
        return -_evaluate(tree[1], values)
    if kind == "sqrt":
        return sympy.sqrt(_evaluate(tree[1], values))
    left, right = _evaluate(tree[1], values), _evaluate(tree[2], values)
    if kind == "+":
        return left + right
    if kind == "-":
        return left - right
    if kind == "*":
        return left * right
    if kind == "/":
        if right == 0:
            return sympy.zoo
        return left / right
    if kind == "^":
        if not right.is_number or abs(right) > MAX_EXPONENT or _bits(left) * abs(float(right)) > MAX_BITS:
            raise _Undecidable("exponent")
        return left**right
    raise _Undecidable(kind)


def _bits(value: sympy.Expr) -> int:
    """About how many bits the value's numerator or denominator takes (surds: of their float)."""
    import sympy

    if isinstance(value, sympy.Rational):
        return max(int(value.p).bit_length(), int(value.q).bit_length())
    number = abs(_float(value))
    return 64 if number != number else max(1, int(number).bit_length())


def _shown_decimals(side: tuple[Tok, ...]) -> int:
    return next(t.decimals for t in side if t.kind == "num")


def holds(value: sympy.Expr, shown: sympy.Expr, decimals: int | None, approx: bool = False) -> bool:
    """Does an exact `value` match a number `shown` with `decimals` digits (None: computed, exact)?"""
    import sympy

    if value is sympy.zoo or value.has(sympy.zoo, sympy.nan) or not value.is_real:
        return False
    if value.is_Rational and shown.is_Rational and value == shown:
        return True
    if decimals is None:
        if value.is_Rational and shown.is_Rational:
            return False
        return abs(_float(value) - _float(shown)) <= 1e-12 * max(1.0, abs(_float(shown)))
    if decimals == 0 and value.is_Integer and not approx:
        return False  # an integer result must be written exactly
    scale = 10**decimals
    if value.is_Rational:
        x, written = value * scale, shown * scale
        return bool(abs(x - written) <= sympy.Rational(1, 2) or int(x) == written)  # rounded or truncated
    x, written = _float(value) * scale, _float(shown) * scale
    return abs(x - written) <= 0.5 + 1e-9 or float(int(x)) == round(written)


def _holds_literal(value: sympy.Expr, shown: sympy.Expr, side: tuple[Tok, ...], approx: bool) -> bool:
    """`value = shown` for a written number; a percentage may state the fraction (`1/4 = 25%`) or the
    number of percent (`15 / 30 * 100 = 50%`)."""
    decimals = _shown_decimals(side)
    if holds(value, shown, decimals, approx):
        return True
    percent = any(t.percent for t in side)
    return percent and holds(value, shown * 100, decimals - 2, approx)


def check_equality(eq: Equality, values: dict[str, sympy.Expr]) -> tuple[list[Claim], int]:
    """The claims of one equality chain, checked; and how many pairs had unknowns left undecided."""
    claims: list[Claim] = []
    skipped = 0
    trees = eq.trees
    for k in range(len(trees) - 1):
        left, right = trees[k], trees[k + 1]
        if is_variable(left) or is_variable(right) or (is_literal(left) and is_literal(right)):
            continue  # `7 = 7`, `x = 4`, `x = 3 + 4`: a value named, no computation claimed
        try:
            lv, rv = evaluate(left, values), evaluate(right, values)
        except _Undecidable:
            skipped += 1
            continue
        except (ValueError, TypeError, ZeroDivisionError, OverflowError):
            skipped += 1
            continue
        approx = eq.approx[k]
        if is_literal(right):
            ok = _holds_literal(lv, rv, eq.sides[k + 1], approx)
        elif is_literal(left):
            ok = _holds_literal(rv, lv, eq.sides[k], approx)
        else:
            ok = holds(lv, rv, None) if lv.is_finite and rv.is_finite else False
        claims.append(
            Claim(
                text=f"{_text(eq.sides[k])} {'≈' if approx else '='} {_text(eq.sides[k + 1])}",
                lhs=_text(eq.sides[k]),
                rhs=_text(eq.sides[k + 1]),
                lhs_value=_float(lv),
                rhs_value=_float(rv),
                correct=ok,
            )
        )
    return claims, skipped


def _float(value: sympy.Expr) -> float:
    import sympy

    if isinstance(value, sympy.Rational):
        return value.p / value.q
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


def _text(side: tuple[Tok, ...]) -> str:
    parts = []
    for tok in side:
        text = (tok.raw or tok.text) + ("%" if tok.percent else "")
        if parts and (tok.glued or tok.kind == "rp" or parts[-1].endswith(("(", "√"))):
            parts[-1] += text
        else:
            parts.append(text)
    return " ".join(parts)


def assignments(equalities: list[Equality]) -> dict[str, sympy.Expr]:
    """The last value each single-letter unknown is given (`x = 4`, `x = 3 + 1`), in text order."""
    values: dict[str, sympy.Expr] = {}
    for eq in equalities:
        trees = eq.trees
        for k in range(len(trees) - 1):
            left, right = trees[k], trees[k + 1]
            for var, expr in ((left, right), (right, left)):
                if is_variable(var) and not symbols_of(expr):
                    try:
                        value = evaluate(expr)
                    except (_Undecidable, ValueError, TypeError, OverflowError):
                        continue
                    if value.is_finite:
                        values[var[1]] = value
    return values


def last_value(equalities: list[Equality]) -> tuple[float, ...] | None:
    """The values the last equality chain ends on (its last side; a percentage also as written)."""
    if not equalities:
        return None
    eq = equalities[-1]
    tree = eq.trees[-1]
    try:
        value = evaluate(tree, assignments(equalities))
    except (_Undecidable, ValueError, TypeError, OverflowError):
        return None
    number = _float(value)
    if number != number or number in (float("inf"), float("-inf")):
        return None
    if is_literal(tree) and any(t.percent for t in eq.sides[-1]):
        return number, number * 100
    return (number,)
