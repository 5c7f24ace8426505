"""Reading an uploaded file no further than a size limit.

Django streams an upload to memory or a temporary file in full before any
view code can look at its size, so a 5 GB upload to a 50 MB screen would be
written to disk first. :class:`UploadLimit` counts the file's bytes as they
arrive and stops the upload at the limit; Django then leaves the file out
of ``request.FILES`` and the rest of the body unread, and the view says why.
"""

from __future__ import annotations

from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.http import HttpRequest
from django.template.defaultfilters import filesizeformat


class UploadLimit(FileUploadHandler):
    """Put first in ``request.upload_handlers``: it passes chunks on until a file passes ``limit`` bytes."""

    def __init__(self, request: HttpRequest, *, limit: int) -> None:
        super().__init__(request)
        self.limit = limit
        self.refused_name: str | None = None

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        if start + len(raw_data) > self.limit:
            self.refused_name = self.file_name or "the file"
            raise StopUpload(connection_reset=True)  # True: do not read the rest of the body either
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None  # the next handler stores the file


def install_upload_limit(request: HttpRequest, *, limit: int) -> UploadLimit:
    """Install the limit before anything reads the body (the CSRF check does, for a form post)."""
    handler = UploadLimit(request, limit=limit)
    request.upload_handlers.insert(0, handler)
    return handler


def refused_upload(request: HttpRequest) -> UploadLimit | None:
    """The limit that stopped this request's upload, if one did."""
    for handler in request.upload_handlers:
        if isinstance(handler, UploadLimit) and handler.refused_name is not None:
            return handler
    return None


def too_large_message(name: str, *, limit: int, size: int | None = None) -> str:
    """What the screen says; ``size`` is unknown when the upload was stopped at the limit."""
    how_large = f"larger than {filesizeformat(limit)}" if size is None else filesizeformat(size)
    return (
        f"{name} is {how_large}; this screen takes files up to {filesizeformat(limit)}. "
        "Nothing was stored. Load larger files with manage.py ingest."
    )
