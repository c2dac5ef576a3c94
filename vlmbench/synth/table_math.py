"""Rendered tables with MathVista-style multi-step arithmetic questions (free-form integer / float answers).

Three table themes: units sold (products x months), test scores (students x subjects) and an order
(groceries x price, quantity and columns no question needs). Difficulty sets the table's size and the
number of arithmetic operations the answer needs (`structure["question"]["ops"]`):

1. 3 x 3 table, one operation: the sum or difference of two cells, unit price x quantity.
2. 4 x 5 table, two operations: the sum of three cells, the mean of two cells, the change from paying
   an order line with a bill, the price difference of two items times a quantity.
3. 6 x 6 table, three or more: a row's mean, the difference of two row totals, a percentage increase,
   the cost of three or four order lines.

Every table has rows or columns the question does not use. Float answers carry a stated precision
(MathVista's hint) and the gold answer is `str(round(value, precision))`, the official normaliser's own
spelling; values whose rounding would be a tie are never asked.
"""

from __future__ import annotations

import random
from fractions import Fraction
from typing import Any

from vlmbench.synth.base import SynthError, SynthItem, plain_number, retry
from vlmbench.synth.render import MONTH_NAMES, MONTHS, TextCanvas

TITLE_SIZE, CELL_SIZE = 20, 16
ROW_HEIGHT, PAD, MIN_COLUMN = 36, 12, 64
HEADER_FILL = (228, 234, 244)
RULE = (150, 150, 150)
MAX_ATTEMPTS = 200

HINTS = {
    None: (
        "Please answer the question requiring an integer answer and provide the final value, "
        "e.g., 1, 2, 3, at the end."
    ),
    1: (
        "Please answer the question requiring a floating-point number with one decimal place and provide the "
        "final value, e.g., 1.2, 1.3, 1.4, at the end."
    ),
    2: (
        "Please answer the question requiring a floating-point number with two decimal places and provide "
        "the final value, e.g., 1.23, 1.34, 1.45, at the end."
    ),
}

PRODUCTS = (
    "Notebooks",
    "Pens",
    "Backpacks",
    "Rulers",
    "Markers",
    "Folders",
    "Erasers",
    "Staplers",
    "Scissors",
)
SHOPS = ("the corner shop", "the campus store", "the station kiosk")
STUDENTS = ("Ava", "Ben", "Chloe", "Dan", "Emma", "Finn", "Grace", "Hugo", "Iris", "Jack")
SUBJECTS = ("Math", "Science", "History", "Art", "Music", "English", "French", "Biology")
GROCERIES = ("Apples", "Bread", "Milk", "Eggs", "Cheese", "Rice", "Coffee", "Butter", "Honey", "Pasta")
PRICE, QUANTITY = "Price ($)", "Quantity"
ORDER_EXTRAS = ("Weight (g)", "Stock", "Aisle", "Rating")
BILLS = (10, 20, 50, 100)

# table shape (rows, data columns) and value range per difficulty
SHAPES = {1: (3, 3), 2: (4, 5), 3: (6, 6)}
SALES_RANGE = {1: (10, 60), 2: (10, 120), 3: (10, 200)}
KINDS = {
    ("sales", 1): ("cell_sum", "cell_diff"),
    ("scores", 1): ("cell_sum", "cell_diff"),
    ("order", 1): ("line_cost",),
    ("sales", 2): ("sum3", "mean2"),
    ("scores", 2): ("sum3", "mean2"),
    ("order", 2): ("change", "unit_diff"),
    ("sales", 3): ("row_mean", "total_diff", "pct_change"),
    ("scores", 3): ("row_mean", "total_diff", "pct_change"),
    ("order", 3): ("revenue",),
}


# --------------------------------------------------------------------------------------------------
# tables


def _table(rng: random.Random, theme: str, difficulty: int) -> dict[str, Any]:
    """A table: title, row header, column names and rows of exact values (Fractions)."""
    n_rows, n_cols = SHAPES[difficulty]
    if theme == "sales":
        start = rng.randint(0, 12 - n_cols)
        columns = list(MONTHS[start : start + n_cols])
        labels = rng.sample(PRODUCTS, n_rows)
        lo, hi = SALES_RANGE[difficulty]
        cells = [[Fraction(rng.randint(lo, hi)) for _ in columns] for _ in labels]
        title, header = f"Units sold at {rng.choice(SHOPS)}", "Product"
    elif theme == "scores":
        columns = rng.sample(SUBJECTS, n_cols)
        labels = rng.sample(STUDENTS, n_rows)
        cells = [[Fraction(rng.randint(35, 100)) for _ in columns] for _ in labels]
        title, header = "End-of-term test scores", "Student"
    else:
        columns = [PRICE, QUANTITY, *rng.sample(ORDER_EXTRAS, n_cols - 2)]
        rng.shuffle(columns)
        labels = rng.sample(GROCERIES, n_rows)
        cells = [[_order_cell(rng, column, difficulty) for column in columns] for _ in labels]
        title, header = "Grocery order", "Item"
    return {
        "theme": theme,
        "title": title,
        "row_header": header,
        "columns": columns,
        "rows": labels,
        "cells": cells,
    }


