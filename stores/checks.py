"""A database system check: stored store ids that break the store-id rule.

Run by ``manage.py check --database default`` (and ``migrate``, which runs
database checks), so ids loaded before SEMANTICS v2 narrowed the rule are
reported without deleting anything; ``manage.py check_store_ids`` lists them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from django.core.checks import CheckMessage, Warning
from django.db import DatabaseError

from stores.rules import STORE_ID_RULE, store_id_problem


def stored_store_ids_follow_the_rule(
    app_configs: Sequence[Any] | None = None, databases: Iterable[str] | None = None, **kwargs: Any
) -> list[CheckMessage]:
    if not databases:
        return []
    from stores.models import Store

    messages: list[CheckMessage] = []
    for alias in databases:
        try:
            ids = Store.objects.using(alias).values_list("id", flat=True).iterator(chunk_size=5000)
            broken = sum(1 for store_id in ids if store_id_problem(store_id) is not None)
        except DatabaseError:
            continue  # not migrated yet: nothing stored to check
        if broken:
            messages.append(
                Warning(
                    f"{broken} stored store ids in database {alias!r} are not {STORE_ID_RULE}",
                    hint="manage.py check_store_ids lists them; nothing was changed",
                    id="stores.W001",
                )
            )
    return messages
