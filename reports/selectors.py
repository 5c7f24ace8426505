"""Reading what a report needs from the database, a chunk of stores at a time.

The report never holds all polls: it lists the stores with a poll in the
week window (one query), cuts that sorted list into chunks, and for each
chunk runs three range queries — polls, business hours, timezones — bounded
by the chunk's first and last store id, so each is one index range scan on
``(store_id, …)`` and there is no query per store. Poll instants come out of
the database as integer microseconds (see :class:`EpochMicroseconds`), which
is what the interval module works in.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from decimal import Decimal
from operator import itemgetter
from typing import Any, TypeVar, cast

from django.contrib.postgres.aggregates import ArrayAgg
from django.db import DEFAULT_DB_ALIAS, connection, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import Exists, ExpressionWrapper, F, OuterRef, Q, Subquery
from django.db.models.sql.compiler import SQLCompiler

from organizations.scoping import AnyUser, visible_to
from reports.engine.intervals import HoursRow, PollSeries
from reports.engine.intervals import Poll as PollPoint
from reports.engine.units import WEEK, instant_delta, to_instant
from reports.models import Report
from stores.models import BusinessHours, Poll, PollStatus, Store

#: The week window as a ``timedelta``, for ORM filters.
WEEK_WINDOW = instant_delta(WEEK)


#: Below this many microseconds from the epoch (1898-12 to 2041-05), ``date_part``'s double rounds back exactly.
FLOAT_EXACT_MICROSECONDS = 2**51


class EpochMicroseconds(models.Func):
    """A timestamp column as integer microseconds since the Unix epoch, computed by the database.

    Measured (``manage.py bench_report --compare-fetch``): reading this integer
    is cheaper than letting the driver build an aware ``datetime`` per poll
    and converting it in Python. Both forms are exact.

    ``within=(first, last)``: the query keeps only values in ``[first, last]``
    (its filter says so). When both lie within :data:`FLOAT_EXACT_MICROSECONDS`
    of the epoch, PostgreSQL computes the integer from ``date_part`` (a double)
    instead of ``EXTRACT`` (numeric): the week's 1.64M polls cost the database
    ~1.0 s that way against ~1.9 s. Exact there, not just close: PostgreSQL's
    ``date_part('epoch')`` is ``(µs since the epoch, an exact double below 2**53)
    / 1e6`` rounded once; for ``|µs| < 2**51`` the quotient is below 2**32, so its
    rounding error is at most 2**-22 s, 0.24 µs once multiplied back, and the
    product's own rounding at most 0.125 µs: 0.37 < 0.5, so the cast to
    ``bigint`` (round to nearest) gives back the exact microseconds.
    """

    output_field = models.BigIntegerField()
    #: PostgreSQL: from a double, exact within :data:`FLOAT_EXACT_MICROSECONDS`.
    FLOAT_TEMPLATE = "(date_part('epoch', %(expressions)s) * 1000000)::bigint"
    #: PostgreSQL: from numeric (``EXTRACT`` returns numeric since PostgreSQL 14), exact everywhere.
    NUMERIC_TEMPLATE = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::bigint"

    def __init__(self, expression: Any, *, within: tuple[datetime, datetime] | None = None) -> None:
        super().__init__(expression)
        self.within = within

    def get_db_converters(self, connection: BaseDatabaseWrapper) -> list[Any]:
        # Both databases already return an int: with no converter Django hands
        # the driver's rows through untouched instead of copying each of the
        # week's ~1.8M rows into a list to apply int() (a third of a shard's time).
        return []

    def float_is_exact(self) -> bool:
        """Whether every value of the query lies where the ``date_part`` form is exact."""
        return self.within is not None and all(
            abs(to_instant(bound)) < FLOAT_EXACT_MICROSECONDS for bound in self.within
        )

    def as_postgresql(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        template = self.FLOAT_TEMPLATE if self.float_is_exact() else self.NUMERIC_TEMPLATE
        return self.as_sql(compiler, connection, template=template)

    #: SQLite, from Django's text ('YYYY-MM-DD HH:MM:SS[.ffffff]', naive UTC), exact
    #: everywhere. The seconds come from the first 19 characters only: SQLite keeps
    #: times in milliseconds, so strftime('%s') of '…:00.9995' or later says the next second.
    SQLITE_TEXT_TEMPLATE = (
        "(CAST(strftime('%%%%s', substr(%(expressions)s, 1, 19)) AS INTEGER) * 1000000"
        " + CAST(substr(%(expressions)s || '.000000', 21, 6) AS INTEGER))"
    )
    #: SQLite 3.38+: ``unixepoch()`` of the whole text where its rounding to milliseconds
    #: cannot reach the next second (a fraction below .999 s, all but 0.1% of polls), the
    #: form above for the rest. The week's 1.83M polls cost SQLite 1.0 s this way against
    #: 2.5 s (``substr(…, 1, 19)`` alone is 0.6 s of that).
    SQLITE_UNIXEPOCH_TEMPLATE = (
        "CASE WHEN CAST(substr(%(expressions)s, 21) AS INTEGER) < 999000"
        " THEN unixepoch(%(expressions)s) * 1000000 + CAST(substr(%(expressions)s, 21) AS INTEGER)"
        f" ELSE {SQLITE_TEXT_TEMPLATE} END"
    )
    #: The first SQLite with ``unixepoch()``.
    SQLITE_UNIXEPOCH_SINCE = (3, 38, 0)

    def as_sqlite(self, compiler: SQLCompiler, connection: BaseDatabaseWrapper, **extra: Any) -> Any:
        # Django's SQLite backend is the standard library's sqlite3.
        has_unixepoch = sqlite3.sqlite_version_info >= self.SQLITE_UNIXEPOCH_SINCE
        template = self.SQLITE_UNIXEPOCH_TEMPLATE if has_unixepoch else self.SQLITE_TEXT_TEMPLATE
        return self.as_sql(compiler, connection, template=template)


@dataclass(frozen=True, slots=True)
class _LatestPoll:
    last_poll_id: int
    store_id: str
    timestamp_utc: datetime


#: The last :func:`latest_poll_time` answer of this process, per database alias.
_latest_seen: dict[str, _LatestPoll] = {}


def latest_poll_time(*, using: str = DEFAULT_DB_ALIAS) -> datetime | None:
    """SEMANTICS' default ``now``: the largest poll timestamp in the database.

    Polls have no index on time alone (it would slow every load), so this
    asks each store for its latest poll, one probe of the (store, time)
    index each, rather than scanning every poll: ~0.15-0.45 s at 1× (13.6k
    stores), most of an organization's report's trigger. So the answer is
    kept and reused while the newest poll id is the same and that latest
    poll is still there (two index probes): polls are only ever added
    (ids grow) or have their status replaced, never moved in time, so no
    later poll can have appeared.
    """
    polls = Poll.objects.using(using)
    last_poll_id = polls.order_by("-id").values_list("id", flat=True).first()
    if last_poll_id is None:
        return None
    seen = _latest_seen.get(using)
    if (
        seen is not None
        and seen.last_poll_id == last_poll_id
        and polls.filter(store_id=seen.store_id, timestamp_utc=seen.timestamp_utc).exists()
    ):
        return seen.timestamp_utc
    latest_of_store = polls.filter(store=OuterRef("pk")).order_by("-timestamp_utc").values("timestamp_utc")[:1]
    # Stores without a poll sort last instead of being filtered out: a filter on
    # the annotation probes every store's index a second time (0.25 s against 0.17 s at 1x).
    found = (
        Store.objects.using(using)
        .annotate(latest=Subquery(latest_of_store))
        .order_by(F("latest").desc(nulls_last=True), "id")
        .values_list("id", "latest")
        .first()
    )
    if found is None or found[1] is None:
        return None
    store_id, latest = found[0], cast(datetime, found[1])
    _latest_seen[using] = _LatestPoll(last_poll_id, store_id, latest)
    return latest


def polls_in_week(now: datetime) -> models.QuerySet[Poll]:
    """Polls in ``[now - 168 h, now]``: both ends included, as the observations rule says."""
    return Poll.objects.filter(timestamp_utc__gte=now - WEEK_WINDOW, timestamp_utc__lte=now)


def week_instants(now: datetime) -> EpochMicroseconds:
    """The instants of :func:`polls_in_week`'s polls, told the bounds that filter keeps them in."""
    return EpochMicroseconds("timestamp_utc", within=(now - WEEK_WINDOW, now))


