"""Every English message id in the code has a Dutch translation with the same placeholders."""

from __future__ import annotations

import re
import string
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from incasso_tui.errors import RuleViolation
from incasso_tui.i18n import Translator, catalog, plural_catalog

PACKAGE = Path(__file__).resolve().parents[2] / "incasso_tui"
# Binding(key, action, description); tr.plural(singular, plural, count)
KEYWORDS = {"N_": None, "tr": None, "Binding": (3,), "plural": (1, 2)}


def _extracted() -> list[tuple[str, int, str | tuple[str, ...]]]:
    return [
        (filename, lineno, message)
        for filename, lineno, message, _comments, _context in extract_from_dir(
            str(PACKAGE), method_map=[("store/migrations/**.py", "ignore"), ("**.py", "python")], keywords=KEYWORDS
        )
    ]


def _msgids() -> dict[str, str]:
    found: dict[str, str] = {}
    for filename, lineno, message in _extracted():
        if isinstance(message, str) and message.strip():
            found.setdefault(message, f"{filename}:{lineno}")
    return found


def test_every_counted_text_has_dutch_plural_forms_with_the_same_placeholders() -> None:
    """Each ``tr.plural(singular, plural, n)`` has a msgid_plural entry in the Dutch catalogs: both forms, keeping
    the placeholders of the English forms."""
    plurals = plural_catalog("nl")
    counted = {m: f"{f}:{n}" for f, n, m in _extracted() if isinstance(m, tuple) and all(isinstance(p, str) for p in m)}
    assert len(counted) >= 20
    missing = [f"{where}: {m[0]!r}" for m, where in counted.items() if len(plurals.get(m[0], ())) != 2]
    assert not missing, "no Dutch plural forms:\n" + "\n".join(missing)
    for (singular, plural), _where in counted.items():
        one, many = plurals[singular]
        assert _fields(one) == _fields(singular) and _fields(many) == _fields(plural), singular


def test_a_counted_text_follows_the_count() -> None:
    nl, en = Translator("nl"), Translator("en")
    forms = ("Selection {name}: {count} case", "Selection {name}: {count} cases")
    assert nl.plural(*forms, 1, name="Bellen", count=1) == "Selectie Bellen: 1 dossier"
    assert nl.plural(*forms, 1200, name="Bellen", count=1200) == "Selectie Bellen: 1.200 dossiers"
    assert en.plural(*forms, 1, name="Calls", count=1) == "Selection Calls: 1 case"
    assert en.plural(*forms, 0, name="Calls", count=0) == "Selection Calls: 0 cases"


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


# ----- the catalogs' cache (incasso_tui.i18n.catalogs): parsed once per content of the .po files


def _fresh(monkeypatch, tmp_path, po_dir: Path | None = None):  # type: ignore[no-untyped-def]
    from incasso_tui import i18n

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    if po_dir is not None:
        monkeypatch.setattr(i18n, "_HERE", po_dir)
    i18n.catalogs.cache_clear()
    return i18n


def test_the_cache_holds_exactly_what_parsing_the_po_files_gives(monkeypatch, tmp_path) -> None:  # type: ignore[no-untyped-def]
    i18n = _fresh(monkeypatch, tmp_path)
    try:
        first = i18n.catalogs("nl")  # parsed and written
        (written,) = (tmp_path / "cache" / "incasso-tui").glob("catalog-nl-*.json")
        expected = i18n.Catalogs(*_parsed("nl"))
        i18n.catalogs.cache_clear()
        monkeypatch.setattr(i18n, "parse", lambda *a: (_ for _ in ()).throw(AssertionError("parsed again")))
        second = i18n.catalogs("nl")  # read from the cache, not parsed
        assert second == first == expected
        assert second.plurals["{n} of {total} case"] == ("{n} van {total} dossier", "{n} van {total} dossiers")
        assert written.name == f"catalog-nl-{i18n.cache_key(i18n._sources('nl'))}.json"
    finally:
        i18n.catalogs.cache_clear()


def _parsed(lang: str) -> tuple[dict[str, str], dict[str, tuple[str, ...]]]:
    from incasso_tui import i18n

    found = i18n.parse(lang, i18n._sources(lang))
    return found.messages, found.plurals


