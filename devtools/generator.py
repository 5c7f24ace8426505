"""Synthetic, realistic input data for load tests and demos.

Loop published only a slice of the polls file (5,032 of ~1.8M rows), but the
complete business-hours and timezone files. This module rebuilds a polls file
of the real size and shape around those real stores, and can scale the store
count up or down, so that ingestion and the report can be exercised on
realistic volumes without the original data.

What is kept from the real data, and why:

* **Store ids, hours and timezones are real.** The hours file is where the
  hard cases live (shifts past midnight, ``23:59:59`` ends, several intervals
  per day, 24x7 stores without rows, stores without a timezone row); inventing
  them would lose exactly the cases the report must get right. At scale 1
  ``menu_hours.csv`` and ``timezones.csv`` are byte-for-byte the sample files.
* **Extra stores copy a real store's schedule and zone** under a new unique
  19-digit id, and a smaller scale takes a stratified subset, so the shares of
  stores without hours rows and without a timezone row stay as in the real
  data (and every kind is present even at tiny scales).
* **Polls look like the real ones**: about 0.72 polls per store-hour over
  2023-01-18 00:00 UTC to 2023-01-25 19:00 UTC (187 hours), about one poll per
  store and hour with some hours missing and a few hours with a second poll
  seconds to minutes apart, and timestamps bunched in the first quarter-hour
  (in the real sample 84 % of polls fall in minutes 0-12 of the hour).
* **Outages come in runs.** Each store follows a two-state (active/inactive)
  process whose run lengths are geometric, with per-store parameters drawn
  from a few profiles (steady, flaky, long outages, mostly down). The real
  sample happens to contain no ``inactive`` row at all, so the overall
  inactive share (about 4.5 %) is an assumption, set by ``PROFILES``.

The polls file is streamed hour by hour, rows sorted by time within the
hour: like the real file it is not grouped by store (the real one is only
loosely time-ordered; this one is strictly ordered). Only the stores' current
state and a per-hour schedule are kept in memory, so memory grows with the
number of stores, never with the number of polls. Timestamps always carry six
fraction digits (``2023-01-22 12:09:39.388884 UTC``); the real file drops
trailing zeros (``16:00:49.46544``), which readers must accept anyway.

Output depends only on the sample files, ``scale`` and ``seed``: the same
arguments give the same bytes.
"""

from __future__ import annotations

import csv
import math
import os
import random
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TextIO

__all__ = [
    "DOUBLE_POLL_PROBABILITY",
    "FIRST_POLL_HOUR",
    "HOURS_FILE",
    "HOURS_HEADER",
    "POLLS_FILE",
    "POLLS_HEADER",
    "POLL_HOURS",
    "POLLS_PER_STORE_HOUR",
    "PROFILES",
    "TIMEZONES_FILE",
    "TIMEZONES_HEADER",
    "GeneratedCounts",
    "OutageProfile",
    "generate_dataset",
    "new_store_ids",
    "select_stores",
]

POLLS_FILE = "store_status.csv"
HOURS_FILE = "menu_hours.csv"
TIMEZONES_FILE = "timezones.csv"

#: Real column orders (the report reads by header name, but tools that copy
#: the real files around expect these exact headers).
POLLS_HEADER = ("store_id", "status", "timestamp_utc")
HOURS_HEADER = ("store_id", "day", "start_time_local", "end_time_local")
TIMEZONES_HEADER = ("store_id", "timezone_str")

#: The real polls cover 2023-01-18 00:00 UTC up to about 2023-01-25 18:13 UTC;
#: 187 whole hours end at 19:00, close enough and without a ragged last hour.
FIRST_POLL_HOUR = datetime(2023, 1, 18, tzinfo=UTC)
POLL_HOURS = 187
LAST_POLL_HOUR_END = FIRST_POLL_HOUR + timedelta(hours=POLL_HOURS)


