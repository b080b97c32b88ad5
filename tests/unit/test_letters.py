"""Letter templates: every kind in nl and en, the 14-day letter's legal wording, escaping, template errors."""

from __future__ import annotations

import io
import shutil
from decimal import Decimal

import pypdf
import pytest
from babel.dates import format_date
from pydantic import ValidationError

from incasso_tui.letters.model import LETTER_KINDS, CollectionCosts, LetterFigures
from incasso_tui.letters.render import TEMPLATES_DIR, LetterError, escape_typst, render_email, render_pdf, render_text
from tests.letter_samples import figures, letter_data


def pdf_text(pdf: bytes) -> str:
    """The text of the PDF, with runs of white space made one space (line breaks fall anywhere)."""
    text = " ".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return " ".join(text.split())


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("kind", LETTER_KINDS)
def test_every_letter_renders_to_a_pdf_with_its_figures(kind: str, language: str) -> None:
    pdf = render_pdf(letter_data(kind, language))
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    assert "C1234567" in text and "1000 0000 0123 4567" in text  # client number, payment reference
    amount = (
        {"nl": "€ 4.731,34", "en": "€4,731.34"}[language]
        if kind in ("claim_statement", "call_in", "external_handover", "external_notice")
        else {"nl": "€ 480,23", "en": "€480.23"}[language]
    )
    assert amount.replace("\xa0", " ") in text.replace("\xa0", " ")
    assert ("23 november 2026" if language == "nl" else "23 November 2026") in text


def test_the_14_day_letter_states_the_costs_and_a_term_from_receipt() -> None:
    nl = pdf_text(render_pdf(letter_data("fourteen_day", "nl"))).replace("\xa0", " ")
    en = pdf_text(render_pdf(letter_data("fourteen_day", "en"))).replace("\xa0", " ")
    assert "binnen 14 dagen na de dag van ontvangst van deze brief" in nl
    assert "within 14 days after the day of receipt of this letter" in en
    assert "incassokosten verschuldigd van € 72,04" in nl and "collection costs of €72.04" in en
    assert "geen kosten verbonden" in nl and "free of charge" in en
    for text in (nl, en):  # the invalid wording, and no calendar date as the end of the term
        assert "dagtekening" not in text and "of the date of this letter" not in text
    term = letter_data("fourteen_day").figures.fourteen_day
    assert term is not None
    for day in (term.assumed_receipt, term.term_end, term.costs_from):
        assert format_date(day, format="long", locale="nl_NL") not in nl
        assert format_date(day, format="long", locale="en_GB") not in en


def test_vat_on_the_costs_is_stated_only_when_charged() -> None:
    data = letter_data("fourteen_day")
    with_vat = data.model_copy(
        update={
            "figures": data.figures.model_copy(
                update={
                    "collection_costs": CollectionCosts(amount=Decimal("72.04"), vat_charged=True, vat=Decimal("15.13"))
                }
            )
        }
    )
    # issue 12: the letter says whether VAT is included; without VAT it says none is due
    plain = " ".join(pdf_text(render_pdf(data)).split())
    assert "Over dit bedrag is geen btw verschuldigd" in plain and "vermeerderd met" not in plain
    charged = " ".join(pdf_text(render_pdf(with_vat)).replace("\xa0", " ").split())
    assert "vermeerderd met € 15,13 btw, samen € 87,17" in charged and "geen btw" not in charged


HOSTILE = "#set page(width: 1cm) ] [bold] *x* _y_ $z$ `raw` <label> @ref // comment https://evil.example \\ = Kop"


def test_a_hostile_client_name_is_printed_literally() -> None:
    data = letter_data("reminder", client_name=HOSTILE, street="- 1. + Straat\nregel", contact_person="= Kop")
    text = pdf_text(render_pdf(data))
    assert HOSTILE in text
    assert "- 1. + Straat regel" in text and "t.a.v. = Kop" in text
    source = render_text(data)
    assert "[\\#set page(width: 1cm) \\] \\[bold\\]" in source


@pytest.mark.parametrize(
    "value",
    [
        "#set page(width: 1cm)",
        "]",
        "[bold]",
        "= Kop",
        "1. eerste",
        "- lijst",
        "+ punt",
        "a -- b",
        "O'Brien",
        "...",
        "x\ny",
        "\\u{41}",
        "/ term: uitleg",
    ],
)
def test_escaped_values_print_exactly_themselves(value: str) -> None:
    import typst

    pdf = typst.compile(
        f"#set page(width: 20cm)\n{escape_typst(value)}\n".encode(), format="pdf", ignore_system_fonts=True
    )
    assert pdf_text(pdf) == " ".join(value.split())


def test_a_missing_field_is_a_clear_template_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    path = templates / "en" / "demand.typ.j2"
    path.write_text(
        path.read_text(encoding="utf-8").replace("{{ pay_by|date }}", "{{ pay_before|date }}"), encoding="utf-8"
    )
    with pytest.raises(LetterError, match=r"Letter template en/demand\.typ\.j2:\d+: 'pay_before' is undefined"):
        render_pdf(letter_data("demand", "en"), templates_dir=templates)


