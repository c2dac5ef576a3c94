"""The procedural table-math task (`synth_table_math`, generator `table_math`).

Spec: a rendered table and a MathVista-style free-form arithmetic question; every gold answer follows
from the table's own cells (`meta.structure`), recomputed here by an independent solver, and is spelt
as MathVista's normaliser spells any prediction; difficulty changes the table's size and the number of
operations; the items score under the official MathVista rules (meta.question_type / answer_type /
precision / query). Determinism, prefix stability, export, loading and bad input:
`test_synth_contract.py`.
"""

from __future__ import annotations

import random
import statistics
from fractions import Fraction

import pytest
from synth_checks import assert_gold_scores_perfectly, assert_not_blank, assert_texts_readable, score

from vlmbench.prompts import render_prompt
from vlmbench.registry import get_task
from vlmbench.synth import generate

N = 60  # items per difficulty
TASK = get_task("synth_table_math")
HINT = {
    "integer": "Please answer the question requiring an integer answer and provide the final value, "
    "e.g., 1, 2, 3, at the end.",
    1: "Please answer the question requiring a floating-point number with one decimal place and provide "
    "the final value, e.g., 1.2, 1.3, 1.4, at the end.",
    2: "Please answer the question requiring a floating-point number with two decimal places and provide "
    "the final value, e.g., 1.23, 1.34, 1.45, at the end.",
}


@pytest.fixture(scope="module")
def items() -> dict[int, list]:
    return {d: generate("table_math", N, d, 0) for d in (1, 2, 3)}


# --------------------------------------------------------------------------------------------------
# an independent solver: reads only meta.structure


def solve(structure: dict) -> Fraction:
    table, question = structure["table"], structure["question"]
    columns = table["columns"]
    rows = {
        row["label"]: dict(zip(columns, map(Fraction, map(str, row["values"])), strict=True))
        for row in table["rows"]
    }
    kind, args = question["kind"], question["args"]

    def cost(item: str) -> Fraction:
        return rows[item]["Price ($)"] * rows[item]["Quantity"]

    def total(item: str) -> Fraction:
        return sum(rows[item].values(), Fraction(0))

    if kind in ("cell_sum", "sum3"):
        return sum((rows[r][c] for r, c in args["cells"]), Fraction(0))
    if kind == "mean2":
        return sum((rows[r][c] for r, c in args["cells"]), Fraction(0)) / 2
    if kind == "cell_diff":
        (r1, c1), (r2, c2) = args["minuend"], args["subtrahend"]
        return rows[r1][c1] - rows[r2][c2]
    if kind == "line_cost":
        return cost(args["row"])
    if kind == "change":
        return args["paid"] - cost(args["row"])
    if kind == "unit_diff":
        a, b = args["rows"]
        return (rows[a]["Price ($)"] - rows[b]["Price ($)"]) * args["quantity"]
    if kind == "row_mean":
        return total(args["row"]) / len(columns)
    if kind == "total_diff":
        a, b = args["rows"]
        return total(a) - total(b)
    if kind == "pct_change":
        old, new = rows[args["row"]][args["from"]], rows[args["row"]][args["to"]]
        return (new - old) / old * 100
    if kind == "revenue":
        return sum((cost(r) for r in args["rows"]), Fraction(0))
    raise AssertionError(f"unknown kind {kind}")


def spelt(value: Fraction, precision: int | None) -> str:
    """MathVista's normaliser: `str(int(...))` for integers, `str(round(float, precision))` for floats."""
    if precision is None:
        assert value.denominator == 1
        return str(value.numerator)
    return str(round(float(value), precision))


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_every_gold_answer_is_recomputed_from_the_structure(items, difficulty):
    for sample in items[difficulty]:
        structure = sample.meta["structure"]
        value = solve(structure)
        assert value > 0
        assert spelt(value, structure["question"]["precision"]) == sample.answer, sample.id


def test_no_float_answer_is_a_rounding_tie(items):
    """Where the next digit is exactly 5, rounding conventions disagree; such values are never asked."""
    for sample in (s for d in items.values() for s in d if s.meta["precision"]):
        scaled = solve(sample.meta["structure"]) * 10 ** sample.meta["precision"]
        assert scaled - scaled.numerator // scaled.denominator != Fraction(1, 2)


def test_items_carry_mathvista_meta_and_query(items):
    for sample in (s for d in items.values() for s in d):
        meta = sample.meta
        assert meta["question_type"] == "free_form" and meta["unit"] is None
        assert meta["answer_type"] == sample.answer_type.value
        if meta["answer_type"] == "integer":
            assert meta["precision"] is None
            hint = HINT["integer"]
        else:
            assert meta["precision"] in (1, 2)
            hint = HINT[meta["precision"]]
        assert meta["query"] == f"Hint: {hint}\nQuestion: {sample.question}"
        assert render_prompt(TASK, sample, "direct") == meta["query"]
        assert meta["kind"] == meta["structure"]["question"]["kind"]


# --------------------------------------------------------------------------------------------------
# difficulty


