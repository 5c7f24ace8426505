"""ORM saves and deletes of stores, polls and hours rows bump the data version (:mod:`stores.data_version`).

The bulk writers (the loaders, retention) do not send signals and bump once
themselves; these receivers cover the one-object paths: the admin's add,
change and delete pages and their inlines (each inside the admin's
transaction), and a shell. A delete that cascades (a store with its polls)
sends one signal per row; it is counted once per ``delete()`` call, which
runs in one transaction.
"""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_delete, post_save

from stores.data_version import data_version_bump
from stores.models import BusinessHours, Poll, Store

_COUNTED = "_data_version_counted"


def _saved(sender: type[Any], **kwargs: Any) -> None:
    if not kwargs.get("raw"):  # loaddata: fixtures, not a change to live data
        data_version_bump()


def _deleted(sender: type[Any], origin: Any = None, **kwargs: Any) -> None:
    if origin is not None and getattr(origin, _COUNTED, False):
        return
    data_version_bump()
    if origin is not None:
        setattr(origin, _COUNTED, True)


def connect() -> None:
    for model in (Store, Poll, BusinessHours):
        post_save.connect(_saved, sender=model, dispatch_uid=f"data_version_saved_{model.__name__}")
        post_delete.connect(_deleted, sender=model, dispatch_uid=f"data_version_deleted_{model.__name__}")
