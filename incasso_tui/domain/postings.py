"""What the daily run posts, as pure functions (issue 12): statutory interest per period, its cancellation from a
ruling date, and collection costs per claim with the Besluit BIK's limit on stacking.

**Statutory interest per period.** Each open installment (a *line*) carries interest from the day after its due
date (its *start*, or the end of a debt track that interrupted it, see below). The interest posted for a period
``[period_start, period_end)`` is, per line, ``I(start, period_end) - I(start, max(start, period_start))`` where
``I`` is :func:`~incasso_tui.domain.interest.statutory_interest` (yearly compounding at each anniversary of the
start, art. 6:119 lid 2 BW, and every rate change). The postings of consecutive periods therefore add up to exactly
what ``incasso calc rente`` gives for the same amount and dates: the compounding is the calculator's.

**Days inside a debt track** carry no interest (art. 303 Fw for WSNP; art. 128 Fw for bankruptcy; the desk's choice
for a minnelijk traject). After a track ends without a clean slate the line's interest starts afresh on the day
after the track ended: no day inside the track is charged, and the compounding year starts again (which can only
charge less than counting it from the default).

**Cancellation.** A posting's *basis* (JSON on the charge) keeps its period, kind and each line's amount and start,
so that the part for the days on and after a ruling date is recomputed exactly (:func:`interest_after`).

**Collection costs per claim** (art. 6:96 lid 6 and 7 BW, Besluit BIK): a consumer 14-day letter covers the
installments not covered by an earlier 14-day letter; its costs are the WIK scale on their summed amount, and,
within the stacking period (``data/costs.toml``, unverified), never more than one letter for all of them would
have cost: ``wik(sum of the bases) - costs already charged or announced`` (:func:`stacked_costs`). This can only
lower the costs.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from incasso_tui.domain.costs import wik_costs
from incasso_tui.domain.interest import InterestKind, RateRow, rows_in_force, statutory_interest
from incasso_tui.domain.money import ZERO

__all__ = [
    "InterestBasis",
    "InterestLine",
    "PriorCosts",
    "interest_after",
    "period_interest",
    "stacked_costs",
]


@dataclass(frozen=True)
class InterestLine:
    """An open installment: the amount interest runs on and its first day of interest."""

    amount: Decimal
    start: date


@dataclass(frozen=True)
class InterestBasis:
    """What a statutory-interest posting was computed on (stored as the charge's ``basis``)."""

    kind: InterestKind
    period_start: date
    period_end: date
    lines: tuple[InterestLine, ...]

    def to_json(self) -> str:
        return json.dumps(
            {
                "kind": self.kind,
                "period": [self.period_start.isoformat(), self.period_end.isoformat()],
                "lines": [[str(line.amount), line.start.isoformat()] for line in self.lines],
            }
        )

    @classmethod
    def from_json(cls, text: str) -> InterestBasis:
        raw = json.loads(text)
        return cls(
            raw["kind"],
            date.fromisoformat(raw["period"][0]),
            date.fromisoformat(raw["period"][1]),
            tuple(InterestLine(Decimal(a), date.fromisoformat(s)) for a, s in raw["lines"]),
        )


class _Rates:
    """A rate table as a cache key whose hash is computed once: ``_cumulative``'s cache hashed the whole table (a
    tuple of rows, each hashed field by field) on every call, a call per line of every posting. Equal when the rows
    are (the same row objects compare by identity first)."""

    __slots__ = ("_hash", "rows")

    def __init__(self, rows: Sequence[RateRow]) -> None:
        self.rows = tuple(rows)
        self._hash = hash(self.rows)

    def __hash__(self) -> int:
        return self._hash

    def __eq__(self, other: object) -> bool:
        return self is other or (isinstance(other, _Rates) and self.rows == other.rows)


@lru_cache(maxsize=65536)
def _cumulative(amount: Decimal, start: date, end: date, kind: InterestKind, rates: _Rates) -> Decimal:
    """``statutory_interest`` from ``start`` to ``end`` (a pure function: the run asks it for the same installment
    amounts and dates over and over)."""
    return statutory_interest(amount, start, end, kind, rates.rows).interest


@lru_cache(maxsize=4096)
def _rows_in_force(start: date, end: date, rates: _Rates) -> tuple[RateRow, ...]:
    """``rows_in_force`` (a pure function: the lines of a run's postings mostly share the period's start)."""
    return rows_in_force(start, end, rates.rows)


def _between(line: InterestLine, frm: date, to: date, kind: InterestKind, rates: _Rates) -> Decimal:
    """The interest of one line on the days ``[frm, to)`` (only those on or after its start), compounding from its
    start: the difference of two computations from the start, so that periods add up exactly."""
    frm = max(frm, line.start)
    if frm >= to:
        return ZERO
    upto = _cumulative(line.amount, line.start, to, kind, rates)
    before = _cumulative(line.amount, line.start, frm, kind, rates) if frm > line.start else ZERO
    return upto - before


def period_interest(
    lines: Iterable[InterestLine], period_start: date, period_end: date, kind: InterestKind, rates: Sequence[RateRow]
) -> tuple[Decimal, InterestBasis, tuple[RateRow, ...]]:
    """The statutory interest of ``lines`` for the days ``[period_start, period_end)``, its basis, and the rate rows
    it used (to report the unverified ones)."""
    kept = tuple(line for line in lines if line.amount > 0 and line.start < period_end)
    table = _Rates(rates)
    total = sum((_between(line, period_start, period_end, kind, table) for line in kept), ZERO)
    used: dict[date, RateRow] = {}
    for start in {max(line.start, period_start) for line in kept}:
        for row in _rows_in_force(start, period_end, table):
            used[row.start] = row
    return total, InterestBasis(kind, period_start, period_end, kept), tuple(used[k] for k in sorted(used))


def interest_after(basis: InterestBasis, ruling: date, rates: Sequence[RateRow]) -> Decimal:
    """The part of a posting for the days on and after ``ruling`` (0 when its period ended before)."""
    if ruling >= basis.period_end:
        return ZERO
    table = _Rates(rates)
    return sum(
        (_between(line, max(ruling, basis.period_start), basis.period_end, basis.kind, table) for line in basis.lines),
        ZERO,
    )


@dataclass(frozen=True)
class PriorCosts:
    """An earlier 14-day letter on the same agreements inside the stacking period: the claims it covered and the
    costs it charged (or announced, while its term runs)."""

    base: Decimal
    costs: Decimal


def stacked_costs(base: Decimal, prior: Iterable[PriorCosts]) -> Decimal:
    """The collection costs on ``base`` (the claims of this letter), never more than the WIK scale on it and never
    more than one letter for all the claims of the period would have cost (the Besluit BIK's limit on stacking,
    with the period as data): ``min(wik(base), max(0, wik(base + prior bases) - prior costs))``."""
    prior = list(prior)
    own = wik_costs(base)
    if not prior:
        return own
    together = wik_costs(base + sum((p.base for p in prior), ZERO)) - sum((p.costs for p in prior), ZERO)
    return min(own, max(together, ZERO))
