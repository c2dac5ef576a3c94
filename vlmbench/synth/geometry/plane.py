"""Plane geometry on bare coordinates: distances, directions, incidence and box overlap.

Pure functions, shared by the figure (pixels, y down) and the problem builders (math units, y up), so
that the drawing and the construction agree on every measurement.
"""

from __future__ import annotations

import math
import random

Point = tuple[float, float]
Box = tuple[float, float, float, float]


def distance(p: Point, q: Point) -> float:
    return math.hypot(q[0] - p[0], q[1] - p[1])


def unit_vector(p: Point, q: Point) -> Point:
    """The direction p -> q with length 1 (a zero-length segment counts as length 1)."""
    length = distance(p, q) or 1.0
    return ((q[0] - p[0]) / length, (q[1] - p[1]) / length)


def normal(u: Point) -> Point:
    """`u` turned a quarter turn, to step sideways off a line."""
    return (-u[1], u[0])


def midpoint(p: Point, q: Point) -> Point:
    return ((p[0] + q[0]) / 2, (p[1] + q[1]) / 2)


def lerp(p: Point, q: Point, t: float) -> Point:
    return (p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1]))


def polar(r: float, degrees: float, origin: Point = (0.0, 0.0)) -> Point:
    t = math.radians(degrees)
    return (origin[0] + r * math.cos(t), origin[1] + r * math.sin(t))


def screen_angle(v: Point, p: Point) -> float:
    """Direction of v -> p in degrees, clockwise from 3 o'clock (screen coordinates, y down)."""
    return math.degrees(math.atan2(p[1] - v[1], p[0] - v[0])) % 360.0


def angular_gap(a: float, b: float) -> float:
    """How far apart two headings are, in degrees (0 to 180)."""
    d = abs(a - b) % 360
    return min(d, 360 - d)


def line_distance(v: Point, p: Point, q: Point) -> float:
    """Distance from v to the infinite line through p and q."""
    return abs((q[0] - p[0]) * (v[1] - p[1]) - (q[1] - p[1]) * (v[0] - p[0])) / (distance(p, q) or 1.0)


def point_on_line(v: Point, p: Point, q: Point) -> bool:
    """v lies (within 2 px) on the line through p and q."""
    return distance(p, q) > 0 and line_distance(v, p, q) < 2.0


def point_on_segment(v: Point, p: Point, q: Point) -> bool:
    """v lies (within 2 px) on the segment p-q, strictly between its ends."""
    length = distance(p, q)
    dot = (v[0] - p[0]) * (q[0] - p[0]) + (v[1] - p[1]) * (q[1] - p[1])
    return length > 0 and line_distance(v, p, q) < 2.0 and 0 < dot < length * length


def random_pose(
    points: dict[str, Point], rng: random.Random, max_turn: float, mirror: bool = True
) -> dict[str, Point]:
    """Turn the figure by up to `max_turn` degrees, and mirror it half of the time, so that one
    construction does not always appear in the same orientation."""
    flip = -1.0 if mirror and rng.random() < 0.5 else 1.0
    turn = math.radians(rng.uniform(-max_turn, max_turn))
    c, s = math.cos(turn), math.sin(turn)
    return {k: (c * flip * x - s * y, s * flip * x + c * y) for k, (x, y) in points.items()}


# boxes -----------------------------------------------------------------------------------------------


def segment_hits_box(p: Point, q: Point, box: Box) -> bool:
    """Liang-Barsky clipping: does the segment p-q meet the box?"""
    x0, y0, x1, y1 = box
    dx, dy = q[0] - p[0], q[1] - p[1]
    t0, t1 = 0.0, 1.0
    for pk, qk in ((-dx, p[0] - x0), (dx, x1 - p[0]), (-dy, p[1] - y0), (dy, y1 - p[1])):
        if pk == 0:
            if qk < 0:
                return False
            continue
        t = qk / pk
        if pk < 0:
            if t > t1:
                return False
            t0 = max(t0, t)
        else:
            if t < t0:
                return False
            t1 = min(t1, t)
    return True


def circle_hits_box(centre: Point, radius: float, box: Box) -> bool:
    """Does the circle's outline meet the box?"""
    x0, y0, x1, y1 = box
    nearest = math.hypot(max(x0 - centre[0], 0, centre[0] - x1), max(y0 - centre[1], 0, centre[1] - y1))
    farthest = max(math.hypot(x - centre[0], y - centre[1]) for x in (x0, x1) for y in (y0, y1))
    return nearest <= radius <= farthest


def boxes_overlap(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def grow(box: Box, pad: float) -> Box:
    return (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
