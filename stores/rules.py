"""The domain's input rules: one parser per rule of SEMANTICS' "Input forms that must be read", and the limits.

Each parser takes the raw text of one field and returns the typed value or
raises :class:`RejectedRow` with a reason a user can act on. Blanks around a
field are ignored everywhere. No Django here, and nothing from ``ingestion``
or ``reports``: the ``ingest`` command, the bulk loaders, the admin forms,
the check of already-stored ids and the API all import these, so each rule
is written once.

Stored instants are limited to :data:`EARLIEST_INSTANT` ..
:data:`END_OF_INSTANTS`: any poll may become a report's ``now``, and a
report reads the week before it and the local days around it, which near
``datetime``'s limits (years 1 and 9999) overflows. No real poll falls
outside these years.
"""

from __future__ import annotations

import functools
import re
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo, available_timezones

EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
END_OF_INSTANTS = datetime(9999, 1, 1, tzinfo=UTC)
"""Exclusive: the last supported instant is 9998-12-31 23:59:59.999999 UTC."""
RANGE_TEXT = "between 1900-01-01 and 9998-12-31 (UTC)"

#: A store with no timezone row is in this zone (SEMANTICS, "Inputs").
DEFAULT_TIMEZONE = "America/Chicago"


class RejectedRow(ValueError):
    """One row breaks an input rule; ``reason`` is meant for the user."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


STORE_ID_MAX_LENGTH = 64
STORE_ID_RULE = "1-64 characters from A-Z a-z 0-9 . _ : - beginning with a letter or a digit"

_STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
# Python's fromisoformat reads every ISO 8601 form (basic and extended, week
# dates, offsets); 3.11 also stops reading at a NUL and ignores what follows,
# so "…Z\x00anything" parses. Only the characters an ISO 8601 instant can
# hold are let through to it.
_ISO_8601_CHARACTERS = re.compile(r"[0-9TW:.,+\- Z]+")

ECHO_LIMIT = 100
"""Echoed user values (in rejection reasons, error lines) are cut to this many characters."""


def store_id_problem(value: str) -> str | None:
    """Why ``value`` (already stripped) cannot be a store id, or ``None`` when it can.

    SEMANTICS v2: real ids are 19-digit numbers; the rule also keeps every
    id safe to open in a spreadsheet (no leading ``=``, ``+``, ``-``, ``@``)
    and to put in a URL path.
    """
    if not value:
        return "store_id is empty"
    if not value.isprintable():
        return "store_id contains control characters"
    if len(value) > STORE_ID_MAX_LENGTH:
        return f"store_id is longer than {STORE_ID_MAX_LENGTH} characters"
    if not (value.isascii() and _STORE_ID.fullmatch(value)):
        return f"store_id {echo(value)!r} is not {STORE_ID_RULE}"
    return None


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with a marker saying how much was left out.

    A rejection repeats the offending value so the user can find it; a 1 MB
    field must not become a 1 MB error line.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more characters]"


def parse_iso_datetime(text: str) -> datetime:
    """``datetime.fromisoformat``, but the whole text must be an ISO 8601 date-time.

    Raises ``ValueError`` like ``fromisoformat`` does.
    """
    if not _ISO_8601_CHARACTERS.fullmatch(text):
        raise ValueError(f"not an ISO 8601 date-time: {echo(text)!r}")
    return datetime.fromisoformat(text)


_STATUSES = {"active": True, "inactive": False}


def _is_ascii_number(text: str) -> bool:
    # str.isdigit() alone also accepts digits like "²" that int() refuses.
    return text.isascii() and text.isdigit()


def parse_store_id(raw: str) -> str:
    """A store id by :func:`stores.rules.store_id_problem`'s rule, without surrounding blanks."""
    value = raw.strip()
    problem = store_id_problem(value)
    if problem is not None:
        raise RejectedRow(problem)
    return value


def parse_status(raw: str) -> bool:
    """``active``/``inactive`` in any letter case; returns ``True`` for active."""
    try:
        return _STATUSES[raw.strip().lower()]
    except KeyError:
        raise RejectedRow(f"unknown status {echo(raw.strip())!r} (expected active or inactive)") from None


