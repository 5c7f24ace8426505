"""Taking an ingestion request's file off the wire into a local file, no further than the size limit.

Three forms: a multipart upload (field ``file``), or the file as the body
itself (``text/csv``, or ``application/json`` for kinds that take it). A
body is streamed to disk in blocks and refused with 413 as soon as it
passes the limit (at once, when its ``Content-Length`` says so); a
multipart file is stopped at the limit by :class:`~ingestion.uploads.UploadLimit`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.core.files.uploadedfile import TemporaryUploadedFile, UploadedFile
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat
from rest_framework.exceptions import ParseError, UnsupportedMediaType

from ingestion.kinds import IngestKind
from ingestion.models import IngestRun
from ingestion.uploads import refused_upload
from loopmonitor.exceptions import PayloadTooLarge

_BLOCK = 1 << 20
CSV_TYPES = ("text/csv", "application/csv", "text/plain")
JSON_TYPE = "application/json"
MULTIPART = "multipart/form-data"


@dataclass(frozen=True, slots=True)
class ReceivedFile:
    path: Path
    name: str
    size: int
    format: str


def _too_large(limit: int) -> PayloadTooLarge:
    shown = filesizeformat(limit).replace("\xa0", " ")
    return PayloadTooLarge(f"the file is larger than {shown}, the most this endpoint accepts; nothing was stored")


def receive_file(request: HttpRequest, *, kind: IngestKind, limit: int, directory: Path) -> ReceivedFile:
    """The request's file, in ``directory`` unless Django already spooled it to disk."""
    content_type = request.content_type or ""
    if content_type == MULTIPART:
        return _receive_multipart(request, kind=kind, limit=limit, directory=directory)
    if content_type in CSV_TYPES or (content_type == JSON_TYPE and kind.accepts_json):
        return _receive_body(request, kind=kind, limit=limit, directory=directory)
    accepted = ", ".join([MULTIPART, "text/csv", *([JSON_TYPE] if kind.accepts_json else [])])
    raise UnsupportedMediaType(content_type or "none", detail=f"send the file as one of: {accepted}")


def _receive_multipart(request: HttpRequest, *, kind: IngestKind, limit: int, directory: Path) -> ReceivedFile:
    files = request.FILES
    if refused_upload(request) is not None:
        raise _too_large(limit)
    upload: UploadedFile[bytes] | None = files.get("file")
    if upload is None:
        raise ParseError("no file: send it in the multipart field `file`")
    name = Path(str(upload.name or f"{kind.name}.csv")).name
    is_json = kind.accepts_json and (upload.content_type == JSON_TYPE or name.lower().endswith(".json"))
    file_format = IngestRun.Format.JSON if is_json else IngestRun.Format.CSV
    if isinstance(upload, TemporaryUploadedFile):
        path = Path(upload.temporary_file_path())
    else:
        path = directory / "upload"
        with path.open("wb") as target:
            for chunk in upload.chunks():
                target.write(chunk)
    return ReceivedFile(path=path, name=name, size=path.stat().st_size, format=file_format)


def _receive_body(request: HttpRequest, *, kind: IngestKind, limit: int, directory: Path) -> ReceivedFile:
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise ParseError("the Content-Length header is not a number") from None
    if declared > limit:
        raise _too_large(limit)
    is_json = request.content_type == JSON_TYPE
    path = directory / "upload"
    size = 0
    with path.open("wb") as target:
        while block := request.read(_BLOCK):
            size += len(block)
            if size > limit:
                raise _too_large(limit)
            target.write(block)
    name = f"{kind.name}.{'json' if is_json else 'csv'}"
    return ReceivedFile(
        path=path, name=name, size=size, format=IngestRun.Format.JSON if is_json else IngestRun.Format.CSV
    )