def test_a_stale_cache_is_never_read(monkeypatch, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    """A .po file changed after the cache was made: the cache of the old content is not used (and is removed);
    a cache file whose recorded key is not its name's is refused with a log line."""
    import shutil

    po_dir = tmp_path / "i18n"
    shutil.copytree(PACKAGE / "i18n" / "nl", po_dir / "nl")
    i18n = _fresh(monkeypatch, tmp_path, po_dir)
    try:
        assert Translator("nl")("Returned by special management") == "Teruggegeven door Bijzonder Beheer"
        po = po_dir / "nl" / "next_action.po"
        po.write_text(po.read_text().replace('"Teruggegeven door Bijzonder Beheer"', '"Terug van BB"'))
        i18n.catalogs.cache_clear()
        assert Translator("nl")("Returned by special management") == "Terug van BB"
        cached = list((tmp_path / "cache" / "incasso-tui").glob("catalog-nl-*.json"))
        assert [p.name for p in cached] == [f"catalog-nl-{i18n.cache_key(i18n._sources('nl'))}.json"]

        text = cached[0].read_text().replace('"Terug van BB"', '"Vervalst"')  # same name, other content
        cached[0].write_text(text.replace('"key": "', '"key": "x', 1))
        i18n.catalogs.cache_clear()
        with caplog.at_level("WARNING", logger="incasso.i18n"):
            assert Translator("nl")("Returned by special management") == "Terug van BB"
        assert "is not for these .po files" in caplog.text
    finally:
        i18n.catalogs.cache_clear()


def test_an_unwritable_cache_still_translates_and_says_so(monkeypatch, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    i18n = _fresh(monkeypatch, tmp_path)
    (tmp_path / "cache").write_text("a file where the cache folder should be")
    try:
        with caplog.at_level("WARNING", logger="incasso.i18n"):
            assert Translator("nl")("Returned by special management") == "Teruggegeven door Bijzonder Beheer"
        assert "not written" in caplog.text and "parsed at every start" in caplog.text
    finally:
        i18n.catalogs.cache_clear()


def test_a_damaged_cache_of_the_right_key_is_parsed_again_not_a_crash(monkeypatch, tmp_path, caplog) -> None:  # type: ignore[no-untyped-def]
    """A cache file named and keyed for these .po files whose body is cut or of another shape (a disk filling up,
    a hand edit) is logged and the .po files are parsed: the app still starts, translated."""
    import json

    i18n = _fresh(monkeypatch, tmp_path)
    try:
        i18n.catalogs("nl")
        (written,) = (tmp_path / "cache" / "incasso-tui").glob("catalog-nl-*.json")
        key = json.loads(written.read_text())["key"]
        for body in (
            {"key": key},
            {"key": key, "messages": [1, 2], "plurals": {}},
            {"key": key, "messages": {"a": 1}, "plurals": {}},
        ):
            written.write_text(json.dumps(body))
            i18n.catalogs.cache_clear()
            caplog.clear()
            with caplog.at_level("WARNING", logger="incasso.i18n"):
                assert Translator("nl")("Returned by special management") == "Teruggegeven door Bijzonder Beheer"
            assert "is damaged" in caplog.text, body
    finally:
        i18n.catalogs.cache_clear()


@pytest.mark.parametrize("lang", ["nl", "en"])
def test_kept_dates_and_amounts_read_as_babel_formats_them(lang: str) -> None:
    """The translator keeps what it formatted (issue 18): the second time reads exactly as Babel's own, for values
    that are equal but written differently too (1.0 and 1.00, -0 and 0), and a datetime is shown as its day."""
    from datetime import datetime

    from babel.dates import format_date
    from babel.numbers import format_currency

    tr = Translator(lang)
    pattern = "dd-MM-yyyy" if lang == "nl" else "dd/MM/yyyy"
    for text in ("1", "1.0", "1.00", "-0", "0", "0.00", "1234.56", "-12.5", "1000000"):
        expected = format_currency(Decimal(text), "EUR", locale=tr.locale)
        assert tr.money(Decimal(text)) == expected
        assert tr.money(Decimal(text)) == expected  # kept
    for day in (date(2026, 1, 1), date(2026, 12, 31)):
        assert tr.date(day) == tr.date(day) == format_date(day, format=pattern, locale=tr.locale)
    at = datetime(2026, 3, 4, 23, 59)
    assert tr.date(at) == format_date(at.date(), format=pattern, locale=tr.locale)
    assert tr.money(Decimal("-0")) != tr.money(Decimal("0"))
