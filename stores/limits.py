"""Limits on stored instants, shared by ingestion (poll timestamps) and reports (``as_of``).

Any poll may become a report's ``now``, and a report reads the week before
it and the local days around it: near ``datetime``'s limits (years 1 and
9999) that arithmetic overflows. No real poll falls outside these years.
No Django here: the pure parsers import it.
"""

from __future__ import annotations

from datetime import UTC, datetime

EARLIEST_INSTANT = datetime(1900, 1, 1, tzinfo=UTC)
END_OF_INSTANTS = datetime(9999, 1, 1, tzinfo=UTC)
"""Exclusive: the last supported instant is 9998-12-31 23:59:59.999999 UTC."""
RANGE_TEXT = "between 1900-01-01 and 9998-12-31 (UTC)"