def poll_span(days: int | None, end: datetime | None = None) -> tuple[datetime, int]:
    """The first hour and the number of hours polled: the real week, or ``days`` days ending where it ends.

    Longer data sets (``generate_data --days 30``, ``--days 93``) end at the same hour
    as the real polls, so a report's default ``now`` is as close to the real one.
    With ``end``, the span ends with the hour that holds ``end`` instead.
    """
    if days is not None and days < 1:
        raise ValueError(f"days must be at least 1, got {days!r}")
    if days is None and end is None:
        return FIRST_POLL_HOUR, POLL_HOURS
    hours = POLL_HOURS if days is None else 24 * days
    last_hour_end = LAST_POLL_HOUR_END if end is None else _hour_of(end) + timedelta(hours=1)
    return last_hour_end - timedelta(hours=hours), hours


def _hour_of(instant: datetime) -> datetime:
    """The whole UTC hour ``instant`` falls in."""
    return instant.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _microseconds_into_hour(instant: datetime) -> int:
    into = instant - _hour_of(instant)
    return into.seconds * 1_000_000 + into.microseconds


#: Mean polls per store-hour in the real file (about 1.8M polls for about
#: 13.6k stores over 187 hours).
POLLS_PER_STORE_HOUR = 0.72

#: Share of polled store-hours that get a second poll in the same hour; the
#: real sample has pairs of polls of one store under a minute apart.
DOUBLE_POLL_PROBABILITY = 0.02

#: Per-store poll rates follow Beta(a, b) with a + b = this; larger is
#: tighter around the mean (10 gives a standard deviation of about 0.13).
_RATE_CONCENTRATION = 10.0
_MIN_RATE = 0.02
_MAX_RATE = 0.99

#: Within an hour, this share of polls falls in the first ``_EARLY_SPAN_US``
#: microseconds with a density falling linearly to zero (the real polls
#: bunch at the start of the hour); the rest are uniform over the hour.
_EARLY_SHARE = 0.82
_EARLY_SPAN_US = 16 * 60 * 1_000_000
_HOUR_US = 3_600 * 1_000_000

#: Ids for extra stores are 19-digit numbers that still fit a signed 64-bit
#: integer, so a ``BigIntegerField`` (or any int64 column) can hold them.
_MIN_NEW_ID = 10**18
_MAX_NEW_ID = 2**63 - 1

_WRITE_BUFFER = 1 << 20


@dataclass(frozen=True, slots=True)
class GeneratedCounts:
    """How much was written: stores, poll rows, hours rows, timezone rows
    (data rows, headers not counted)."""

    stores: int
    polls: int
    hours_rows: int
    timezone_rows: int


@dataclass(frozen=True, slots=True)
class OutageProfile:
    """A kind of store behaviour: runs of active and inactive hours.

    Run lengths are geometric (memoryless) with the given means in hours, so
    the long-run inactive share of a store is
    ``mean_inactive_hours / (mean_active_hours + mean_inactive_hours)``.
    """

    name: str
    weight: float
    mean_active_hours: float
    mean_inactive_hours: float

    @property
    def inactive_share(self) -> float:
        """Long-run fraction of time this kind of store is inactive."""
        return self.mean_inactive_hours / (self.mean_active_hours + self.mean_inactive_hours)


#: Most stores are steady with a rare short outage; some flicker; a few have
#: long outages; a very few are down most of the week. Weighted inactive
#: share: about 4.5 %.
PROFILES: tuple[OutageProfile, ...] = (
    OutageProfile("steady", 0.80, mean_active_hours=250.0, mean_inactive_hours=2.5),
    OutageProfile("flaky", 0.12, mean_active_hours=12.0, mean_inactive_hours=1.6),
    OutageProfile("long outages", 0.06, mean_active_hours=80.0, mean_inactive_hours=16.0),
    OutageProfile("mostly down", 0.02, mean_active_hours=40.0, mean_inactive_hours=80.0),
)


