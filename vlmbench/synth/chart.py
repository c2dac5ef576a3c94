"""Charts (bar, line, pie) with ChartQA-style questions whose answers follow from the chart's own data.

Difficulty changes what a model must do, not just how much it must look at:

1. one series, 3-4 elements, every value printed; read a value, compare two labels, name the max / min
   (one step).
2. one series, 5-7 elements (pies 5-6), every value printed; difference or sum of two values, or the
   trend of a line (two steps).
3. 8-10 horizontal bars (values printed): range (max - min), sum of three, average of four; or 2-3
   series with a legend - grouped bars (values printed) or lines whose points sit exactly on labelled
   gridlines (no values printed) - where the question names a series: the gap between two series at a
   label, the range or sum of three within a series, the trend of a series (three or more steps).

`structure` holds everything an independent solver needs: labels, series values, which values are
printed, the axis, and the question's kind and arguments; `structure["question"]["steps"]` counts the
reasoning steps (base steps of the kind + 1 when the question must pick a series out of a legend).

Numbers are chosen so ChartQA's 5% tolerance never accepts a plausible wrong answer: values in a chart
differ pairwise by more than 8%, a computed answer is more than 6% away from every value in the chart
(and, when it depends on values read from gridlines, a misread by one gridline is more than 5% off),
answers are never 0 and never year-like.
"""

from __future__ import annotations

import math
import random
from fractions import Fraction
from itertools import pairwise
from typing import Any

from vlmbench.synth import render
from vlmbench.synth.base import SynthError, SynthItem, plain_number, retry
from vlmbench.synth.render import MONTH_NAMES, MONTHS, TextCanvas

WIDTH, HEIGHT = 640, 480
TITLE_SIZE, LABEL_SIZE, VALUE_SIZE, TICK_SIZE = 20, 16, 16, 14
GRID = (222, 222, 222)
AXIS = (90, 90, 90)
MAX_ATTEMPTS = 200

FRUITS = (
    "Apples",
    "Bananas",
    "Cherries",
    "Grapes",
    "Lemons",
    "Mangoes",
    "Oranges",
    "Pears",
    "Plums",
    "Kiwis",
)
COUNTRIES = ("Canada", "Brazil", "Japan", "Kenya", "Norway", "Chile", "India", "Spain", "Egypt", "Peru")
SPORTS = ("Tennis", "Soccer", "Rugby", "Hockey", "Cycling", "Rowing", "Boxing", "Judo", "Golf", "Archery")
TRANSPORT = ("Bus", "Train", "Car", "Bicycle", "Walking", "Tram", "Ferry", "Scooter", "Taxi", "Metro")
DEPARTMENTS = (
    "Sales",
    "Finance",
    "Legal",
    "Research",
    "Support",
    "Design",
    "Security",
    "Training",
    "IT",
    "Admin",
)
GENRES = ("Fiction", "Poetry", "History", "Science", "Travel", "Cooking", "Drama", "Comics", "Nature", "Art")

