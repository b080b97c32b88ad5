"""Languages: English message ids, translated from the ``<lang>/*.po`` catalogs, read with Babel at start.

Numbers, amounts and dates are formatted with Babel for the session's locale (nl -> nl_NL, en -> en_GB).
A ``Translator`` belongs to one session (one TUI, one SSH login): nothing here is global state except the
read-only parsed catalogs.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import c2py
from pathlib import Path

from babel.dates import format_date, format_datetime
from babel.messages.plurals import get_plural
from babel.messages.pofile import read_po
from babel.numbers import format_currency, format_decimal, format_percent

from incasso_tui.errors import IncassoError

LOCALES = {"nl": "nl_NL", "en": "en_GB"}
_HERE = Path(__file__).parent


@cache
def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for ``lang`` (empty for English, whose ids are the text)."""
    merged: dict[str, str] = {}
    for path in sorted((_HERE / lang).glob("*.po")):
        with path.open("rb") as fh:
            po = read_po(fh, locale=LOCALES[lang])
        merged.update({m.id: m.string for m in po if m.id and m.string and not m.fuzzy and isinstance(m.id, str)})
    return merged


@cache
def plural_catalog(lang: str) -> dict[str, tuple[str, ...]]:
    """singular msgid -> plural forms (msgstr[0], msgstr[1], ...) for ``lang``."""
    merged: dict[str, tuple[str, ...]] = {}
    for path in sorted((_HERE / lang).glob("*.po")):
        with path.open("rb") as fh:
            po = read_po(fh, locale=LOCALES[lang])
        for m in po:
            forms = m.string
            if isinstance(m.id, (tuple, list)) and not m.fuzzy and isinstance(forms, (tuple, list)) and all(forms):
                merged[m.id[0]] = tuple(forms)
    return merged


class Translator:
    def __init__(self, lang: str = "nl") -> None:
        if lang not in LOCALES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        self.locale = LOCALES[lang]
        self._catalog = catalog(lang)
        self._plurals = plural_catalog(lang)
        self._plural_index = c2py(get_plural(self.locale).plural_expr)

    def plural(self, singular: str, plural: str, count: int, /, **params: object) -> str:
        """gettext ngettext: the form of ``singular``/``plural`` for ``count``; ``{n}`` is ``count`` unless given."""
        forms = self._plurals.get(singular)
        if forms is None:
            text = singular if count == 1 else plural
        else:
            text = forms[min(self._plural_index(count), len(forms) - 1)]
        return text.format(**{k: self.value(v) for k, v in {"n": count, **params}.items()})

    def __call__(self, msgid: str, **params: object) -> str:
        text = self._catalog.get(msgid, msgid)
        if not params:
            return text
        return text.format(**{k: self.value(v) for k, v in params.items()})

    def value(self, v: object) -> str:
        if isinstance(v, Decimal):
            return self.money(v)
        if isinstance(v, datetime):
            return self.datetime(v)
        if isinstance(v, date):
            return self.date(v)
        if isinstance(v, bool) or v is None:
            return str(v)
        if isinstance(v, int):
            return self.integer(v)
        return str(v)

    def money(self, amount: Decimal) -> str:
        return format_currency(amount, "EUR", locale=self.locale)

    def integer(self, n: int) -> str:
        return format_decimal(n, locale=self.locale)

    def percent(self, fraction: Decimal) -> str:
        return format_percent(fraction, format="#,##0.00 %", locale=self.locale)

    def date(self, d: date) -> str:
        return format_date(d, format="dd-MM-yyyy" if self.lang == "nl" else "dd/MM/yyyy", locale=self.locale)

    def datetime(self, d: datetime) -> str:
        pattern = "dd-MM-yyyy HH:mm" if self.lang == "nl" else "dd/MM/yyyy HH:mm"
        return format_datetime(d, format=pattern, locale=self.locale)

    def error(self, err: IncassoError) -> str:
        """The error's message in this language, its values formatted for the locale."""
        return self(err.msgid, **err.params)