def parse_timestamp_utc(raw: str) -> datetime:
    """A UTC instant as an aware datetime.

    Accepted: ``2023-01-22 12:09:39.388884 UTC`` (the real files' form, with
    or without the fraction) and ISO 8601 with ``Z`` or ``+00:00``. Two
    readings go beyond the contract, chosen because a user would expect
    them: a time with no zone marker is taken as UTC (the column is
    ``timestamp_utc``), and an explicit non-UTC offset is converted to UTC
    (it names one instant unambiguously).
    """
    text = raw.strip()
    shown = echo(text)
    if text.endswith(" UTC"):
        text = text[:-4].rstrip()
    try:
        value = parse_iso_datetime(text)
    except ValueError:
        raise RejectedRow(f"unparsable timestamp {shown!r}") from None
    try:
        value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise RejectedRow(f"timestamp {shown!r} is out of range in UTC") from None
    if not EARLIEST_INSTANT <= value < END_OF_INSTANTS:
        raise RejectedRow(f"timestamp {shown!r} is out of range: it must be {RANGE_TEXT}")
    return value


_CANONICAL_UTC = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(?:\.\d{1,6})?", re.ASCII)
"""``YYYY-MM-DD HH:MM:SS`` with an optional fraction of 1-6 digits, nothing before or after."""


def utc_timestamp_text(raw: str) -> str:
    """A UTC instant as naive ISO text, ``YYYY-MM-DD HH:MM:SS[.ffffff]``, the way the bulk loader stores it.

    The same rules as :func:`parse_timestamp_utc`, and the same text for the
    same instant however it was written (no fraction when it is zero, as
    Django writes datetimes to SQLite). The real files' form is recognised
    without building a datetime object: the loader reads 1.8M of them. Only
    that exact shape takes the fast road: ``fromisoformat`` also accepts
    ``2023-01-22 12+05:00`` at the same length, whose offset must be applied.
    """
    text = raw[:-4] if raw[-4:] == " UTC" else raw
    if _CANONICAL_UTC.fullmatch(text) and "1900" <= text[:4] <= "9998":  # the years parse_timestamp_utc allows
        length = len(text)
        try:
            datetime.fromisoformat(text)
        except ValueError:
            pass  # the general parser below words the rejection
        else:
            if length == 19:
                return text
            if length < 26:
                text = text.ljust(26, "0")  # the real files drop trailing zeros: .46544
            return text[:19] if text[20:] == "000000" else text
    return str(parse_timestamp_utc(raw).replace(tzinfo=None))


def parse_local_time(raw: str, *, column: str) -> time:
    """``HH:MM:SS``, ``H:MM:SS`` or ``HH:MM`` wall-clock time.

    ``24:00:00`` is not a time of day and is refused; ``23:59:59`` is taken
    literally (one second before midnight).
    """
    text = raw.strip()
    parts = text.split(":")
    if len(parts) not in (2, 3) or not all(_is_ascii_number(part) and 1 <= len(part) <= 2 for part in parts):
        raise RejectedRow(f"unparsable {column} {echo(text)!r} (expected HH:MM:SS)")
    if len(parts[1]) != 2 or (len(parts) == 3 and len(parts[2]) != 2):
        raise RejectedRow(f"unparsable {column} {echo(text)!r} (expected HH:MM:SS)")
    hour, minute, second = (int(part) for part in (*parts, "0")[:3])
    try:
        return time(hour, minute, second)
    except ValueError:
        raise RejectedRow(f"{column} {text!r} is not a time of day") from None


def parse_day_of_week(raw: str) -> int:
    """0 = Monday … 6 = Sunday."""
    text = raw.strip()
    # One significant digit at most: int() raises ValueError on strings over 4300 digits.
    digit = text.lstrip("0") or "0"
    if not _is_ascii_number(text) or len(digit) > 1 or int(digit) > 6:
        raise RejectedRow(f"day {echo(text)!r} is not a day of week 0-6 (0 = Monday)")
    return int(digit)


@functools.cache
def known_timezones() -> frozenset[str]:
    return frozenset(available_timezones())


def parse_timezone(raw: str) -> str:
    """An IANA zone name known to this machine's tz database."""
    text = raw.strip()
    if text not in known_timezones():
        raise RejectedRow(f"unknown timezone {echo(text)!r}")
    ZoneInfo(text)
    return text