# (title, category labels, series names for grouped bars, value ceilings to draw from)
CATEGORY_THEMES: tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[int, ...]], ...] = (
    ("Fruit sold at the market (kg)", FRUITS, ("Morning", "Afternoon", "Evening"), (60, 80, 120, 200)),
    ("Tourists by country (thousands)", COUNTRIES, ("Spring", "Summer", "Autumn"), (50, 90, 150, 300)),
    ("Club members by sport", SPORTS, ("Juniors", "Adults", "Seniors"), (40, 70, 100, 250)),
    ("Commuters by transport mode (hundreds)", TRANSPORT, ("North", "South", "Central"), (30, 60, 120, 400)),
    ("Employees by department", DEPARTMENTS, ("Berlin", "Madrid", "Dublin"), (40, 90, 160, 500)),
    ("Books borrowed by genre", GENRES, ("Adults", "Teens", "Children"), (50, 100, 200, 450)),
)
# One-decimal themes: (title, labels, ceiling in tenths)
DECIMAL_THEMES: tuple[tuple[str, tuple[str, ...], int], ...] = (
    ("Price of fruit per kg ($)", FRUITS, 150),
    ("Average book rating (out of 10)", GENRES, 100),
    ("Average distance cycled per day (km)", COUNTRIES, 200),
)
# (title, series names for several lines, value ceilings) - x axis: consecutive months
MONTH_THEMES: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("Monthly rainfall (mm)", ("Oslo", "Lima", "Cairo"), (60, 90, 150)),
    ("Ice creams sold per month", ("Beach", "Park", "Station"), (80, 200, 400)),
    ("Website visitors per month (thousands)", ("Desktop", "Mobile", "Tablet"), (50, 120, 300)),
    ("Bus passengers per month (thousands)", ("Airport", "Harbour", "Campus"), (40, 100, 250)),
)
DECIMAL_MONTH_THEMES: tuple[tuple[str, int], ...] = (
    ("Monthly rainfall (cm)", 200),
    ("Average electricity bill per day ($)", 120),
)
GRIDLINE_STEPS = (5, 10, 20, 50)
BAR_COLOURS = ("blue", "green", "orange", "purple", "red", "brown")
SERIES_COLOURS = ("blue", "orange", "green", "purple")

TREND_RULE = (
    "increasing if every value is larger than the one before it, decreasing if every value is "
    "smaller than the one before it, neither otherwise"
)
TREND_WORDS = ("increasing", "decreasing", "neither")
BASE_STEPS = {
    "value": 1,
    "compare": 1,
    "max": 1,
    "min": 1,
    "difference": 2,
    "sum": 2,
    "trend": 2,
    "gap": 2,
    "range": 3,
    "sum3": 3,
    "average": 3,
}
KINDS = {
    1: ("value", "compare", "max", "min"),
    2: ("difference", "sum"),  # lines add "trend"
}


# --------------------------------------------------------------------------------------------------
# numbers


def fmt_number(value: Fraction) -> str:
    """Canonical spelling: `12`, `12.5`, `0.25` (at most two decimals, no trailing zeros)."""
    if value.denominator == 1:
        return str(value.numerator)
    if (value * 100).denominator != 1:
        raise SynthError(f"{value} has more than two decimals")
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _spaced(a: Fraction, b: Fraction) -> bool:
    """More than 8% apart, so relaxed accuracy (5%) never mistakes one for the other."""
    return abs(a - b) * 100 > 8 * max(abs(a), abs(b))


def _far(gold: Fraction, other: Fraction) -> bool:
    return abs(other - gold) * 100 > 6 * abs(gold)


def _distinct_values(rng: random.Random, n: int, lo: int, hi: int, unit: Fraction) -> list[Fraction] | None:
    """n values `k * unit` (lo <= k <= hi), pairwise more than 8% apart, in drawing order."""
    values: list[Fraction] = []
    for _ in range(n * 60):
        candidate = rng.randint(lo, hi) * unit
        if all(_spaced(candidate, v) for v in values):
            values.append(candidate)
            if len(values) == n:
                return values
    return None


def _axis(top_value: Fraction, unit: Fraction) -> tuple[Fraction, Fraction]:
    """A round gridline step (4-8 intervals) and the axis top (a multiple of the step >= top_value)."""
    for step in (Fraction(1, 2), 1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500):
        step = Fraction(step)
        if step < unit:
            continue
        intervals = math.ceil(top_value / step)
        if intervals <= 8:
            return step, max(intervals, 1) * step
    raise SynthError(f"no axis for {top_value}")


def _year_like(value: Fraction) -> bool:
    return value.denominator == 1 and 1500 <= value.numerator <= 2099


# --------------------------------------------------------------------------------------------------
# drawing