def test_difficulty_sets_table_size_and_operations(items):
    shapes = {d: {tuple(s.meta["shape"]) for s in items[d]} for d in (1, 2, 3)}
    assert shapes == {1: {(3, 3)}, 2: {(4, 5)}, 3: {(6, 6)}}
    ops = {d: [s.meta["structure"]["question"]["ops"] for s in items[d]] for d in (1, 2, 3)}
    assert set(ops[1]) == {1} and set(ops[2]) == {2} and min(ops[3]) >= 3
    assert statistics.mean(ops[1]) < statistics.mean(ops[2]) < statistics.mean(ops[3])


def test_every_table_has_cells_the_question_does_not_need(items):
    for sample in (s for d in items.values() for s in d):
        table = sample.meta["structure"]["table"]
        used = sample.meta["structure"]["used_cells"]
        used_rows = {r for r, _ in used}
        used_columns = {c for _, c in used}
        assert used_rows <= {row["label"] for row in table["rows"]}
        assert used_columns <= set(table["columns"])
        # a whole row or a whole column is distraction
        assert len(used_rows) < len(table["rows"]) or len(used_columns) < len(table["columns"]), sample.id


def test_question_kinds_per_difficulty(items):
    kinds = {d: {s.meta["kind"] for s in items[d]} for d in (1, 2, 3)}
    assert kinds[1] == {"cell_sum", "cell_diff", "line_cost"}
    assert kinds[2] == {"sum3", "mean2", "change", "unit_diff"}
    assert kinds[3] == {"row_mean", "total_diff", "pct_change", "revenue"}
    assert {s.meta["answer_type"] for d in (1, 2, 3) for s in items[d]} == {"integer", "float"}


# --------------------------------------------------------------------------------------------------
# scoring


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_gold_answers_score_100_percent_under_the_task_scorer(items, difficulty):
    metrics = assert_gold_scores_perfectly(TASK, items[difficulty])
    assert set(metrics["breakdowns"]) == {"kind", "answer_type", "difficulty"}


def test_answers_written_at_the_stated_precision_score_too(items):
    """'12.50' and '12.5' both normalise to the gold '12.5'; a CoT answer line is read by robust."""
    floats = [s for d in items.values() for s in d if s.meta["precision"]]
    written = score(TASK, floats, lambda s: f"{float(s.answer):.{s.meta['precision']}f}")
    assert written["official"] == 1.0
    cot = score(TASK, floats, lambda s: f"Adding up the cells step by step.\nAnswer: {s.answer}")
    assert cot["robust"] == 1.0


def cell_values(sample) -> list[Fraction]:
    return [Fraction(str(v)) for row in sample.meta["structure"]["table"]["rows"] for v in row["values"]]


def test_guessers_score_far_below_gold(items):
    """Answers are exact numbers over wide ranges: a constant ("0", "1", the most common gold) or a
    seeded random number in the range of the table's values is right almost never: asserted <= 5%."""
    rng = random.Random(0)
    for samples in items.values():
        golds = [s.answer for s in samples]
        for constant in ("0", "1", max(golds, key=golds.count)):
            metrics = score(TASK, samples, lambda s, constant=constant: constant)
            assert metrics["official"] <= 0.05, constant
        metrics = score(TASK, samples, lambda s: str(rng.randint(0, int(max(cell_values(s))) * 2)))
        assert metrics["official"] <= 0.05


def test_a_cell_read_instead_of_computed_is_wrong(items):
    """The answer is never simply a cell of the table the question uses (it needs the arithmetic)."""
    hits = 0
    for sample in (s for d in items.values() for s in d):
        table = sample.meta["structure"]["table"]
        rows = {
            row["label"]: dict(zip(table["columns"], row["values"], strict=True)) for row in table["rows"]
        }
        used = [str(rows[r][c]) for r, c in sample.meta["structure"]["used_cells"]]
        hits += score(TASK, [sample], lambda s, used=used: used[0])["official"]
    assert hits <= 0.05 * 3 * N


# --------------------------------------------------------------------------------------------------
# readability


@pytest.mark.parametrize("difficulty", [1, 2, 3])
def test_images_are_readable_and_show_every_cell(items, difficulty):
    for sample in items[difficulty]:
        image = sample.images[0].load()
        width, height = image.size
        assert 480 <= width <= 640 and 360 <= height <= 480
        assert_not_blank(image)
        assert_texts_readable(sample, width, height)
        texts = sample.meta["layout"]["texts"]
        table = sample.meta["structure"]["table"]
        cells = [Fraction(t["text"]) for t in texts if t["role"] == "cell"]
        assert cells == [Fraction(str(v)) for row in table["rows"] for v in row["values"]]
        shown = {t["text"] for t in texts if t["role"] in ("row", "header")}
        assert {row["label"] for row in table["rows"]} | set(table["columns"]) <= shown


def test_prices_show_cents(items):
    for sample in (s for d in items.values() for s in d if s.meta["theme"] == "order"):
        texts = sample.meta["layout"]["texts"]
        columns = sample.meta["structure"]["table"]["columns"]
        cells = [t["text"] for t in texts if t["role"] == "cell"]
        prices = cells[columns.index("Price ($)") :: len(columns)]
        assert all(len(p.split(".")[1]) == 2 for p in prices)
