"""
WSGI config for loopmonitor project.

It exposes the WSGI callable as a module-level variable named ``application``.

For more information on this file, see
https://docs.djangoproject.com/en/5.2/howto/deployment/wsgi/
"""

import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loopmonitor.settings")

application = get_wsgi_application()

# Import the URL conf, and with it every view and DRF (0.1-0.25 s on this
# project's 2-core machines under load), while the server process starts
# rather than in the first request it serves: that request may be the
# hourly feed's upload.
get_resolver().url_patterns  # noqa: B018 - a cached property, read for its import
