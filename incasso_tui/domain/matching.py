"""Ranking the clients a queued payment may be for, with the reason for each (issue 14). Pure: the service
(``services.matching``) gathers the facts, this module weighs them.

Evidence and its weight (points; a candidate's score is the sum, at most 100):

- the payer's IBAN is the client's: 45;
- a number in the reference or description is one of the client's loan numbers: 40, client number: 35;
- the payer's name looks like the client's name or contact person: up to 30 (the share of the payer's name words
  that start a word of the client's name, times 30; initials count for a word they start);
- the amount equals an open installment of the loan: 20; a running arrangement's installment: 20; the whole arrears:
  15; only one of these counts (the best).

The weights are a desk's rules of thumb, not law: they order the list; a person picks and confirms.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from incasso_tui.domain.search import words
from incasso_tui.errors import N_

IBAN_POINTS = 45
LOAN_REF_POINTS = 40
CLIENT_REF_POINTS = 35
NAME_POINTS = 30
AMOUNT_POINTS = {"installment": 20, "arrangement": 20, "arrears": 15}
_FILLER = {
    "bv",
    "b",
    "v",
    "vof",
    "o",
    "f",
    "en",
    "de",
    "het",
    "van",
    "der",
    "den",
    "zn",
    "fa",
    "firma",
    "mr",
    "mw",
    "dhr",
    "mevr",
    "t",
    "a",
    "eo",
}


@dataclass(frozen=True)
class Reason:
    """One piece of evidence: an English msgid and its parameters (translated by the screen)."""

    msgid: str
    params: tuple[tuple[str, object], ...] = ()
    points: int = 0


@dataclass
class Evidence:
    client_id: int
    iban: bool = False
    loan_refs: set[str] = field(default_factory=set)
    client_ref: str | None = None
    name_similarity: Decimal = Decimal(0)  # 0..1
    amount_kind: str | None = None  # installment | arrangement | arrears

    def reasons(self) -> list[Reason]:
        out: list[Reason] = []
        if self.iban:
            out.append(Reason(N_("the payer's IBAN is the client's"), (), IBAN_POINTS))
        for loan in sorted(self.loan_refs):
            out.append(Reason(N_("loan number {loan} in the description"), (("loan", loan),), LOAN_REF_POINTS))
            break  # one loan reference is enough evidence; more do not add up
        if self.client_ref and not self.loan_refs:
            out.append(
                Reason(
                    N_("client number {number} in the description"), (("number", self.client_ref),), CLIENT_REF_POINTS
                )
            )
        if self.name_similarity > 0:
            points = int((self.name_similarity * NAME_POINTS).to_integral_value())
            if points:
                percent = int((self.name_similarity * 100).to_integral_value())
                out.append(
                    Reason(N_("the payer's name is {percent} % like the client's"), (("percent", percent),), points)
                )
        if self.amount_kind:
            msgid = {
                "installment": N_("the amount is an installment of the loan"),
                "arrangement": N_("the amount is an installment of the arrangement"),
                "arrears": N_("the amount is the whole arrears"),
            }[self.amount_kind]
            out.append(Reason(msgid, (), AMOUNT_POINTS[self.amount_kind]))
        return out

    def score(self) -> int:
        return min(100, sum(r.points for r in self.reasons()))


def name_similarity(payer: str | None, *names: str | None) -> Decimal:
    """How much of the payer's name is in one of ``names`` (0..1, two decimals): the share of the payer's
    significant words (not "B.V.", "van", ...) that start a word of the name, an initial counting for a word it
    starts, each word of the name used once. ``J. van Dijk`` against ``Jan van Dijk``: "van" is filler, "dijk" is
    "dijk", "j" starts "jan": 2 of 2 = 1.00; ``D. Dijkstra`` against ``Tom Dijkstra``: 1 of 2 = 0.50."""
    mine = [w for w in words(payer) if w not in _FILLER or len(words(payer)) == 1]
    if not mine:
        return Decimal(0)
    best = Decimal(0)
    for name in names:
        theirs = words(name)
        if not theirs:
            continue
        used: set[int] = set()
        hits = 0
        # whole words first, then initials, each on a word of the name not used yet ("D. Dijkstra" against "Tom
        # Dijkstra": "dijkstra" is used by the surname, so the "d" finds nothing)
        for w in sorted(mine, key=len, reverse=True):
            for i, t in enumerate(theirs):
                if i not in used and t.startswith(w):
                    used.add(i)
                    hits += 1
                    break
        best = max(best, (Decimal(hits) / Decimal(len(mine))).quantize(Decimal("0.01")))
    return best


def amount_kind(amount: Decimal, installments: set[Decimal], arrangement: set[Decimal], arrears: Decimal) -> str | None:
    """Which expected amount the payment equals (the best kind), or None."""
    if amount in arrangement:
        return "arrangement"
    if amount in installments:
        return "installment"
    if arrears > 0 and amount == arrears:
        return "arrears"
    return None


__all__ = ["Evidence", "Reason", "amount_kind", "name_similarity"]
