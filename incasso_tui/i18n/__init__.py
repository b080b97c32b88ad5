"""Languages: English message ids, translated from the ``<lang>/*.po`` catalogs.

Numbers, amounts and dates are formatted with Babel for the session's locale (nl -> nl_NL, en -> en_GB).
A ``Translator`` belongs to one session (one TUI, one SSH login): nothing here is global state except the
read-only catalogs.

The catalogs are parsed (Babel's ``read_po``) once per content: the messages and plural forms of a language are
kept in a cache file, ``$XDG_CACHE_HOME/incasso-tui/catalog-<lang>-<key>.json`` (``~/.cache`` without the
variable), whose key is a hash of the ``.po`` files' names and bytes (and of this cache's format and Babel's
version). A changed ``.po`` has another key, so a stale cache is never read; nothing is built at install time, so a
clean clone and an editable install (``pip install -e .``) work as they are. A cache that cannot be read or written
is logged (logger ``incasso.i18n``) and the ``.po`` files are parsed instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from gettext import c2py
from pathlib import Path

import babel
from babel.dates import format_date, format_datetime
from babel.messages.plurals import get_plural
from babel.numbers import format_currency, format_decimal, format_percent

from incasso_tui.errors import IncassoError

LOCALES = {"nl": "nl_NL", "en": "en_GB"}
_HERE = Path(__file__).parent
_CACHE_FORMAT = 1  # raise when the cache file's layout changes
log = logging.getLogger("incasso.i18n")


@dataclass(frozen=True)
class Catalogs:
    """One language's translations: msgid -> text, and singular msgid -> plural forms (msgstr[0], msgstr[1] ...)."""

    messages: dict[str, str]
    plurals: dict[str, tuple[str, ...]]


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "incasso-tui"


def _sources(lang: str) -> list[tuple[str, bytes]]:
    return [(path.name, path.read_bytes()) for path in sorted((_HERE / lang).glob("*.po"))]


def cache_key(sources: list[tuple[str, bytes]]) -> str:
    """The hash that names a cache file: the ``.po`` files' names and contents, the format, Babel's version."""
    digest = hashlib.sha256(f"{_CACHE_FORMAT}\0{babel.__version__}\0".encode())
    for name, data in sources:
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()[:32]


def parse(lang: str, sources: list[tuple[str, bytes]]) -> Catalogs:
    """The catalogs of ``lang`` from its ``.po`` files (the slow way: Babel's parser)."""
    import io

    from babel.messages.pofile import read_po

    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for _name, data in sources:
        for m in read_po(io.BytesIO(data), locale=LOCALES[lang]):
            if not m.id or m.fuzzy:
                continue
            if isinstance(m.id, str) and isinstance(m.string, str) and m.string:
                messages[m.id] = m.string
            elif isinstance(m.id, (tuple, list)) and isinstance(m.string, (tuple, list)) and all(m.string):
                plurals[m.id[0]] = tuple(m.string)
    return Catalogs(messages, plurals)


def _read_cache(path: Path, key: str) -> Catalogs | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        log.warning("translation cache %s unreadable (%s): parsing the .po files", path, err)
        return None
    if not isinstance(data, dict) or data.get("key") != key:
        log.warning("translation cache %s is not for these .po files: parsing them", path)
        return None
    try:
        messages, plurals = data["messages"], data["plurals"]
        found = Catalogs(dict(messages), {k: tuple(v) for k, v in plurals.items()})
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        log.warning("translation cache %s is damaged (%r): parsing the .po files", path, err)
        return None
    if not all(isinstance(v, str) for v in found.messages.values()):
        log.warning("translation cache %s is damaged (a message is not text): parsing the .po files", path)
        return None
    return found


def _write_cache(path: Path, lang: str, key: str, found: Catalogs) -> None:
    from incasso_tui.atomicfile import atomic_write

    body = json.dumps({"key": key, "messages": found.messages, "plurals": found.plurals}, ensure_ascii=False)
    try:
        atomic_write(path, body, mode=0o644, make_folder=True)
        for old in path.parent.glob(f"catalog-{lang}-*.json"):
            if old != path:  # the cache of .po files that have changed since
                old.unlink(missing_ok=True)
    except OSError as err:
        log.warning("translation cache %s not written (%s): the .po files are parsed at every start", path, err)


@cache
def catalogs(lang: str) -> Catalogs:
    """The translations of ``lang``: from the cache when it was made from these very ``.po`` files, else parsed
    (and cached for the next start)."""
    sources = _sources(lang)
    if not sources:  # English: the ids are the text
        return Catalogs({}, {})
    key = cache_key(sources)
    path = cache_dir() / f"catalog-{lang}-{key}.json"
    found = _read_cache(path, key)
    if found is None:
        found = parse(lang, sources)
        _write_cache(path, lang, key, found)
    return found


def catalog(lang: str) -> dict[str, str]:
    """msgid -> translation for ``lang`` (empty for English, whose ids are the text)."""
    return catalogs(lang).messages


def plural_catalog(lang: str) -> dict[str, tuple[str, ...]]:
    """singular msgid -> plural forms (msgstr[0], msgstr[1], ...) for ``lang``."""
    return catalogs(lang).plurals


class Translator:
    def __init__(self, lang: str = "nl") -> None:
        if lang not in LOCALES:
            raise ValueError(f"unknown language {lang!r}")
        self.lang = lang
        self.locale = LOCALES[lang]
        found = catalogs(lang)
        self._catalog = found.messages
        self._plurals = found.plurals
        self._plural_index = c2py(get_plural(self.locale).plural_expr)
        # formatted dates and amounts: Babel takes ~50 µs for one, and a screen shows the same ones again and again
        # (a list of 200 tasks a few dozen days, a schedule the same installment, every repaint of the worklist)
        self._dates: dict[date, str] = {}
        self._amounts: dict[str, str] = {}

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
        key = str(amount)  # the exact value as written: 1.0 and 1.00, or -0 and 0, are kept apart
        text = self._amounts.get(key)
        if text is None:
            if len(self._amounts) >= 8192:
                self._amounts.clear()
            text = self._amounts[key] = format_currency(amount, "EUR", locale=self.locale)
        return text

    def integer(self, n: int) -> str:
        return format_decimal(n, locale=self.locale)

    def percent(self, fraction: Decimal) -> str:
        return format_percent(fraction, format="#,##0.00 %", locale=self.locale)

    def date(self, d: date) -> str:
        kept = type(d) is date  # a datetime is a date too: formatted as its day, not kept
        text = self._dates.get(d) if kept else None
        if text is None:
            text = format_date(d, format="dd-MM-yyyy" if self.lang == "nl" else "dd/MM/yyyy", locale=self.locale)
            if kept:
                if len(self._dates) >= 4096:
                    self._dates.clear()
                self._dates[d] = text
        return text

    def datetime(self, d: datetime) -> str:
        pattern = "dd-MM-yyyy HH:mm" if self.lang == "nl" else "dd/MM/yyyy HH:mm"
        return format_datetime(d, format=pattern, locale=self.locale)

    def error(self, err: IncassoError) -> str:
        """The error's message in this language, its values formatted for the locale."""
        return self(err.msgid, **err.params)
