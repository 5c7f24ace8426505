"""The report API: ``POST /trigger_report``, ``GET /get_report``, the download and ``GET /reports``.

Every read goes through :func:`reports.selectors.reports_visible_to`, so another
organization's report answers 404 exactly like one that does not exist.

Views validate input, call one service and shape the output; the work
happens in :mod:`reports.services` and the django-q2 worker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import IO, Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.http import FileResponse, HttpResponseBase
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.exceptions import (
    APIException,
    NotAcceptable,
    NotFound,
    ParseError,
    PermissionDenied,
    ValidationError,
)
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from loopmonitor.exceptions import body_too_large
from operations.throttling import ScopedRateThrottle
from organizations.models import Organization
from organizations.scoping import MayNotTrigger, NoSuchOrganization, OrganizationRequired, trigger_organization
from reports.api.serializers import (
    API_STATUS,
    ReportColumnsInput,
    ReportIdInput,
    ReportListItem,
    ReportStatusOutput,
    TriggerReportInput,
    TriggerReportOutput,
)
from reports.download_links import LinkRefused, signed_report_id
from reports.downloads import report_csv_download
from reports.extended_csv import ExtendedCsvUnavailable
from reports.fanout.queue import TooManyUnfinished, Triggered, report_trigger, report_trigger_period
from reports.fanout.recovery import report_recover
from reports.models import Report
from reports.period_services import BadPeriod
from reports.selectors import reports_visible_to
from reports.services import NoPollsError


class NoPolls(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "no_polls"


def status_url(request: Request, report_id: str) -> str:
    return request.build_absolute_uri(f"{reverse('get_report')}?report_id={report_id}")


def download_url(request: Request, report_id: str) -> str:
    return request.build_absolute_uri(reverse("download_report", args=[report_id]))


def wants_csv(request: Request) -> bool:
    """CSV unless the client asked for JSON (``Accept`` or ``?format=json``) or is a browser."""
    if request.query_params.get("format") in ("json", "api"):
        return False
    accept = request.META.get("HTTP_ACCEPT", "")
    return "application/json" not in accept and "text/html" not in accept


class ReportFileGone(APIException):
    status_code = status.HTTP_410_GONE
    default_code = "report_file_gone"


class ReportDataChangedConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "report_data_changed"


def wants_extended_columns(request: Request) -> bool:
    """``?columns=extended``; anything but ``default`` or ``extended`` is a 400."""
    query = ReportColumnsInput(data={"columns": request.query_params.get("columns", "default")})
    query.is_valid(raise_exception=True)
    return bool(query.validated_data["columns"] == "extended")


COLUMNS_PARAMETER = OpenApiParameter(
    "columns", OpenApiTypes.STR, enum=["default", "extended"], description="`extended`: 12 more columns (fixed reports)"
)


class NoExtendedColumns(APIException):
    status_code = status.HTTP_400_BAD_REQUEST
    default_code = "no_extended_columns"


def csv_response(report: Report, *, extended: bool = False) -> FileResponse:
    if extended and report.is_period:
        raise NoExtendedColumns("columns=extended is for fixed reports; a period report's CSV has all its columns")
    try:
        return report_csv_download(report, extended=extended)
    except ExtendedCsvUnavailable as error:
        raise ReportDataChangedConflict(f"the extended CSV cannot be computed: {error}; trigger a new report") from None
    except FileNotFoundError:
        raise ReportFileGone(
            f"the CSV of report {report.id} is no longer stored (cleaned up, or this server does not share "
            "the workers' MEDIA_ROOT); trigger a new report"
        ) from None


class CsvOrJsonNegotiation(DefaultContentNegotiation):
    """``Accept: text/csv`` must not be a 406: the CSV is a plain FileResponse, not a DRF renderer.

    When no renderer matches the Accept header, the JSON renderer answers
    (Running, Failed, errors); a Complete report is the CSV anyway.
    """

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        candidates = list(renderers)
        try:
            selected: tuple[BaseRenderer, str] = super().select_renderer(request, candidates, format_suffix)
        except NotAcceptable:
            return candidates[0], candidates[0].media_type
        return selected


class NestingSafeJSONParser(JSONParser):
    """DRF's JSON parser, but a body nested too deeply for Python's json module is a 400, not a 500."""

    def parse(
        self, stream: IO[Any], media_type: str | None = None, parser_context: Mapping[str, Any] | None = None
    ) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - the body is nested too deeply") from None


def refuse_oversized_body(request: Request) -> None:
    """Django bounds form and JSON bodies by DATA_UPLOAD_MAX_MEMORY_SIZE but not uploaded files; the API takes none."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    length = request.META.get("CONTENT_LENGTH") or "0"
    if limit is not None and length.isdigit() and int(length) > limit:
        raise body_too_large()


