"""Admin import screens for business hours, timezones and store owners.

Design: the screens are django-import-export's ``ImportMixin`` (the
changelist's *Import* button, the ``…/import/`` URL, the import permission
hook and its page layout), but the import itself hands the uploaded file to
the same service the ``ingest`` command uses, :func:`~ingestion.services.hours_ingest`,
:func:`~ingestion.services.timezones_ingest` or :func:`~ingestion.services.owners_ingest`. So the header spellings
(``day``/``dayOfWeek``/``day_of_week``), every field rule, the rejection of a
bad row with its editor line and reason while the rest loads, the hours rule
(replace the whole schedule of each store with an accepted row) and the whole-file
errors (empty, not UTF-8 text, a column missing: nothing stored) are the
command's own code, not a second copy of the rules.

import-export's row-by-row ``Resource`` flow was not used because it cannot
honour the contract without being rebuilt: it refuses the whole import when
any row fails validation (the contract loads the rest), it numbers dataset
rows rather than file lines (a quoted field can span lines), and the hours
rule needs the whole file before the first write.

The import is one step, like import-export with
``IMPORT_EXPORT_SKIP_ADMIN_CONFIRM``: upload, load, and the result page lists
the counts and each rejected row (line, reason, the row as written). There is
no preview: the services run in one transaction each, so a file either loads
(minus its rejected rows) or stores nothing. An upload larger than
``settings.IMPORT_MAX_UPLOAD_BYTES`` is refused with a message, and read no
further than that limit (:mod:`ingestion.uploads`); ``manage.py ingest`` has
no such limit.
"""

from __future__ import annotations

import contextlib
import csv
import re
import secrets
import tempfile
from datetime import timedelta
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import UploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.views.decorators.csrf import csrf_exempt
from import_export.admin import ImportMixin

from ingestion.errors import BadInputFile
from ingestion.models import IngestRun
from ingestion.rejects import RejectsCollector
from ingestion.runs import (
    ingest_run_load,
    ingest_run_queue,
    ingest_run_rejects_download,
    ingest_run_start,
    ingest_run_store_upload,
)
from ingestion.services import IngestResult
from ingestion.uploads import UploadLimit, install_upload_limit, refused_upload, too_large_message
from organizations.admin import OrganizationAdmin
from organizations.models import Organization
from stores.admin import BusinessHoursAdmin, PollAdmin, StoreAdmin
from stores.models import BusinessHours, Poll, Store

#: A page lists (and the import keeps in memory) at most this many rejected rows; a rejects file has them all.
SHOWN_REJECTIONS = 1000


