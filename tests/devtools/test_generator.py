"""The synthetic data generator (pure module, no database).

Run alone with ``pytest tests/ingestion/test_generator.py -p no:django``.
"""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from devtools.generator import (
    FIRST_POLL_HOUR,
    HOURS_FILE,
    POLL_HOURS,
    POLLS_FILE,
    TIMEZONES_FILE,
    GeneratedCounts,
    generate_dataset,
    new_store_ids,
    select_stores,
)

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"
REAL_TIMESTAMP = "%Y-%m-%d %H:%M:%S.%f UTC"
FILES = (POLLS_FILE, HOURS_FILE, TIMEZONES_FILE)


def read_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        return next(reader), list(reader)


def polls_by_store(out: Path) -> dict[str, list[tuple[datetime, str]]]:
    by_store: dict[str, list[tuple[datetime, str]]] = defaultdict(list)
    for store_id, status, stamp in read_rows(out / POLLS_FILE)[1]:
        by_store[store_id].append((datetime.strptime(stamp, REAL_TIMESTAMP).replace(tzinfo=UTC), status))
    for polls in by_store.values():
        polls.sort()
    return by_store


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, GeneratedCounts]:
    """One 1 % data set (136 stores, ~18k polls), shared by the read-only tests."""
    out = tmp_path_factory.mktemp("gen-small")
    return out, generate_dataset(out_dir=out, scale=0.01, seed=0, sample_dir=SAMPLE)