def trigger_period_report(data: Mapping[str, Any], user: User | None, organization: Organization | None) -> Triggered:
    """A period report from the trigger's validated input, for the organization the trigger rules chose.

    A period it cannot measure is a 400.
    """
    try:
        return report_trigger_period(
            as_of=data.get("as_of"),
            start=data.get("start"),
            end=data.get("end"),
            name=data.get("period"),
            sla_target=data.get("sla_target"),
            requested_by=user,
            organization=organization,
            fresh=data["fresh"],
        )
    except BadPeriod as error:
        raise ValidationError({"period": [str(error)]}) from None


class TriggerReportView(APIView):
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "trigger_report"
    parser_classes = [NestingSafeJSONParser, FormParser, MultiPartParser]

    def perform_authentication(self, request: Request) -> None:
        # Before authenticating: for a session user, DRF's CSRF check reads (and spools) the whole body.
        refuse_oversized_body(request)
        super().perform_authentication(request)

    @extend_schema(
        request=TriggerReportInput,
        responses={
            202: TriggerReportOutput,
            200: OpenApiResponse(
                TriggerReportOutput,
                description="an equal report (same scope, now, period, SLA target, unchanged data) exists, "
                "unfinished or complete: its id, nothing started",
            ),
            400: OpenApiResponse(
                description="bad as_of, start, end, period or sla_target; a member of several organizations named none"
            ),
            403: OpenApiResponse(description="a viewer, or a user of no organization"),
            404: OpenApiResponse(description="no organization with this slug that the user may see"),
            409: OpenApiResponse(description="no polls yet"),
            413: OpenApiResponse(description="body larger than DATA_UPLOAD_MAX_MEMORY_SIZE"),
            503: OpenApiResponse(description="REPORT_MAX_UNFINISHED reports are unfinished; see Retry-After"),
        },
        summary="Start computing a report",
    )
    def post(self, request: Request) -> Response:
        # `as_of` may come in the body (JSON or form) or, for convenience, the query string.
        payload = TriggerReportInput(data=request.data or request.query_params)
        payload.is_valid(raise_exception=True)
        user = request.user if isinstance(request.user, User) else None
        try:
            organization = trigger_organization(request.user, payload.validated_data.get("organization"))
        except NoSuchOrganization:
            raise NotFound(f"no organization {payload.validated_data['organization']!r}") from None
        except OrganizationRequired as error:
            choices = ", ".join(error.choices)
            raise ValidationError(
                {"organization": [f"you are a member of several organizations; name one of: {choices}"]}
            ) from None
        except MayNotTrigger as error:
            raise PermissionDenied(str(error)) from None
        try:
            if payload.is_period:
                triggered = trigger_period_report(payload.validated_data, user, organization)
            else:
                triggered = report_trigger(
                    as_of=payload.validated_data.get("as_of"),
                    requested_by=user,
                    organization=organization,
                    fresh=payload.validated_data["fresh"],
                )
        except NoPollsError as error:
            raise NoPolls(str(error)) from None
        except TooManyUnfinished as error:
            return Response(
                {"detail": str(error)},
                status=status.HTTP_503_SERVICE_UNAVAILABLE,
                headers={"Retry-After": str(error.retry_after)},
            )
        report = triggered.report
        # An equal report on unchanged data (unfinished or complete) is the answer: 200, nothing queued.
        return Response(
            {"report_id": report.id},
            status=status.HTTP_200_OK if triggered.reused else status.HTTP_202_ACCEPTED,
            headers={"Location": status_url(request, report.id)},
        )


