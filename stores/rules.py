"""The domain's input rules that are about text, not about one file format.

No Django here, and nothing from ``ingestion`` or ``reports``: the loaders
(polls, hours, timezones), the check of already-stored ids and the API all
import these, so each rule is written once.
"""

from __future__ import annotations

import re
from datetime import datetime

STORE_ID_MAX_LENGTH = 64
STORE_ID_RULE = "1-64 characters from A-Z a-z 0-9 . _ : - beginning with a letter or a digit"

_STORE_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]*")
# Python's fromisoformat reads every ISO 8601 form (basic and extended, week
# dates, offsets); 3.11 also stops reading at a NUL and ignores what follows,
# so "…Z\x00anything" parses. Only the characters an ISO 8601 instant can
# hold are let through to it.
_ISO_8601_CHARACTERS = re.compile(r"[0-9TW:.,+\- Z]+")

ECHO_LIMIT = 100
"""Echoed user values (in rejection reasons, error lines) are cut to this many characters."""


def store_id_problem(value: str) -> str | None:
    """Why ``value`` (already stripped) cannot be a store id, or ``None`` when it can.

    SEMANTICS v2: real ids are 19-digit numbers; the rule also keeps every
    id safe to open in a spreadsheet (no leading ``=``, ``+``, ``-``, ``@``)
    and to put in a URL path.
    """
    if not value:
        return "store_id is empty"
    if not value.isprintable():
        return "store_id contains control characters"
    if len(value) > STORE_ID_MAX_LENGTH:
        return f"store_id is longer than {STORE_ID_MAX_LENGTH} characters"
    if not (value.isascii() and _STORE_ID.fullmatch(value)):
        return f"store_id {echo(value)!r} is not {STORE_ID_RULE}"
    return None


def echo(text: str, limit: int = ECHO_LIMIT) -> str:
    """``text`` cut to ``limit`` characters with a marker saying how much was left out.

    A rejection repeats the offending value so the user can find it; a 1 MB
    field must not become a 1 MB error line.
    """
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[{len(text) - limit} more characters]"


def parse_iso_datetime(text: str) -> datetime:
    """``datetime.fromisoformat``, but the whole text must be an ISO 8601 date-time.

    Raises ``ValueError`` like ``fromisoformat`` does.
    """
    if not _ISO_8601_CHARACTERS.fullmatch(text):
        raise ValueError(f"not an ISO 8601 date-time: {echo(text)!r}")
    return datetime.fromisoformat(text)