@pytest.fixture(scope="module")
def two_percent(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen-2pct")
    generate_dataset(out_dir=out, scale=0.02, seed=7, sample_dir=SAMPLE)
    return out


@pytest.fixture
def tiny_sample(tmp_path: Path) -> Path:
    """A four-store sample with every kind of store: hours and zone, hours
    only, zone only, and a shift past midnight."""
    sample = tmp_path / "sample"
    sample.mkdir()
    (sample / HOURS_FILE).write_text(
        "store_id,day,start_time_local,end_time_local\n"
        "11,0,09:00:00,17:00:00\n"
        "11,1,09:00:00,17:00:00\n"
        "22,5,22:00:00,02:00:00\n"
        "44,3,00:00:00,23:59:59\n",
        encoding="utf-8",
    )
    (sample / TIMEZONES_FILE).write_text(
        "store_id,timezone_str\n33,Asia/Beirut\n11,America/Denver\n44,America/New_York\n",
        encoding="utf-8",
    )
    return sample


def test_a_small_scale_writes_the_three_files_with_the_real_headers(small: tuple[Path, GeneratedCounts]) -> None:
    out, counts = small
    assert read_rows(out / POLLS_FILE)[0] == ["store_id", "status", "timestamp_utc"]
    assert read_rows(out / HOURS_FILE)[0] == ["store_id", "day", "start_time_local", "end_time_local"]
    assert read_rows(out / TIMEZONES_FILE)[0] == ["store_id", "timezone_str"]
    assert counts.stores == round(13_584 * 0.01)
    assert counts.polls == len(read_rows(out / POLLS_FILE)[1])
    assert counts.hours_rows == len(read_rows(out / HOURS_FILE)[1])
    assert counts.timezone_rows == len(read_rows(out / TIMEZONES_FILE)[1])
    assert not list(out.glob(".*.partial"))


def test_a_subset_keeps_real_stores_with_their_real_hours_and_zones(small: tuple[Path, GeneratedCounts]) -> None:
    out, _ = small
    real_hours = {tuple(row) for row in read_rows(SAMPLE / HOURS_FILE)[1]}
    real_zones = {tuple(row) for row in read_rows(SAMPLE / TIMEZONES_FILE)[1]}
    assert {tuple(row) for row in read_rows(out / HOURS_FILE)[1]} <= real_hours
    assert {tuple(row) for row in read_rows(out / TIMEZONES_FILE)[1]} <= real_zones


def test_the_same_seed_gives_the_same_bytes_and_another_seed_does_not(
    small: tuple[Path, GeneratedCounts], tmp_path: Path
) -> None:
    out, _ = small
    generate_dataset(out_dir=tmp_path / "again", scale=0.01, seed=0, sample_dir=SAMPLE)
    generate_dataset(out_dir=tmp_path / "other", scale=0.01, seed=1, sample_dir=SAMPLE)
    for name in FILES:
        assert (tmp_path / "again" / name).read_bytes() == (out / name).read_bytes(), name
    assert (tmp_path / "other" / POLLS_FILE).read_bytes() != (out / POLLS_FILE).read_bytes()


def test_scale_one_copies_the_real_hours_and_timezone_files_exactly(tmp_path: Path) -> None:
    """Checked on the tiny sample: the full-scale run is too slow for the unit suite."""
    sample = tmp_path / "sample"
    sample.mkdir()
    hours = "store_id,day,start_time_local,end_time_local\n5,1,10:00:00,11:00:00\n6,0,00:00:00,23:59:59\n"
    zones = "store_id,timezone_str\n6,Europe/Paris\n5,Asia/Tokyo\n"
    (sample / HOURS_FILE).write_text(hours, encoding="utf-8")
    (sample / TIMEZONES_FILE).write_text(zones, encoding="utf-8")
    generate_dataset(out_dir=tmp_path / "out", scale=1.0, seed=3, sample_dir=sample)
    assert (tmp_path / "out" / HOURS_FILE).read_text(encoding="utf-8") == hours
    assert (tmp_path / "out" / TIMEZONES_FILE).read_text(encoding="utf-8") == zones


def test_poll_timestamps_use_the_real_format_and_lie_in_the_real_week(small: tuple[Path, GeneratedCounts]) -> None:
    out, _ = small
    end = FIRST_POLL_HOUR + timedelta(hours=POLL_HOURS)
    stamps = [row[2] for row in read_rows(out / POLLS_FILE)[1]]
    assert all(stamp.endswith(" UTC") and len(stamp) == len("2023-01-22 12:09:39.388884 UTC") for stamp in stamps)
    parsed = [datetime.strptime(stamp, REAL_TIMESTAMP).replace(tzinfo=UTC) for stamp in stamps]
    assert min(parsed) >= FIRST_POLL_HOUR
    assert max(parsed) < end
    assert max(parsed) > end - timedelta(hours=1)


def test_polls_are_in_time_order_and_not_grouped_by_store(small: tuple[Path, GeneratedCounts]) -> None:
    out, _ = small
    rows = read_rows(out / POLLS_FILE)[1]
    stamps = [row[2] for row in rows]
    assert stamps == sorted(stamps)
    store_changes = sum(1 for a, b in zip(rows, rows[1:], strict=False) if a[0] != b[0])
    assert store_changes > 0.9 * len(rows)


def test_both_statuses_occur_and_outages_span_consecutive_polls(small: tuple[Path, GeneratedCounts]) -> None:
    out, _ = small
    statuses = [row[1] for row in read_rows(out / POLLS_FILE)[1]]
    assert set(statuses) == {"active", "inactive"}
    inactive_share = statuses.count("inactive") / len(statuses)
    assert 0.01 < inactive_share < 0.15

    def longest_inactive_run(polls: list[tuple[datetime, str]]) -> int:
        longest = current = 0
        for _, status in polls:
            current = current + 1 if status == "inactive" else 0
            longest = max(longest, current)
        return longest

    runs = [longest_inactive_run(polls) for polls in polls_by_store(out).values()]
    assert max(runs) >= 2
    assert sum(1 for run in runs if run >= 2) >= 3


def test_stores_poll_about_0_72_times_per_hour(two_percent: Path) -> None:
    by_store = polls_by_store(two_percent)
    assert len(by_store) == round(13_584 * 0.02)
    polls = sum(len(p) for p in by_store.values())
    assert polls / (len(by_store) * POLL_HOURS) == pytest.approx(0.72, abs=0.03)


def test_most_polls_fall_early_in_the_hour_like_the_real_ones(two_percent: Path) -> None:
    minutes = [int(row[2][14:16]) for row in read_rows(two_percent / POLLS_FILE)[1]]
    early = sum(1 for minute in minutes if minute <= 12) / len(minutes)
    assert 0.75 < early < 0.92


def test_some_stores_have_no_hours_rows_and_some_no_timezone(small: tuple[Path, GeneratedCounts]) -> None:
    out, _ = small
    polled = set(polls_by_store(out))
    with_hours = {row[0] for row in read_rows(out / HOURS_FILE)[1]}
    with_zone = {row[0] for row in read_rows(out / TIMEZONES_FILE)[1]}
    assert with_hours | with_zone == polled
    assert polled - with_hours
    assert polled - with_zone


def test_a_stratified_subset_keeps_every_kind_of_store_even_when_tiny() -> None:
    ids = [str(i) for i in range(1000)]
    kind_of = {sid: (int(sid) % 100 != 0, int(sid) % 7 != 0) for sid in ids}
    chosen = select_stores(ids, 20, kind_of=kind_of, rng=random.Random(1))
    assert len(chosen) == len(set(chosen)) == 20
    assert {kind_of[sid] for sid in chosen} == set(kind_of.values())
    assert chosen == [sid for sid in ids if sid in set(chosen)]


def test_new_store_ids_are_unique_19_digit_int64_values_and_avoid_taken_ones() -> None:
    taken = {str(10**18 + i) for i in range(5)}
    ids = new_store_ids(5_000, seed=4, taken=taken)
    assert len(set(ids)) == 5_000
    assert not set(ids) & taken
    assert all(len(sid) == 19 and sid.isdigit() and int(sid) < 2**63 for sid in ids)
    assert new_store_ids(5_000, seed=4, taken=taken) == ids
    assert new_store_ids(5_000, seed=5, taken=taken) != ids


def test_a_scale_above_one_adds_new_stores_that_copy_real_hours_and_zones(tiny_sample: Path, tmp_path: Path) -> None:
    counts = generate_dataset(out_dir=tmp_path / "out", scale=10.0, seed=2, sample_dir=tiny_sample)
    out = tmp_path / "out"
    real = {"11", "22", "33", "44"}
    hours: dict[str, list[tuple[str, ...]]] = defaultdict(list)
    for store_id, *rest in read_rows(out / HOURS_FILE)[1]:
        hours[store_id].append(tuple(rest))
    zones = {row[0]: row[1] for row in read_rows(out / TIMEZONES_FILE)[1]}
    polled = set(polls_by_store(out))

    assert counts.stores == 40
    assert len(polled) == 40 and real <= polled
    extra = polled - real
    assert all(len(sid) == 19 and sid.isdigit() for sid in extra)
    schedules = {sid: (tuple(hours.get(sid, ())), zones.get(sid)) for sid in polled}
    real_schedules = [schedules[sid] for sid in sorted(real)]
    # Nine whole copies of the four real stores: every kind keeps its share.
    for schedule in real_schedules:
        assert sum(1 for sid in extra if schedules[sid] == schedule) == 9
    assert sum(1 for sid in polled if sid not in zones) == 10
    assert sum(1 for sid in polled if sid not in hours) == 10


def test_progress_reports_a_growing_count_that_ends_at_the_total(tiny_sample: Path, tmp_path: Path) -> None:
    seen: list[int] = []
    counts = generate_dataset(out_dir=tmp_path, scale=3.0, seed=0, sample_dir=tiny_sample, progress=seen.append)
    assert seen == sorted(seen)
    assert seen[-1] == counts.polls
    assert len(seen) > 10


@pytest.mark.parametrize("scale", [0.0, -1.0, float("nan"), float("inf")])
def test_a_scale_that_is_not_a_positive_number_is_refused(scale: float, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="scale"):
        generate_dataset(out_dir=tmp_path, scale=scale, sample_dir=SAMPLE)


def test_days_spreads_the_polls_over_that_many_days_ending_where_the_real_week_ends(tmp_path: Path) -> None:
    counts = generate_dataset(out_dir=tmp_path / "month", scale=0.005, seed=0, sample_dir=SAMPLE, days=30)
    week = generate_dataset(out_dir=tmp_path / "week", scale=0.005, seed=0, sample_dir=SAMPLE)

    stamps = sorted(
        datetime.strptime(stamp, REAL_TIMESTAMP).replace(tzinfo=UTC)
        for _, _, stamp in read_rows(tmp_path / "month" / POLLS_FILE)[1]
    )
    assert stamps[0] >= datetime(2022, 12, 26, 19, tzinfo=UTC)
    assert stamps[0] < datetime(2022, 12, 27, 19, tzinfo=UTC)
    assert stamps[-1] < datetime(2023, 1, 25, 19, tzinfo=UTC)
    assert stamps[-1] > datetime(2023, 1, 25, 17, tzinfo=UTC)
    # About 720 / 187 times the polls of the real week's span, for the same stores.
    assert counts.stores == week.stores
    assert 3.2 < counts.polls / week.polls < 4.5


def test_end_cuts_the_week_at_that_instant_and_keeps_every_earlier_poll_as_it_was(tmp_path: Path) -> None:
    end = datetime(2023, 1, 25, 18, 11, 39, 622234, tzinfo=UTC)  # the real sample's newest poll
    cut = generate_dataset(out_dir=tmp_path / "cut", stores=50, seed=0, sample_dir=SAMPLE, end=end)
    generate_dataset(out_dir=tmp_path / "full", stores=50, seed=0, sample_dir=SAMPLE)

    def stamp(row: list[str]) -> datetime:
        return datetime.strptime(row[2], REAL_TIMESTAMP).replace(tzinfo=UTC)

    kept = read_rows(tmp_path / "cut" / POLLS_FILE)[1]
    full = read_rows(tmp_path / "full" / POLLS_FILE)[1]
    assert cut.stores == 50 and cut.polls == len(kept)
    assert kept == [row for row in full if stamp(row) <= end]
    assert len(kept) < len(full)
    assert max(map(stamp, kept)) > end - timedelta(hours=1)


def test_end_in_another_hour_moves_the_whole_week(tmp_path: Path) -> None:
    end = datetime(2023, 3, 1, 6, 30, tzinfo=UTC)

    generate_dataset(out_dir=tmp_path, stores=20, seed=1, sample_dir=SAMPLE, end=end)

    stamps = [
        datetime.strptime(row[2], REAL_TIMESTAMP).replace(tzinfo=UTC) for row in read_rows(tmp_path / POLLS_FILE)[1]
    ]
    assert end - timedelta(hours=POLL_HOURS) < min(stamps) and max(stamps) <= end
