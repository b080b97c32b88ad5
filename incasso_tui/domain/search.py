"""The words a client is found by, and the words a search term asks for (issue 14).

One rule on both sides, so that what is indexed and what is asked always meet: text is folded to lower-case
ASCII (accents dropped) and cut into runs of letters and digits. A search term's words are *word starts*: the
client matches when every word of the term starts some word of the client ("van dijk" finds "Koffiebar Van
Dijk", "kaas" finds "Kaashandel Jansen"). Identifiers are indexed whole, so that a term typed with or without
its spaces, dashes or country code finds them:

- client number ``C1234567`` and loan number ``L19673135``, also without their letter;
- KvK number, IBAN (``NL91ABNA0417164300``, also typed in groups of four), postcode (``1234AB``, also
  ``1234 ab``);
- phone numbers in national form (``0612345678``; ``+31 6 1234 5678`` and ``06-12345678`` give the same);
- e-mail address whole (``s.dijkstra@example.nl``) and its local part;
- street words and the house number (``Dorpsstraat 12``), and the city.

Pure: no database. ``store.search_index`` writes the words, ``services.search`` asks them.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from incasso_tui.errors import N_, BadInput

MIN_TERM = 2  # letters or digits in a term; fewer would match half the book
MAX_WORDS = 8  # words in a term
_RUN = re.compile(r"[a-z0-9]+")
_IBAN = re.compile(r"^[a-z]{2}[0-9]{2}[a-z0-9]{4,30}$")
_POSTCODE = re.compile(r"^[1-9][0-9]{3}[a-z]{2}$")
_PHONEISH = re.compile(r"^[+0-9][0-9 ()./-]{5,}$")


def fold(text: str) -> str:
    """Lower-case ASCII: accents dropped (``Ëlla`` -> ``ella``), other characters kept."""
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()


def words(text: str | None) -> list[str]:
    """The runs of letters and digits of ``text``, folded."""
    return _RUN.findall(fold(text or ""))


def national_phone(text: str) -> str:
    """A phone number's digits in national form: ``+31 6 12345678`` and ``0031612345678`` -> ``0612345678``."""
    digits = "".join(ch for ch in text if ch.isdigit())
    if text.strip().startswith("+"):
        digits = "00" + digits
    if digits.startswith("0031"):
        digits = "0" + digits[4:]
    return digits


FIELDS = ("name", "contact", "number", "kvk", "iban", "phone", "email", "address")


def field_words(
    *,
    name: str,
    number: str,
    loan_numbers: Iterable[str],
    kvk: str | None,
    iban: str | None,
    phone: str | None,
    email: str | None,
    postcode: str | None,
    street: str | None,
    city: str | None,
    contact_person: str | None = None,
) -> dict[str, list[str]]:
    """The words of one client per field (``FIELDS``), each word only ``[a-z0-9]``."""
    numbers: list[str] = []
    for ident in (number, *sorted(loan_numbers)):
        key = "".join(words(ident))
        if key:
            numbers.append(key)
            bare = key.lstrip("abcdefghijklmnopqrstuvwxyz")
            if bare and bare != key:
                numbers.append(bare)
    mail = ["".join(words(email)), "".join(words(email.split("@", 1)[0]))] if email else []
    phone_key = national_phone(phone) if phone else ""
    return {
        "name": words(name),
        "contact": words(contact_person),
        "number": numbers,
        "kvk": ["".join(words(kvk))] if kvk else [],
        "iban": ["".join(words(iban))] if iban else [],
        "phone": [phone_key] if phone_key else [],
        "email": [m for m in mail if m],
        "address": ["".join(words(postcode))] + words(street) + words(city)
        if postcode
        else words(street) + words(city),
    }


def index_words(**fields: object) -> str:
    """The words of one client, space separated, each only ``[a-z0-9]``: what the search index holds
    (the arguments of :func:`field_words`)."""
    seen: dict[str, None] = {}
    for field in field_words(**fields).values():  # type: ignore[arg-type]
        for word in field:
            if word:
                seen.setdefault(word, None)
    return " ".join(seen)


def matched_fields(tokens: list[str], fields: dict[str, list[str]]) -> list[str]:
    """Which fields (``FIELDS`` order) a hit was found by: the fewest, in that order, whose words start with
    every token. Empty when the tokens do not all match (the index and the data disagree)."""
    covers = {f: {t for t in tokens if any(w.startswith(t) for w in fields.get(f, []))} for f in FIELDS}
    for f in FIELDS:  # one field covering the whole term: the usual case
        if covers[f] == set(tokens):
            return [f]
    out: list[str] = []
    left = set(tokens)
    for f in FIELDS:
        if covers[f] & left:
            out.append(f)
            left -= covers[f]
    return out if not left else []


def query_words(term: str) -> list[str]:
    """The word starts a search term asks for (all must match). Refuses a term with fewer than two letters
    or digits, or only punctuation, with a message for the desk."""
    raw = term.strip()
    folded = fold(raw)
    runs = _RUN.findall(folded)
    if sum(len(r) for r in runs) < MIN_TERM:
        raise BadInput(N_("Type at least {n} letters or digits to search"), n=MIN_TERM)
    if "@" in raw:  # an e-mail address: indexed whole
        return ["".join(runs)]
    joined = "".join(runs)
    if _IBAN.match(joined) or _POSTCODE.match(joined):
        return [joined]
    if _PHONEISH.match(raw) and sum(ch.isdigit() for ch in raw) >= 6 and len(runs) > 1:
        return [national_phone(raw)]  # "06 1234 5678", "+31 6-12345678"
    if raw.startswith("+") and len(runs) == 1:
        return [national_phone(raw)]
    if len(runs) > MAX_WORDS:
        raise BadInput(N_("A search takes at most {n} words"), n=MAX_WORDS)
    seen: dict[str, None] = {}
    for r in runs:
        seen.setdefault(r, None)
    return list(seen)


__all__ = [
    "FIELDS",
    "MIN_TERM",
    "field_words",
    "fold",
    "index_words",
    "matched_fields",
    "national_phone",
    "query_words",
    "words",
]
