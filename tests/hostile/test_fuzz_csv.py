"""Fuzzing the three ingestion services with hostile files.

Whatever the bytes, ``polls_ingest``, ``hours_ingest`` and
``timezones_ingest`` either load the file, reporting each bad row through
``on_reject`` with a line that exists in the file, or refuse the whole file
with :class:`BadInputFile` and leave the database exactly as it was. Any
other exception is a bug: a user would see a traceback for a mistake in
their file.

Two kinds of input: arbitrary bytes (alone and after a valid header, so the
fuzzer gets past the header check), and structured CSV built from the real
headers and plausible values, then mangled: extra, missing, repeated and
re-cased columns, stray and unbalanced quotes, BOMs, NULs, mixed CR/LF,
invalid UTF-8, very long fields, huge and non-ASCII numbers, years 1 and
9999, odd offsets, 24:00 and 99:99. Each structured file draws how much of
it is mangled, so some files are clean but unusual (and reach the database
merge with year-1 instants, 64-character ids, backslashes) and some are
mostly garbage.

Each example runs in a savepoint that is rolled back, so examples do not
see each other's rows and the database stays small.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ingestion.errors import BadInputFile, Rejection
from ingestion.services import IngestResult, hours_ingest, polls_ingest, timezones_ingest
from reports.services import report_now, report_write_csv
from stores.models import BusinessHours, Poll, Store
from tests.factories import BusinessHoursFactory, PollFactory, StoreFactory

pytestmark = pytest.mark.django_db

Ingest = Callable[..., IngestResult]
Snapshot = tuple[list[tuple[Any, ...]], ...]

# tmp_path is shared by a test's examples on purpose: each one overwrites the same file.
FUZZ = settings(deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

INGESTS: dict[str, Ingest] = {"polls": polls_ingest, "hours": hours_ingest, "timezones": timezones_ingest}
HEADERS = {
    "polls": ["store_id", "status", "timestamp_utc"],
    "hours": ["store_id", "day", "start_time_local", "end_time_local"],
    "timezones": ["store_id", "timezone_str"],
}
REAL_COLUMNS = ["store_id", "status", "timestamp_utc", "day", "dayOfWeek", "day_of_week"]
REAL_COLUMNS += ["start_time_local", "end_time_local", "timezone_str"]

# A field just over csv.field_size_limit (1 MiB): the csv module refuses the file.
OVERSIZED_FIELD = "9" * (1024 * 1024 + 1)

# Byte sequences no text CSV should hold, spliced in anywhere.
HOSTILE_BYTES = [
    b"\x00",
    b"\xff",
    b"\xfe\xff",
    b"\xc3\x28",
    b"\xe2\x82",
    b"\xed\xa0\x80",  # an encoded UTF-16 surrogate: not UTF-8
    b"\xf4\x90\x80\x80",  # past U+10FFFF
    b"\xef\xbb\xbf",
    b'"',
    b"\r",
    b"\n",
    b"\r\n",
    b",",
]
BOMS = [b"\xef\xbb\xbf", b"\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf", b"\xff\xfe"]


# -- values -----------------------------------------------------------------

number = st.one_of(
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.integers(min_value=0, max_value=99).map(str),
    st.sampled_from(["٣", "０", "²", "9" * 5000, "0" * 5000 + "3", "1e3", "-0", "+6", "7.0", "0x6"]),
)
# Any text but line breaks and quotes, which are the business of ragged rows and stray quotes.
cell_text = st.text(st.characters(exclude_characters='\r\n"', exclude_categories=["Cs"]), max_size=10)
anything = st.one_of(
    st.text(max_size=20),
    number,
    st.sampled_from([OVERSIZED_FIELD, "x" * 5000, "\u2028", "\ufeff", '""', "\\N", "\\", "\t", "=1+1", "NaN"]),
)

instant = st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30, 23, 59, 59))
local = st.times()

VALID: dict[str, st.SearchStrategy[str]] = {
    "store_id": st.one_of(
        st.sampled_from(["1481966498820158979", "seed-store", " other ", "x" * 64, "ü" * 64, "a\\b", "';--", "🏪"]),
        st.text(st.characters(categories=["L", "N", "P", "S"], exclude_characters=',"'), min_size=1, max_size=10),
    ),
    "status": st.sampled_from(["active", "inactive", "ACTIVE", " Inactive ", "InAcTiVe"]),
    "timestamp_utc": st.one_of(
        instant.map(lambda moment: moment.isoformat(sep=" ", timespec="microseconds") + " UTC"),
        instant.map(lambda moment: moment.isoformat(sep=" ", timespec="seconds") + " UTC"),
        instant.map(lambda moment: moment.isoformat() + "Z"),
        instant.map(lambda moment: moment.isoformat() + "+05:30"),
        st.sampled_from(["0001-01-01 00:00:00 UTC", "9999-12-31 23:59:59.999999 UTC", "2023-01-22 12:09:39"]),
    ),
    "day": st.sampled_from([*"0123456", "06", " 3 "]),
    "start_time_local": st.one_of(
        local.map(lambda moment: f"{moment:%H:%M:%S}"),
        local.map(lambda moment: f"{moment:%H:%M}"),
        local.map(lambda moment: f"{moment.hour}:{moment:%M:%S}"),
        st.sampled_from(["00:00:00", "23:59:59", "00:00"]),
    ),
    "timezone_str": st.sampled_from(["America/Chicago", "Asia/Tokyo", "UTC", "Europe/Berlin", " Asia/Kolkata "]),
}
VALID["end_time_local"] = VALID["start_time_local"]

HOSTILE: dict[str, st.SearchStrategy[str]] = {
    "store_id": st.one_of(st.sampled_from(["", " ", "x" * 65, "a\x07b", "a\x0bb", "\u00a0"]), cell_text),
    "status": st.sampled_from(["actve", "", "null", "1", "true", "ACTİVE", "active,inactive"]),
    "timestamp_utc": st.one_of(
        st.sampled_from(
            [
                "0000-01-01 00:00:00 UTC",
                "0001-01-01T00:00:00+00:01",
                "9999-12-31T23:59:59-00:01",
                "10000-01-01 00:00:00 UTC",
                "2023-01-22 24:00:00 UTC",
                "2023-02-30 12:00:00 UTC",
                "2023-01-22 12:09:39.1234567890 UTC",
                "2023-01-22 12:09:39+24:00",
                "２０２３-01-22 12:09:39 UTC",
                "2023-01-22 12:09:39 PST",
                "1674389379",
                "UTC",
            ]
        ),
        st.builds(
            lambda y, mo, d, h, mi, sec, tz: f"{y}-{mo}-{d} {h}:{mi}:{sec}{tz}",
            number,
            number,
            number,
            number,
            number,
            number,
            st.sampled_from([" UTC", "Z", "+00:00", "-24:00", "+23:59", ""]),
        ),
    ),
    "day": number,
    "start_time_local": st.one_of(
        st.sampled_from(["24:00:00", "24:00", "99:99", "9:5", "٠٩:٠٠:٠٠", "０９:００", "12:00:00 PM", "-1:00:00"]),
        st.sampled_from(["12:00:00.5", ":", "", "23:59:60", "1:2:3:4"]),
        st.builds(lambda h, m, sec: f"{h}:{m}:{sec}", number, number, number),
    ),
    "timezone_str": st.sampled_from(
        ["america/chicago", "Mars/Olympus", "../../etc/passwd", "/etc/localtime", "", "America/Chicago\x0b"]
    ),
}
HOSTILE["end_time_local"] = HOSTILE["start_time_local"]

for spelling in ("dayofweek", "day_of_week"):
    VALID[spelling], HOSTILE[spelling] = VALID["day"], HOSTILE["day"]


# -- files ------------------------------------------------------------------


def quoted(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


@st.composite
def header(draw: st.DrawFn, kind: str) -> list[str]:
    """The real header, reordered, re-cased, with columns added or repeated, sometimes one dropped."""
    columns = list(HEADERS[kind])
    # Extra names hold no separators: a header that splits differently is the raw-bytes test's business.
    extra = st.sampled_from(REAL_COLUMNS) | st.from_regex(r"[A-Za-z_ é1]{0,8}", fullmatch=True)
    columns += draw(st.lists(extra, max_size=3))
    columns = draw(st.permutations(columns))
    if draw(st.integers(min_value=0, max_value=7)) == 0:
        del columns[draw(st.integers(min_value=0, max_value=len(columns) - 1))]
    spellings: list[Callable[[str], str]] = [str, str, str, str.upper, str.title, lambda c: f" {c} ", quoted]
    return [draw(st.sampled_from(spellings))(column) for column in columns]


@st.composite
def cell(draw: st.DrawFn, column: str, *, mangle: int, stray_quotes: bool) -> str:
    """One field as a file might write it; ``mangle`` in 10 are hostile values."""
    name = column.strip().strip('"').lower()
    hostile = draw(st.integers(min_value=0, max_value=9)) < mangle
    if name not in VALID:
        value = draw(cell_text)
    elif hostile:
        value = draw(st.one_of(HOSTILE[name], HOSTILE[name], anything))
    else:
        value = draw(VALID[name])
    styles = ["bare", "bare", "quoted", "padded"] + (["stray-quote", "unclosed"] if stray_quotes and hostile else [])
    style = draw(st.sampled_from(styles))
    if style == "quoted":
        return quoted(value)
    if style == "padded":
        return f" {value}\t"
    if style == "stray-quote":
        cut = draw(st.integers(min_value=0, max_value=len(value)))
        return value[:cut] + '"' + value[cut:]
    if style == "unclosed":
        return '"' + value
    return value


@st.composite
def mangled_csv(draw: st.DrawFn, kind: str) -> bytes:
    columns = draw(header(kind))
    mangle = draw(st.sampled_from([0, 0, 1, 3, 10]))
    # An unbalanced quote swallows the rest of the file, so only some files have them.
    stray_quotes = draw(st.booleans())
    lines = [",".join(columns)]
    for _ in range(draw(st.integers(min_value=0, max_value=8))):
        row = [draw(cell(column, mangle=mangle, stray_quotes=stray_quotes)) for column in columns]
        if mangle and draw(st.integers(min_value=0, max_value=9)) < mangle:
            # Too short or too long for the header.
            row = row[: draw(st.integers(min_value=0, max_value=len(row)))] + draw(st.lists(cell_text, max_size=2))
        lines.append(",".join(row))
    terminators = st.sampled_from(["\n", "\r\n", "\r", "\n\n", "\r\r\n"])
    text = "".join(line + draw(terminators) for line in lines)
    if draw(st.booleans()):
        text = text.rstrip("\r\n")
    content = text.encode("utf-8")
    if draw(st.integers(min_value=0, max_value=3)) == 0:
        content = draw(st.sampled_from(BOMS)) + content
    if mangle:
        for _ in range(draw(st.sampled_from([0, 0, 0, 1, 2]))):
            at = draw(st.integers(min_value=0, max_value=len(content)))
            content = content[:at] + draw(st.sampled_from(HOSTILE_BYTES)) + content[at:]
    return content


def raw_bytes(kind: str) -> st.SearchStrategy[bytes]:
    valid_header = (",".join(HEADERS[kind]) + "\n").encode()
    return st.one_of(
        st.binary(max_size=600),
        st.binary(max_size=600).map(lambda tail: valid_header + tail),
        st.text(max_size=300).map(lambda tail: valid_header + tail.encode("utf-8", "surrogatepass")),
    )


# -- checking one load --------------------------------------------------------


def seed() -> None:
    """What a bad file must not disturb: a store with a zone, a schedule and polls."""
    store = StoreFactory(id="seed-store", timezone="Asia/Tokyo")
    BusinessHoursFactory(store=store)
    PollFactory(store=store)
    PollFactory(store=store, status="inactive")


def snapshot() -> Snapshot:
    return (
        sorted(Store.objects.values_list("id", "timezone")),
        sorted(Poll.objects.values_list("store_id", "timestamp_utc", "status")),
        sorted(BusinessHours.objects.values_list("store_id", "day_of_week", "start_time_local", "end_time_local")),
    )


def lines_in(content: bytes) -> int:
    """Lines as an editor counts them: CR, LF and CRLF each end one."""
    return len(re.split(rb"\r\n|\r|\n", content))


@transaction.atomic
def load_and_check(kind: str, content: bytes, path: Path) -> None:
    """Load ``content``; only rejections, or a BadInputFile that changed nothing, may come out."""
    seed()
    before = snapshot()
    path.write_bytes(content)
    rejections: list[Rejection] = []
    try:
        result = INGESTS[kind](path=path, on_reject=rejections.append)
    except BadInputFile as error:
        event(f"refused: {error.reason.split(':')[0].split(' (')[0]}")
        assert error.reason
        assert error.path == str(path)
        assert snapshot() == before
    else:
        event(f"loaded: {'some' if result.stored else 'no'} rows stored, {'some' if rejections else 'none'} rejected")
        assert result.rejected == len(rejections)
        assert result.read >= result.rejected
        for rejection in rejections:
            assert rejection.file == str(path)
            assert rejection.reason
            assert 2 <= rejection.line <= lines_in(content), rejection
        if kind == "polls":
            assert Poll.objects.count() <= len(before[1]) + result.read - result.rejected
    transaction.set_rollback(True)


@pytest.mark.parametrize("kind", list(INGESTS))
@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_any_bytes_load_with_rejections_or_are_refused_without_a_trace(
    tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    load_and_check(kind, data.draw(raw_bytes(kind), label="content"), tmp_path / "upload.csv")


@pytest.mark.parametrize("kind", list(INGESTS))
@settings(FUZZ, max_examples=250)
@given(data=st.data())
def test_mangled_csv_loads_with_rejections_or_is_refused_without_a_trace(
    tmp_path: Path, kind: str, data: st.DataObject
) -> None:
    load_and_check(kind, data.draw(mangled_csv(kind), label="content"), tmp_path / "upload.csv")


@pytest.mark.parametrize("timestamp", ["1900-01-01 00:00:00 UTC", "9998-12-31 23:59:59.999999 UTC"])
@pytest.mark.parametrize("zone", ["Pacific/Kiritimati", "Pacific/Pago_Pago", "America/St_Johns"])
def test_a_poll_at_either_end_of_the_accepted_range_can_be_a_reports_now(
    tmp_path: Path, timestamp: str, zone: str
) -> None:
    # Before the range was bounded, a poll at year 1 or 9999 was stored, became the
    # default `now` of every later report, and every report then failed with OverflowError.
    files = {
        "polls.csv": f"store_id,status,timestamp_utc\nedge,active,{timestamp}\nedge,inactive,{timestamp[:10]} 00:00:00",
        "hours.csv": "store_id,day,start_time_local,end_time_local\n"
        + "".join(f"edge,{day},22:00:00,02:00:00\nedge,{day},05:00,05:00\n" for day in range(7)),
        "zones.csv": f"store_id,timezone_str\nedge,{zone}\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    rejections: list[Rejection] = []
    for ingest, name in [(polls_ingest, "polls.csv"), (hours_ingest, "hours.csv"), (timezones_ingest, "zones.csv")]:
        ingest(path=tmp_path / name, on_reject=rejections.append)
    out = io.StringIO()

    summary = report_write_csv(now=report_now(None), out=out)

    assert rejections == []
    assert summary.rows == 1
    assert out.getvalue().splitlines()[1].startswith("edge,")
