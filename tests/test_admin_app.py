"""The admin's modules load with the URLs, not at start-up, and the system checks still check every ``ModelAdmin``."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings
from django.contrib import admin
from django.core import checks
from django.urls import reverse

from loopmonitor.admin_app import admin_app_checked_after_discovery
from stores.models import Store

STARTED = """
import sys, django
django.setup()
from django.contrib import admin
from django.core import checks
print(len(admin.site._registry), "reports.admin" in sys.modules)
print(checks.run_checks(tags=[checks.Tags.admin]))
print(len(admin.site._registry) > 0, "reports.admin" in sys.modules)
"""


def test_a_process_starts_without_the_admin_modules_and_the_admin_checks_load_them() -> None:
    env = os.environ | {"DJANGO_SETTINGS_MODULE": "loopmonitor.settings", "DEBUG": "1"}
    done = subprocess.run(
        [sys.executable, "-c", STARTED], env=env, cwd=settings.BASE_DIR, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["0 False", "[]", "True True"]


def test_the_urls_register_the_admin_of_every_app() -> None:
    reverse("admin:index")

    assert {model._meta.label for model in admin.site._registry} >= {
        "stores.Store",
        "stores.BusinessHours",
        "reports.Report",
        "ingestion.IngestRun",
    }


def test_the_admin_checks_still_find_a_broken_model_admin() -> None:
    class Broken(admin.ModelAdmin):  # type: ignore[type-arg]
        list_display = ["no_such_field"]

    site = admin.AdminSite(name="broken")
    site.register(Store, Broken)

    found = admin_app_checked_after_discovery()

    assert [message.id for message in found if isinstance(message, checks.Error)] == ["admin.E108"]
