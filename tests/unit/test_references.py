"""RF creditor references (ISO 11649), the Dutch betalingskenmerk and IBAN check digits."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum import iban as stdnum_iban
from stdnum import iso11649

from incasso_tui.domain.references import (
    is_valid_betalingskenmerk,
    is_valid_bic,
    is_valid_iban,
    is_valid_rf,
    loan_rf,
    make_betalingskenmerk,
    make_rf,
    normalize_reference,
)
from incasso_tui.errors import BadInput

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
rf_bases = st.text(alphabet=ALNUM, min_size=1, max_size=21)
kenmerk_numbers = st.integers(min_value=0, max_value=10**15 - 1)


# -- RF --------------------------------------------------------------------------------------------


def test_make_rf_known_example() -> None:
    # The example of ISO 11649 itself.
    assert make_rf("539007547034") == "RF18539007547034"
    assert is_valid_rf("RF18 5390 0754 7034")
    assert is_valid_rf("rf18539007547034")


@pytest.mark.parametrize("ref", ["RF19539007547034", "RF18539007547035", "RF18", "RF1853900754703412345678", "XX18539"])
def test_invalid_rf(ref: str) -> None:
    assert not is_valid_rf(ref)


@pytest.mark.parametrize("base", ["", "ABC-123", "A" * 22, "LÖN"])
def test_make_rf_refuses_bad_base(base: str) -> None:
    with pytest.raises(BadInput):
        make_rf(base)


@given(rf_bases)
def test_rf_round_trip(base: str) -> None:
    ref = make_rf(base)
    assert ref.endswith(base) and len(ref) == len(base) + 4
    assert is_valid_rf(ref)
    assert iso11649.is_valid(ref)  # an independent implementation agrees


@given(st.text(alphabet="0123456789", min_size=1, max_size=21), st.data())
def test_rf_detects_a_changed_digit(base: str, data: st.DataObject) -> None:
    ref = make_rf(base)
    position = data.draw(st.integers(min_value=2, max_value=len(ref) - 1))
    digit = data.draw(st.sampled_from([d for d in "0123456789" if d != ref[position]]))
    assert not is_valid_rf(ref[:position] + digit + ref[position + 1 :])


@given(st.text(alphabet=ALNUM + " ", min_size=1, max_size=30))
def test_is_valid_rf_agrees_with_stdnum(text: str) -> None:
    assert is_valid_rf(text) == iso11649.is_valid(text)


# RF-like text with what stdnum cleans up or refuses: lower case, separators, Unicode dashes and digits, accents
_RF_NOISE = ALNUM + "abcxyz -.,/:\u2013\u2014\u00a0\u0663\u00e9\u00df*'"


@given(st.one_of(st.text(max_size=30), st.text(alphabet=_RF_NOISE, max_size=30)))
def test_is_valid_rf_agrees_with_stdnum_on_any_text(text: str) -> None:
    """The ASCII fast path and stdnum's route (what is_valid_rf was) give the same answer for anything."""
    assert is_valid_rf(text) == iso11649.is_valid("".join(text.split()).upper())


@given(rf_bases, st.sampled_from(["", " ", "-", "rf"]))
def test_is_valid_rf_agrees_with_stdnum_on_made_references(base: str, noise: str) -> None:
    ref = make_rf(base)
    for text in (ref, ref.lower(), noise.join(ref), ref[:2] + noise + ref[2:], ref[:-1], ref + "0"):
        assert is_valid_rf(text) == iso11649.is_valid("".join(text.split()).upper())


# -- betalingskenmerk --------------------------------------------------------------------------------

# The example of the Betaalvereniging specification, and betalingskenmerken in the published
# Belastingdienst layout (check digits 0, 2, 3, 5, 7, 8, 9 among them).
KNOWN_VALID = [
    "5000056789012345",
    "5010002167010010",
    "3010002167042021",
    "0001041146910100",
    "9001041146812501",
    "2017166777600001",
    "8049244482480005",
    "7010002167510014",
]


@pytest.mark.parametrize("ref", KNOWN_VALID)
def test_known_valid_betalingskenmerken(ref: str) -> None:
    assert is_valid_betalingskenmerk(ref)
    assert make_betalingskenmerk(ref[1:]) == ref