def generate_dataset(
    *,
    out_dir: Path,
    scale: float = 1.0,
    seed: int = 0,
    sample_dir: Path,
    progress: Callable[[int], None] | None = None,
    days: int | None = None,
    end: datetime | None = None,
    stores: int | None = None,
) -> GeneratedCounts:
    """Write ``store_status.csv``, ``menu_hours.csv`` and ``timezones.csv``
    into ``out_dir`` (created if missing) and return what was written.

    ``sample_dir`` holds the real ``menu_hours.csv`` and ``timezones.csv``.
    The store count is ``round(real stores * scale)`` (at least 1), where the
    real stores are the union of the ids in those two files. ``progress``, if
    given, is called after each generated hour with the number of poll rows
    written so far. ``days``: polls over that many days ending where the real
    ones end (:func:`poll_span`) instead of the real week. ``end`` (aware):
    the span ends at this instant instead, no poll after it (``make run``'s
    demo week ends at the sample's newest poll, so that poll stays a report's
    ``now``). ``stores``: exactly that many real stores instead of ``scale``.

    Each file is written under a temporary name and renamed when complete,
    so an interrupted run never leaves a truncated file that looks finished.
    """
    if not (math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    first_hour, hours = poll_span(days, end)
    last_offset = None if end is None else _microseconds_into_hour(end)
    hours_by_store, hours_in_file_order = _read_hours(sample_dir / HOURS_FILE)
    zone_by_store, zone_order = _read_timezones(sample_dir / TIMEZONES_FILE)
    real_ids = sorted(set(hours_by_store) | set(zone_by_store), key=int)
    if not real_ids:
        raise ValueError(f"no stores in {sample_dir}")

    target = stores if stores is not None else max(1, round(len(real_ids) * scale))
    if target < 1:
        raise ValueError(f"stores must be at least 1, got {stores!r}")
    kind_of = {sid: (sid in hours_by_store, sid in zone_by_store) for sid in real_ids}
    if target <= len(real_ids):
        kept = select_stores(real_ids, target, kind_of=kind_of, rng=random.Random(_subseed(seed, "subset")))
        kept_set = set(kept)
        extras: list[tuple[str, str]] = []
    else:
        kept = real_ids
        kept_set = set(real_ids)
        extras = _extra_stores(real_ids, target - len(real_ids), kind_of=kind_of, seed=seed)

    out_dir.mkdir(parents=True, exist_ok=True)

    def hours_rows() -> Iterable[Sequence[str]]:
        for sid, row in hours_in_file_order:
            if sid in kept_set:
                yield (sid, *row)
        for new_id, template in extras:
            for row in hours_by_store.get(template, ()):
                yield (new_id, *row)

    def zone_rows() -> Iterable[Sequence[str]]:
        for sid in zone_order:
            if sid in kept_set:
                yield (sid, zone_by_store[sid])
        for new_id, template in extras:
            zone = zone_by_store.get(template)
            if zone is not None:
                yield (new_id, zone)

    hours_count = _write_csv(out_dir / HOURS_FILE, HOURS_HEADER, hours_rows())
    zone_count = _write_csv(out_dir / TIMEZONES_FILE, TIMEZONES_HEADER, zone_rows())

    store_ids = [*kept, *(new_id for new_id, _ in extras)]
    polls_path = out_dir / POLLS_FILE
    tmp = _tmp_path(polls_path)
    with tmp.open("w", encoding="utf-8", newline="", buffering=_WRITE_BUFFER) as out:
        out.write(",".join(POLLS_HEADER) + "\n")
        polls = _write_polls(
            out, store_ids, seed=seed, progress=progress, first_hour=first_hour, hours=hours, last_offset=last_offset
        )
    os.replace(tmp, polls_path)
    return GeneratedCounts(stores=len(store_ids), polls=polls, hours_rows=hours_count, timezone_rows=zone_count)


def select_stores(
    ids: Sequence[str],
    count: int,
    *,
    kind_of: dict[str, tuple[bool, bool]],
    rng: random.Random,
) -> list[str]:
    """Pick ``count`` of ``ids`` (returned in their given order), stratified
    by kind (here: has hours rows, has a timezone row).

    Each kind gets its proportional share (largest remainder), but every kind
    present gets at least one store while ``count`` allows, because a plain
    random subset of 1 % would usually contain none of the 25 real stores
    without a timezone row, and the default-timezone path would go untested.
    """
    if count >= len(ids):
        return list(ids)
    groups: dict[tuple[bool, bool], list[str]] = {}
    for sid in ids:
        groups.setdefault(kind_of[sid], []).append(sid)
    kinds = sorted(groups)
    total = len(ids)
    exact = {k: count * len(groups[k]) / total for k in kinds}
    quota = {k: int(exact[k]) for k in kinds}
    if count >= len(kinds):
        for k in kinds:
            quota[k] = max(quota[k], 1)
    diff = count - sum(quota.values())
    # Hand out the rounding shortfall by largest remainder ...
    by_remainder = sorted(kinds, key=lambda k: (exact[k] - int(exact[k]), len(groups[k])), reverse=True)
    while diff > 0:
        for k in by_remainder:
            if diff > 0 and quota[k] < len(groups[k]):
                quota[k] += 1
                diff -= 1
    # ... or take back what the one-of-each minimum overspent, from the biggest kinds.
    while diff < 0:
        k = max(kinds, key=lambda kind: (quota[kind], len(groups[kind])))
        quota[k] -= 1
        diff += 1
    chosen: set[str] = set()
    for k in kinds:
        chosen.update(rng.sample(groups[k], quota[k]))
    return [sid for sid in ids if sid in chosen]


def new_store_ids(count: int, *, seed: int, taken: Iterable[str] = ()) -> list[str]:
    """``count`` distinct new 19-digit store ids, none in ``taken``.

    They are drawn from their own random stream (seeded only by ``seed``), so
    the same seed gives the same ids whatever else changes; they lie in
    ``[10**18, 2**63)`` to fit a signed 64-bit column like the real ids do.
    """
    rng = random.Random(_subseed(seed, "ids"))
    used = set(taken)
    out: list[str] = []
    while len(out) < count:
        candidate = str(rng.randint(_MIN_NEW_ID, _MAX_NEW_ID))
        if candidate not in used:
            used.add(candidate)
            out.append(candidate)
    return out


def _extra_stores(
    real_ids: Sequence[str], count: int, *, kind_of: dict[str, tuple[bool, bool]], seed: int
) -> list[tuple[str, str]]:
    """``(new id, template real id)`` pairs for the stores beyond the real ones.

    Whole copies of the real set come first (each real store once, in a
    shuffled order), then a stratified subset for the remainder, so the kinds
    of store keep their real proportions at any scale.
    """
    rng = random.Random(_subseed(seed, "templates"))
    templates: list[str] = []
    full, rest = divmod(count, len(real_ids))
    for _ in range(full):
        cycle = list(real_ids)
        rng.shuffle(cycle)
        templates.extend(cycle)
    if rest:
        part = select_stores(real_ids, rest, kind_of=kind_of, rng=rng)
        rng.shuffle(part)
        templates.extend(part)
    ids = new_store_ids(count, seed=seed, taken=real_ids)
    return list(zip(ids, templates, strict=True))


def _write_polls(
    out: TextIO,
    store_ids: Sequence[str],
    *,
    seed: int,
    progress: Callable[[int], None] | None,
    first_hour: datetime = FIRST_POLL_HOUR,
    hours: int = POLL_HOURS,
    last_offset: int | None = None,
) -> int:
    """Generate and write the polls of all stores, hour by hour; return the
    number of rows.

    ``last_offset``: in the last hour, only polls up to this many microseconds
    into it are written (the draws are the same, so every earlier hour is
    byte for byte what it is without it).

    Work is proportional to the number of polls, not store-hours: each store
    is put in the bucket of the next hour it polls in (gaps between polled
    hours are geometric, which is the same as an independent coin per hour),
    and its active/inactive state is advanced lazily to that hour by whole
    runs. Only the current hour's rows are held in memory.
    """
    rng = random.Random(_subseed(seed, "polls"))
    rnd = rng.random
    log = math.log
    n = len(store_ids)

    # Per-store parameters, as flat lists for fast indexing in the hot loop.
    base_rate = POLLS_PER_STORE_HOUR / (1.0 + DOUBLE_POLL_PROBABILITY)
    a = base_rate * _RATE_CONCENTRATION
    b = (1.0 - base_rate) * _RATE_CONCENTRATION
    weights = [p.weight for p in PROFILES]
    # One shared (active, inactive) pair per profile, not one per store.
    profile_stays = [(_log_stay(p.mean_active_hours), _log_stay(p.mean_inactive_hours)) for p in PROFILES]
    log_skip: list[float] = []  # log(1 - poll rate): for geometric gaps between polls
    log_stay: list[tuple[float, float]] = []  # log(1 - 1/mean run) for (active, inactive) runs
    state: list[int] = []  # 0 active, 1 inactive
    until: list[int] = []  # first hour of the next run
    buckets: list[list[int]] = [[] for _ in range(hours)]

    def run_length(log_q: float) -> int:
        # Geometric on 1, 2, ...: 1 + floor(log(U) / log(q)), U in (0, 1].
        return 1 + int(log(1.0 - rnd()) / log_q) if log_q < 0.0 else 1

    for i in range(n):
        rate = min(_MAX_RATE, max(_MIN_RATE, rng.betavariate(a, b)))
        log_skip.append(log(1.0 - rate))
        k = rng.choices(range(len(PROFILES)), weights)[0]
        profile = PROFILES[k]
        stays = profile_stays[k]
        log_stay.append(stays)
        # Start in the long-run distribution; geometric runs are memoryless,
        # so the remaining length of the current run is a fresh draw.
        s = 1 if rnd() < profile.inactive_share else 0
        state.append(s)
        until.append(run_length(stays[s]))
        first = run_length(log_skip[i]) - 1
        if first < hours:
            buckets[first].append(i)

    id_prefix = [sid + "," for sid in store_ids]
    status_text = ("active,", "inactive,")
    mmss = [f"{m:02d}:{s:02d}." for m in range(60) for s in range(60)]
    early_share = _EARLY_SHARE
    early_scale = 1.0 / _EARLY_SHARE
    early_span = float(_EARLY_SPAN_US)
    late_scale = _HOUR_US / (1.0 - _EARLY_SHARE)
    double = DOUBLE_POLL_PROBABILITY
    sqrt = math.sqrt

    def offset() -> int:
        """Microseconds into the hour, bunched at the start like real polls.

        One uniform draw serves both the choice of branch and the value
        (below the threshold it is uniform again once rescaled), which
        saves a third of the random calls in the hot loop.
        """
        u = rnd()
        if u < early_share:
            return int(early_span * (1.0 - sqrt(u * early_scale)))
        return int(late_scale * (u - early_share))

    written = 0
    for hour in range(hours):
        bucket = buckets[hour]
        buckets[hour] = []
        prefix = (first_hour + timedelta(hours=hour)).strftime("%Y-%m-%d %H:")
        # Parallel lists, sorted by index: much cheaper than sorting tuples.
        offsets: list[int] = []
        lines: list[str] = []
        add_offset = offsets.append
        add_line = lines.append
        limit = _HOUR_US if last_offset is None or hour < hours - 1 else last_offset + 1
        for i in bucket:
            s = state[i]
            if until[i] <= hour:
                stays = log_stay[i]
                end = until[i]
                while end <= hour:
                    s ^= 1
                    end += run_length(stays[s])
                state[i] = s
                until[i] = end
            head = id_prefix[i] + status_text[s] + prefix
            off = offset()
            if off < limit:
                add_offset(off)
                add_line(f"{head}{mmss[off // 1_000_000]}{off % 1_000_000:06d} UTC\n")
            if rnd() < double:
                off = offset()
                if off < limit:
                    add_offset(off)
                    add_line(f"{head}{mmss[off // 1_000_000]}{off % 1_000_000:06d} UTC\n")
            # Next polled hour: a geometric gap (run_length, inlined: this
            # line runs once per poll).
            nxt = hour + 1 + int(log(1.0 - rnd()) / log_skip[i])
            if nxt < hours:
                buckets[nxt].append(i)
        order = sorted(range(len(offsets)), key=offsets.__getitem__)
        out.write("".join([lines[j] for j in order]))
        written += len(lines)
        if progress is not None:
            progress(written)
    return written


def _log_stay(mean_hours: float) -> float:
    """``log(1 - 1/mean)``: the per-hour log probability that a run whose
    mean length is ``mean_hours`` goes on (0.0 for runs of exactly 1 hour)."""
    if mean_hours <= 1.0:
        return 0.0
    return math.log(1.0 - 1.0 / mean_hours)


def _read_hours(
    path: Path,
) -> tuple[dict[str, list[tuple[str, str, str]]], list[tuple[str, tuple[str, str, str]]]]:
    """Hours rows grouped by store (templates for extra stores), and all rows
    in file order (so the real rows are written back in their real order).

    Rows are kept as the raw strings (only whitespace around the id is
    trimmed), so real rows are written back exactly as they were. Repeated
    values are shared to keep the table small.
    """
    by_store: dict[str, list[tuple[str, str, str]]] = {}
    order: list[tuple[str, tuple[str, str, str]]] = []
    shared: dict[tuple[str, str, str], tuple[str, str, str]] = {}
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        _check_header(path, next(reader, None), HOURS_HEADER)
        for row in reader:
            if not row:
                continue
            sid = row[0].strip()
            rest = (row[1], row[2], row[3])
            rest = shared.setdefault(rest, rest)
            by_store.setdefault(sid, []).append(rest)
            order.append((sid, rest))
    return by_store, order


def _read_timezones(path: Path) -> tuple[dict[str, str], list[str]]:
    """Zone by store, plus the stores in file order (a repeated store keeps
    its last zone and its first position)."""
    by_store: dict[str, str] = {}
    order: list[str] = []
    with path.open(encoding="utf-8", newline="") as f:
        reader = csv.reader(f)
        _check_header(path, next(reader, None), TIMEZONES_HEADER)
        for row in reader:
            if not row:
                continue
            sid = row[0].strip()
            if sid not in by_store:
                order.append(sid)
            by_store[sid] = row[1]
    return by_store, order


def _check_header(path: Path, header: list[str] | None, expected: tuple[str, ...]) -> None:
    """The generator copies sample columns by position, so insist on the
    real layout rather than silently mixing up columns."""
    if header is None or tuple(h.strip() for h in header) != expected:
        raise ValueError(f"{path}: expected header {','.join(expected)!r}, got {header!r}")


def _write_csv(path: Path, header: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write a CSV with ``\\n`` line ends (like the real files) via a
    temporary file; return the number of data rows."""
    tmp = _tmp_path(path)
    count = 0
    with tmp.open("w", encoding="utf-8", newline="", buffering=_WRITE_BUFFER) as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(header)
        for row in rows:
            writer.writerow(row)
            count += 1
    os.replace(tmp, path)
    return count


def _tmp_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.partial")


def _subseed(seed: int, stream: str) -> str:
    """A separate, stable random stream per purpose: string seeds are hashed
    with SHA-512 by ``random.Random`` (independent of ``PYTHONHASHSEED``), and
    separate streams keep e.g. the new ids unchanged when the poll model
    changes."""
    return f"loopmonitor-generator:{stream}:{seed}"
