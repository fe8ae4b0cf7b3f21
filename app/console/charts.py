"""Bar charts drawn on the server as inline SVG: no script, no style attribute, nothing fetched.

Pure: a list of ``(label, value)`` and the texts around it in, markup out. A value of ``None``
is a figure the service could not give (no document resolved, say): no bar, a dash in the table.
Every chart carries a ``<title>`` and a ``<desc>`` and, beneath it, the same numbers as a table
(in a ``<details>``), so that a screen reader, a keyboard user and a test read the figures
themselves. Colours and lines come from classes in static/console.css and SVG presentation
attributes: the console's CSP refuses inline styles.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from babel.numbers import format_decimal, format_percent
from markupsafe import Markup, escape

# Geometry, in the viewBox's units (the SVG scales to its box; console.css caps it at 100%).
WIDTH = 720
LABEL_WIDTH = 220  # labels on the left, as unit names are long
VALUE_WIDTH = 70  # the figure after its bar
BAR_HEIGHT = 20
ROW_HEIGHT = 30
TOP = 10
AXIS_HEIGHT = 42  # ticks and the axis text below the bars
PLOT_WIDTH = WIDTH - LABEL_WIDTH - VALUE_WIDTH
TICKS = 4
LABEL_CHARS = 30  # longer labels are shortened in the drawing (whole in the bar's tooltip and the table)

Formatter = Callable[[float], str]


def number(lang: str, digits: int = 2) -> Formatter:
    """Figures as the reader writes them (2,62 in Vietnamese, 2.62 in English)."""
    pattern = "#,##0" + ("." + "#" * digits if digits else "")
    return lambda value: format_decimal(value, format=pattern, locale=lang)


def percent(lang: str) -> Formatter:
    """A rate 0…1 as a percentage (0.5 → 50 %)."""
    return lambda value: format_percent(value, format="#,##0.#%", locale=lang)


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    shown: str  # the value as the reader reads it
    length: float  # in viewBox units, proportional to the value
    y: float


def nice_ceiling(value: float) -> float:
    """The axis' end: the smallest of 1, 2, 4, 6, 8 × 10^k not below ``value`` (1 for nothing), so
    that its four ticks fall on round figures."""
    if not value or value <= 0 or not math.isfinite(value):
        return 1.0
    power = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 4, 6, 8, 10):
        if step * power >= value * (1 - 1e-12):
            return float(step * power)
    return float(10 * power)  # pragma: no cover - the loop ends at 10


def layout(data: Sequence[tuple[str, float | None]], *, axis_max: float | None, fmt: Formatter,
           missing: str, whole: bool = False) -> tuple[list[Bar], float]:
    """The bars and the axis' end: each bar's length is value / axis end × the plot's width. For
    ``whole`` numbers (counts) the end is a multiple of the ticks, so that every tick is a whole number."""
    values = [v for _, v in data if v is not None]
    end = axis_max if axis_max is not None and axis_max > 0 else nice_ceiling(max(values, default=0.0))
    if whole:
        end = float(TICKS * math.ceil(end / TICKS))
    bars = []
    for index, (label, value) in enumerate(data):
        length = 0.0
        if value is not None and value > 0:
            length = min(value, end) / end * PLOT_WIDTH
        bars.append(Bar(str(label), value, fmt(value) if value is not None else missing, round(length, 2),
                        TOP + index * ROW_HEIGHT))
    return bars, end


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9-]+", "-", text.lower()).strip("-") or "chart"


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1].rstrip() + "…"


def _number(value: float) -> str:
    """A coordinate: no trailing zeros, no exponent."""
    return f"{value:.2f}".rstrip("0").rstrip(".")


def bar_chart(data: Sequence[tuple[str, float | None]], *, chart_id: str, title: str, desc: str, axis: str,
              label_heading: str, value_heading: str, table_summary: str, empty: str, fmt: Formatter,
              missing: str = "—", axis_max: float | None = None, whole: bool = False) -> Markup:
    """A horizontal bar chart and the table of its numbers, as one ``<figure>``.

    ``data`` keeps its order. ``axis_max`` fixes the axis' end (1 for rates); otherwise it is the
    largest value rounded up (:func:`nice_ceiling`). Labels and texts are escaped here; the
    result is markup for a template. With no data, the figure says ``empty`` and draws no bar.
    """
    key = _slug(chart_id)
    title_id, desc_id = f"{key}-title", f"{key}-desc"
    bars, end = layout(data, axis_max=axis_max, fmt=fmt, missing=missing, whole=whole)
    rows = max(len(bars), 1)
    height = TOP + rows * ROW_HEIGHT + AXIS_HEIGHT
    plot_bottom = TOP + rows * ROW_HEIGHT
    parts = [
        f'<figure class="chart" id="{key}">',
        f'<figcaption>{escape(title)}</figcaption>',
        f'<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img" viewBox="0 0 {WIDTH} {height}" '
        f'width="{WIDTH}" height="{height}" aria-labelledby="{title_id} {desc_id}" data-axis-max="{_number(end)}">',
        f'<title id="{title_id}">{escape(title)}</title>',
        f'<desc id="{desc_id}">{escape(desc)}</desc>',
    ]
    if not bars:
        parts.append(f'<text class="chart-empty" x="{WIDTH / 2:g}" y="{TOP + ROW_HEIGHT / 2 + 5:g}" '
                     f'text-anchor="middle">{escape(empty)}</text>')
    else:
        for tick in range(TICKS + 1):
            x = LABEL_WIDTH + PLOT_WIDTH * tick / TICKS
            parts.append(f'<line class="grid" x1="{_number(x)}" y1="{TOP - 4}" x2="{_number(x)}" '
                         f'y2="{plot_bottom}" stroke="#d5dbe2" stroke-width="1"/>')
            parts.append(f'<text class="tick" x="{_number(x)}" y="{plot_bottom + 16}" text-anchor="middle" '
                         f'font-size="12" fill="#5b6673">{escape(fmt(end * tick / TICKS))}</text>')
        for bar in bars:
            middle = bar.y + BAR_HEIGHT / 2 + 5
            parts.append('<g class="bar-row">')
            parts.append(f'<text class="bar-label" x="{LABEL_WIDTH - 8}" y="{_number(middle)}" text-anchor="end" '
                         f'font-size="13" fill="#1d2733">{escape(_short(bar.label))}</text>')
            if bar.value is not None:
                parts.append(f'<rect class="bar" x="{LABEL_WIDTH}" y="{_number(bar.y)}" width="{_number(bar.length)}" '
                             f'height="{BAR_HEIGHT}" fill="#0b5cad"><title>{escape(bar.label)}: '
                             f'{escape(bar.shown)}</title></rect>')
            parts.append(f'<text class="bar-value" x="{_number(LABEL_WIDTH + bar.length + 6)}" '
                         f'y="{_number(middle)}" font-size="13" fill="#1d2733">{escape(bar.shown)}</text>')
            parts.append('</g>')
        parts.append(f'<line class="axis" x1="{LABEL_WIDTH}" y1="{TOP - 4}" x2="{LABEL_WIDTH}" y2="{plot_bottom}" '
                     f'stroke="#5b6673" stroke-width="1"/>')
    parts.append(f'<text class="axis-text" x="{LABEL_WIDTH + PLOT_WIDTH / 2:g}" y="{height - 6}" '
                 f'text-anchor="middle" font-size="12" fill="#5b6673">{escape(axis)}</text>')
    parts.append('</svg>')
    parts.append(f'<details class="chart-data"><summary>{escape(table_summary)}</summary>')
    if bars:
        parts.append(f'<table><caption>{escape(title)}</caption><thead><tr><th scope="col">{escape(label_heading)}'
                     f'</th><th scope="col">{escape(value_heading)}</th></tr></thead><tbody>')
        for bar in bars:
            raw = "" if bar.value is None else repr(float(bar.value))
            parts.append(f'<tr><th scope="row">{escape(bar.label)}</th>'
                         f'<td data-value="{raw}">{escape(bar.shown)}</td></tr>')
        parts.append('</tbody></table>')
    else:
        parts.append(f'<p>{escape(empty)}</p>')
    parts.append('</details></figure>')
    return Markup("\n".join(parts))