def test_betalingskenmerk_example_worked_out() -> None:
    # Weights from the right 2,4,8,5,10,9,7,3,6,1,2,4,8,5,10 over 000056789012345: sum 215,
    # 215 mod 11 = 6, check digit 11 - 6 = 5.
    assert make_betalingskenmerk(56789012345) == "5000056789012345"
    assert make_betalingskenmerk("56789012345") == "5000056789012345"
    assert is_valid_betalingskenmerk("5000 0567 8901 2345")
    assert is_valid_betalingskenmerk("5010.0021.6701.0010")


def test_betalingskenmerk_check_digit_special_cases() -> None:
    # Only the last digit counts here, with weight 2.
    assert make_betalingskenmerk(1) == "9000000000000001"  # sum 2: 11 - 2 = 9
    assert make_betalingskenmerk(0) == "0000000000000000"  # sum 0: 11 - 0 = 11 becomes 0
    assert make_betalingskenmerk(6) == "1000000000000006"  # sum 12, rest 1: 11 - 1 = 10 becomes 1
    assert make_betalingskenmerk(5) == "1000000000000005"  # sum 10, rest 10: 11 - 10 = 1


@pytest.mark.parametrize("ref", ["4000056789012345", "500005678901234", "50000567890123456", "5000O56789012345", ""])
def test_invalid_betalingskenmerk(ref: str) -> None:
    assert not is_valid_betalingskenmerk(ref)


@pytest.mark.parametrize("number", [-1, 10**15, "12a", "", True])
def test_make_betalingskenmerk_refuses(number: int | str) -> None:
    with pytest.raises(BadInput):
        make_betalingskenmerk(number)


def _reference_check_digit(body: str) -> int:
    """Independent formulation: the weight of the i-th digit from the right is 2**(i+1) mod 11."""
    total = sum(int(d) * pow(2, i + 1, 11) for i, d in enumerate(reversed(body)))
    return [0, 1, 9, 8, 7, 6, 5, 4, 3, 2, 1][total % 11]


@given(kenmerk_numbers)
def test_betalingskenmerk_round_trip(number: int) -> None:
    ref = make_betalingskenmerk(number)
    assert len(ref) == 16 and ref.isdigit() and int(ref[1:]) == number
    assert is_valid_betalingskenmerk(ref)
    assert int(ref[0]) == _reference_check_digit(ref[1:])


@given(kenmerk_numbers, st.integers(min_value=0, max_value=9))
def test_betalingskenmerk_has_one_check_digit(number: int, other: int) -> None:
    ref = make_betalingskenmerk(number)
    if other != int(ref[0]):
        assert not is_valid_betalingskenmerk(f"{other}{ref[1:]}")


# -- IBAN and normalisation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban", ["NL91ABNA0417164300", "nl91 abna 0417 1643 00", "NL77ABNA0574908765", "DE89370400440532013000"]
)
def test_valid_iban(iban: str) -> None:
    assert is_valid_iban(iban)
    assert stdnum_iban.is_valid(iban)


@pytest.mark.parametrize(
    "iban",
    [
        "NL91ABNA0417164301",
        "NL30ABNA000000000000",
        "NL91",
        "9191ABNA0417164300",
        # accepted by the hand-written check before python-stdnum (issue 17): 19
        # characters for NL, no such country, a German IBAN with letters and 18 characters
        "NL06ABNA04171643001",
        "XX62ABNA0417164300",
        "DE08ABNA0417164300",
    ],
)
def test_invalid_iban(iban: str) -> None:
    assert not is_valid_iban(iban)


@pytest.mark.parametrize(
    ("bic", "valid"),
    [
        ("ABNANL2A", True),
        ("abna nl 2a", True),
        ("INGBNL2AXXX", True),
        ("ABNA", False),
        ("ABNANL2", False),
        ("1BNANL2A", False),
    ],
)
def test_bic(bic: str, valid: bool) -> None:
    assert is_valid_bic(bic) is valid


def test_loan_rf_is_what_the_import_reads_back() -> None:
    assert loan_rf("L00012345", "INC") == make_rf("INC00012345")
    assert loan_rf("L00012345", "") == make_rf("00012345")
    with pytest.raises(BadInput):
        loan_rf("LOAN", "INC")


def test_normalize_reference() -> None:
    assert normalize_reference("  rf18 5390\t0754 7034 ") == "RF18539007547034"
    assert normalize_reference("") == ""
