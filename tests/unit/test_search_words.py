"""What a client is indexed by and what a term asks for (domain.search): the two must meet."""

from __future__ import annotations

import pytest

from incasso_tui.domain.search import field_words, index_words, matched_fields, national_phone, query_words
from incasso_tui.errors import BadInput

CLIENT = dict(
    name="Koffiebar Van Dijk B.V.",
    number="C1234567",
    loan_numbers=["L19673135", "L00000042"],
    kvk="12345678",
    iban="NL91ABNA0417164300",
    phone="+31 6 12345678",
    email="info@koffiebar-vandijk.nl",
    postcode="1234AB",
    street="Dorpsstraat 12-3",
    city="’s-Hertogenbosch",
    contact_person="Samira Dijkstra",
)


def _finds(term: str) -> bool:
    have = index_words(**CLIENT).split()
    return all(any(w.startswith(t) for w in have) for t in query_words(term))


@pytest.mark.parametrize(
    "term",
    [
        "van dijk",
        "dijk van",
        "koffie",
        "Van Dijk",
        "dijkstra",
        "samira",
        "C1234567",
        "c123",
        "1234567",
        "L19673135",
        "19673135",
        "L0000",
        "12345678",
        "NL91 ABNA 0417 1643 00",
        "nl91abna",
        "0612345678",
        "06-12345678",
        "+31 6 1234 5678",
        "+31612345678",
        "info@koffiebar-vandijk.nl",
        "1234 AB",
        "1234ab",
        "dorpsstraat 12",
        "hertogenbosch",
    ],
)
def test_every_way_a_caller_names_the_client_finds_it(term: str) -> None:
    assert _finds(term), term


@pytest.mark.parametrize("term", ["van dam", "koffiebars", "0612345679", "1234 AC", "dorpsstraat 13", "L1967313 5x"])
def test_a_different_term_does_not(term: str) -> None:
    assert not _finds(term), term


@pytest.mark.parametrize("term", ["d", " ", "--", "é", "?!", "a."])
def test_one_letter_or_only_punctuation_is_refused(term: str) -> None:
    with pytest.raises(BadInput) as err:
        query_words(term)
    assert err.value.msgid == "Type at least {n} letters or digits to search"


def test_accents_fold_and_phone_forms_agree() -> None:
    assert query_words("Ëlla Müller") == ["ella", "muller"]
    assert (
        national_phone("+31 6 12345678")
        == national_phone("0031 6 1234 5678")
        == national_phone("06-12345678")
        == "0612345678"
    )


def test_matched_fields_names_the_fewest_fields() -> None:
    fields = field_words(**CLIENT)
    assert matched_fields(["van", "dijk"], fields) == ["name"]
    assert matched_fields(["dijkstra"], fields) == ["contact"]
    assert matched_fields(["dorpsstraat", "12"], fields) == ["address"]
    assert matched_fields(["koffiebar", "dorpsstraat"], fields) == ["name", "address"]
    assert matched_fields(["zzz"], fields) == []