def _order_cell(rng: random.Random, column: str, difficulty: int) -> Fraction:
    if column == PRICE:
        return Fraction(rng.randint(10, 199 if difficulty > 1 else 99) * 5, 100)  # $0.50 .. $9.95
    if column == QUANTITY:
        return Fraction(rng.randint(2, 9 if difficulty < 3 else 12))
    if column == "Weight (g)":
        return Fraction(rng.randint(2, 20) * 50)
    if column == "Stock":
        return Fraction(rng.randint(5, 80))
    if column == "Aisle":
        return Fraction(rng.randint(1, 12))
    return Fraction(rng.randint(10, 50), 10)  # Rating


def _cell_text(column: str, value: Fraction) -> str:
    if column == PRICE:
        return f"{float(value):.2f}"
    if column == "Rating":
        return f"{float(value):.1f}"
    return str(value.numerator)


def _render(table: dict[str, Any]) -> TextCanvas:
    probe = TextCanvas(1, 1)
    header = [table["row_header"], *table["columns"]]
    body = [
        [label, *(_cell_text(c, v) for c, v in zip(table["columns"], row, strict=True))]
        for label, row in zip(table["rows"], table["cells"], strict=True)
    ]
    widths = [
        max(MIN_COLUMN, max(probe.width_of(line[k], CELL_SIZE) for line in [header, *body]) + 2 * PAD)
        for k in range(len(header))
    ]
    table_width = sum(widths)
    table_height = ROW_HEIGHT * (len(body) + 1)
    title_width = probe.width_of(table["title"], TITLE_SIZE)
    width = max(480, table_width + 40, title_width + 40)
    height = max(360, 56 + table_height + 30)
    top = (height - table_height + 46) // 2  # title and table centred as one block
    canvas = TextCanvas(width, height)
    canvas.text((width / 2, top - 30), table["title"], size=TITLE_SIZE, role="title")
    left = (width - table_width) // 2
    canvas.draw.rectangle((left, top, left + table_width, top + ROW_HEIGHT), fill=HEADER_FILL)
    for r, line in enumerate([header, *body]):
        y = top + ROW_HEIGHT * r
        x = left
        for k, (text, w) in enumerate(zip(line, widths, strict=True)):
            if k == 0:
                canvas.text(
                    (x + PAD, y + ROW_HEIGHT / 2),
                    text,
                    size=CELL_SIZE,
                    role="header" if r == 0 else "row",
                    anchor="lm",
                )
            else:
                role = "header" if r == 0 else "cell"
                canvas.text((x + w / 2, y + ROW_HEIGHT / 2), text, size=CELL_SIZE, role=role, anchor="mm")
            x += w
    bottom, right = top + table_height, left + table_width
    for r in range(len(body) + 2):
        y = top + ROW_HEIGHT * r
        canvas.draw.line((left, y, right, y), fill=RULE, width=2 if r in (0, 1, len(body) + 1) else 1)
    x = left
    for k, w in enumerate([0, *widths]):
        x += w
        canvas.draw.line((x, top, x, bottom), fill=RULE, width=2 if k in (0, 1, len(widths)) else 1)
    return canvas


# --------------------------------------------------------------------------------------------------
# questions


def _month(column: str) -> str:
    return MONTH_NAMES[MONTHS.index(column)] if column in MONTHS else column


