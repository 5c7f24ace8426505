"""``GET /stores/{store_id}/outages``: one store's outages in the week before ``as_of``, page by page.

The view validates, calls :func:`reports.outages.store_week_at` and shapes
the answer; the outages are :func:`reports.engine.intervals.store_timeline`'s, the
same stretches the report measures. ``as_of`` defaults to the latest poll in
the database, as a report's ``now`` does. The answer carries the store's
totals per report window (unrounded seconds) beside the page of outages, in
time order.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from reports.api.serializers import AsOfInput
from reports.api.views import NoPolls
from reports.outages import StoreWeek, UnknownStore, store_week_at, window_totals
from reports.presentation.store_week import OutageRecord, outage_records
from reports.services import NoPollsError
from stores.models import Store
from stores.selectors import stores_visible_to

MAX_STORE_ID_LENGTH = Store._meta.get_field("id").max_length or 64


class OutagesPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class StoreOutagesQuery(AsOfInput):
    """``as_of`` by the same rules (and range) as a report trigger's."""


class OutageOutput(serializers.Serializer[None]):
    start_utc = serializers.DateTimeField()
    end_utc = serializers.DateTimeField()
    start_local = serializers.CharField(help_text="ISO 8601 in the store's zone")
    end_local = serializers.CharField(help_text="ISO 8601 in the store's zone")
    duration_seconds = serializers.FloatField()
    ongoing = serializers.BooleanField(help_text="still down at as_of")
    cut_at_window_start = serializers.BooleanField(help_text="starts where the week starts; may have begun earlier")
    poll_times_utc = serializers.ListField(
        child=serializers.DateTimeField(), help_text="the inactive polls it rests on (nearest-neighbour rule)"
    )


class WindowTotalsOutput(serializers.Serializer[None]):
    uptime_seconds = serializers.FloatField()
    downtime_seconds = serializers.FloatField()
    uptime_percent = serializers.FloatField(allow_null=True, help_text="null when no business time was observed")
    outages = serializers.IntegerField(help_text="outages reaching into the window")
    longest_outage_seconds = serializers.FloatField(help_text="its part inside the window")


class StoreTotalsOutput(serializers.Serializer[None]):
    last_hour = WindowTotalsOutput()
    last_day = WindowTotalsOutput()
    last_week = WindowTotalsOutput()


class StoreOutagesPage(serializers.Serializer[None]):
    store_id = serializers.CharField()
    timezone = serializers.CharField()
    as_of = serializers.DateTimeField()
    window_start = serializers.DateTimeField()
    totals = StoreTotalsOutput()
    count = serializers.IntegerField(help_text="outages in the week")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = OutageOutput(many=True)


def outage_output(outage: OutageRecord) -> dict[str, Any]:
    return {
        "start_utc": outage.start_utc,
        "end_utc": outage.end_utc,
        "start_local": outage.start_local.isoformat(),
        "end_local": outage.end_local.isoformat(),
        "duration_seconds": float(outage.seconds),
        "ongoing": outage.ongoing,
        "cut_at_window_start": outage.cut_at_window_start,
        "poll_times_utc": list(outage.poll_times_utc),
    }


def totals_output(week: StoreWeek) -> dict[str, Any]:
    return {
        totals.window.name: {
            "uptime_seconds": float(totals.uptime_seconds),
            "downtime_seconds": float(totals.downtime_seconds),
            "uptime_percent": None if totals.uptime_percent is None else float(totals.uptime_percent),
            "outages": totals.outages,
            "longest_outage_seconds": float(totals.longest_outage_seconds),
        }
        for totals in window_totals(week.timeline, week.now_us)
    }


def plausible_store_id(store_id: str) -> bool:
    """Could a store have this id? Ingestion stores only printable ids of at most 64 characters."""
    return 0 < len(store_id) <= MAX_STORE_ID_LENGTH and store_id.isprintable()


class StoreOutagesView(APIView):
    pagination_class = OutagesPagination

    @extend_schema(
        parameters=[
            OpenApiParameter("as_of", OpenApiTypes.DATETIME, description="default: the latest poll in the database"),
            OpenApiParameter("page", OpenApiTypes.INT, description="1-based page number"),
            OpenApiParameter("page_size", OpenApiTypes.INT, description="outages per page (default 50, at most 500)"),
        ],
        responses={
            200: StoreOutagesPage,
            400: OpenApiResponse(description="bad as_of"),
            404: OpenApiResponse(description="no such store, or no such page"),
            409: OpenApiResponse(description="no as_of given and no polls yet"),
        },
        summary="A store's outages in the week before as_of, with its uptime per window",
    )
    def get(self, request: Request, store_id: str) -> Response:
        query = StoreOutagesQuery(data={"as_of": request.query_params.get("as_of")})
        query.is_valid(raise_exception=True)
        if not plausible_store_id(store_id):
            raise NotFound("no store with this id")
        try:
            week = store_week_at(
                stores=stores_visible_to(request.user), store_id=store_id, as_of=query.validated_data.get("as_of")
            )
        except UnknownStore:
            raise NotFound(f"no store with id {store_id!r}") from None
        except NoPollsError as error:
            raise NoPolls(str(error)) from None
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(outage_records(week), request, view=self)
        assert page is not None and paginator.page is not None
        body = {
            "store_id": week.store_id,
            "timezone": week.zone.key,
            "as_of": week.now,
            "window_start": week.window_start,
            "totals": totals_output(week),
            "count": paginator.page.paginator.count,
            "next": paginator.get_next_link(),
            "previous": paginator.get_previous_link(),
            "results": [outage_output(outage) for outage in page],
        }
        return Response(StoreOutagesPage(body).data)  # type: ignore[arg-type]
