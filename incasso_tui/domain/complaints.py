"""Complaints and disputes (issue 19): the terms and the deadlines that follow from a complaint's receipt.

The terms are data (``data/complaints.toml``, with their source and whether they are verified): acknowledge within
``acknowledge_working_days`` working days (Saturdays, Sundays and Dutch public holidays do not count, as in
``domain.calendar``), a final answer within ``answer_weeks`` weeks of receipt, and the final answer mentions Kifid
(``kifid_notice``, per language).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from incasso_tui.domain.calendar import is_working_day
from incasso_tui.errors import N_, ConfigError

KINDS = ("complaint", "dispute")
OUTCOMES = ("upheld", "partly_upheld", "rejected", "withdrawn")


@dataclass(frozen=True)
class ComplaintTerms:
    acknowledge_working_days: int
    answer_weeks: int
    kifid_notice: dict[str, str]  # language -> the sentence the final answer ends with


def add_working_days(start: date, days: int) -> date:
    """The ``days``-th working day after ``start`` (``start`` itself does not count)."""
    day = start
    counted = 0
    while counted < days:
        day += timedelta(days=1)
        if is_working_day(day):
            counted += 1
    return day


def deadlines(received: date, terms: ComplaintTerms) -> tuple[date, date]:
    """(acknowledge by, answer by) for a complaint received on ``received``."""
    return add_working_days(received, terms.acknowledge_working_days), received + timedelta(weeks=terms.answer_weeks)


DEFAULT_TERMS_PATH = Path(__file__).resolve().parents[2] / "data" / "complaints.toml"


def load_terms(path: Path | None = None) -> ComplaintTerms:
    """Read ``data/complaints.toml`` (or ``path``); a missing or wrong value is a :class:`ConfigError`."""
    where = path or DEFAULT_TERMS_PATH
    try:
        raw = tomllib.loads(where.read_text(encoding="utf-8"))
        ack = int(raw["acknowledge"]["working_days"])
        weeks = int(raw["answer"]["weeks"])
        notice = {lang: str(raw["kifid_notice"][lang]).strip() for lang in ("nl", "en")}
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(
            N_("The complaint terms {file} cannot be read: {error}"), file=str(where), error=str(exc)
        ) from None
    if not 0 < ack <= 30 or not 0 < weeks <= 52 or not all(notice.values()):
        raise ConfigError(N_("The complaint terms {file} are out of range"), file=str(where))
    return ComplaintTerms(ack, weeks, notice)


__all__ = ["KINDS", "OUTCOMES", "ComplaintTerms", "add_working_days", "deadlines", "load_terms"]
