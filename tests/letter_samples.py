"""Sample letter data for the letter tests: one complete LetterData per kind, with figures that add up."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from incasso_tui.domain.calendar import fourteen_day_term
from incasso_tui.domain.references import make_betalingskenmerk
from incasso_tui.letters.model import (
    Arrangement,
    ArrangementLine,
    Arrears,
    BkrWarning,
    CallIn,
    ClaimFigures,
    Client,
    CollectionCosts,
    DebtTrack,
    FourteenDayDates,
    Lender,
    LetterData,
    LetterFigures,
    Loan,
    Trustee,
)

LETTER_DATE = date(2026, 11, 23)
LENDER = Lender(
    name="Voorbeeld Krediet B.V.",
    street="Stationsplein 1",
    postcode="3511 ED",
    city="Utrecht",
    iban="NL91ABNA0417164300",
    phone="030 123 45 67",
    email="incasso@voorbeeld.example",
    bic="ABNANL2A",
)
ARREARS = Arrears(
    costs=Decimal("0.00"),
    interest=Decimal("23.45"),
    principal=Decimal("456.78"),
    total=Decimal("480.23"),
    days_past_due=47,
    oldest_due_date=date(2026, 10, 7),
)


def figures(kind: str) -> LetterFigures:
    """Figures that satisfy ``kind``."""
    base: dict[str, object] = {"loans": ("L10000001",), "arrears": ARREARS}
    if kind in ("reminder", "demand", "default_notice"):
        base["pay_by"] = date(2026, 12, 7)
    elif kind == "fourteen_day":
        base["collection_costs"] = CollectionCosts(amount=Decimal("72.04"))
        base["fourteen_day"] = FourteenDayDates.from_term(fourteen_day_term(LETTER_DATE))
    elif kind == "bkr_warning":
        base["bkr"] = BkrWarning(report_from=date(2026, 12, 3))
    elif kind == "arrangement_confirmation":
        base["arrangement"] = Arrangement(
            down_payment=Decimal("80.23"),
            down_payment_date=date(2026, 12, 1),
            lines=(
                ArrangementLine(due_date=date(2027, 1, 1), amount=Decimal("200.00")),
                ArrangementLine(due_date=date(2027, 2, 1), amount=Decimal("200.00")),
            ),
        )
    elif kind == "claim_statement":
        base["debt_track"] = DebtTrack(
            kind="faillissement",
            ruling_date=date(2026, 11, 10),
            trustee=Trustee(
                name="mr. A. de Curator",
                organisation="Curatoren & Co",
                address=("Postbus 12", "3500 AA Utrecht"),
                reference="F.16/26/123",
            ),
            claim_deadline=date(2027, 1, 15),
        )
        base["claim"] = ClaimFigures(
            principal=Decimal("4567.89"), interest=Decimal("123.45"), costs=Decimal("40.00"), total=Decimal("4731.34")
        )
    elif kind == "call_in":
        base["call_in"] = CallIn(
            principal=Decimal("4567.89"),
            interest=Decimal("123.45"),
            costs=Decimal("40.00"),
            total=Decimal("4731.34"),
            pay_by=date(2026, 12, 7),
        )
    elif kind in ("external_handover", "external_notice"):
        from incasso_tui.letters.model import ExternalHandover

        base["external"] = ExternalHandover(
            claim_number=17,
            party_name="Van Dam Gerechtsdeurwaarders",
            party_kind="bailiff",
            party_address=("Kade 1", "3011 AA Rotterdam"),
            party_contact="mr. A. van Dam",
            handed_on=LETTER_DATE,
            principal=Decimal("4567.89"),
            interest=Decimal("123.45"),
            costs=Decimal("40.00"),
            payments=Decimal("250.00"),
            total=Decimal("4731.34"),
        )
    return LetterFigures.model_validate(base)


def letter_data(kind: str, language: str = "nl", *, client_name: str = "J. de Vries", **client: str) -> LetterData:
    return LetterData(
        kind=kind,  # type: ignore[arg-type]
        language=language,
        letter_date=LETTER_DATE,
        reference=make_betalingskenmerk(1234567),
        lender=LENDER,
        client=Client(
            name=client_name,
            street=client.get("street", "Dorpsstraat 12"),
            postcode="1234AB",
            city=client.get("city", "Amersfoort"),
            number="C1234567",
            contact_person=client.get("contact_person"),
        ),
        employee_name="Demo Medewerker",
        loans=(Loan(number="L10000001", product="Bedrijfskrediet"),),
        figures=figures(kind),
    )


def add_pending_letter(db, case_id: int, client_id: int, kind: str = "reminder") -> int:  # type: ignore[no-untyped-def]
    """A pending letter of ``kind`` (Dutch, by post, dated the test day) on the client's first loan, with the
    sample figures of that kind; its id."""
    from sqlalchemy import select

    from incasso_tui.store.models import Letter, Loan
    from tests.conftest import AS_OF, NOW

    with db.transaction() as s:
        loan = s.scalars(select(Loan.number).where(Loan.client_id == client_id).order_by(Loan.number)).first()
        letter = Letter(
            case_id=case_id,
            client_id=client_id,
            kind=kind,
            channel="letter",
            language="nl",
            letter_date=AS_OF,
            figures=figures(kind).model_copy(update={"loans": (loan,)}).to_json(),
            status="pending",
            created_by="demo",
            created_at=NOW,
        )
        s.add(letter)
        s.flush()
        return int(letter.id)