def _question(
    rng: random.Random, table: dict[str, Any], kind: str
) -> tuple[str, Fraction, dict[str, Any], int]:
    """(question, exact value, args, operations)."""
    theme, rows, columns, cells = table["theme"], table["rows"], table["columns"], table["cells"]

    def cell(row: str, column: str) -> Fraction:
        return cells[rows.index(row)][columns.index(column)]

    if kind in ("cell_sum", "sum3", "mean2"):
        n = 3 if kind == "sum3" else 2
        # scores: one student's subjects, or two students' mean in one subject;
        # sales: one product over months, or several products in one month
        scores_row = theme == "scores" and kind != "mean2"
        along_row = scores_row if theme == "scores" else kind == "sum3" or rng.random() < 0.5
        if along_row:
            row = rng.choice(rows)
            picked = [[row, c] for c in sorted(rng.sample(columns, n), key=columns.index)]
        else:
            column = rng.choice(columns)
            picked = [[r, column] for r in sorted(rng.sample(rows, n), key=rows.index)]
        value = sum((cell(r, c) for r, c in picked), Fraction(0))
        if kind == "mean2":
            value /= 2
        args = {"cells": picked}
        return _sum_text(theme, kind, picked), value, args, 2 if kind != "cell_sum" else 1
    if kind == "cell_diff":
        if theme == "scores":
            column = rng.choice(columns)
            a, b = rng.sample(rows, 2)
            pair = sorted([[a, column], [b, column]], key=lambda x: cell(*x), reverse=True)
            text = f"How many more points did {pair[0][0]} score than {pair[1][0]} in {column}?"
        else:
            row = rng.choice(rows)
            a, b = rng.sample(columns, 2)
            pair = sorted([[row, a], [row, b]], key=lambda x: cell(*x), reverse=True)
            text = f"How many more {row} were sold in {_month(pair[0][1])} than in {_month(pair[1][1])}?"
        return text, cell(*pair[0]) - cell(*pair[1]), {"minuend": pair[0], "subtrahend": pair[1]}, 1
    if kind == "line_cost":
        row = rng.choice(rows)
        text = f"What is the total cost, in dollars, of the {row} on this order (price times quantity)?"
        return text, cell(row, PRICE) * cell(row, QUANTITY), {"row": row}, 1
    if kind == "change":
        row = rng.choice(rows)
        cost = cell(row, PRICE) * cell(row, QUANTITY)
        paid = next(b for b in BILLS if b > cost)
        text = (
            f"A customer pays for the {row} on this order (price times quantity) with a ${paid} bill. "
            "How much change, in dollars, do they get?"
        )
        return text, paid - cost, {"row": row, "paid": paid}, 2
    if kind == "unit_diff":
        a, b = sorted(rng.sample(rows, 2), key=lambda r: cell(r, PRICE), reverse=True)
        quantity = rng.randint(2, 6)
        text = f"How much more, in dollars, do {quantity} {a} cost than {quantity} {b} at the listed prices?"
        return text, (cell(a, PRICE) - cell(b, PRICE)) * quantity, {"rows": [a, b], "quantity": quantity}, 2
    if kind == "row_mean":
        row = rng.choice(rows)
        value = sum((cell(row, c) for c in columns), Fraction(0)) / len(columns)
        if theme == "scores":
            text = f"What is {row}'s average score across all the subjects in the table?"
        else:
            text = f"What is the average number of {row} sold per month over the months in the table?"
        return text, value, {"row": row}, len(columns)
    if kind == "total_diff":
        a, b = sorted(rng.sample(rows, 2), key=lambda r: sum(cell(r, c) for c in columns), reverse=True)
        total = [sum((cell(r, c) for c in columns), Fraction(0)) for r in (a, b)]
        if theme == "scores":
            text = (
                f"Across all the subjects in the table, how many more points did {a} score in total than {b}?"
            )
        else:
            text = f"Over all the months in the table, how many more {a} than {b} were sold in total?"
        return text, total[0] - total[1], {"rows": [a, b]}, 2 * (len(columns) - 1) + 1
    if kind == "pct_change":
        row = rng.choice(rows)
        low, high = sorted(rng.sample(columns, 2), key=lambda c: cell(row, c))
        value = (cell(row, high) - cell(row, low)) / cell(row, low) * 100
        if theme == "scores":
            text = f"By what percentage is {row}'s {high} score higher than {row}'s {low} score?"
        else:
            text = (
                f"By what percentage is the number of {row} sold in {_month(high)} "
                f"higher than in {_month(low)}?"
            )
        return text, value, {"row": row, "from": low, "to": high}, 3
    if kind == "revenue":
        chosen = sorted(rng.sample(rows, rng.randint(3, 4)), key=rows.index)
        value = sum((cell(r, PRICE) * cell(r, QUANTITY) for r in chosen), Fraction(0))
        names = ", ".join(chosen[:-1]) + " and " + chosen[-1]
        text = (
            f"What is the total cost, in dollars, of the {names} on this order "
            "(price times quantity for each)?"
        )
        return text, value, {"rows": chosen}, 2 * len(chosen) - 1
    raise SynthError(f"unknown question kind {kind!r}")


