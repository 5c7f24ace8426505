"""Rounding happens once, half up, on exact values."""

from __future__ import annotations

from fractions import Fraction

from reports.engine.csv_row import round_half_up
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
