"""Statutory interest (wettelijke rente, art. 6:119 BW; wettelijke handelsrente, art. 6:119a BW).

How the interest is computed:

- Simple interest per day on the base amount, from ``start`` up to but NOT including ``end`` (the
  payment day).
- A new rate applies from its start date to running claims too (art. 6:120 lid 2 BW); the rates
  come from ``data/rates.toml`` with a source per row (:func:`load_rates`).
- Yearly compounding: after each full year counted from ``start`` the interest over that year is
  added to the base (art. 6:119 lid 2 BW, also for handelsrente by art. 6:119a lid 3 BW). The
  anniversary of a 29 February start is 28 February in common years.
- Day count (the law prescribes none; this is the convention of this application): each day counts
  as 1/365 of a year, or 1/366 when the day falls in a calendar year containing 29 February.
- The period is split at every date where the rate of the chosen kind changes, at every
  anniversary of ``start``, and at 1 January when the year length changes (a leap year begins or
  ends). Each period's interest is rounded half-up to the cent; the total is the sum of the periods.
"""

from __future__ import annotations

import calendar
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext
from itertools import pairwise
from pathlib import Path
from typing import Any, Literal, get_args

from incasso_tui.domain.money import CENT, ZERO, ensure_money
from incasso_tui.domain.schedule import add_months
from incasso_tui.errors import N_, BadInput, ConfigError

__all__ = [
    "DEFAULT_RATES_PATH",
    "InterestKind",
    "InterestPeriod",
    "InterestResult",
    "RateRow",
    "load_rates",
    "rows_in_force",
    "statutory_interest",
]

InterestKind = Literal["wettelijk", "handels"]
DEFAULT_RATES_PATH = Path(__file__).resolve().parents[2] / "data" / "rates.toml"
_MAX_FILE_BYTES = 1_000_000
_ROW_FIELDS = frozenset({"start", "wettelijk", "handels", "source", "verified"})


@dataclass(frozen=True)
class RateRow:
    """The statutory rates in force from ``start`` (fractions: ``Decimal("0.04")`` = 4 %)."""

    start: date
    wettelijk: Decimal
    handels: Decimal
    source: str
    verified: bool

    def rate(self, kind: InterestKind) -> Decimal:
        """The rate of the given kind."""
        return self.wettelijk if kind == "wettelijk" else self.handels


@dataclass(frozen=True)
class InterestPeriod:
    """A stretch of days with one base and one rate; ``end`` is exclusive."""

    start: date
    end: date
    days: int
    base: Decimal
    rate: Decimal
    interest: Decimal


@dataclass(frozen=True)
class InterestResult:
    """Statutory interest on ``principal``: the total and the periods it is made of."""

    principal: Decimal
    interest: Decimal
    periods: tuple[InterestPeriod, ...]


def _row_error(msgid: str, path: Path, row: int, **params: Any) -> ConfigError:
    return ConfigError(msgid, file=str(path), row=row, **params)


def _parse_row(raw: object, path: Path, row: int) -> RateRow:
    if not isinstance(raw, dict) or set(raw) != _ROW_FIELDS:
        fields = ", ".join(sorted(_ROW_FIELDS))
        raise _row_error(
            N_("Rate table {file}, row {row}: the fields must be exactly {fields}"), path, row, fields=fields
        )
    start = raw["start"]
    if not isinstance(start, date) or isinstance(start, datetime):
        raise _row_error(N_("Rate table {file}, row {row}: start must be a date (YYYY-MM-DD)"), path, row)
    rates: dict[str, Decimal] = {}
    for name in get_args(InterestKind):
        value = raw[name]
        if (
            isinstance(value, bool)
            or not isinstance(value, (Decimal, int))
            or not Decimal(value).is_finite()
            or not 0 <= value < 1
        ):
            raise _row_error(
                N_("Rate table {file}, row {row}: {name} must be a fraction from 0 up to (not including) 1"),
                path,
                row,
                name=name,
            )
        rates[name] = Decimal(value)
    if not isinstance(raw["verified"], bool):
        raise _row_error(N_("Rate table {file}, row {row}: verified must be true or false"), path, row)
    source = raw["source"]
    if not isinstance(source, str) or not source.strip() or any(not c.isprintable() for c in source):
        raise _row_error(N_("Rate table {file}, row {row}: the source must be non-empty printable text"), path, row)
    return RateRow(start, rates["wettelijk"], rates["handels"], source.strip(), raw["verified"])


