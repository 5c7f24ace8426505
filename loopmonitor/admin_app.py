"""The admin app without autodiscovery at start-up.

Django's default ``AdminConfig`` imports every app's ``admin`` module in
``ready()``: forms, import-export, the report pages and their charts. A
command or a worker never routes a URL, and those imports cost every
``build_report`` about 0.3 s of its start-up (docs/benchmarks.md). So the
admin modules load with the URLs (:mod:`loopmonitor.urls` calls
``admin.autodiscover()``), and the system checks load them before checking
the admin, so ``manage.py check`` still checks every ``ModelAdmin``.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


def admin_app_checked_after_discovery(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """Django's admin checks, once every app's admin module is loaded (the checks run in no fixed order)."""
    admin.autodiscover()
    return list(check_admin_app(app_configs, **kwargs))


class AdminConfig(SimpleAdminConfig):
    def ready(self) -> None:
        # SimpleAdminConfig.ready() registers check_admin_app itself, which could run before discovery.
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(admin_app_checked_after_discovery, checks.Tags.admin)
