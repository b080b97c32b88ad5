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


def index_words(
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
) -> str:
    """The words of one client, space separated, each only ``[a-z0-9]``: what the search index holds."""
    out: list[str] = []
    out += words(name)
    out += words(contact_person)
    for ident in (number, *sorted(loan_numbers)):
        key = "".join(words(ident))
        if key:
            out.append(key)
            bare = key.lstrip("abcdefghijklmnopqrstuvwxyz")
            if bare and bare != key:
                out.append(bare)
    for ident in (kvk, iban, postcode):
        key = "".join(words(ident))
        if key:
            out.append(key)
    if phone:
        key = national_phone(phone)
        if key:
            out.append(key)
    if email:
        out.append("".join(words(email)))
        out.append("".join(words(email.split("@", 1)[0])))
    out += words(street)
    out += words(city)
    seen: dict[str, None] = {}
    for word in out:
        if word:
            seen.setdefault(word, None)
    return " ".join(seen)


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


__all__ = ["MIN_TERM", "fold", "index_words", "national_phone", "query_words", "words"]
