"""The dossier PDF prints data literally: a name that is Typst markup stays a name."""

from __future__ import annotations

import re
from io import BytesIO

from pypdf import PdfReader

from incasso_tui.i18n import Translator
from incasso_tui.letters.dossier import dossier_source, render_dossier

HOSTILE = '#set page(width: 1cm) *bold* $x$ [link] "q" \\ end'


def _dossier() -> dict:  # type: ignore[type-arg]
    money = {"principal": "1000.00", "interest": "12.34", "costs": "40.00", "payments": "5.00", "total": "1052.34"}
    return {
        "claim": 7,
        "case": 3,
        "lender": "Demo B.V.",
        "handed_on": "2026-11-23",
        "proposed_by": "visser",
        "decided_by": "bakker",
        "reason": "x",
        "party": {
            "name": "De Vries",
            "kind": "bailiff",
            "kind_label": "bailiff",
            "address": ["Kade 1", "3011 AA X"],
            "contact": "",
            "iban": "NL18RABO0123459876",
            "wki_registration": None,
        },
        "client": {
            "number": "C1",
            "name": HOSTILE,
            "kind": "natural",
            "consumer": True,
            "address": ["a", "b"],
            "email": None,
            "phone": None,
        },
        "statement": {"as_of": "2026-11-23", "loans": [{"loan": "L1", **money}], **money},
        "documents": [{"loan": "L1", "loan_agreement": True, "pledge_deed": False}],
        "letters": [],
        "contacts": [
            {
                "at": "2026-11-01T10:00",
                "channel": "phone",
                "outcome": "reached",
                "summary": "= heading? - list",
                "by": "demo",
            }
        ],
        "arrangements": [],
    }


def test_hostile_text_is_printed_literally_and_the_figures_in_the_locale() -> None:
    d = _dossier()
    source = dossier_source(d, Translator("nl"))
    assert re.search(r"(?<!\\)#set page\(width", source) is None  # escaped, never a Typst command
    text = PdfReader(BytesIO(render_dossier(d, Translator("nl")))).pages[0].extract_text()
    assert "#set page(width: 1cm) *bold* $x$ [link]" in text and "= heading? - list" in text
    assert "€ 1.052,34" in text.replace("\xa0", " ") and "Vorderingsoverzicht per 23-11-2026" in text
    english = PdfReader(BytesIO(render_dossier(d, Translator("en")))).pages[0].extract_text()
    assert "Claim statement as of 23/11/2026" in english and "€1,052.34" in english
