"""``manage.py ingest``: load polls, business hours, timezones and store owners from CSV files."""

from __future__ import annotations

import csv
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from ingestion.errors import BadInputFile, Rejection
from ingestion.kinds import INGEST_KINDS
from ingestion.models import IngestRun
from ingestion.rejects import REJECTS_HEADER
from ingestion.runs import ingest_run_load, ingest_run_start
from ingestion.services import IngestResult

SHOWN_REJECTIONS = 20


class Command(BaseCommand):
    help = (
        "Load input CSV files. Rejected rows are reported with file, line and reason and the rest loads. "
        "Exit code 2: a file could not be read as a whole (it stored nothing); "
        "1: every row of a file was rejected; 0: otherwise."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        for name, kind in INGEST_KINDS.items():
            columns = ",".join("|".join(kind.columns.spellings(column)) for column in kind.columns.columns)
            parser.add_argument(f"--{name}", type=Path, help=f"{columns} (any column order)")
        parser.add_argument("--rejects", type=Path, help="write every rejected row to this CSV (file,line,reason,row)")

    def handle(self, *args: Any, **options: Any) -> None:
        jobs: list[tuple[Path, str]] = [(options[name], name) for name in INGEST_KINDS if options[name] is not None]
        if not jobs:
            given = ", ".join(f"--{name}" for name in reversed(INGEST_KINDS))  # the hourly file first
            raise CommandError(f"nothing to load: give at least one of {given}")
        rejects_file = self._open_rejects(options["rejects"], [path for path, _ in jobs])
        shown = 0

        def report(rejection: Rejection) -> None:
            nonlocal shown
            if rejects_writer is not None:
                rejects_writer.writerow([rejection.file, rejection.line, rejection.reason, rejection.raw])
            if shown < SHOWN_REJECTIONS:
                self.stderr.write(f"{rejection.file}:{rejection.line}: rejected: {rejection.reason}")
            shown += 1

        rejects_writer = csv.writer(rejects_file) if rejects_file is not None else None
        failed = all_rejected = False
        try:
            for path, kind in jobs:
                result = self._ingest_one(path, kind, report)
                failed |= result is None
                all_rejected |= result is not None and result.every_row_rejected
        finally:
            if rejects_file is not None:
                rejects_file.close()
        if shown > SHOWN_REJECTIONS:
            where = f" (all in {options['rejects']})" if rejects_file is not None else " (use --rejects FILE for all)"
            self.stderr.write(f"... {shown - SHOWN_REJECTIONS} more rejected rows not shown{where}")
        if failed:
            sys.exit(2)
        if all_rejected:
            sys.exit(1)

    def _open_rejects(self, path: Path | None, inputs: list[Path]) -> TextIO | None:
        """Open the rejects file, refusing one that is an input: opening it for writing would empty that input."""
        if path is None:
            return None
        for input_path in inputs:
            if _same_file(path, input_path):
                raise CommandError(f"the rejects file {path} is the input file {input_path}; nothing was loaded")
        try:
            handle = path.open("w", newline="", encoding="utf-8")
        except OSError as error:
            raise CommandError(f"cannot write rejects file {path}: {error.strerror}") from None
        csv.writer(handle).writerow(REJECTS_HEADER)
        return handle

    def _ingest_one(self, path: Path, kind: str, report: Callable[[Rejection], None]) -> IngestResult | None:
        """Load one file as a run and print its summary; ``None`` when the file was bad (it stored nothing)."""
        size = path.stat().st_size if path.is_file() else None
        run = ingest_run_start(kind=kind, source=IngestRun.Source.COMMAND, file_name=str(path), bytes_total=size or 0)
        with tqdm(
            total=size, unit="B", unit_scale=True, desc=path.name, disable=not sys.stderr.isatty(), leave=False
        ) as bar:
            try:
                _, result = ingest_run_load(run, path=path, on_reject=report, on_progress=bar.update)
            except BadInputFile as error:
                self.stderr.write(f"error: {error} (nothing from this file was stored)")
                return None
        self.stdout.write(result.summary())
        if result.every_row_rejected:
            self.stderr.write(f"error: {result.path}: every row was rejected; is it the right file?")
        return result


def _same_file(one: Path, other: Path) -> bool:
    """Compared by real path (symbolic links resolved), and by inode for hard links."""
    if one.resolve() == other.resolve():
        return True
    try:
        return os.path.samefile(one, other)
    except OSError:
        return False