def load_rates(path: Path | None = None) -> tuple[RateRow, ...]:
    """Read and check the rate table (default: the repository's ``data/rates.toml``).

    Each ``[[rate]]`` row needs ``start`` (a TOML date), ``wettelijk`` and ``handels`` (fractions
    written as TOML numbers, read as exact decimals), ``source`` (non-empty) and ``verified``. Rows
    must be in ascending order of start, one per date. Any problem raises :class:`ConfigError`
    naming the file and the row (rows count from 1).
    """
    path = DEFAULT_RATES_PATH if path is None else path
    try:
        with path.open("rb") as fh:
            content = fh.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the rate table {file}: {reason}"), file=str(path), reason=exc.strerror
        ) from exc
    if len(content) > _MAX_FILE_BYTES:
        raise ConfigError(N_("The rate table {file} is too large"), file=str(path))
    try:
        document = tomllib.loads(content.decode("utf-8"), parse_float=Decimal)
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            N_("The rate table {file} is not valid TOML: {reason}"), file=str(path), reason=str(exc)
        ) from exc
    raw_rows = document.get("rate")
    if set(document) != {"rate"} or not isinstance(raw_rows, list) or not raw_rows:
        raise ConfigError(
            N_("The rate table {file} must hold one or more [[rate]] rows and nothing else"), file=str(path)
        )
    rows = tuple(_parse_row(raw, path, number) for number, raw in enumerate(raw_rows, start=1))
    for number in range(1, len(rows)):
        if rows[number].start <= rows[number - 1].start:
            raise _row_error(
                N_("Rate table {file}, row {row}: the start dates must be unique and in ascending order"),
                path,
                number + 1,
            )
    return rows


def _check_dates(start: date, end: date) -> None:
    for value in (start, end):
        if isinstance(value, datetime) or not isinstance(value, date):
            raise TypeError(f"expected a date, not {type(value).__name__}")
    if end < start:
        raise BadInput(N_("The end date {end} is before the start date {start}"), field="end", start=start, end=end)


def rows_in_force(start: date, end: date, rates: Sequence[RateRow] | None = None) -> tuple[RateRow, ...]:
    """The rate rows in force on at least one day from ``start`` up to (not including) ``end``.

    Used to show where the rates of a computation came from, and whether any was unverified.
    """
    _check_dates(start, end)
    table = sorted(load_rates() if rates is None else rates, key=lambda r: r.start)
    return tuple(
        row
        for row, following in zip(table, [*table[1:], None], strict=True)
        if row.start < end and (following is None or following.start > start)
    )


def statutory_interest(
    amount: Decimal,
    start: date,
    end: date,
    kind: InterestKind = "wettelijk",
    rates: Sequence[RateRow] | None = None,
) -> InterestResult:
    """Statutory interest on ``amount`` from ``start`` up to, not including, ``end`` (the payment day).

    See the module docstring for the rules (art. 6:119, 6:119a, 6:120 BW) and the day count.
    ``rates`` defaults to :func:`load_rates`. Raises :class:`BadInput` for a negative amount, an
    unknown kind, ``end`` before ``start``, or a ``start`` before the first row of the rate table.
    ``end == start`` gives 0.00 with no periods.
    """
    principal = ensure_money(amount)
    if principal < 0:
        raise BadInput(N_("The principal may not be negative"), field="amount")
    if kind not in get_args(InterestKind):
        raise BadInput(N_("Unknown interest kind: {kind}"), field="kind", kind=kind)
    _check_dates(start, end)
    table = sorted(load_rates() if rates is None else rates, key=lambda r: r.start)
    if not table:
        raise ValueError("the rate table is empty")
    if start < table[0].start:
        raise BadInput(
            N_("Statutory interest can only be computed from {first} on"), field="start", first=table[0].start
        )
    if end == start:
        return InterestResult(principal, ZERO, ())

    cuts = {start, end}
    cuts.update(
        row.start
        for previous, row in pairwise(table)
        if start < row.start < end and row.rate(kind) != previous.rate(kind)
    )
    anniversaries: set[date] = set()
    year = 1
    while (anniversary := add_months(start, 12 * year, day=start.day)) < end:
        anniversaries.add(anniversary)
        year += 1
    cuts.update(anniversaries)
    cuts.update(
        date(y, 1, 1) for y in range(start.year + 1, end.year + 1) if calendar.isleap(y) != calendar.isleap(y - 1)
    )
    points = sorted(d for d in cuts if start <= d <= end)

    periods: list[InterestPeriod] = []
    base, interest_this_year = principal, ZERO
    for period_start, period_end in pairwise(points):
        if period_start in anniversaries:  # art. 6:119 lid 2 BW: a year's interest joins the base
            base, interest_this_year = base + interest_this_year, ZERO
        rate = next(r for r in reversed(table) if r.start <= period_start).rate(kind)
        days = (period_end - period_start).days
        year_days = 366 if calendar.isleap(period_start.year) else 365
        with localcontext(prec=28):
            interest = (base * rate * days / year_days).quantize(CENT, rounding=ROUND_HALF_UP)
        periods.append(InterestPeriod(period_start, period_end, days, base, rate, interest))
        interest_this_year += interest
    return InterestResult(principal, sum((p.interest for p in periods), ZERO), tuple(periods))
