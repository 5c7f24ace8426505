"""Charts as inline SVG, drawn on the server: no script, no CDN, readable offline and by screen readers.

Pure functions from plain geometry to SVG text; callers decide what the
geometry means (:mod:`reports.presentation.overview` for the histogram,
:mod:`reports.outages` for the week timeline). Every chart is a
``role="img"`` with a ``<title>`` and ``<desc>`` it is labelled by; every bar,
stretch and tick has its own ``<title>`` (a tooltip, and what a screen reader
reads when it walks the shapes). Pages also show the same numbers as a table,
the text alternative for anyone who cannot see the chart.

Text is XML-escaped here; the result is safe to put into HTML as it is.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from html import escape
from typing import Literal

from reports.presentation.durations import duration_text

#: Red to green (ColorBrewer RdYlGn, 10 classes): low uptime red, full uptime green.
UPTIME_COLOURS = (
    "#a50026",
    "#d73027",
    "#f46d43",
    "#fdae61",
    "#fee08b",
    "#d9ef8b",
    "#a6d96a",
    "#66bd63",
    "#1a9850",
    "#006837",
)
UP_COLOUR = "#2e7d32"
DOWN_COLOUR = "#c62828"
OPEN_COLOUR = "#d5dbe1"
ACTIVE_TICK = "#0b3d0f"
INACTIVE_TICK = "#5c0000"
IGNORED_TICK = "#8a8a8a"

SpanKind = Literal["outside", "open", "up", "down"]
TickKind = Literal["active", "inactive", "ignored"]


def _attr(value: object) -> str:
    return escape(str(value), quote=True)


def _n(value: float) -> str:
    """A coordinate: two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text


def _open_svg(chart_id: str, width: int, height: int, title: str, description: str, css_class: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{css_class}" id="{_attr(chart_id)}" role="img" '
        f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        f'style="max-width:100%;height:auto" aria-labelledby="{_attr(chart_id)}-title {_attr(chart_id)}-desc">',
        f'<title id="{_attr(chart_id)}-title">{escape(title)}</title>',
        f'<desc id="{_attr(chart_id)}-desc">{escape(description)}</desc>',
    ]


# --- histogram ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Bar:
    """One histogram bar: its label under the axis, its count, and a sentence for its tooltip."""

    label: str
    count: int
    detail: str


