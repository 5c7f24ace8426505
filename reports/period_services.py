"""Period reports: resolving what was asked for, creating the report, and the engine between database and CSV.

The fan-out (:mod:`reports.fanout`) runs period reports with the same plan →
shards → assembly machinery as fixed ones; of the three places that differ
by kind, the plan picks which stores get a row
(:func:`reports.period_selectors.period_reported_store_ids`), and a shard's
rows (:func:`report_rows_of`) and the header (:func:`report_header`) come from here.
``build_report --start --end`` runs :func:`report_write_period_csv` in one
process, writing rows the same way, so its file is byte for byte the workers'.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from fractions import Fraction
from typing import TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import User

from loopmonitor.sequences import chunked
from organizations.models import Organization
from reports.engine.calendar_periods import PeriodName, calendar_period
from reports.engine.csv_row import HEADER
from reports.engine.period import (
    LONGEST_PERIOD,
    PeriodNumbers,
    business_intervals_for_period,
    period_numbers,
    period_outage_spans,
)
from reports.engine.period_csv import period_header, period_row
from reports.engine.units import instant_delta, to_instant
from reports.models import Report
from reports.period_selectors import period_reported_store_ids, period_store_inputs, period_store_polls
from reports.selectors import StoreInputs
from reports.services import ProgressSink, ReportSummary, consistent_read, report_now, report_rows, zone
from reports.snapshot import planned_hours, report_is_planned
from stores.rules import EARLIEST_INSTANT, END_OF_INSTANTS, RANGE_TEXT

LONGEST_PERIOD_DAYS = instant_delta(LONGEST_PERIOD).days


class BadPeriod(ValueError):
    """The period asked for is not one a report can measure; the message says why."""


@dataclass(frozen=True, slots=True)
class Period:
    """A period report's ``[start, end)`` (aware UTC) and its SLA target (``None``: no SLA columns)."""

    start: datetime
    end: datetime
    sla_target: Decimal | None


def period_check(start: datetime, end: datetime) -> None:
    """``start < end``, at most 93 days, inside the supported instant range; :class:`BadPeriod` otherwise."""
    if not (EARLIEST_INSTANT <= start < END_OF_INSTANTS and EARLIEST_INSTANT <= end < END_OF_INSTANTS):
        raise BadPeriod(f"start and end must be {RANGE_TEXT}")
    if not start < end:
        raise BadPeriod(f"start ({start.isoformat()}) must be before end ({end.isoformat()})")
    if end - start > instant_delta(LONGEST_PERIOD):
        raise BadPeriod(f"a period is at most {LONGEST_PERIOD_DAYS} days; this one is {end - start}")


def organization_zone(organization: Organization | None) -> ZoneInfo:
    """Where calendar periods are counted: the organization's timezone, UTC for a fleet report."""
    return ZoneInfo(organization.timezone) if organization is not None else ZoneInfo("UTC")


def period_resolve(
    *,
    now: datetime,
    start: datetime | None = None,
    end: datetime | None = None,
    name: PeriodName | None = None,
    sla_target: Decimal | None = None,
    organization: Organization | None = None,
) -> Period:
    """The period asked for, either as ``start``/``end`` or by ``name`` relative to ``now``, checked.

    ``sla_target`` defaults to the organization's; a fleet report has none unless given.
    """
    if name is not None:
        start, end = calendar_period(name, now, organization_zone(organization))
    if start is None or end is None:
        raise BadPeriod("give both start and end, or a period")
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    period_check(start, end)
    if sla_target is None and organization is not None:
        sla_target = organization.sla_target_percent
    return Period(start, end, sla_target)


def report_create_period(
    *,
    as_of: datetime | None,
    start: datetime | None = None,
    end: datetime | None = None,
    name: PeriodName | None = None,
    sla_target: Decimal | None = None,
    requested_by: User | None = None,
    organization: Organization | None = None,
    data_version: int | None = None,
) -> Report:
    """A new pending period report; its ``now`` fixed at this moment, its period resolved against it.

    ``data_version`` as for :func:`reports.services.report_create`.
    """
    now = report_now(as_of)
    period = period_resolve(now=now, start=start, end=end, name=name, sla_target=sla_target, organization=organization)
    return Report.objects.create(
        as_of=now,
        kind=Report.Kind.PERIOD,
        start=period.start,
        end=period.end,
        sla_target=period.sla_target,
        requested_by=requested_by,
        organization=organization,
        data_version=data_version,
    )