class IngestUploadForm(forms.Form):
    import_file = forms.FileField(label="CSV file", allow_empty_file=True)

    def __init__(self, *args: Any, stopped: UploadLimit | None = None, limit: int | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopped = stopped
        self.limit = settings.IMPORT_MAX_UPLOAD_BYTES if limit is None else limit

    def clean(self) -> dict[str, Any] | None:
        if self.stopped is not None:  # the upload never reached request.FILES: say why, not "required"
            message = too_large_message(self.stopped.refused_name or "the file", limit=self.stopped.limit)
            self.errors["import_file"] = self.error_class([message])
            self.cleaned_data.pop("import_file", None)
        return super().clean()

    def clean_import_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["import_file"]
        limit = self.limit
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(too_large_message(str(upload.name), limit=limit, size=upload.size))
        return upload


class IngestImportMixin(ImportMixin):  # type: ignore[misc]  # import-export is untyped
    """An import screen that runs the upload through one ingestion service.

    Subclasses set :attr:`kind`, :attr:`import_columns`,
    :attr:`import_rules` and :attr:`import_permissions`.
    """

    #: The kind of file, a key of :data:`~ingestion.kinds.INGEST_KINDS`.
    kind: ClassVar[str]
    #: The header a file needs, shown on the screen.
    import_columns: ClassVar[str]
    #: What loading a file does to what is stored, shown on the screen.
    import_rules: ClassVar[str]
    #: Model permissions (codename actions) a user needs to import.
    import_permissions: ClassVar[tuple[str, ...]] = ("add", "change")
    import_template_name = "admin/ingestion/import.html"

    def get_urls(self) -> list[URLPattern]:
        # The confirm step of import-export's two-step flow does not exist here.
        info = self.get_model_info()
        process_import, import_name = "{}_{}_process_import".format(*info), "{}_{}_import".format(*info)
        import_view = self.admin_site.admin_view(self.import_action)  # login, then csrf_protect

        @csrf_exempt  # for the middleware only: admin_view's csrf_protect checks, once the limit is in place
        def limited_import_view(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            install_upload_limit(request, limit=self.max_upload_bytes())
            response: HttpResponse = import_view(request, *args, **kwargs)
            return response

        rejects = path(
            "import/rejects/<str:token>/",
            self.admin_site.admin_view(self.rejects_action),
            name="{}_{}_import_rejects".format(*info),
        )
        return [rejects] + [
            path("import/", limited_import_view, name=import_name) if getattr(url, "name", None) == import_name else url
            for url in super().get_urls()
            if getattr(url, "name", None) != process_import
        ]

    def max_upload_bytes(self) -> int:
        return settings.IMPORT_MAX_UPLOAD_BYTES

    def _rejects_url(self, token: str) -> str:
        return reverse("admin:{}_{}_import_rejects".format(*self.get_model_info()), args=[token])

    def has_import_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return all(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in self.import_permissions
        )

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        if request.method == "POST":
            form = IngestUploadForm(
                request.POST, request.FILES, stopped=refused_upload(request), limit=self.max_upload_bytes()
            )
        else:
            form = IngestUploadForm(limit=self.max_upload_bytes())
        context: dict[str, Any] = {}
        if form.is_bound and form.is_valid():
            upload: UploadedFile[bytes] = form.cleaned_data["import_file"]
            run = ingest_run_start(
                kind=self.kind,
                source=IngestRun.Source.ADMIN,
                file_name=str(upload.name),
                user=request.user,
                bytes_total=upload.size or 0,
            )
            if (upload.size or 0) > self.inline_max_bytes():
                return self._queue(request, run, upload)
            try:
                result, rejections, rejects_token = self._load(run, upload)
            except BadInputFile as error:
                form.add_error("import_file", f"{upload.name}: {error.reason}. Nothing from this file was stored.")
            else:
                messages.success(request, f"{upload.name}: {result.summary()}")
                context.update(
                    result=result,
                    file_name=upload.name,
                    rejections=rejections.kept,
                    rejections_not_shown=rejections.not_shown,
                    rejects_url=None if rejects_token is None else self._rejects_url(rejects_token),
                    run=run,
                    run_url=reverse("admin:ingestion_ingestrun_change", args=[run.pk]),
                )
                form = IngestUploadForm(limit=self.max_upload_bytes())
        context.update(
            self.admin_site.each_context(request),
            title=f"Import {self.model._meta.verbose_name_plural}",
            form=form,
            opts=self.model._meta,
            import_columns=self.import_columns,
            import_rules=self.import_rules,
            max_upload_bytes=self.max_upload_bytes(),
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def inline_max_bytes(self) -> int:
        """Files up to this size load while the screen waits; larger ones go to a worker (polls only)."""
        return self.max_upload_bytes()

    def _queue(self, request: HttpRequest, run: IngestRun, upload: UploadedFile[bytes]) -> HttpResponse:
        """Hand a large upload to a worker and show its run, which follows the load's progress."""
        ingest_run_store_upload(run, handle=upload, name=str(upload.name))
        ingest_run_queue(run)
        messages.info(request, f"{upload.name} is being loaded by a worker; this page follows it.")
        return HttpResponseRedirect(reverse("admin:ingestion_ingestrun_change", args=[run.pk]))

    def _load(self, run: IngestRun, upload: UploadedFile[bytes]) -> tuple[IngestResult, RejectsCollector, str | None]:
        """Load the upload; returns the result, the rejections kept to show, and the stored rejects file's token.

        Only :data:`SHOWN_REJECTIONS` rejections are kept in memory; every
        one is written to a rejects CSV, which is kept for download (by
        :meth:`rejects_action`) when some were not shown.
        """
        with tempfile.TemporaryDirectory(prefix="loopmonitor-import-") as directory:
            path = Path(directory) / "upload.csv"
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            rejects_path = Path(directory) / "rejects.csv"
            with rejects_path.open("w", newline="", encoding="utf-8") as rejects_file:
                collector = RejectsCollector(
                    shown=SHOWN_REJECTIONS, writer=csv.writer(rejects_file), file_name=str(upload.name)
                )
                _, result = ingest_run_load(run, path=path, on_reject=collector)
            token = _store_rejects(rejects_path) if collector.not_shown else None
        return result, collector, token

    def rejects_action(self, request: HttpRequest, token: str) -> FileResponse:
        """The rejects CSV of an earlier import on this screen."""
        if not self.has_import_permission(request):
            raise PermissionDenied
        try:
            handle = default_storage.open(_rejects_name(token), "rb")
        except (FileNotFoundError, ValueError):
            raise Http404("no such rejects file (they are kept for a day)") from None
        return FileResponse(handle, as_attachment=True, filename="rejects.csv", content_type="text/csv")


REJECTS_DIRECTORY = "import-rejects"
REJECTS_KEPT = timedelta(days=1)


def _rejects_name(token: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9_-]{22}", token):
        raise ValueError(token)
    return f"{REJECTS_DIRECTORY}/{token}.csv"


def _store_rejects(path: Path) -> str:
    """Keep a rejects file in the default storage under a random name; drop those older than a day."""
    cutoff = timezone.now() - REJECTS_KEPT
    with contextlib.suppress(FileNotFoundError, NotImplementedError):
        for name in default_storage.listdir(REJECTS_DIRECTORY)[1]:
            if default_storage.get_modified_time(f"{REJECTS_DIRECTORY}/{name}") < cutoff:
                default_storage.delete(f"{REJECTS_DIRECTORY}/{name}")
    token = secrets.token_urlsafe(16)
    with path.open("rb") as handle:
        default_storage.save(_rejects_name(token), File(handle))
    return token


class HoursImportMixin(IngestImportMixin):
    kind = "hours"
    import_columns = "store_id, day (or dayOfWeek, day_of_week), start_time_local, end_time_local"
    import_rules = (
        "The whole schedule of every store the file names is replaced by the file's rows for it; "
        "other stores keep theirs, and so does a store whose every row in the file is rejected."
    )
    # Loading replaces schedules, i.e. deletes rows.
    import_permissions = ("add", "delete")


class TimezonesImportMixin(IngestImportMixin):
    kind = "timezones"
    import_columns = "store_id, timezone_str"
    import_rules = (
        "Each row sets its store's timezone (an IANA name such as America/Chicago); a store the file "
        "does not name, or names only in rejected rows, keeps its zone."
    )
    import_permissions = ("add", "change")


class PollsImportMixin(IngestImportMixin):
    """The polls screen: a file over ``INGEST_INLINE_MAX_BYTES`` is loaded by a worker, as over the API."""

    kind = "polls"
    import_columns = "store_id, timestamp_utc, status"
    import_rules = (
        "Each row is stored as the poll of its store at its instant; a poll already stored for that store and "
        "instant takes the row's status, and a later row in the file wins over an earlier one."
    )
    import_permissions = ("add", "change")

    def max_upload_bytes(self) -> int:
        return settings.INGEST_MAX_UPLOAD_BYTES

    def inline_max_bytes(self) -> int:
        return settings.INGEST_INLINE_MAX_BYTES


class PollImportAdmin(PollsImportMixin, PollAdmin):
    """The polls admin with the polls upload screen."""
class OwnersImportMixin(IngestImportMixin):
    kind = "owners"
    import_columns = "store_id, organization (a slug)"
    import_rules = (
        "Each row gives its store to the organization, which is created when missing; a later row for the "
        "same store moves it again. A store the file does not name, or names only in rejected rows, keeps "
        "its organization."
    )
    import_permissions = ("add", "change")


class OrganizationImportAdmin(OwnersImportMixin, OrganizationAdmin):
    """The organizations admin with the store owners import screen."""


class StoreImportAdmin(TimezonesImportMixin, StoreAdmin):
    """The stores admin with the timezones import screen."""


class BusinessHoursImportAdmin(HoursImportMixin, BusinessHoursAdmin):
    """The business-hours admin with the hours import screen."""


# The stores app owns these admins and knows nothing of ingestion; this app adds its screens to them.
_IMPORT_ADMINS: tuple[tuple[type[Any], type[admin.ModelAdmin[Any]]], ...] = (
    (Store, StoreImportAdmin),
    (BusinessHours, BusinessHoursImportAdmin),
    (Poll, PollImportAdmin),
    (Organization, OrganizationImportAdmin),
)
for _model, _model_admin in _IMPORT_ADMINS:
    admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)


@admin.register(IngestRun)
class IngestRunAdmin(admin.ModelAdmin):  # type: ignore[type-arg]
    """Every load, newest first; a run's page follows a running load and offers its rejects CSV."""

    list_display = (
        "id",
        "kind",
        "source",
        "user",
        "file_name",
        "status",
        "progress_shown",
        "read",
        "stored",
        "updated",
        "rejected",
        "started_at",
        "duration",
    )
    list_filter = ("kind", "source", "status")
    search_fields = ("file_name",)
    list_select_related = ("user",)
    change_form_template = "admin/ingestion/ingestrun/change_form.html"
    fields = (
        ("kind", "source", "format"),
        ("user", "file_name"),
        ("status", "progress_shown"),
        ("read", "stored", "updated", "removed", "unchanged", "rejected", "stores_unchanged"),
        ("started_at", "finished_at", "duration"),
        "error",
        "source_path",
        "rejects_table",
        "rejects_download",
    )
    readonly_fields = (
        fields[0]
        + fields[1]
        + fields[2]
        + fields[3]
        + fields[4]
        + ("error", "source_path", "rejects_table", "rejects_download")
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: IngestRun | None = None) -> bool:
        return False

    def get_urls(self) -> list[URLPattern]:
        rejects = path(
            "<int:run_id>/rejects/",
            self.admin_site.admin_view(self.rejects_view),
            name="ingestion_ingestrun_rejects",
        )
        return [rejects, *super().get_urls()]

    @admin.display(description="progress")
    def progress_shown(self, run: IngestRun) -> str:
        return f"{run.progress:.0%}"

    @admin.display(description="rejected rows (the first 100)")
    def rejects_table(self, run: IngestRun) -> str:
        if not run.rejects_shown:
            return "none"
        return format_html_join(
            mark_safe("<br>"), "line {}: {}", ((row["line"], row["reason"]) for row in run.rejects_shown)
        )

    @admin.display(description="every rejected row")
    def rejects_download(self, run: IngestRun) -> str:
        if not run.rejects_file:
            return "none"
        url = reverse("admin:ingestion_ingestrun_rejects", args=[run.pk])
        return format_html('<a id="run-rejects" href="{}">Download the rejects CSV</a>', url)

    def rejects_view(self, request: HttpRequest, run_id: int) -> FileResponse:
        run = IngestRun.objects.filter(pk=run_id).first()
        if not self.has_view_permission(request, run) or run is None:
            raise PermissionDenied if run is not None else Http404("no such run")
        return ingest_run_rejects_download(run)
