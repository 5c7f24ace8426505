"""``manage.py demo_data``: beside the real sample, a generated week with outages for a few hundred real stores.

A thin shell around :mod:`devtools.demo` and :func:`devtools.generator.generate_dataset`: it writes the
week into ``var/demo/`` (ending at the sample's newest poll) and loads it with ``ingest``. Running it
again stores nothing twice.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser

from devtools.demo import DEMO_SEED, DEMO_STORES, demo_dir, newest_poll_in, sample_dir
from devtools.generator import HOURS_FILE, POLLS_FILE, TIMEZONES_FILE, generate_dataset


class Command(BaseCommand):
    help = (
        "Generate a week of polls with realistic outages for --stores real stores of the bundled sample (their real "
        "hours and zones), ending at the sample's newest poll, and load it. Idempotent."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--stores", type=int, default=DEMO_STORES, help=f"default {DEMO_STORES}")
        parser.add_argument("--seed", type=int, default=DEMO_SEED, help=f"default {DEMO_SEED}")

    def handle(self, *args: Any, **options: Any) -> None:
        # The demo is for a local run: it adds invented polls to whatever database it is pointed at.
        if not settings.DEBUG:
            raise CommandError("demo_data runs only with DEBUG=1: it loads generated polls")
        if not 1 <= options["stores"] <= 13_584:
            raise CommandError(f"--stores must be from 1 to 13584, got {options['stores']}")
        sample, out = sample_dir(), demo_dir()
        end = newest_poll_in(sample / POLLS_FILE)
        counts = generate_dataset(
            out_dir=out, sample_dir=sample, seed=options["seed"], stores=options["stores"], end=end
        )
        self.stdout.write(
            f"demo week: {counts.polls} polls for {counts.stores} real stores, up to {end:%Y-%m-%d %H:%M:%S} UTC "
            f"(the sample's newest poll), in {out}"
        )
        # Their hours and zones are the sample's own rows: loading them again changes nothing.
        call_command(
            "ingest",
            "--timezones",
            str(out / TIMEZONES_FILE),
            "--hours",
            str(out / HOURS_FILE),
            "--polls",
            str(out / POLLS_FILE),
            stdout=self.stdout,
            stderr=self.stderr,
        )
