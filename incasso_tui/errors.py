"""Typed errors shared by every layer.

An error carries an English message id with ``{placeholders}`` and its parameters, never a finished
sentence: the TUI and the CLI translate the id into the session's language and format the parameters
(amounts, dates) for its locale at the boundary. ``str(err)`` gives the English text, for logs and tests.
"""

from __future__ import annotations

from typing import Any


def N_(msgid: str) -> str:
    """Mark a string for translation without translating it (gettext's N_)."""
    return msgid


class IncassoError(Exception):
    """Base of every error a user may see. ``field`` names the input that caused it, when there is one."""

    exit_code = 2

    def __init__(self, msgid: str, *, field: str | None = None, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        self.field = field
        super().__init__(self.english())

    def english(self) -> str:
        try:
            return self.msgid.format(**self.params)
        except (KeyError, IndexError, ValueError):
            return self.msgid


class BadInput(IncassoError):
    """Input that cannot be understood: a malformed amount, date, IBAN, file."""


class RuleViolation(IncassoError):
    """A rule of the law or the procedure refuses this step (now)."""


class MandateExceeded(RuleViolation):
    """The position is above the desk's mandate."""


class FourEyesViolation(RuleViolation):
    """The proposer tried to approve their own proposal."""


class NotAllowed(IncassoError):
    """The actor's role does not allow this."""


class NotFound(IncassoError):
    """The thing asked for does not exist."""


class StaleData(IncassoError):
    """Somebody else changed the record since it was read (optimistic locking)."""


class ConfigError(IncassoError):
    """A configuration, settings or data file is wrong."""


class DatabaseUnavailable(IncassoError):
    """The database did not answer (busy beyond its timeout, the connection lost, a damaged file).

    Raised at the store boundary (``store.db``) in place of the driver's error, so that every screen and command
    shows one translated line and the session lives on; ``kind`` is ``busy``, ``lost``, ``damaged`` or ``error``.
    """

    exit_code = 3

    def __init__(self, msgid: str, *, kind: str, **params: Any) -> None:
        self.kind = kind
        super().__init__(msgid, **params)


class BadFile(BadInput):
    """An outside file (bank statement, template, procedure definition) is refused.

    ``where`` names the line or element that is wrong.
    """

    def __init__(self, msgid: str, *, where: str | None = None, **params: Any) -> None:
        self.where = where
        super().__init__(msgid, where=where, **params)