def stores_polled_in(
    polls: models.QuerySet[Poll], *, organization_id: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> models.QuerySet[Store, str]:
    """The ids of the stores with at least one of ``polls``, sorted; only the organization's when given.

    One index range probe per store, so the cost follows the number of
    stores, not the number of polls kept; and the first ids come before the
    last store is probed, for a caller that iterates.
    """
    stores = Store.objects.using(using).filter(Exists(polls.filter(store=OuterRef("pk"))))
    if organization_id is not None:
        stores = stores.filter(organization_id=organization_id)
    return stores.order_by("id").values_list("id", flat=True)


def reported_store_ids(
    now: datetime, *, organization_id: int | None = None, using: str = DEFAULT_DB_ALIAS
) -> list[str]:
    """Every store that gets a row: at least one poll in the week window, sorted; only the organization's when given.

    An organization's report is the fleet report restricted to its stores:
    the same ``now``, the same rows.
    """
    return list(stores_polled_in(polls_in_week(now), organization_id=organization_id, using=using))


def fleet_store_ids(*, using: str = DEFAULT_DB_ALIAS) -> list[str]:
    """Every store's id, sorted: one scan of the primary key, for cutting the whole fleet into chunks.

    :func:`build_report <reports.services.report_write_csv>` cuts these into
    chunks and keeps, chunk by chunk, the stores the polls query finds
    (:func:`polled_store_inputs`): the same stores as :func:`reported_store_ids`
    (a poll in :func:`polls_in_week`), without its probe per store (0.3-0.6 s
    before the first chunk could start).
    """
    return list(Store.objects.using(using).order_by("id").values_list("id", flat=True))


@dataclass(slots=True)
class StoreInputs:
    """Everything the interval module needs about one store."""

    store_id: str
    timezone: str | None
    hours: list[HoursRow]
    polls: Sequence[PollPoint]


HoursOf = TypeVar("HoursOf")
Schedule = tuple[str | None, list[HoursOf]]
"""A store's timezone name (``None``: never given) and its business-hours rows, each made by a row factory."""


def _stores_filter(column: str, store_ids: Sequence[str], *, contiguous: bool) -> Q:
    """Rows of these sorted stores: one id range when they are a contiguous run, else the ids themselves.

    A fleet report's chunk is every reported store between its first and
    last id, and a range scan reads them best. An organization's stores are
    scattered over the whole id range: their first-to-last range would read
    nearly the fleet's polls (50 stores of the 1× data: ~6 s a step, 9 ms by id).
    """
    if contiguous:
        return Q(**{f"{column}__gte": store_ids[0], f"{column}__lte": store_ids[-1]})
    return Q(**{f"{column}__in": list(store_ids)})


def store_schedules(
    store_ids: Sequence[str],
    row: Callable[[int, time, time], HoursOf],
    *,
    contiguous: bool = True,
    using: str = DEFAULT_DB_ALIAS,
) -> dict[str, Schedule[HoursOf]]:
    """Zones and hours of sorted store ids (by default a contiguous run), in two queries.

    ``row(day, start, end)`` makes each hours row: :class:`HoursRow` for the
    engine, or a cheaper form for a report's plan, which only copies them.
    """
    wanted = set(store_ids)
    schedules: dict[str, Schedule[HoursOf]] = {
        store_id: (zone, [])
        for store_id, zone in Store.objects.using(using)
        .filter(_stores_filter("id", store_ids, contiguous=contiguous))
        .values_list("id", "timezone")
        if store_id in wanted
    }
    hours = (
        BusinessHours.objects.using(using)
        .filter(_stores_filter("store_id", store_ids, contiguous=contiguous))
        .values_list("store_id", "day_of_week", "start_time_local", "end_time_local")
    )
    for store_id, day, start, end in hours:
        schedule = schedules.get(store_id)
        if schedule is not None:
            schedule[1].append(row(day, start, end))
    return schedules


class JSONGroupArray(models.Aggregate):
    """SQLite's ``json_group_array``: a group's values as one JSON array, which ``JSONField`` decodes into a list."""

    function = "json_group_array"
    output_field = models.JSONField()


class JSONBoolean(models.Func):
    """A condition as a JSON boolean, so a :class:`JSONGroupArray` of it decodes into ``bool`` values, not 1 and 0."""

    template = "json(CASE WHEN %(expressions)s THEN 'true' ELSE 'false' END)"
    output_field = models.TextField()


def store_polls_arrays(
    now: datetime, store_ids: Sequence[str], *, contiguous: bool = True, max_poll_id: int | None = None
) -> models.QuerySet[Poll, tuple[str, list[int], list[bool]]]:
    """``(store_id, instants, actives)``: one row per store of these sorted stores, its week's polls as two arrays.

    PostgreSQL aggregates them with ``ArrayAgg``, SQLite with
    ``json_group_array`` (decoded by ``json.loads``, in C), so Python never
    touches a poll on its own. Measured (``manage.py bench_fetch``, and
    ``build_report`` side by side): on PostgreSQL the driver builds 13.6k rows
    of two arrays much faster than 1.64M rows; on SQLite, where the query runs
    in this process, a 1× report took 0.87× the time of reading a row per poll.

    The arrays are in the order the database read the polls: by (store, time)
    when it walks the unique (store, time) index, as both do for a chunk. They
    are not ordered inside the aggregate (``ORDER BY`` there makes PostgreSQL 15
    sort each store again: the whole week's arrays took 4.5-5.4 s against
    2.7-2.8 s without; SQLite has it only from 3.44), so :func:`store_polls`
    checks each store's order and sorts the rare store that needs it.
    """
    rows = polls_in_week(now).filter(_stores_filter("store_id", store_ids, contiguous=contiguous))
    if max_poll_id is not None:
        rows = rows.filter(id__lte=max_poll_id)
    active = ExpressionWrapper(Q(status=PollStatus.ACTIVE.value), output_field=models.BooleanField())
    instants: models.Aggregate
    actives: models.Aggregate
    if connection.vendor == "postgresql":
        instants, actives = ArrayAgg(week_instants(now)), ArrayAgg(active)
    else:
        instants, actives = JSONGroupArray(week_instants(now)), JSONGroupArray(JSONBoolean(active))
    return (
        rows.order_by()
        .values("store_id")
        .annotate(instants=instants, actives=actives)
        .order_by("store_id")
        .values_list("store_id", "instants", "actives")
    )


def store_polls(
    now: datetime, store_ids: Sequence[str], *, contiguous: bool = True, max_poll_id: int | None = None
) -> dict[str, PollSeries]:
    """The week's polls of sorted store ids (by default a contiguous run), by store, in time order; one query.

    ``max_poll_id`` leaves out polls stored after a report was planned. The
    database sends one row of arrays per store (:func:`store_polls_arrays`),
    kept as they come in a :class:`PollSeries`.
    """
    polls = {store_id: PollSeries([], []) for store_id in store_ids}
    arrays = store_polls_arrays(now, store_ids, contiguous=contiguous, max_poll_id=max_poll_id)
    for store_id, instants, actives in arrays:
        if store_id in polls:
            if instants != sorted(instants):
                # (store, time) is unique, so sorting by time alone is the one time order.
                pairs = sorted(zip(instants, actives, strict=True), key=itemgetter(0))
                instants, actives = [instant for instant, _ in pairs], [active for _, active in pairs]
            polls[store_id] = PollSeries(instants, actives)
    return polls


def store_inputs(now: datetime, store_ids: Sequence[str], *, contiguous: bool = True) -> list[StoreInputs]:
    """Everything the report needs for sorted reported store ids (by default a contiguous run): three queries."""
    schedules = store_schedules(store_ids, HoursRow, contiguous=contiguous)
    polls = store_polls(now, store_ids, contiguous=contiguous)
    return [StoreInputs(store_id, *schedules.get(store_id, (None, [])), polls[store_id]) for store_id in store_ids]


def polled_store_inputs(
    store_ids: Sequence[str], polls: Mapping[str, Sequence[PollPoint]], schedules: Mapping[str, Schedule[HoursRow]]
) -> list[StoreInputs]:
    """The inputs of those of a run of sorted store ids that have a poll, from their polls and schedules read before.

    ``polls`` is :func:`store_polls` of the run, ``schedules`` :func:`store_schedules`
    of it (``build_report`` reads the next chunk's polls on a second connection
    meanwhile). A store with a poll in the week is a store of
    :func:`reported_store_ids`: both ask :func:`polls_in_week`, and a store
    without one gets no row.
    """
    return [
        StoreInputs(store_id, *schedules.get(store_id, (None, [])), polls[store_id])
        for store_id in store_ids
        if polls[store_id]
    ]


def reports_visible_to(user: AnyUser) -> models.QuerySet[Report]:
    """The reports ``user`` may see (:func:`organizations.scoping.visible_to`): a fleet report is staff's only."""
    return visible_to(user, Report.objects.all())


def report_equal_to_trigger(
    user: AnyUser | None,
    *,
    kind: str,
    as_of: datetime,
    start: datetime | None,
    end: datetime | None,
    sla_target: Decimal | None,
    organization_id: int | None,
    data_version: int,
) -> Report | None:
    """The newest report a trigger with these inputs would only compute again, or ``None``.

    Equal: the same scope (organization, or the fleet), kind, ``now``, period
    and SLA target, triggered at the same data version (nothing a report
    reads has changed since, :mod:`stores.data_version`), and pending,
    running or complete with its CSV still stored. A failed report is never
    one, nor a complete one whose file is gone (its download answers 410
    and says to trigger again). ``user`` is the one triggering, who may run
    the scope's reports and therefore see them; ``None`` for the service's
    own callers.
    """
    reports = Report.objects.all() if user is None else reports_visible_to(user)
    scope = Q(organization__isnull=True) if organization_id is None else Q(organization_id=organization_id)
    candidates = reports.filter(
        scope,
        kind=kind,
        as_of=as_of,
        start=start,
        end=end,
        sla_target=sla_target,
        data_version=data_version,
        status__in=[Report.Status.PENDING, Report.Status.RUNNING, Report.Status.COMPLETE],
    ).order_by("-created_at", "-id")
    for report in candidates[:5]:
        if report.status != Report.Status.COMPLETE:
            return report
        name = report.csv_file.name
        if name and report.csv_file.storage.exists(name):
            return report
    return None
