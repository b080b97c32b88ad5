"""Dutch public holidays, post delivery days and the term of the 14-day letter.

The 14-day letter (veertiendagenbrief, art. 6:96 lid 6 BW) gives the consumer 14 days to pay,
starting the day after the debtor RECEIVED it (HR 25-11-2016, ECLI:NL:HR:2016:2704). The
application assumes receipt on the Nth delivery day after sending (N is a setting, default 2,
domain-rules.md); letter post is not delivered on Sundays, Mondays and public holidays.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from incasso_tui.errors import N_, ConfigError

__all__ = [
    "TERM_DAYS",
    "FourteenDayTerm",
    "dutch_public_holidays",
    "easter_sunday",
    "fourteen_day_term",
    "is_delivery_day",
    "is_working_day",
]

TERM_DAYS = 14
_FIRST_YEAR = 2014  # Koningsdag replaced Koninginnedag (30 April) in 2014
_MAX_RECEIPT_DELIVERY_DAYS = 10


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm, Meeus/Jones/Butcher)."""
    a = year % 19
    b, c = divmod(year, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 - the algorithm's own name
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return date(year, month, day + 1)


def dutch_public_holidays(year: int) -> set[date]:
    """The Dutch public holidays of ``year`` (2014 and later) on which no letter post is delivered.

    The general holidays of art. 3 Algemene termijnenwet: Nieuwjaarsdag, Eerste and Tweede Paasdag,
    Hemelvaartsdag, Eerste and Tweede Pinksterdag, Koningsdag (27 April, or 26 April when the 27th
    is a Sunday), Bevrijdingsdag (5 May, every year, as in the Algemene termijnenwet) and Eerste and
    Tweede Kerstdag. Goede Vrijdag is included too, deliberately: it is not a general day off for
    everybody, but counting it as a non-delivery day can only move the assumed receipt of a letter
    later, never earlier, so the debtor never gets less time than the law gives.
    """
    if year < _FIRST_YEAR:
        raise ValueError(f"holidays are known from {_FIRST_YEAR} on, not for {year}")
    easter = easter_sunday(year)
    kings_day = date(year, 4, 27)
    if kings_day.weekday() == 6:
        kings_day = date(year, 4, 26)
    return {
        date(year, 1, 1),  # Nieuwjaarsdag
        easter - timedelta(days=2),  # Goede Vrijdag
        easter,  # Eerste Paasdag
        easter + timedelta(days=1),  # Tweede Paasdag
        kings_day,  # Koningsdag
        date(year, 5, 5),  # Bevrijdingsdag
        easter + timedelta(days=39),  # Hemelvaartsdag
        easter + timedelta(days=49),  # Eerste Pinksterdag
        easter + timedelta(days=50),  # Tweede Pinksterdag
        date(year, 12, 25),  # Eerste Kerstdag
        date(year, 12, 26),  # Tweede Kerstdag
    }


def is_delivery_day(d: date) -> bool:
    """Whether letter post is delivered on ``d``: not on Sundays, Mondays and public holidays."""
    return d.weekday() not in (0, 6) and d not in dutch_public_holidays(d.year)


def is_working_day(d: date) -> bool:
    """Whether ``d`` is not a Saturday, Sunday or public holiday (art. 1 Algemene termijnenwet)."""
    return d.weekday() < 5 and d not in dutch_public_holidays(d.year)


@dataclass(frozen=True)
class FourteenDayTerm:
    """The dates that follow from sending a 14-day letter on ``sent``.

    ``term_end`` is the last day on which the debtor may pay without costs; costs may be charged
    from ``costs_from`` on, never earlier.
    """

    sent: date
    assumed_receipt: date
    term_start: date
    term_end: date
    costs_from: date


def fourteen_day_term(sent: date, receipt_delivery_days: int = 2) -> FourteenDayTerm:
    """Compute the term of a 14-day letter sent on ``sent`` (art. 6:96 lid 6 BW).

    - ``assumed_receipt``: the ``receipt_delivery_days``-th delivery day after ``sent`` (the day of
      sending does not count; see :func:`is_delivery_day`).
    - ``term_start``: the day after receipt (HR 25-11-2016, ECLI:NL:HR:2016:2704).
    - ``term_end``: receipt + 14 days, the last day to pay. It is a term set by law, so when it falls
      on a Saturday, Sunday or public holiday it is extended to the next day that is none of these
      (art. 1 lid 1 Algemene termijnenwet).
    - ``costs_from``: the day after ``term_end``.

    ``receipt_delivery_days`` is a setting from 1 to 10; another value raises :class:`ConfigError`.
    """
    if isinstance(receipt_delivery_days, bool) or not isinstance(receipt_delivery_days, int):
        raise TypeError("receipt_delivery_days must be an int")
    if not 1 <= receipt_delivery_days <= _MAX_RECEIPT_DELIVERY_DAYS:
        raise ConfigError(
            N_("The assumed receipt must be 1 to {max} delivery days after sending, not {days}"),
            max=_MAX_RECEIPT_DELIVERY_DAYS,
            days=receipt_delivery_days,
        )
    receipt, counted = sent, 0
    while counted < receipt_delivery_days:
        receipt += timedelta(days=1)
        counted += is_delivery_day(receipt)
    term_end = receipt + timedelta(days=TERM_DAYS)
    while not is_working_day(term_end):
        term_end += timedelta(days=1)
    return FourteenDayTerm(
        sent=sent,
        assumed_receipt=receipt,
        term_start=receipt + timedelta(days=1),
        term_end=term_end,
        costs_from=term_end + timedelta(days=1),
    )
