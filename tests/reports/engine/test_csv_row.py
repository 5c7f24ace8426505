"""Rounding happens once, half up, on exact values."""

from __future__ import annotations

from fractions import Fraction

from reports.engine.csv_row import report_row, report_row_of_totals, round_half_up
from reports.engine.intervals import uptime_of_totals
from reports.engine.units import SECONDS_PER_HOUR, SECONDS_PER_MINUTE


def test_exact_halves_round_up() -> None:
    assert round_half_up(Fraction(18), SECONDS_PER_HOUR) == "0.01"  # 0.005 h
    assert round_half_up(Fraction(3, 10), SECONDS_PER_MINUTE) == "0.01"  # 0.005 min


def test_values_just_below_a_half_round_down() -> None:
    assert round_half_up(Fraction(18) - Fraction(1, 10**6), SECONDS_PER_HOUR) == "0.00"


def test_whole_and_repeating_values_are_written_with_two_decimals() -> None:
    assert round_half_up(Fraction(168 * 3600), SECONDS_PER_HOUR) == "168.00"
    assert round_half_up(Fraction(6270), SECONDS_PER_HOUR) == "1.74"  # 104.5 min
    assert round_half_up(Fraction(4530), SECONDS_PER_MINUTE) == "75.50"
    assert round_half_up(Fraction(0), SECONDS_PER_MINUTE) == "0.00"


def test_halves_round_up_where_binary_floats_and_half_even_would_not() -> None:
    assert round_half_up(Fraction(3618), SECONDS_PER_HOUR) == "1.01"  # 1.005 h; round(1.005, 2) == 1.0
    assert round_half_up(Fraction(9630), SECONDS_PER_HOUR) == "2.68"  # 2.675 h; round(2.675, 2) == 2.67
    assert round_half_up(Fraction(90), SECONDS_PER_HOUR) == "0.03"  # 0.025 h; half-even gives 0.02
    assert round_half_up(Fraction(15, 2), SECONDS_PER_MINUTE) == "0.13"  # 0.125 min; half-even gives 0.12
    assert round_half_up(Fraction(167 * 3600 + 18), SECONDS_PER_HOUR) == "167.01"  # 167.005 h


def test_a_value_a_hair_below_a_half_rounds_down_however_close() -> None:
    # 1.005 h less a nanosecond: within a float's error of the half, still below it.
    assert round_half_up(Fraction(3618) - Fraction(1, 10**9), SECONDS_PER_HOUR) == "1.00"
    assert round_half_up(Fraction(9630) - Fraction(1, 10**9), SECONDS_PER_HOUR) == "2.67"


def test_a_row_from_integer_half_microseconds_is_the_row_of_their_exact_seconds() -> None:
    # 0.005 h, just below it, and 104.5 min: the halves and near-halves of the tests above.
    half_us = 2_000_000
    totals = ((18 * half_us, 3 * half_us // 10), (18 * half_us - 2, 6270 * half_us), (4530 * half_us, 0))
    uptime = uptime_of_totals(totals)

    assert report_row_of_totals("s", totals) == report_row("s", uptime)
    assert report_row_of_totals("s", totals) == ("s", "0.30", "0.00", "1.26", "0.01", "1.74", "0.00")