def _sum_text(theme: str, kind: str, picked: list[list[str]]) -> str:
    rows = [r for r, _ in picked]
    columns = [c for _, c in picked]
    same_row = len(set(rows)) == 1
    if theme == "scores":
        if kind == "mean2":
            return f"What is the average of {rows[0]}'s and {rows[1]}'s {columns[0]} scores?"
        subjects = _join(columns) if same_row else columns[0]
        return f"What is {rows[0]}'s total score in {subjects}?"
    if same_row:
        months = _join([_month(c) for c in columns])
        if kind == "mean2":
            return f"On average, how many {rows[0]} were sold per month in {months}?"
        return f"How many {rows[0]} were sold in {months} in total?"
    if kind == "mean2":
        return f"What is the average of the numbers of {rows[0]} and {rows[1]} sold in {_month(columns[0])}?"
    return f"How many {_join(rows)} were sold in {_month(columns[0])} in total?"


def _join(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


PRECISION = {"mean2": 1, "row_mean": 2, "line_cost": 2, "change": 2, "unit_diff": 2, "revenue": 2}


def _precision(rng: random.Random, kind: str) -> int | None:
    if kind == "pct_change":
        return rng.choice((1, 2))
    return PRECISION.get(kind)


def gold_answer(value: Fraction, precision: int | None) -> str | None:
    """The official spelling (`str(int)` / `str(round(float, precision))`), or None when the value is
    not a positive answer or its rounding is a tie (where rounding conventions disagree)."""
    if value <= 0:
        return None
    if precision is None:
        return str(value.numerator) if value.denominator == 1 else None
    scaled = value * 10**precision
    if scaled - (scaled.numerator // scaled.denominator) == Fraction(1, 2):
        return None
    return str(round(float(value), precision))


# --------------------------------------------------------------------------------------------------
# the generator


def _attempt(rng: random.Random, difficulty: int) -> SynthItem | None:
    theme = rng.choice(("sales", "scores", "order"))
    kind = rng.choice(KINDS[(theme, difficulty)])
    table = _table(rng, theme, difficulty)
    text, value, args, ops = _question(rng, table, kind)
    precision = _precision(rng, kind)
    answer = gold_answer(value, precision)
    if answer is None:
        return None
    canvas = _render(table)
    if not canvas.clean():
        return None
    used = _used_cells(table, kind, args)
    answer_type = "integer" if precision is None else "float"
    query = f"Hint: {HINTS[precision]}\nQuestion: {text}"
    structure = {
        "table": {
            "title": table["title"],
            "row_header": table["row_header"],
            "columns": table["columns"],
            "rows": [
                {"label": label, "values": [plain_number(v) for v in row]}
                for label, row in zip(table["rows"], table["cells"], strict=True)
            ],
        },
        "question": {"kind": kind, "args": args, "ops": ops, "precision": precision},
        "used_cells": used,
    }
    meta = {
        "question_type": "free_form",
        "answer_type": answer_type,
        "precision": precision,
        "unit": None,
        "query": query,
        "kind": kind,
        "theme": theme,
        "ops": ops,
        "shape": [len(table["rows"]), len(table["columns"])],
        "layout": canvas.layout(),
    }
    return SynthItem(text, answer, answer_type, canvas.image, structure, meta=meta)


def _used_cells(table: dict[str, Any], kind: str, args: dict[str, Any]) -> list[list[str]]:
    """The [row, column] cells the answer reads (the rest of the table is distraction)."""
    if "cells" in args:
        return [list(c) for c in args["cells"]]
    if "minuend" in args:
        return [args["minuend"], args["subtrahend"]]
    if kind in ("line_cost", "change"):
        return [[args["row"], PRICE], [args["row"], QUANTITY]]
    if kind == "unit_diff":
        return [[r, PRICE] for r in args["rows"]]
    if kind == "revenue":
        return [[r, c] for r in args["rows"] for c in (PRICE, QUANTITY)]
    if kind == "pct_change":
        return [[args["row"], args["from"]], [args["row"], args["to"]]]
    rows = [args["row"]] if "row" in args else args["rows"]
    return [[r, c] for r in rows for c in table["columns"]]


class TableMathGenerator:
    """Tables (sales, scores, an order) with MathVista-style free-form arithmetic questions."""

    name = "table_math"
    version = "1"
    description = (
        "Rendered tables (units sold, test scores, a grocery order) with multi-step arithmetic questions "
        "in MathVista's free-form style: integer answers, or floats with a stated precision."
    )

    def make(self, rng: random.Random, difficulty: int) -> SynthItem:
        return retry(lambda: _attempt(rng, difficulty), MAX_ATTEMPTS, self.name, difficulty)
