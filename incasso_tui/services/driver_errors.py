"""A database driver's error that reached a caller unmapped, as a typed error (the UI's safety net).

The store maps what it knows (``store.db``: a database that does not answer, a lock); anything else SQLAlchemy
raises is ``DRIVER_ERROR``. The UI catches it through this module, so it never imports SQLAlchemy itself (the
import-linter contract "the UI never imports sqlalchemy or the store").
"""

from __future__ import annotations

from sqlalchemy.exc import SQLAlchemyError

from incasso_tui.errors import N_, DatabaseUnavailable, IncassoError

DRIVER_ERROR = SQLAlchemyError


def as_incasso_error(exc: BaseException) -> IncassoError:
    """``exc`` as a typed error: its first line, for the operator."""
    first = (str(getattr(exc, "orig", None) or exc).strip().splitlines() or [type(exc).__name__])[0]
    return DatabaseUnavailable(N_("The database refused: {error}"), kind="error", error=first)
