"""One parser per input kind: the fields of a CSV row in, a typed record out.

The fields arrive in :class:`ingestion.csvfile.FileKind` column order.
Every failure is a :class:`~ingestion.errors.RejectedRow`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from datetime import time
from typing import NamedTuple

from organizations.models import SLUG_PATTERN, SLUG_RULE
from stores.rules import (
    RejectedRow,
    echo,
    parse_day_of_week,
    parse_local_time,
    parse_status,
    parse_store_id,
    parse_timezone,
    utc_timestamp_text,
)


class PollRecord(NamedTuple):
    store_id: str
    timestamp_utc: str
    """Naive UTC text from :func:`~stores.rules.utc_timestamp_text`."""
    active: bool


class HoursRecord(NamedTuple):
    store_id: str
    day_of_week: int
    start_time_local: time
    end_time_local: time


class TimezoneRecord(NamedTuple):
    store_id: str
    timezone: str


class OwnerRecord(NamedTuple):
    store_id: str
    organization: str
    """The organization's slug."""


_SLUG = re.compile(SLUG_PATTERN)

_EXACT_STATUS = {"active": True, "inactive": False}

# An hours file spells the same few hundred times and seven days over and
# over: parsing each spelling once took the 86k-row file's parse from 0.5 s
# to 0.1 s; a few thousand (day, start, end) spellings are parsed once each
# as a whole. A refused spelling raises every time (exceptions are not
# cached). Its store ids come six or so times each, a polls file's about 130
# times each, a timezones file's zones a few hundred times each: checked once
# per spelling too.
_store_id = functools.lru_cache(maxsize=1 << 16)(parse_store_id)
_timezone = functools.lru_cache(maxsize=1024)(parse_timezone)


@functools.lru_cache(maxsize=8192)
def _shift(day: str, start: str, end: str) -> tuple[int, time, time]:
    # In column order, so a row with two bad fields is refused for the first, as row by row.
    return (
        parse_day_of_week(day),
        parse_local_time(start, column="start_time_local"),
        parse_local_time(end, column="end_time_local"),
    )


#: Longer spellings (blank-padded, hostile) are parsed uncached: a cache entry keeps its key.
_CACHED_SPELLING = 80


def hours_from_fields(fields: Sequence[str]) -> HoursRecord:
    store_id, day, start, end = fields
    if len(store_id) + len(day) + len(start) + len(end) > _CACHED_SPELLING:
        return HoursRecord(parse_store_id(store_id), *_shift.__wrapped__(day, start, end))
    return HoursRecord(_store_id(store_id), *_shift(day, start, end))


def poll_from_fields(fields: Sequence[str]) -> PollRecord:
    store_id, timestamp, status = fields
    active = _EXACT_STATUS.get(status)  # the common spelling without a function call
    if active is None:
        active = parse_status(status)
    valid_id = _store_id(store_id) if len(store_id) <= _CACHED_SPELLING else parse_store_id(store_id)
    return PollRecord(valid_id, utc_timestamp_text(timestamp), active)


def timezone_from_fields(fields: Sequence[str]) -> TimezoneRecord:
    store_id, timezone = fields
    zone = _timezone(timezone) if len(timezone) <= _CACHED_SPELLING else parse_timezone(timezone)
    return TimezoneRecord(parse_store_id(store_id), zone)


def parse_organization_slug(raw: str) -> str:
    """An organization's slug by :data:`organizations.models.SLUG_PATTERN`, without surrounding blanks."""
    text = raw.strip()
    if not _SLUG.fullmatch(text):
        raise RejectedRow(f"organization {echo(text)!r} is not a slug: {SLUG_RULE}")
    return text


def owner_from_fields(fields: Sequence[str]) -> OwnerRecord:
    store_id, organization = fields
    return OwnerRecord(parse_store_id(store_id), parse_organization_slug(organization))