def period_report_rows(
    start: datetime, end: datetime, sla_target: Decimal | None, stores: Iterable[StoreInputs]
) -> Iterator[tuple[str, ...]]:
    """The period CSV row of each store, in order: the whole engine between database and file."""
    start_us, end_us = to_instant(start), to_instant(end)
    for inputs in stores:
        business = business_intervals_for_period(inputs.hours, zone(inputs.timezone), start_us, end_us)
        yield period_row(inputs.store_id, period_numbers(inputs.polls, business, start_us, end_us), sla_target)


def report_header(report: Report) -> tuple[str, ...]:
    """The CSV header of ``report``: the fixed report's, or the period report's with or without SLA columns."""
    return period_header(with_sla=report.sla_target is not None) if report.is_period else HEADER


def report_rows_of(report: Report, stores: Iterable[StoreInputs]) -> Iterator[tuple[str, ...]]:
    """The CSV rows of ``stores`` in ``report``, whatever its kind."""
    if report.is_period:
        assert report.start is not None and report.end is not None
        return period_report_rows(report.start, report.end, report.sla_target, stores)
    assert report.as_of is not None
    return report_rows(to_instant(report.as_of), stores)


def report_write_period_csv(
    *,
    period: Period,
    out: TextIO,
    chunk_size: int | None = None,
    on_progress: ProgressSink | None = None,
) -> ReportSummary:
    """Compute the period report in this process and write it as CSV to ``out`` (``build_report --start``)."""
    started = time.perf_counter()
    chunk_size = chunk_size or settings.REPORT_CHUNK_SIZE
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(period_header(with_sla=period.sla_target is not None))
    rows = 0
    with consistent_read():
        store_ids = period_reported_store_ids(period.start, period.end)
        for chunk in chunked(store_ids, chunk_size):
            stores = period_store_inputs(period.start, period.end, chunk)
            writer.writerows(period_report_rows(period.start, period.end, period.sla_target, stores))
            rows += len(chunk)
            if on_progress is not None:
                on_progress(rows, len(store_ids))
    return ReportSummary(now=period.end, rows=rows, seconds=time.perf_counter() - started)


@dataclass(frozen=True, slots=True)
class PeriodStore:
    """One store's period as a period report computed it: its numbers and its outages (microsecond spans)."""

    store_id: str
    zone: ZoneInfo
    numbers: PeriodNumbers
    outages: list[tuple[Fraction, Fraction]]


def period_store_in_report(*, report: Report, store_id: str) -> PeriodStore | None:
    """The store's period from ``report``'s snapshot (its planned hours and zone, only the polls it read).

    ``None`` when the store has no row in the report. A report not planned yet reads the current database.
    """
    assert report.start is not None and report.end is not None
    inputs: StoreInputs | None = None
    with consistent_read():
        if report_is_planned(report):
            for planned in report.planned_shards().values_list("inputs", flat=True).iterator(chunk_size=1):
                entry = next((entry for entry in planned if entry[0] == store_id), None)
                if entry is not None:
                    polls = period_store_polls(report.start, report.end, [store_id], max_poll_id=report.max_poll_id)
                    inputs = StoreInputs(store_id, entry[1], planned_hours(entry[2]), polls[store_id])
                    break
        elif store_id in period_reported_store_ids(report.start, report.end, organization_id=report.organization_id):
            [inputs] = period_store_inputs(report.start, report.end, [store_id])
    if inputs is None:
        return None
    start_us, end_us = to_instant(report.start), to_instant(report.end)
    store_zone = zone(inputs.timezone)
    business = business_intervals_for_period(inputs.hours, store_zone, start_us, end_us)
    return PeriodStore(
        store_id=store_id,
        zone=store_zone,
        numbers=period_numbers(inputs.polls, business, start_us, end_us),
        outages=period_outage_spans(inputs.polls, business, start_us, end_us),
    )
