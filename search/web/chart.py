"""The timeline chart's geometry: a timeline (as :mod:`search.query.timeline` answers it) laid out
as an SVG line chart, one line per query, for ``templates/_timeline.html`` to draw.

A small template rather than a chart library: the page's Content-Security-Policy allows no inline
style or script (a library's SVG carries both), the lines and labels take the page's own colours
and dark mode from ``static/research.css``, and the chart is laid out twice — wide for a desktop,
narrow and taller for a phone, CSS showing one — so that its labels stay at the page's text size
instead of shrinking with a wide drawing on a 375 px screen.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MODES = {"share": "占比", "count": "篇数"}
MAX_DOTS = 90  # points drawn as dots (with a tooltip) when a line has at most this many
LABEL_EM = 12  # the labels' font size in user units (static/research.css)


@dataclass(frozen=True)
class Frame:
    """One layout: the drawing's size and margins (user units = CSS pixels at full size), and how
    many x labels and y ticks fit."""

    name: str
    width: int
    height: int
    labels: int
    ticks: int
    left: int = 46  # the y labels, right-aligned, end 6 units before the plot
    right: int = 10
    top: int = 14
    bottom: int = 28


FRAMES = (Frame("wide", 680, 220, 8, 4), Frame("narrow", 340, 240, 4, 3))


def layout(timeline: dict, mode: str) -> dict:
    """Everything the template draws: per frame its lines, dots, y ticks and x labels."""
    series = timeline["series"]
    periods = [p["period"] for p in series[0]["points"]] if series else []
    values = [[p["share"] if mode == "share" else p["matches"] for p in s["points"]] for s in series]
    top = max((v for line in values for v in line), default=0)
    return {"mode": mode, "periods": len(periods), "empty": not periods,
            "frames": [_frame(frame, series, periods, values, top, mode) for frame in FRAMES]}


def _frame(frame: Frame, series: list[dict], periods: list[str], values: list[list[float]], top: float,
           mode: str) -> dict:
    plot_w = frame.width - frame.left - frame.right
    plot_h = frame.height - frame.top - frame.bottom
    step, ceiling = nice_scale(top, frame.ticks, whole=mode == "count")
    n = len(periods)

    def x(i: int) -> float:
        return round(frame.left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2), 1)

    def y(v: float) -> float:
        return round(frame.top + plot_h - (v / ceiling * plot_h if ceiling else 0), 1)

    lines = []
    for number, (s, line) in enumerate(zip(series, values)):
        lines.append({
            "number": number, "query": s["query"],
            "points": " ".join(f"{x(i)},{y(v)}" for i, v in enumerate(line)),
            "dots": [{"x": x(i), "y": y(v), "title": _tooltip(s, i)} for i, v in enumerate(line)]
            if n <= MAX_DOTS else [],
        })
    ticks = [{"y": y(step * k), "label": format_tick(step * k, mode, step)}
             for k in range(int(round(ceiling / step)) + 1)] if step else []
    every = max(1, math.ceil(n / frame.labels))  # a label every so many periods, the first one first
    labels = [{"x": x(i), "text": periods[i], "anchor": _anchor(x(i), periods[i], frame.width)}
              for i in range(0, n, every)]
    return {"name": frame.name, "width": frame.width, "height": frame.height, "lines": lines, "ticks": ticks,
            "labels": labels, "left": frame.left, "right": frame.width - frame.right,
            "baseline": y(0), "label_y": frame.height - 8}


def _anchor(x: float, text: str, width: int) -> str:
    """Centred under its point, unless that would run off the drawing (digits are ~0.55 em)."""
    half = len(text) * LABEL_EM * 0.55 / 2
    return "end" if x + half > width else "start" if x - half < 0 else "middle"


def nice_scale(top: float, ticks: int, whole: bool) -> tuple[float, float]:
    """A tick step of 1, 2 or 5 times a power of ten and the axis' top (a multiple of it, at least
    ``top``) giving at most ``ticks`` steps; whole numbers for counts."""
    if top <= 0:
        return (1.0, 1.0) if whole else (0.01, 0.01)
    raw = top / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 5, 10) if m * power >= raw)
    if whole:
        step = max(1.0, float(math.ceil(step)))
    return step, step * math.ceil(top / step - 1e-9)


def format_tick(value: float, mode: str, step: float) -> str:
    if mode == "count":
        return f"{int(value):,}"
    digits = max(0, -math.floor(math.log10(step * 100) + 1e-9)) if step else 0
    return f"{value * 100:.{digits}f}%"


def _tooltip(series: dict, i: int) -> str:
    point = series["points"][i]
    return (f"{series['query']} · {point['period']}：{point['matches']:,} / {point['articles']:,} 篇"
            f"（{point['share'] * 100:.2f}%）")
