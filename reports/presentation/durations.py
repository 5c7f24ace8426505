"""Durations for people: one formatter for every page, chart title and outage list."""

from __future__ import annotations

from fractions import Fraction


def duration_text(seconds: Fraction) -> str:
    """``2 h 05 min``, ``12 min 30 s``, ``45 s``: rounded down to the second, for people."""
    whole = int(seconds)
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s" if secs else f"{minutes} min"
    return f"{secs} s"
