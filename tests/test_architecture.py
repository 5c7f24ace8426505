"""The import rules that keep the tree's data flow one way (README, "Where things are").

Read from the source with ``ast``, not by importing, so a rule breaks here
the moment someone writes the import, whether or not a test exercises it.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from mypy import api as mypy_api

BASE: Path = settings.BASE_DIR
PRODUCT = ("organizations", "stores", "ingestion", "reports", "portal", "loopmonitor", "operations", "subscriptions")
ENGINE = BASE / "reports" / "engine"


def modules(package: str) -> Iterator[tuple[str, Path]]:
    for path in sorted((BASE / package).rglob("*.py")):
        if "migrations" not in path.parts:
            yield ".".join(path.relative_to(BASE).with_suffix("").parts), path


def imported(path: Path) -> set[str]:
    """Every module ``path`` imports (absolute names; the project uses no relative imports)."""
    tree = ast.parse(path.read_text())
    names = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    names |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    return names


def offenders(packages: tuple[str, ...], forbidden: tuple[str, ...]) -> dict[str, set[str]]:
    found = {}
    for package in packages:
        for name, path in modules(package):
            bad = {module for module in imported(path) if module.split(".")[0] in forbidden or module in forbidden}
            if bad:
                found[name] = bad
    return found


def test_the_rules_see_imports() -> None:
    assert "reports.engine.units" in imported(ENGINE / "intervals.py")


def test_stores_imports_neither_ingestion_nor_reports() -> None:
    assert offenders(("stores",), ("ingestion", "reports")) == {}


def test_reports_and_ingestion_do_not_import_subscriptions() -> None:
    # A report tells delivery it finished through reports.signals; it never calls delivery.
    assert offenders(("reports", "ingestion", "stores"), ("subscriptions",)) == {}


def test_organizations_imports_no_other_app_of_the_product() -> None:
    assert offenders(("organizations",), ("stores", "ingestion", "reports")) == {}


def test_the_engine_imports_only_the_standard_library_and_itself() -> None:
    found = {}
    for name, path in modules("reports/engine"):
        outside = {
            module
            for module in imported(path)
            if module.split(".")[0] not in sys.stdlib_module_names and not module.startswith("reports.engine")
        }
        if outside:
            found[name] = outside
    assert found == {}


def test_the_engine_passes_mypy_strict_on_its_own() -> None:
    # No project config and no Django plugin: the package must stand alone.
    stdout, stderr, status = mypy_api.run(["--config-file=", "--strict", "--no-incremental", str(ENGINE)])
    assert status == 0, stdout + stderr


def test_no_product_module_imports_devtools() -> None:
    assert offenders(PRODUCT, ("devtools",)) == {}


@pytest.mark.parametrize("package", PRODUCT)
def test_presentation_is_imported_only_by_the_api_the_admin_and_the_portal(package: str) -> None:
    allowed = ("reports.presentation", "reports.api", "reports.admin", "portal")
    found = {
        name: {module for module in imported(path) if module.startswith("reports.presentation")}
        for name, path in modules(package)
        if not name.startswith(allowed)
    }
    assert {name: bad for name, bad in found.items() if bad} == {}
