"""Every English message id in the code has a Dutch translation with the same placeholders."""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

from babel.messages.extract import extract_from_dir

from incasso_tui.errors import RuleViolation
from incasso_tui.i18n import Translator, catalog

PACKAGE = Path(__file__).resolve().parents[2] / "incasso_tui"
KEYWORDS = {"N_": None, "tr": None, "Binding": (3,)}  # Binding(key, action, description)


def _msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message, _comments, _context in extract_from_dir(
        str(PACKAGE), method_map=[("store/migrations/**.py", "ignore"), ("**.py", "python")], keywords=KEYWORDS
    ):
        if isinstance(message, str) and message.strip():
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def _fields(text: str) -> set[str]:
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name}


def test_every_message_has_a_dutch_translation() -> None:
    nl = catalog("nl")
    missing = [
        f"{where}: {msgid!r}" for msgid, where in sorted(_msgids().items(), key=lambda kv: kv[1]) if msgid not in nl
    ]
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_translations_keep_the_placeholders() -> None:
    wrong = [msgid for msgid, text in catalog("nl").items() if _fields(msgid) != _fields(text)]
    assert not wrong, wrong


def test_errors_are_formatted_for_the_locale() -> None:
    err = RuleViolation(
        "Installments must be at least {minimum}; these would be {amount}",
        minimum=Decimal("25.00"),
        amount=Decimal("1234.5"),
    )
    dutch = Translator("nl").error(err)
    assert "€\xa025,00" in dutch and "€\xa01.234,50" in dutch and "minstens" in dutch
    assert Translator("en").error(err) == "Installments must be at least €25.00; these would be €1,234.50"
    assert Translator("nl").date(date(2026, 3, 5)) == "05-03-2026"
    assert re.fullmatch(r"05/03/2026", Translator("en").date(date(2026, 3, 5)))


def test_plural_forms_follow_the_count_in_both_languages() -> None:
    from incasso_tui.i18n import Translator

    nl, en = Translator("nl"), Translator("en")
    w = ("Approvals: {n} proposal waiting", "Approvals: {n} proposals waiting")
    assert nl.plural(*w, 1) == "Goedkeuringen: 1 voorstel wacht"
    assert nl.plural(*w, 3) == "Goedkeuringen: 3 voorstellen wachten"
    assert nl.plural(*w, 0) == "Goedkeuringen: 0 voorstellen wachten"
    assert en.plural(*w, 1) == "Approvals: 1 proposal waiting"
    assert en.plural(*w, 3) == "Approvals: 3 proposals waiting"
    assert nl.plural("{n} of {total} case", "{n} of {total} cases", 1, n=1, total=1) == "1 van 1 dossier"
    assert nl.plural("{n} of {total} case", "{n} of {total} cases", 5, n=2, total=5) == "2 van 5 dossiers"
