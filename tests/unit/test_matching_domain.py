"""Name similarity and the amount kind of assisted matching (domain.matching), worked by hand."""

from __future__ import annotations

from decimal import Decimal

from incasso_tui.domain.matching import Evidence, amount_kind, name_similarity


def test_name_similarity_by_hand() -> None:
    # "J. van Dijk" -> significant words j, dijk ("van" is filler); Jan van Dijk has jan, van, dijk: 2 of 2
    assert name_similarity("J. van Dijk", "Jan van Dijk") == Decimal("1.00")
    # "D. Dijkstra" against "Tom Dijkstra": dijkstra matches, "d" has no other word to start: 1 of 2
    assert name_similarity("D. Dijkstra", "Tom Dijkstra") == Decimal("0.50")
    # against the contact person when the client's own name does not look like it
    assert name_similarity("D. Dijkstra", "Adviesbureau Polderzicht B.V.", "Daan Dijkstra") == Decimal("1.00")
    # "Koffiebar V.D. Berg" -> koffiebar, v, d, berg (v, d: initials); "Koffiebar Van den Berg": koffiebar, berg,
    # then "v" -> van, "d" -> den: 4 of 4
    assert name_similarity("Koffiebar V.D. Berg", "Koffiebar Van den Berg") == Decimal("1.00")
    assert name_similarity(None, "Jan") == Decimal(0)
    assert name_similarity("Pietersen", "Jan Jansen") == Decimal(0)


def test_amount_kind_prefers_the_arrangement() -> None:
    assert amount_kind(Decimal("50.00"), {Decimal("50.00")}, {Decimal("50.00")}, Decimal("300")) == "arrangement"
    assert amount_kind(Decimal("50.00"), {Decimal("50.00")}, set(), Decimal("300")) == "installment"
    assert amount_kind(Decimal("300"), set(), set(), Decimal("300")) == "arrears"
    assert amount_kind(Decimal("1"), set(), set(), Decimal("0")) is None


def test_score_sums_the_evidence_and_caps_at_100() -> None:
    # IBAN 45 + loan reference 40 + name 1.00 x 30 + installment 20 = 135 -> 100
    full = Evidence(1, iban=True, loan_refs={"L12345678"}, name_similarity=Decimal("1"), amount_kind="installment")
    assert full.score() == 100
    # name 0.5 x 30 = 15, arrears 15: 30
    assert Evidence(2, name_similarity=Decimal("0.50"), amount_kind="arrears").score() == 30
