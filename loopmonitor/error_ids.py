"""Error ids: what a user sees of an unexpected error, while the log keeps its text.

Apart from :mod:`loopmonitor.exceptions` (the API's error answers), which
imports Django REST framework: the workers name their errors the same way
without loading the API's modules (0.23 s of a worker's first task).
"""

from __future__ import annotations

import logging
import secrets

logger = logging.getLogger(__name__)


def logged_error_id(what: str, exception: BaseException | None, *, error_id: str | None = None) -> str:
    """Log that ``what`` failed, with the traceback when given, under an error id (new unless given); returns it.

    For any answer or stored message a user sees: it names the id, and only
    the log holds the exception's text.
    """
    error_id = error_id or secrets.token_hex(8)
    logger.error("error %s: %s", error_id, what, exc_info=exception)
    return error_id