def _legend(canvas: TextCanvas, entries: list[tuple[str, str]], y: int) -> None:
    """One centred row of colour swatches and names."""
    gap, swatch = 22, 14
    widths = [swatch + 6 + canvas.width_of(name, LABEL_SIZE) for name, _ in entries]
    x = (canvas.width - (sum(widths) + gap * (len(entries) - 1))) / 2
    for (name, colour), width in zip(entries, widths, strict=True):
        canvas.draw.rectangle((x, y - swatch / 2, x + swatch, y + swatch / 2), fill=render.COLOURS[colour])
        canvas.text((x + swatch + 6, y), name, size=LABEL_SIZE, role="legend", anchor="lm")
        x += width + gap


def _title(canvas: TextCanvas, title: str) -> None:
    canvas.text((canvas.width / 2, 24), title, size=TITLE_SIZE, role="title")


def _render(chart: dict[str, Any]) -> TextCanvas:
    canvas = TextCanvas(WIDTH, HEIGHT)
    _title(canvas, chart["title"])
    if len(chart["series"]) > 1:
        _legend(canvas, [(s["name"], s["colour"]) for s in chart["series"]], 56)
    if chart["chart_type"] == "pie":
        _draw_pie(canvas, chart)
    elif chart["chart_type"] == "line":
        _draw_line(canvas, chart)
    elif chart["orientation"] == "horizontal":
        _draw_hbar(canvas, chart)
    else:
        _draw_vbar(canvas, chart)
    return canvas


def _value_axis_left(canvas: TextCanvas, chart: dict[str, Any], y0: int, y1: int) -> tuple[int, Any]:
    """Horizontal gridlines with tick labels; returns the plot's left edge and the value -> y map."""
    step, top = chart["_step"], chart["_top"]
    ticks = [step * k for k in range(int(top / step) + 1)]
    x0 = 16 + max(canvas.width_of(fmt_number(t), TICK_SIZE) for t in ticks) + 8
    x1 = canvas.width - 20

    def y_of(value: Fraction) -> float:
        return y1 - float(value / top) * (y1 - y0)

    for tick in ticks:
        y = y_of(tick)
        canvas.draw.line((x0, y, x1, y), fill=GRID, width=1)
        canvas.text((x0 - 8, y), fmt_number(tick), size=TICK_SIZE, role="tick", anchor="rm")
    canvas.draw.line((x0, y0 - 6, x0, y1), fill=AXIS, width=2)
    canvas.draw.line((x0, y1, x1, y1), fill=AXIS, width=2)
    return x0, y_of


def _draw_vbar(canvas: TextCanvas, chart: dict[str, Any]) -> None:
    y0 = 100 if len(chart["series"]) > 1 else 76
    y1 = canvas.height - 44
    x0, y_of = _value_axis_left(canvas, chart, y0, y1)
    x1 = canvas.width - 20
    labels, series = chart["labels"], chart["series"]
    slot = (x1 - x0) / len(labels)
    group = slot * (0.8 if len(series) > 1 else 0.6)
    bar = group / len(series)
    size = VALUE_SIZE if len(series) == 1 else TICK_SIZE
    for i, label in enumerate(labels):
        centre = x0 + slot * (i + 0.5)
        for j, s in enumerate(series):
            left = centre - group / 2 + j * bar
            value = s["values"][label]
            top = y_of(value)
            canvas.draw.rectangle((left + 1, top, left + bar - 1, y1 - 1), fill=render.COLOURS[s["colour"]])
            if label in s["annotated"]:
                canvas.text(
                    (left + bar / 2, top - 4), fmt_number(value), size=size, role="value", anchor="mb"
                )
        canvas.text((centre, y1 + 10), label, size=LABEL_SIZE, role="label", anchor="mt")