def test_templates_cannot_reach_python_or_print_raw_values(tmp_path) -> None:  # type: ignore[no-untyped-def]
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES_DIR, templates)
    path = templates / "nl" / "reminder.typ.j2"
    original = path.read_text(encoding="utf-8")
    path.write_text(
        original.replace("{% block body %}", "{% block body %}{{ lender.__class__.__mro__ }}"), encoding="utf-8"
    )
    with pytest.raises(LetterError, match="nl/reminder.typ.j2"):
        render_pdf(letter_data("reminder"), templates_dir=templates)
    path.write_text(original.replace("{% block body %}", "{% block body %}{{ arrears.total }}"), encoding="utf-8")
    with pytest.raises(LetterError, match="must be printed with the money filter"):
        render_pdf(letter_data("reminder"), templates_dir=templates)
    path.write_text(original.replace("{% block body %}", "{% block body %}#text(fill: red)["), encoding="utf-8")
    with pytest.raises(LetterError, match="Typst"):
        render_pdf(letter_data("reminder"), templates_dir=templates)


def test_the_email_text_is_plain_and_cannot_inject_headers() -> None:
    subject, body = render_email(letter_data("fourteen_day", "nl", client_name="X", contact_person="A\r\nBcc: evil@x"))
    assert subject.startswith("Laatste herinnering") and "\n" not in subject
    assert "Geachte A Bcc: evil@x," in body and "1000 0000 0123 4567" in body


def test_figures_round_trip_through_json_and_refuse_bad_amounts() -> None:
    for kind in LETTER_KINDS:
        sample = figures(kind)
        assert LetterFigures.from_json(sample.to_json()) == sample
    assert sample.missing_for("fourteen_day") == ["collection_costs", "fourteen_day"]  # the call-in sample
    with pytest.raises(ValidationError, match="whole number of cents"):
        LetterFigures.from_json(
            '{"loans": ["L1"], "claim": {"principal": "1.001", "interest": "0", "costs": "0", "total": "1"}}'
        )
    with pytest.raises(ValidationError, match="float"):
        CollectionCosts.model_validate({"amount": 72.04})


def _with(data, **changes):  # type: ignore[no-untyped-def]
    return data.model_copy(update={"figures": data.figures.model_copy(update=changes)})


def test_the_arrears_table_shows_collection_costs_and_statutory_interest_apart() -> None:
    """Issue 12: before its term a 14-day letter shows no costs line (the old table printed the charged statutory
    interest as "Kosten"); statutory interest has a line of its own."""
    from incasso_tui.letters.model import Arrears

    data = letter_data("fourteen_day")
    arrears = Arrears(
        costs=Decimal("0.00"),
        interest=Decimal("10.00"),
        principal=Decimal("90.00"),
        statutory_interest=Decimal("1.17"),
        total=Decimal("101.17"),
        days_past_due=30,
        oldest_due_date=data.figures.arrears.oldest_due_date,
    )
    words = " ".join(pdf_text(render_pdf(_with(data, arrears=arrears))).replace("\xa0", " ").split())
    assert "Wettelijke rente € 1,17" in words and "Kosten" not in words.split("incassokosten")[0]
    assert "Incassokosten €" not in words
    english = " ".join(
        pdf_text(render_pdf(_with(letter_data("fourteen_day", "en"), arrears=arrears))).replace("\xa0", " ").split()
    )
    assert "Statutory interest €1.17" in english and "Collection costs €" not in english
    charged = arrears.model_copy(update={"costs": Decimal("40.00"), "total": Decimal("141.17")})
    words = " ".join(pdf_text(render_pdf(_with(letter_data("demand"), arrears=charged))).replace("\xa0", " ").split())
    assert "Incassokosten € 40,00" in words and "Wettelijke rente € 1,17" in words


def test_the_business_demand_letter_claims_lid_4_costs_and_promises_no_last_notice() -> None:
    consumer = " ".join(pdf_text(render_pdf(letter_data("demand"))).split())
    assert "laatste herinnering" in consumer  # a consumer gets the 14-day letter before any costs
    business = _with(
        letter_data("demand"),
        business_debtor=True,
        legal_person=True,
        commercial_costs=CollectionCosts(amount=Decimal("48.75")),
    )
    words = " ".join(pdf_text(render_pdf(business)).replace("\xa0", " ").split())
    assert "artikel 6:96 lid 4" in words and "€ 48,75" in words and "geen btw verschuldigd" in words
    assert "laatste herinnering" not in words and "BKR" not in words  # a bv: no BKR, no free last notice
    english = " ".join(
        pdf_text(
            render_pdf(
                _with(letter_data("demand", "en"), business_debtor=True, legal_person=False, commercial_costs=None)
            )
        ).split()
    )
    assert "final reminder" not in english and "BKR" in english
