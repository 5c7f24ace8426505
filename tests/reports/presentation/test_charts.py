"""The SVG charts: well-formed, labelled for screen readers, escaped, and drawn where the numbers say."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from fractions import Fraction

from reports.presentation.charts import Bar, DayRow, Span, Tick, histogram_svg, week_timeline_svg
from reports.presentation.durations import duration_text

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def histogram(counts: list[int]) -> ET.Element:
    bars = [Bar(f"{10 * n}–{10 * n + 10}", count, f"{count} stores") for n, count in enumerate(counts)]
    return parse(
        histogram_svg(bars, chart_id="h", title="Stores <by> uptime", description="d & more", x_label="x", y_label="y")
    )


def test_a_chart_is_an_image_labelled_by_its_title_and_description() -> None:
    root = histogram([1, 2])

    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "h-title h-desc"
    assert root.find(f"{SVG}title").text == "Stores <by> uptime"  # type: ignore[union-attr]
    assert root.find(f"{SVG}desc").text == "d & more"  # type: ignore[union-attr]


def test_bar_heights_are_proportional_to_the_counts_and_each_bar_has_a_tooltip() -> None:
    root = histogram([0, 5, 10, 20])

    bars = root.findall(f".//{SVG}rect[@class='bar']")
    heights = [float(bar.get("height", "")) for bar in bars]
    assert [bar.get("data-count") for bar in bars] == ["0", "5", "10", "20"]
    assert heights[0] == 0 and heights[2] == 2 * heights[1] and heights[3] == 2 * heights[2]
    assert [bar.find(f"{SVG}title").text for bar in bars][1] == "5 stores"  # type: ignore[union-attr]


def test_an_empty_histogram_still_draws() -> None:
    root = histogram([0, 0, 0])

    assert all(float(bar.get("height", "")) == 0 for bar in root.findall(f".//{SVG}rect[@class='bar']"))


def test_the_timeline_draws_one_group_per_day_with_spans_and_ticks_in_place() -> None:
    days = [
        DayRow("Mon 23 Jan", [Span(0.25, 0.5, "up"), Span(0.5, 0.75, "down")], [Tick(0.5, "inactive", "12:00")]),
        DayRow("Tue 24 Jan", [Span(0.0, 0.1, "outside")], [Tick(0.9, "ignored", "21:36")]),
    ]

    root = parse(week_timeline_svg(days, chart_id="t", title="T", description="D"))

    groups = root.findall(f"{SVG}g[@class='day']")
    assert [group.get("data-day") for group in groups] == ["Mon 23 Jan", "Tue 24 Jan"]
    up, down = groups[0].findall(f"{SVG}rect[@class='span up']"), groups[0].findall(f"{SVG}rect[@class='span down']")
    assert float(up[0].get("width", "")) == float(down[0].get("width", "")) > 0
    assert float(up[0].get("x", "")) + float(up[0].get("width", "")) == float(down[0].get("x", ""))
    assert down[0].get("fill") == "url(#t-down)"
    tick = groups[0].find(f"{SVG}line[@class='tick inactive']")
    assert tick is not None and tick.get("x1") == down[0].get("x")
    assert root.find(f".//{SVG}pattern[@id='t-down']") is not None


def test_text_in_a_chart_is_escaped() -> None:
    days = [DayRow("<script>alert(1)</script>", [], [Tick(0.5, "active", '"quoted" & <b>')])]

    svg = week_timeline_svg(days, chart_id="x", title="<t>", description="<d>")

    assert "<script>" not in svg and "<b>" not in svg
    assert parse(svg).find(f"{SVG}g").get("data-day") == "<script>alert(1)</script>"  # type: ignore[union-attr]


def test_durations_read_as_hours_and_minutes() -> None:
    assert duration_text(Fraction(8 * 3600)) == "8 h 00 min"
    assert duration_text(Fraction(75 * 60 + 30)) == "1 h 15 min"
    assert duration_text(Fraction(12 * 60 + 30)) == "12 min 30 s"
    assert duration_text(Fraction(45, 2)) == "22 s"
    assert duration_text(Fraction(0)) == "0 s"