def _draw_hbar(canvas: TextCanvas, chart: dict[str, Any]) -> None:
    labels, (s,) = chart["labels"], chart["series"]
    step, top = chart["_step"], chart["_top"]
    x0 = 20 + max(canvas.width_of(label, LABEL_SIZE) for label in labels) + 10
    x1 = canvas.width - 64
    y0, y1 = 64, canvas.height - 40

    def x_of(value: Fraction) -> float:
        return x0 + float(value / top) * (x1 - x0)

    for k in range(int(top / step) + 1):
        x = x_of(step * k)
        canvas.draw.line((x, y0, x, y1), fill=GRID, width=1)
        canvas.text((x, y1 + 8), fmt_number(step * k), size=TICK_SIZE, role="tick", anchor="mt")
    canvas.draw.line((x0, y0, x0, y1), fill=AXIS, width=2)
    canvas.draw.line((x0, y1, x1 + 6, y1), fill=AXIS, width=2)
    row = (y1 - y0) / len(labels)
    for i, label in enumerate(labels):
        centre = y0 + row * (i + 0.5)
        value = s["values"][label]
        right = x_of(value)
        canvas.draw.rectangle(
            (x0 + 1, centre - row * 0.32, right, centre + row * 0.32), fill=render.COLOURS[s["colour"]]
        )
        canvas.text((x0 - 8, centre), label, size=LABEL_SIZE, role="label", anchor="rm")
        if label in s["annotated"]:
            canvas.text((right + 6, centre), fmt_number(value), size=VALUE_SIZE, role="value", anchor="lm")


def _draw_line(canvas: TextCanvas, chart: dict[str, Any]) -> None:
    y0 = 100 if len(chart["series"]) > 1 else 84
    y1 = canvas.height - 44
    x0, y_of = _value_axis_left(canvas, chart, y0, y1)
    x1 = canvas.width - 20
    labels = chart["labels"]
    slot = (x1 - x0) / len(labels)
    xs = [x0 + slot * (i + 0.5) for i in range(len(labels))]
    for x, label in zip(xs, labels, strict=True):
        canvas.draw.line((x, y1, x, y1 + 5), fill=AXIS, width=2)
        canvas.text((x, y1 + 10), label, size=LABEL_SIZE, role="label", anchor="mt")
    for s in chart["series"]:
        colour = render.COLOURS[s["colour"]]
        points = [(x, y_of(s["values"][label])) for x, label in zip(xs, labels, strict=True)]
        canvas.draw.line(points, fill=colour, width=3, joint="curve")
        for x, y in points:
            canvas.draw.ellipse((x - 5, y - 5, x + 5, y + 5), fill=colour, outline=render.BACKGROUND)
    for s in chart["series"]:
        ordered = [s["values"][label] for label in labels]
        for i, (x, label) in enumerate(zip(xs, labels, strict=True)):
            if label not in s["annotated"]:
                continue
            value = ordered[i]
            neighbours = ordered[max(0, i - 1) : i] + ordered[i + 1 : i + 2]
            # print the value on the side away from the line: above a peak, below a dip
            below = value * len(neighbours) < sum(neighbours) and y_of(value) + 34 < y1
            canvas.text(
                (x, y_of(value) + (12 if below else -10)),
                fmt_number(value),
                size=VALUE_SIZE,
                role="value",
                anchor="mt" if below else "mb",
                backdrop=True,
            )


def _draw_pie(canvas: TextCanvas, chart: dict[str, Any]) -> None:
    (s,) = chart["series"]
    cx, cy, radius = 230, 262, 170
    start = -90.0
    for label in chart["labels"]:
        value = s["values"][label]
        sweep = float(value) * 3.6
        colour = render.COLOURS[s["colours"][label]]
        canvas.draw.pieslice(
            (cx - radius, cy - radius, cx + radius, cy + radius),
            start,
            start + sweep,
            fill=colour,
            outline=render.BACKGROUND,
            width=2,
        )
        middle = math.radians(start + sweep / 2)
        luminance = 0.299 * colour[0] + 0.587 * colour[1] + 0.114 * colour[2]
        ink = render.INK if luminance > 150 else render.BACKGROUND
        if label in s["annotated"]:
            point = (cx + radius * 0.64 * math.cos(middle), cy + radius * 0.64 * math.sin(middle))
            canvas.text(point, f"{fmt_number(value)}%", size=VALUE_SIZE, role="value", fill=ink)
        start += sweep
    row = 32
    y = cy - row * (len(chart["labels"]) - 1) / 2
    for label in chart["labels"]:
        canvas.draw.rectangle((440, y - 8, 456, y + 8), fill=render.COLOURS[s["colours"][label]])
        canvas.text((464, y), label, size=LABEL_SIZE, role="legend", anchor="lm")
        y += row


