"""``manage.py check_store_ids``: list stored store ids that break the store-id rule.

SEMANTICS v2 narrowed the rule (see :func:`stores.rules.store_id_problem`);
ids loaded before it are kept, since deleting a store deletes its polls and
hours. This command reports them so an operator can decide; it changes
nothing. Exit code 1 when there is at least one.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand

from stores.models import Store
from stores.rules import STORE_ID_RULE, echo, store_id_problem


class Command(BaseCommand):
    help = f"List stored store ids that are not {STORE_ID_RULE}; changes nothing, exits 1 if any."

    def handle(self, *args: Any, **options: Any) -> None:
        checked = broken = 0
        for store_id in Store.objects.order_by("id").values_list("id", flat=True).iterator(chunk_size=5000):
            checked += 1
            problem = store_id_problem(store_id)
            if problem is not None:
                broken += 1
                self.stdout.write(f"{echo(store_id)!r}: {problem}")
        self.stdout.write(f"{broken} of {checked} stored store ids break the rule; nothing was changed")
        if broken:
            sys.exit(1)
