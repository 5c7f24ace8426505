"""The test suite's settings: the service's own, read with ``DEBUG`` on.

``DEBUG`` defaults to off, and the settings module derives more from it at
import (the development ``SECRET_KEY``, no HTTPS redirect), so it is set in
the environment before that import rather than overridden after. The
processes the suite starts (``qcluster``, ``manage.py``) inherit it, and
``LOOPMONITOR_DEVTOOLS`` too.
pytest-django still runs each test with ``settings.DEBUG`` false, as Django's
own test runner does.
"""

from __future__ import annotations

import os

os.environ["DEBUG"] = "1"
# The suite tests the development tooling too (generator, benchmarks' helpers, serve).
os.environ["LOOPMONITOR_DEVTOOLS"] = "1"

from loopmonitor.settings import *  # noqa: E402, F403

# The suite's processes keep throttle counters in memory, so the tests that
# count a view's queries count the view's, not the cache's. The shared
# database cache and Redis are exercised with the production settings by
# tests/operations/test_gunicorn.py. django-q2's cluster stats stay in a
# shared database cache: /readyz, in this process, must see a qcluster's.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "cluster_stats": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "loopmonitor_cache",
        "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", ""),  # as the production settings' cache
    },
}
Q_CLUSTER = {**Q_CLUSTER, "cache": "cluster_stats"}  # noqa: F405

# The production hasher (PBKDF2, a million rounds) takes 0.5 s a password on the
# CI machine, and the suite makes hundreds of users (the admin's superusers, the
# owners); nothing the tests check of a password depends on the hasher. The
# processes started with the service's own settings (gunicorn, serve) keep it.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
