"""Static checks that belong to the suite, so CI runs them with everything else."""

from __future__ import annotations

import ast
import subprocess
import sys

from django.conf import settings
from mypy import api as mypy_api

ENGINE = settings.BASE_DIR / "reports" / "engine"


def test_the_interval_module_passes_mypy_strict() -> None:
    # No project config: the module must stand on its own, free of Django.
    stdout, stderr, status = mypy_api.run(
        ["--config-file=", "--strict", "--no-incremental", str(ENGINE / "intervals.py")]
    )
    assert status == 0, stdout + stderr


def test_the_interval_module_imports_no_django() -> None:
    tree = ast.parse((ENGINE / "intervals.py").read_text())
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported, "the module imports something; the check must see it"
    assert not {name for name in imported if name.split(".")[0] in {"django", "rest_framework", "stores", "reports"}}


def test_the_project_passes_mypy() -> None:
    # A subprocess: the django-stubs plugin sets Django up itself.
    packages = ["reports", "ingestion", "stores", "loopmonitor", "devtools"]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--no-incremental", *packages],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_project_passes_ruff() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "."],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
