"""``manage.py generate_data``: write a synthetic, realistic input data set.

A thin shell around :func:`devtools.generator.generate_dataset` (where the
model and its reasons are documented): argument checks, a progress bar and a
summary line.
"""

from __future__ import annotations

import math
import os
import sys
import time
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from devtools.generator import HOURS_FILE, POLL_HOURS, POLLS_PER_STORE_HOUR, TIMEZONES_FILE, generate_dataset

#: Stores in the bundled sample (union of hours and timezone ids); only used
#: to size the progress bar before the real total is known.
_SAMPLE_STORES = 13_584


class Command(BaseCommand):
    help = (
        "Write store_status.csv, menu_hours.csv and timezones.csv in the real formats into --out: the real "
        "stores, hours and timezones (scaled by --scale) with about 0.72 polls per store-hour over "
        "2023-01-18 .. 2023-01-25 (or --days days ending there). The same --scale, --seed and --days give the same "
        "bytes."
    )
    # Writes files only (no database, models or URLs), so it need not wait on,
    # or be blocked by, the project's system checks.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", type=Path, required=True, help="directory to write into (created if missing)")
        parser.add_argument(
            "--scale", type=float, default=1.0, help="store count relative to the real ~13.6k (default 1.0)"
        )
        parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
        parser.add_argument(
            "--days",
            type=int,
            help="polls over this many days ending where the real week ends (e.g. 30, 93); default: the real week",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        out: Path = options["out"]
        scale: float = options["scale"]
        seed: int = options["seed"]
        days: int | None = options["days"]
        if days is not None and not 1 <= days <= 400:
            raise CommandError(f"--days must be from 1 to 400, got {days}")
        if not (math.isfinite(scale) and scale > 0):
            raise CommandError(f"--scale must be a positive number, got {scale}")
        self._check_writable(out)
        sample_dir = Path(settings.BASE_DIR) / "data" / "sample"
        for name in (HOURS_FILE, TIMEZONES_FILE):
            if not (sample_dir / name).is_file():
                raise CommandError(f"sample file {sample_dir / name} is missing: the generator builds on it")

        # The poll total is only known at the end; this estimate is close.
        expected = round(_SAMPLE_STORES * scale * (POLL_HOURS if days is None else 24 * days) * POLLS_PER_STORE_HOUR)
        started = time.perf_counter()
        with tqdm(
            total=expected, unit=" polls", unit_scale=True, desc="polls", disable=not sys.stderr.isatty(), leave=False
        ) as bar:

            def progress(written: int) -> None:
                bar.update(written - bar.n)

            try:
                counts = generate_dataset(
                    out_dir=out, scale=scale, seed=seed, sample_dir=sample_dir, progress=progress, days=days
                )
            except OSError as error:
                raise CommandError(f"cannot write data set to {out}: {error}") from None
        elapsed = time.perf_counter() - started
        self.stdout.write(
            f"generated {counts.stores:,} stores, {counts.polls:,} polls, {counts.hours_rows:,} hours rows, "
            f"{counts.timezone_rows:,} timezones in {elapsed:.1f} s -> {out}"
        )

    @staticmethod
    def _check_writable(out: Path) -> None:
        """Fail early, with a message that names the problem, instead of in
        the middle of writing."""
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} exists and is not a directory")
        try:
            out.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise CommandError(f"cannot create --out directory {out}: {error.strerror}") from None
        if not os.access(out, os.W_OK | os.X_OK):
            raise CommandError(f"--out directory {out} is not writable")