# --------------------------------------------------------------------------------------------------
# data


def _single(
    rng: random.Random, chart_type: str, n: int, difficulty: int, trend: str | None, decimals_ok: bool = True
) -> dict[str, Any]:
    """One series, every value printed; from difficulty 2 some charts have one-decimal values."""
    decimal = chart_type != "pie" and difficulty >= 2 and decimals_ok and rng.random() < 0.3
    unit = Fraction(1, 10) if decimal else Fraction(1)
    if chart_type == "line":
        start = rng.randint(0, 12 - n)
        labels = list(MONTHS[start : start + n])
        if decimal:
            title, ceiling = rng.choice(DECIMAL_MONTH_THEMES)
        else:
            title, _, ceilings = rng.choice(MONTH_THEMES)
            ceiling = rng.choice(ceilings)
    elif decimal:
        title, pool, ceiling = rng.choice(DECIMAL_THEMES)
        labels = rng.sample(pool, n)
    else:
        title, pool, _, ceilings = rng.choice(CATEGORY_THEMES)
        ceiling = rng.choice(ceilings)
        labels = rng.sample(pool, n)
    if chart_type == "pie":
        values = _percentages(rng, n)
        title = title.split(" (")[0] + " (% of total)"
    else:
        values = _distinct_values(rng, n, max(1, ceiling // 10), ceiling, unit)
    if values is None:
        return {}
    if trend == "increasing":
        values.sort()
    elif trend == "decreasing":
        values.sort(reverse=True)
    elif trend == "neither" and _trend_of(values) != "neither":
        return {}
    chart: dict[str, Any] = {
        "chart_type": chart_type,
        "orientation": "vertical" if chart_type == "bar" else None,
        "title": title,
        "labels": labels,
        "decimals": 1 if decimal else 0,
        "series": [
            {
                "name": None,
                "values": dict(zip(labels, values, strict=True)),
                "annotated": list(labels),
                "colour": rng.choice(BAR_COLOURS),
            }
        ],
    }
    if chart_type == "pie":
        chart["series"][0]["colours"] = dict(zip(labels, rng.sample(list(render.COLOURS), n), strict=True))
    else:
        chart["_step"], chart["_top"] = _axis(max(values), unit)
    return chart


def _percentages(rng: random.Random, n: int) -> list[Fraction] | None:
    """n integer percentages summing to 100, each >= 6 (room for its label), pairwise > 8% apart."""
    for _ in range(50):
        raw = _distinct_values(rng, n, 6, 45, Fraction(1))
        if raw is None:
            continue
        total = sum(raw)
        scaled = [Fraction(round(v * 100 / total)) for v in raw]
        scaled[scaled.index(max(scaled))] += 100 - sum(scaled)
        if min(scaled) >= 6 and all(_spaced(a, b) for i, a in enumerate(scaled) for b in scaled[i + 1 :]):
            return scaled
    return None


def _grouped(rng: random.Random, n: int, n_series: int) -> dict[str, Any]:
    """Grouped bars, values printed; at each label the series differ by more than 8%."""
    title, pool, series_names, ceilings = rng.choice(CATEGORY_THEMES)
    ceiling = rng.choice(ceilings)
    labels = rng.sample(pool, n)
    names = list(series_names[:n_series])
    colours = rng.sample(SERIES_COLOURS, n_series)
    columns = [_distinct_values(rng, n, max(1, ceiling // 10), ceiling, Fraction(1)) for _ in names]
    if any(c is None for c in columns):
        return {}
    for i in range(n):
        at_label = [c[i] for c in columns]  # type: ignore[index]
        if not all(_spaced(a, b) for k, a in enumerate(at_label) for b in at_label[k + 1 :]):
            return {}
    chart: dict[str, Any] = {
        "chart_type": "bar",
        "orientation": "vertical",
        "title": title,
        "labels": labels,
        "decimals": 0,
        "series": [
            {
                "name": name,
                "values": dict(zip(labels, column, strict=True)),
                "annotated": list(labels),
                "colour": c,
            }
            for name, column, c in zip(names, columns, colours, strict=True)  # type: ignore[arg-type]
        ],
    }
    chart["_step"], chart["_top"] = _axis(max(max(c) for c in columns), Fraction(1))  # type: ignore[type-var]
    return chart


def _multiline(rng: random.Random, n: int, n_series: int, trends: dict[int, str]) -> dict[str, Any]:
    """Several lines, no values printed: every point sits on a labelled gridline (a multiple of the step)."""
    title, series_names, _ = rng.choice(MONTH_THEMES)
    step = Fraction(rng.choice(GRIDLINE_STEPS))
    start = rng.randint(0, 12 - n)
    labels = list(MONTHS[start : start + n])
    names = list(series_names[:n_series])
    colours = rng.sample(SERIES_COLOURS, n_series)
    columns = []
    for j in range(n_series):
        ks = rng.sample(range(1, 11), n)
        if trends.get(j) == "increasing":
            ks.sort()
        elif trends.get(j) == "decreasing":
            ks.sort(reverse=True)
        elif trends.get(j) == "neither" and _trend_of(ks) != "neither":
            return {}
        columns.append([k * step for k in ks])
    for i in range(n):
        if len({c[i] for c in columns}) < n_series:
            return {}  # two markers on one spot would hide one
    chart: dict[str, Any] = {
        "chart_type": "line",
        "orientation": None,
        "title": title,
        "labels": labels,
        "decimals": 0,
        "series": [
            {"name": name, "values": dict(zip(labels, column, strict=True)), "annotated": [], "colour": c}
            for name, column, c in zip(names, columns, colours, strict=True)
        ],
    }
    chart["_step"] = step
    chart["_top"] = math.ceil(max(max(c) for c in columns) / step) * step
    return chart


def _trend_of(values: list[Any]) -> str:
    pairs = list(pairwise(values))
    if all(b > a for a, b in pairs):
        return "increasing"
    if all(b < a for a, b in pairs):
        return "decreasing"
    return "neither"


# --------------------------------------------------------------------------------------------------
# questions


def _shown(chart: dict[str, Any], label: str) -> str:
    """How a question names a label: months by their full name, categories as drawn."""
    return MONTH_NAMES[MONTHS.index(label)] if chart["chart_type"] == "line" else label


def _join(names: list[str]) -> str:
    return ", ".join(names[:-1]) + " and " + names[-1]


def _question(
    rng: random.Random, chart: dict[str, Any], kind: str
) -> tuple[str, Fraction | str, dict[str, Any]]:
    """(question text, gold, args) for `kind` on `chart`."""
    labels, all_series = chart["labels"], chart["series"]
    multi = len(all_series) > 1
    series = rng.choice(all_series)
    values = series["values"]
    pie, line = chart["chart_type"] == "pie", chart["chart_type"] == "line"
    what = "percentage" if pie else "value"
    in_series = f" in the {series['name']} series" if multi else ""
    args: dict[str, Any] = {"series": series["name"]}
    if kind == "value":
        label = rng.choice(labels)
        args["label"] = label
        if pie:
            text = f"What percentage of the total does {label} account for?"
        elif line:
            text = f"What is the value in {_shown(chart, label)}?"
        else:
            text = f"What is the value of {label}?"
        return text, values[label], args
    if kind == "compare":
        a, b = rng.sample(labels, 2)
        args["labels"] = [a, b]
        noun = "month" if line else "slice" if pie else "category"
        text = f"Which {noun} has the larger {what}: {_shown(chart, a)} or {_shown(chart, b)}?"
        return text, max((a, b), key=lambda x: values[x]), args
    if kind in ("max", "min"):
        word = "highest" if kind == "max" else "lowest"
        pick = max if kind == "max" else min
        if line:
            text = f"In which month is the value {word}?"
        elif pie:
            text = f"Which slice has the {word} percentage?"
        else:
            text = f"Which category has the {word} value?"
        return text, pick(labels, key=lambda x: values[x]), args
    if kind in ("difference", "sum"):
        a, b = rng.sample(labels, 2)
        args["labels"] = [a, b]
        if kind == "difference":
            text = f"What is the difference between the {what}s of {_shown(chart, a)} and {_shown(chart, b)}?"
            return text, abs(values[a] - values[b]), args
        if pie:
            text = f"What percentage of the total do {a} and {b} account for together?"
        else:
            text = f"What is the sum of the values of {_shown(chart, a)} and {_shown(chart, b)}?"
        return text, values[a] + values[b], args
    if kind == "trend":
        line_name = f"the {series['name']} line" if multi else "the value"
        text = (
            f"From {_shown(chart, labels[0])} to {_shown(chart, labels[-1])}, does {line_name} rise every "
            "month, fall every month, or neither? Answer increasing, decreasing or neither."
        )
        return text, _trend_of([values[x] for x in labels]), args
    if kind == "range":
        text = f"What is the difference between the highest and the lowest value{in_series}?"
        return text, max(values.values()) - min(values.values()), args
    if kind == "sum3":
        chosen = sorted(rng.sample(labels, 3), key=labels.index)
        args["labels"] = chosen
        text = f"What is the total of the values of {_join([_shown(chart, x) for x in chosen])}{in_series}?"
        return text, sum((values[x] for x in chosen), Fraction(0)), args
    if kind == "average":
        chosen = sorted(rng.sample(labels, 4), key=labels.index)
        args["labels"] = chosen
        text = f"What is the average of the values of {_join(chosen)}?"
        return text, sum((values[x] for x in chosen), Fraction(0)) / 4, args
    if kind == "gap":
        label = rng.choice(labels)
        high, low = sorted(rng.sample(all_series, 2), key=lambda s: s["values"][label], reverse=True)
        args = {"label": label, "series": [high["name"], low["name"]]}
        if line:
            text = (
                f"In {_shown(chart, label)}, how much higher is the {high['name']} line "
                f"than the {low['name']} line?"
            )
        else:
            text = f"For {label}, how much larger is the {high['name']} bar than the {low['name']} bar?"
        return text, high["values"][label] - low["values"][label], args
    raise SynthError(f"unknown question kind {kind!r}")


def _robust(chart: dict[str, Any], kind: str, gold: Fraction) -> bool:
    """A computed answer is far (> 6%) from every value drawn, and from one-gridline misreads."""
    if gold <= 0 or _year_like(gold) or (gold * 100).denominator != 1:
        return False
    if kind == "value":
        return True
    if not all(_far(gold, v) for s in chart["series"] for v in s["values"].values()):
        return False
    if any(len(s["annotated"]) < len(chart["labels"]) for s in chart["series"]):
        return chart["_step"] * 100 > 5 * gold  # one gridline off is more than 5% off
    return True


# --------------------------------------------------------------------------------------------------
# the generator


def _plan(rng: random.Random, difficulty: int) -> tuple[str, str]:
    """The chart layout and question kind of one item, drawn once so that rejected draws never skew
    the mix: bar / line / pie at difficulties 1-2; horizontal bars, grouped bars or several lines at 3."""
    if difficulty == 1:
        return rng.choice(("bar", "line", "pie")), rng.choice(KINDS[1])
    if difficulty == 2:
        layout = rng.choice(("bar", "line", "pie"))
        return layout, rng.choice((*KINDS[2], "trend") if layout == "line" else KINDS[2])
    layout = rng.choice(("hbar", "grouped", "multiline"))
    kinds = {
        "hbar": ("range", "sum3", "average"),
        "grouped": ("gap", "range", "sum3"),
        "multiline": ("gap", "range", "trend"),
    }
    return layout, rng.choice(kinds[layout])


def _draw_chart(rng: random.Random, difficulty: int, layout: str, kind: str) -> dict[str, Any]:
    """A chart of `layout` ({} when this draw failed)."""
    if difficulty == 1:
        return _single(rng, layout, rng.randint(3, 4), 1, None)
    if difficulty == 2:
        n = rng.randint(5, 6) if layout == "pie" else rng.randint(5, 7)
        trend = rng.choice(TREND_WORDS) if kind == "trend" else None
        return _single(rng, layout, n, 2, trend)
    if layout == "hbar":
        # an average of four one-decimal values could need three decimals: averages use integers
        chart = _single(rng, "bar", rng.randint(8, 10), 3, None, decimals_ok=kind != "average")
        if chart:
            chart["orientation"] = "horizontal"
        return chart
    n_series = rng.randint(2, 3)
    if layout == "grouped":
        return _grouped(rng, rng.randint(4, 5), n_series)
    trends = {j: rng.choice(TREND_WORDS) for j in range(n_series)} if kind == "trend" else {}
    return _multiline(rng, rng.randint(5, 6), n_series, trends)


def _attempt(rng: random.Random, difficulty: int, layout: str, kind: str) -> SynthItem | None:
    chart = _draw_chart(rng, difficulty, layout, kind)
    if not chart:
        return None
    for _ in range(8):
        text, gold, args = _question(rng, chart, kind)
        if isinstance(gold, str) or _robust(chart, kind, gold):
            break
    else:
        return None
    canvas = _render(chart)
    if not canvas.clean():
        return None
    return _item(chart, kind, text, gold, args, canvas)


def _item(
    chart: dict[str, Any],
    kind: str,
    text: str,
    gold: Fraction | str,
    args: dict[str, Any],
    canvas: TextCanvas,
) -> SynthItem:
    multi = len(chart["series"]) > 1
    steps = BASE_STEPS[kind] + (1 if multi else 0)
    question: dict[str, Any] = {"kind": kind, "args": args, "steps": steps}
    if kind == "trend":
        question["rule"] = TREND_RULE
    series = []
    for s in chart["series"]:
        entry = {
            "name": s["name"],
            "colour": s["colour"],
            "values": {k: plain_number(v) for k, v in s["values"].items()},
            "annotated": s["annotated"],
        }
        if "colours" in s:
            entry["colours"] = s["colours"]
            del entry["colour"]
        series.append(entry)
    structure: dict[str, Any] = {
        "chart_type": chart["chart_type"],
        "orientation": chart["orientation"],
        "title": chart["title"],
        "labels": chart["labels"],
        "decimals": chart["decimals"],
        "series": series,
        "axis": None
        if chart["chart_type"] == "pie"
        else {"min": 0, "max": plain_number(chart["_top"]), "step": plain_number(chart["_step"])},
        "question": question,
    }
    if isinstance(gold, str):
        answer, answer_type = gold, "text"
    else:
        answer = fmt_number(gold)
        answer_type = "float" if chart["decimals"] or gold.denominator != 1 else "integer"
    meta: dict[str, Any] = {
        "kind": kind,
        "chart_type": chart["chart_type"],
        "steps": steps,
        "n_elements": sum(len(s["values"]) for s in chart["series"]),
        "n_series": len(chart["series"]),
        "layout": canvas.layout(),
    }
    if answer in MONTHS:
        meta["references"] = [MONTH_NAMES[MONTHS.index(answer)]]
    return SynthItem(text, answer, answer_type, canvas.image, structure, meta=meta)


class ChartGenerator:
    """Bar, line and pie charts with read / compare / arithmetic / trend questions (ChartQA's kinds)."""

    name = "chart"
    version = "1"
    description = (
        "Bar, line and pie charts drawn from random data, with ChartQA-style questions: read a value, "
        "compare, max / min, difference, sum, range, average, trend; difficulty 3 adds legends and "
        "gridline-only values."
    )

    def make(self, rng: random.Random, difficulty: int) -> SynthItem:
        layout, kind = _plan(rng, difficulty)
        return retry(lambda: _attempt(rng, difficulty, layout, kind), MAX_ATTEMPTS, self.name, difficulty)
