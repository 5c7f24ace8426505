"""Admin import screens for business hours and timezones.

Design: the screens are django-import-export's ``ImportMixin`` (the
changelist's *Import* button, the ``…/import/`` URL, the import permission
hook and its page layout), but the import itself hands the uploaded file to
the same service the ``ingest`` command uses, :func:`~ingestion.services.hours_ingest`
or :func:`~ingestion.services.timezones_ingest`. So the header spellings
(``day``/``dayOfWeek``/``day_of_week``), every field rule, the rejection of a
bad row with its editor line and reason while the rest loads, the hours rule
(replace the whole schedule of each store the file names) and the whole-file
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
``settings.IMPORT_MAX_UPLOAD_BYTES`` is refused with a message before it is
loaded; ``manage.py ingest`` has no such limit.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, ClassVar

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_permission_codename
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse
from django.template.defaultfilters import filesizeformat
from django.template.response import TemplateResponse
from django.urls import URLPattern
from import_export.admin import ImportMixin

from ingestion.errors import BadInputFile, Rejection
from ingestion.services import IngestResult, hours_ingest, timezones_ingest
from stores.admin import BusinessHoursAdmin, StoreAdmin
from stores.models import BusinessHours, Store

#: A page lists at most this many rejected rows; the command's ``--rejects`` file has them all.
SHOWN_REJECTIONS = 1000


class IngestUploadForm(forms.Form):
    import_file = forms.FileField(label="CSV file", allow_empty_file=True)

    def clean_import_file(self) -> UploadedFile[bytes]:
        upload: UploadedFile[bytes] = self.cleaned_data["import_file"]
        limit = settings.IMPORT_MAX_UPLOAD_BYTES
        if upload.size is not None and upload.size > limit:
            raise forms.ValidationError(
                f"{upload.name} is {filesizeformat(upload.size)}; this screen takes files up to "
                f"{filesizeformat(limit)}. Nothing was stored. Load larger files with manage.py ingest."
            )
        return upload


class IngestImportMixin(ImportMixin):  # type: ignore[misc]  # import-export is untyped
    """An import screen that runs the upload through one ingestion service.

    Subclasses set :attr:`ingest`, :attr:`import_columns`,
    :attr:`import_rules` and :attr:`import_permissions`.
    """

    ingest: ClassVar[Callable[..., IngestResult]]
    #: The header a file needs, shown on the screen.
    import_columns: ClassVar[str]
    #: What loading a file does to what is stored, shown on the screen.
    import_rules: ClassVar[str]
    #: Model permissions (codename actions) a user needs to import.
    import_permissions: ClassVar[tuple[str, ...]] = ("add", "change")
    import_template_name = "admin/ingestion/import.html"

    def get_urls(self) -> list[URLPattern]:
        # The confirm step of import-export's two-step flow does not exist here.
        process_import = "{}_{}_process_import".format(*self.get_model_info())
        return [url for url in super().get_urls() if getattr(url, "name", None) != process_import]

    def has_import_permission(self, request: HttpRequest) -> bool:
        opts = self.model._meta
        return all(
            request.user.has_perm(f"{opts.app_label}.{get_permission_codename(action, opts)}")
            for action in self.import_permissions
        )

    def import_action(self, request: HttpRequest, **kwargs: Any) -> HttpResponse:
        if not self.has_import_permission(request):
            raise PermissionDenied
        form = IngestUploadForm(request.POST, request.FILES) if request.method == "POST" else IngestUploadForm()
        context: dict[str, Any] = {}
        if form.is_bound and form.is_valid():
            upload: UploadedFile[bytes] = form.cleaned_data["import_file"]
            try:
                result, rejections = self._load(upload)
            except BadInputFile as error:
                form.add_error("import_file", f"{upload.name}: {error.reason}. Nothing from this file was stored.")
            else:
                messages.success(request, f"{upload.name}: {result.summary()}")
                context.update(
                    result=result,
                    file_name=upload.name,
                    rejections=rejections[:SHOWN_REJECTIONS],
                    rejections_not_shown=max(0, len(rejections) - SHOWN_REJECTIONS),
                )
                form = IngestUploadForm()
        context.update(
            self.admin_site.each_context(request),
            title=f"Import {self.model._meta.verbose_name_plural}",
            form=form,
            opts=self.model._meta,
            import_columns=self.import_columns,
            import_rules=self.import_rules,
            max_upload_bytes=settings.IMPORT_MAX_UPLOAD_BYTES,
        )
        request.current_app = self.admin_site.name
        return TemplateResponse(request, [self.import_template_name], context)

    def _load(self, upload: UploadedFile[bytes]) -> tuple[IngestResult, list[Rejection]]:
        rejections: list[Rejection] = []
        with tempfile.TemporaryDirectory(prefix="loopmonitor-import-") as directory:
            path = Path(directory) / "upload.csv"
            with path.open("wb") as handle:
                for chunk in upload.chunks():
                    handle.write(chunk)
            result = type(self).ingest(path=path, on_reject=rejections.append)
        return result, rejections


class HoursImportMixin(IngestImportMixin):
    ingest = staticmethod(hours_ingest)
    import_columns = "store_id, day (or dayOfWeek, day_of_week), start_time_local, end_time_local"
    import_rules = (
        "The whole schedule of every store the file names is replaced by the file's rows for it; "
        "other stores keep theirs. A store whose every row is rejected is left with no rows (open 24x7)."
    )
    # Loading replaces schedules, i.e. deletes rows.
    import_permissions = ("add", "delete")


class TimezonesImportMixin(IngestImportMixin):
    ingest = staticmethod(timezones_ingest)
    import_columns = "store_id, timezone_str"
    import_rules = (
        "Each row sets its store's timezone (an IANA name such as America/Chicago); a store the file "
        "does not name, or names only in rejected rows, keeps its zone."
    )
    import_permissions = ("add", "change")


class StoreImportAdmin(TimezonesImportMixin, StoreAdmin):
    """The stores admin with the timezones import screen."""


class BusinessHoursImportAdmin(HoursImportMixin, BusinessHoursAdmin):
    """The business-hours admin with the hours import screen."""


# The stores app owns these admins and knows nothing of ingestion; this app adds its screens to them.
for _model, _model_admin in ((Store, StoreImportAdmin), (BusinessHours, BusinessHoursImportAdmin)):
    admin.site.unregister(_model)
    admin.site.register(_model, _model_admin)