class GetReportView(APIView):
    content_negotiation_class = CsvOrJsonNegotiation

    @extend_schema(
        parameters=[
            OpenApiParameter("report_id", OpenApiTypes.STR, required=True),
            OpenApiParameter("format", OpenApiTypes.STR, enum=["json"], description="JSON even when Complete"),
            COLUMNS_PARAMETER,
        ],
        responses={
            (200, "application/json"): ReportStatusOutput,
            (200, "text/csv"): OpenApiResponse(OpenApiTypes.BINARY, description="the report, when Complete"),
            400: OpenApiResponse(description="missing or malformed report_id, or unknown columns"),
            404: OpenApiResponse(description="no such report"),
            409: OpenApiResponse(description="columns=extended, but the report's data changed since it ran"),
        },
        summary="Poll a report: Running, Failed, or the CSV when Complete",
    )
    def get(self, request: Request) -> HttpResponseBase:
        query = ReportIdInput(data={"report_id": request.query_params.get("report_id", "")})
        query.is_valid(raise_exception=True)
        extended = wants_extended_columns(request)
        report_id = query.validated_data["report_id"]
        found = reports_visible_to(request.user).filter(id=report_id).first()
        if found is None:
            raise NotFound(f"no report with id {report_id!r}")
        report = report_recover(found)
        body: dict[str, Any] = {"report_id": report.id, "status": API_STATUS[Report.Status(report.status)]}
        if report.status == Report.Status.FAILED:
            body["error"] = report.error
        elif report.status != Report.Status.COMPLETE:
            body["progress"] = round(report.progress, 4)
        elif wants_csv(request):
            return csv_response(report, extended=extended)
        else:
            body |= {
                "download_url": download_url(request, report.id),
                "as_of": report.as_of,
                **report_kind_fields(report),
                "rows": report.rows,
                "started_at": report.started_at,
                "finished_at": report.finished_at,
            }
        return Response(ReportStatusOutput(instance=body).data)


def report_kind_fields(report: Report) -> dict[str, Any]:
    """A period report's ``kind``, ``start``, ``end`` and ``sla_target`` (null: no SLA columns).

    Nothing for a fixed report: its answer stays exactly what it was before period reports.
    """
    if not report.is_period:
        return {}
    return {"kind": report.kind, "start": report.start, "end": report.end, "sla_target": report.sla_target}


class DownloadReportView(APIView):
    content_negotiation_class = CsvOrJsonNegotiation

    @extend_schema(
        parameters=[COLUMNS_PARAMETER],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            400: OpenApiResponse(description="unknown columns"),
            404: OpenApiResponse(),
            409: OpenApiResponse(description="columns=extended, but the report's data changed since it ran"),
        },
        summary="The CSV",
    )
    def get(self, request: Request, report_id: str) -> HttpResponseBase:
        extended = wants_extended_columns(request)
        report = reports_visible_to(request.user).filter(id=report_id, status=Report.Status.COMPLETE).first()
        if report is None:
            raise NotFound(f"no complete report with id {report_id!r}")
        return csv_response(report, extended=extended)


class SignedDownloadView(APIView):
    """The CSV behind a signed link (:mod:`reports.download_links`): whoever holds the link, until it expires."""

    authentication_classes: list[type] = []
    permission_classes: list[type] = []
    content_negotiation_class = CsvOrJsonNegotiation

    @extend_schema(
        auth=[],
        responses={
            (200, "text/csv"): OpenApiTypes.BINARY,
            403: OpenApiResponse(description="the link was altered, or it expired"),
            404: OpenApiResponse(description="the report is gone"),
        },
        summary="A delivered report's CSV, through its signed link",
    )
    def get(self, request: Request, token: str) -> HttpResponseBase:
        try:
            report_id = signed_report_id(token)
        except LinkRefused as refused:
            raise PermissionDenied(str(refused)) from None
        report = Report.objects.filter(id=report_id, status=Report.Status.COMPLETE).first()
        if report is None:
            raise NotFound("the report of this link is no longer stored")
        return csv_response(report)


class ReportsPagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ReportListView(ListAPIView):  # type: ignore[type-arg]
    """The reports the user may see, newest first: an organization's for its members, every one for staff."""

    serializer_class = ReportListItem
    pagination_class = ReportsPagination

    def get_queryset(self) -> QuerySet[Report]:
        return reports_visible_to(self.request.user).select_related("organization").order_by("-created_at", "-id")

    @extend_schema(summary="The reports you may see, newest first")
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
