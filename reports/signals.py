"""What the report machinery tells the rest of the service, without importing it.

``report_finished`` is sent once a report ends Complete or Failed, with
``report_id`` and ``status``; scheduled delivery listens, so a subscription's
report goes out as soon as it is ready rather than at the next minute.
"""

from __future__ import annotations

from django.dispatch import Signal

report_finished = Signal()
