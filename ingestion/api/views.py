"""``POST /ingest/<kind>``, and ``GET /ingest/runs`` and ``/ingest/runs/ID``: the feed's API.

A view takes the file off the wire (:mod:`ingestion.api.receive`) and
hands it to :mod:`ingestion.runs`: a file up to ``INGEST_INLINE_MAX_BYTES``
loads inside the request (201 with the run), a larger one up to
``INGEST_MAX_UPLOAD_BYTES`` is stored and loaded by a worker (202, with
``Location`` naming the run). An ``Idempotency-Key`` header makes a retry
answer with the first request's run instead of loading again.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import IntegrityError
from django.http import FileResponse, HttpRequest
from django.shortcuts import get_object_or_404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import ParseError
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from ingestion.api.permissions import CanIngest
from ingestion.api.receive import ReceivedFile, receive_file
from ingestion.api.serializers import IngestRunSerializer
from ingestion.errors import BadInputFile
from ingestion.kinds import INGEST_KINDS
from ingestion.models import IngestRun
from ingestion.runs import (
    ingest_file_check,
    ingest_run_fail,
    ingest_run_for_key,
    ingest_run_load,
    ingest_run_queue,
    ingest_run_rejects_download,
    ingest_run_start,
    ingest_run_store_upload,
)
from ingestion.uploads import install_upload_limit

MAX_KEY_LENGTH = 200


class IngestFileView(APIView):
    """Load one file of the kind the URL names."""

    kind = ""  # set by the URL: ``as_view(kind=...)``
    permission_classes = [IsAuthenticated, CanIngest]
    parser_classes: list[Any] = []  # the view reads the body itself, streaming

    def initialize_request(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Request:
        # Before anything reads the body: a session user's CSRF check parses a multipart form.
        install_upload_limit(request, limit=settings.INGEST_MAX_UPLOAD_BYTES)
        return super().initialize_request(request, *args, **kwargs)

    @extend_schema(
        request={
            "multipart/form-data": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}},
            "text/csv": {"type": "string"},
        },
        responses={
            201: IngestRunSerializer,
            202: IngestRunSerializer,
            400: OpenApiResponse(description="not CSV/JSON, not UTF-8, or a column missing: nothing stored"),
            403: OpenApiResponse(description="the account lacks the ingestion permission"),
            413: OpenApiResponse(description="larger than INGEST_MAX_UPLOAD_BYTES"),
            415: OpenApiResponse(description="neither multipart, text/csv nor (polls) application/json"),
        },
        parameters=[OpenApiParameter("Idempotency-Key", str, OpenApiParameter.HEADER, required=False)],
    )
    def post(self, request: Request) -> Response:
        kind = self.kind
        ingest_kind = INGEST_KINDS[kind]
        key = request.headers.get("Idempotency-Key", "").strip()
        if len(key) > MAX_KEY_LENGTH:
            raise ParseError(f"the Idempotency-Key is longer than {MAX_KEY_LENGTH} characters")
        earlier = ingest_run_for_key(user=request.user, kind=kind, key=key)
        if earlier is not None:
            return self._answer(request, earlier)
        with tempfile.TemporaryDirectory(prefix="loopmonitor-ingest-") as directory:
            received = receive_file(
                request._request, kind=ingest_kind, limit=settings.INGEST_MAX_UPLOAD_BYTES, directory=Path(directory)
            )
            try:
                run = ingest_run_start(
                    kind=kind,
                    source=IngestRun.Source.API,
                    file_name=received.name,
                    user=request.user,
                    bytes_total=received.size,
                    format=received.format,
                    idempotency_key=key,
                )
            except IntegrityError:  # the same key, sent twice at once: the other request's run
                earlier = ingest_run_for_key(user=request.user, kind=kind, key=key)
                if earlier is None:
                    raise
                return self._answer(request, earlier)
            self._load(run, received)
        return self._answer(request, run)

    @staticmethod
    def _load(run: IngestRun, received: ReceivedFile) -> None:
        try:
            if received.size <= settings.INGEST_INLINE_MAX_BYTES:
                ingest_run_load(run, path=received.path)
                return
            ingest_file_check(kind=run.kind, path=received.path, format=received.format)
        except BadInputFile as error:
            if run.status == IngestRun.Status.RUNNING:  # refused by the check, before loading
                ingest_run_fail(run, error=error.reason)
            return
        with received.path.open("rb") as handle:
            ingest_run_store_upload(run, handle=handle, name=received.name)
        ingest_run_queue(run)

    @staticmethod
    def _answer(request: Request, run: IngestRun) -> Response:
        body = IngestRunSerializer(run, context={"request": request}).data
        if run.status == IngestRun.Status.FAILED and run.read == 0:
            return Response(
                {"detail": f"{run.file_name}: {run.error}. Nothing from this file was stored.", "run": body},
                status=status.HTTP_400_BAD_REQUEST,
            )
        if run.status == IngestRun.Status.RUNNING:
            return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["url"]})
        return Response(body, status=status.HTTP_201_CREATED)


class RunsPage(LimitOffsetPagination):
    default_limit = 50
    max_limit = 500


class IngestRunListView(generics.ListAPIView[IngestRun]):
    """The latest runs, newest first; ``?kind=``, ``?status=`` and ``?source=`` filter them."""

    permission_classes = [IsAuthenticated, CanIngest]
    serializer_class = IngestRunSerializer
    pagination_class = RunsPage

    def get_queryset(self) -> Any:
        runs = IngestRun.objects.select_related("user")
        for field in ("kind", "status", "source"):
            value = self.request.query_params.get(field)
            if value:
                runs = runs.filter(**{field: value})
        return runs


class IngestRunDetailView(generics.RetrieveAPIView[IngestRun]):
    permission_classes = [IsAuthenticated, CanIngest]
    serializer_class = IngestRunSerializer
    queryset = IngestRun.objects.select_related("user")
    lookup_url_kwarg = "run_id"


class IngestRunRejectsView(APIView):
    """Every rejected row of a run, as CSV (file, line, reason, row)."""

    permission_classes = [IsAuthenticated, CanIngest]

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY, 404: OpenApiResponse(description="no rejects")})
    def get(self, request: Request, run_id: int) -> FileResponse:
        return ingest_run_rejects_download(get_object_or_404(IngestRun, pk=run_id))