def _axis(largest: int) -> tuple[int, int]:
    """A round top and gridline step for a count axis: the step is 1, 2 or 5 x 10^k, about 4 steps to the top."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor * 4 >= largest:
                candidate = step * factor
                return -(-max(largest, 1) // candidate) * candidate, candidate
        step *= 10


def histogram_svg(
    bars: Sequence[Bar],
    *,
    chart_id: str,
    title: str,
    description: str,
    x_label: str,
    y_label: str,
    colours: Sequence[str] = UPTIME_COLOURS,
) -> str:
    """A bar chart of counts; bar ``i`` takes ``colours[i]`` (cycled)."""
    width, height = 640, 300
    left, right, top, bottom = 56, 16, 20, 56
    plot_w, plot_h = width - left - right, height - top - bottom
    top_count, step = _axis(max((bar.count for bar in bars), default=0))
    parts = _open_svg(chart_id, width, height, title, description, "chart histogram")
    for value in range(0, top_count + 1, step):
        y = top + plot_h - plot_h * value / top_count
        parts.append(
            f'<line x1="{left}" x2="{width - right}" y1="{_n(y)}" y2="{_n(y)}" stroke="#ddd" aria-hidden="true"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{_n(y + 4)}" text-anchor="end" font-size="11" aria-hidden="true">{value}</text>'
        )
    slot = plot_w / max(len(bars), 1)
    for index, bar in enumerate(bars):
        bar_h = plot_h * bar.count / top_count
        x, y = left + index * slot + slot * 0.1, top + plot_h - bar_h
        colour = colours[index % len(colours)] if colours else "#417690"
        parts.append(
            f'<rect class="bar" data-count="{bar.count}" x="{_n(x)}" y="{_n(y)}" width="{_n(slot * 0.8)}" '
            f'height="{_n(bar_h)}" fill="{colour}"><title>{escape(bar.detail)}</title></rect>'
        )
        centre = left + index * slot + slot / 2
        parts.append(
            f'<text x="{_n(centre)}" y="{_n(y - 4)}" text-anchor="middle" font-size="11" aria-hidden="true">'
            f"{bar.count}</text>"
        )
        parts.append(
            f'<text x="{_n(centre)}" y="{top + plot_h + 16}" text-anchor="middle" font-size="11" '
            f'aria-hidden="true">{escape(bar.label)}</text>'
        )
    parts.append(
        f'<line x1="{left}" x2="{width - right}" y1="{top + plot_h}" y2="{top + plot_h}" stroke="#333" '
        'aria-hidden="true"/>'
    )
    parts.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 12}" text-anchor="middle" font-size="12" '
        f'aria-hidden="true">{escape(x_label)}</text>'
    )
    parts.append(
        f'<text transform="translate(14 {top + plot_h / 2:.0f}) rotate(-90)" text-anchor="middle" font-size="12" '
        f'aria-hidden="true">{escape(y_label)}</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts)


# --- week timeline -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """Part of a day row, as fractions ``0..1`` of the row (local midnight to midnight)."""

    start: float
    end: float
    kind: SpanKind


@dataclass(frozen=True, slots=True)
class Tick:
    """A poll on a day row: its place (fraction of the row), how it counted, and its tooltip."""

    at: float
    kind: TickKind
    label: str


@dataclass(frozen=True, slots=True)
class DayRow:
    """One local date of the timeline; the seconds are for the text alternative."""

    label: str
    spans: list[Span] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    open_seconds: Fraction = Fraction(0)
    up_seconds: Fraction = Fraction(0)
    down_seconds: Fraction = Fraction(0)

    @property
    def open_text(self) -> str:
        return duration_text(self.open_seconds)

    @property
    def up_text(self) -> str:
        return duration_text(self.up_seconds)

    @property
    def down_text(self) -> str:
        return duration_text(self.down_seconds)


_SPAN_STYLE = {
    "outside": ("url(#{id}-outside)", "outside the report's week"),
    "open": (OPEN_COLOUR, "business hours, no observation"),
    "up": (UP_COLOUR, "up"),
    "down": ("url(#{id}-down)", "down"),
}
# Active ticks stick out above the bar, inactive ones below: told apart by shape, not only colour.
_TICK_STYLE = {
    "active": (ACTIVE_TICK, 1, 22),
    "inactive": (INACTIVE_TICK, 12, 33),
    "ignored": (IGNORED_TICK, 1, 7),
}


def _defs(chart_id: str) -> str:
    cid = _attr(chart_id)
    return (
        "<defs>"
        f'<pattern id="{cid}-outside" width="6" height="6" patternUnits="userSpaceOnUse" '
        'patternTransform="rotate(45)"><rect width="6" height="6" fill="#f4f4f4"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#cfcfcf" stroke-width="2"/></pattern>'
        f'<pattern id="{cid}-down" width="6" height="6" patternUnits="userSpaceOnUse" '
        f'patternTransform="rotate(-45)"><rect width="6" height="6" fill="{DOWN_COLOUR}"/>'
        '<line x1="0" y1="0" x2="0" y2="6" stroke="#8e0000" stroke-width="2"/></pattern>'
        "</defs>"
    )


def week_timeline_svg(days: Sequence[DayRow], *, chart_id: str, title: str, description: str) -> str:
    """One row per local day, 00:00 to 24:00 left to right: business hours, up and down, poll ticks."""
    width, label_w, right, top, row_h = 960, 96, 26, 24, 34
    plot_w = width - label_w - right
    legend_top = top + row_h * len(days) + 10
    height = legend_top + 46
    parts = _open_svg(chart_id, width, height, title, description, "chart timeline")
    parts.append(_defs(chart_id))
    for hour in range(0, 25, 3):
        x = label_w + plot_w * hour / 24
        parts.append(
            f'<line x1="{_n(x)}" x2="{_n(x)}" y1="{top - 4}" y2="{top + row_h * len(days)}" stroke="#e3e3e3" '
            'aria-hidden="true"/>'
        )
        parts.append(
            f'<text x="{_n(x)}" y="{top - 8}" text-anchor="middle" font-size="11" aria-hidden="true">'
            f"{hour:02d}:00</text>"
        )
    for index, day in enumerate(days):
        y = top + index * row_h
        parts.append(f'<g class="day" data-day="{_attr(day.label)}">')
        parts.append(
            f'<text x="{label_w - 8}" y="{y + 21}" text-anchor="end" font-size="12">{escape(day.label)}</text>'
        )
        parts.append(
            f'<rect x="{label_w}" y="{y + 8}" width="{plot_w}" height="18" fill="#fafafa" stroke="#e0e0e0" '
            'aria-hidden="true"/>'
        )
        for span in day.spans:
            fill, meaning = _SPAN_STYLE[span.kind]
            x, span_w = label_w + plot_w * span.start, plot_w * (span.end - span.start)
            parts.append(
                f'<rect class="span {span.kind}" x="{_n(x)}" y="{y + 8}" width="{_n(span_w)}" '
                f'height="18" fill="{fill.format(id=_attr(chart_id))}"><title>{escape(day.label)}: '
                f"{escape(meaning)}</title></rect>"
            )
        for tick in day.ticks:
            colour, y1, y2 = _TICK_STYLE[tick.kind]
            x = label_w + plot_w * tick.at
            parts.append(
                f'<line class="tick {tick.kind}" x1="{_n(x)}" x2="{_n(x)}" y1="{y + y1}" y2="{y + y2}" '
                f'stroke="{colour}" stroke-width="2"><title>{escape(day.label)} {escape(tick.label)}</title></line>'
            )
        parts.append("</g>")
    parts.append(_legend(chart_id, label_w, legend_top))
    parts.append("</svg>")
    return "\n".join(parts)


def _legend(chart_id: str, left: int, top: int) -> str:
    cid = _attr(chart_id)
    swatches = [
        (OPEN_COLOUR, "business hours"),
        (UP_COLOUR, "up"),
        (f"url(#{cid}-down)", "down"),
        (f"url(#{cid}-outside)", "outside the report's week"),
    ]
    parts = ['<g class="legend" aria-hidden="true">']
    x = left
    for fill, text in swatches:
        parts.append(f'<rect x="{x}" y="{top}" width="18" height="12" fill="{fill}" stroke="#999"/>')
        parts.append(f'<text x="{x + 24}" y="{top + 10}" font-size="11">{escape(text)}</text>')
        x += 34 + 7 * len(text)
    x = left
    for colour, text, y1, y2 in [
        (ACTIVE_TICK, "poll: active (sticks out above)", 0, 12),
        (INACTIVE_TICK, "poll: inactive (sticks out below)", 2, 14),
        (IGNORED_TICK, "poll outside business hours (not used)", 0, 5),
    ]:
        parts.append(
            f'<line x1="{x + 9}" x2="{x + 9}" y1="{top + 22 + y1}" y2="{top + 22 + y2}" stroke="{colour}" '
            'stroke-width="2"/>'
        )
        parts.append(f'<text x="{x + 24}" y="{top + 33}" font-size="11">{escape(text)}</text>')
        x += 34 + 7 * len(text)
    parts.append("</g>")
    return "".join(parts)
