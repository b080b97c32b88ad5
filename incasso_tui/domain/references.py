"""Payment references: the ISO 11649 creditor reference (RF) and the Dutch betalingskenmerk.

Both are "structured" references a debtor copies into a transfer; the bank passes them on unchanged
(CAMT ``CdtrRefInf/Ref``, MT940 ``/REMI/STRD/``), so an incoming payment can be matched to the loan
without reading free text.

- RF (ISO 11649): ``RF`` + 2 check digits + 1 to 21 letters or digits. The check digits make the
  number ``base + "RF" + check`` (letters as 10..35) equal to 1 modulo 97, the ISO 7064 MOD 97-10
  scheme that IBANs use as well. The references this lender issues for a loan are :func:`loan_rf`:
  ``payment_rf_prefix`` + the loan number's digits, what the payment import matches
  (``services.payments.auto_match``).
- Betalingskenmerk (Betaalvereniging Nederland): 16 digits, the first is a check digit over the 15
  others: weights 2, 4, 8, 5, 10, 9, 7, 3, 6, 1 (the powers of 2 modulo 11) repeating from the right,
  check = 11 - (sum mod 11), where 10 becomes 1 and 11 becomes 0. The shorter lengths (7 to 14 digits,
  with a length code) are not used by this lender and are not accepted.

IBANs, BICs and RF references are checked with python-stdnum (``stdnum.iban`` knows every country's IBAN length
and format, ``stdnum.iso11649`` the RF), imported at the first check: its IBAN registry costs start-up time that a
command which checks no IBAN should not pay. An RF of plain ASCII letters and digits (what a payment file carries) is
checked here with the same arithmetic, without stdnum's Unicode clean-up, which took most of a bank file's matching
time; anything else still goes to stdnum.

Everything here is pure: no I/O, no database.
"""

from __future__ import annotations

import re
import string

from incasso_tui.errors import N_, BadInput

__all__ = [
    "is_valid_betalingskenmerk",
    "is_valid_bic",
    "is_valid_iban",
    "is_valid_rf",
    "loan_rf",
    "make_betalingskenmerk",
    "make_rf",
    "normalize_reference",
]

_RF_BASE = re.compile(r"^[A-Z0-9]{1,21}$")
_DIGITS = re.compile(r"^[0-9]+$")
_KENMERK_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)
_KENMERK_BODY = 15
# each letter or digit as its ISO 7064 value (A = 10 ... Z = 35), as a str.translate table
_BASE36 = str.maketrans({c: str(int(c, 36)) for c in string.digits + string.ascii_uppercase})


def normalize_reference(s: str) -> str:
    """Return ``s`` without any whitespace and in upper case, as references are compared."""
    return "".join(s.split()).upper()


def make_rf(base: str) -> str:
    """Return the RF creditor reference for ``base`` (1 to 21 letters or digits; spaces are ignored).

    >>> make_rf("539007547034")
    'RF18539007547034'
    """
    from stdnum.iso7064 import mod_97_10

    body = normalize_reference(base)
    if not _RF_BASE.match(body):
        raise BadInput(N_("A creditor reference needs 1 to 21 letters or digits, not {base!r}"), base=base)
    return f"RF{mod_97_10.calc_check_digits(body + 'RF')}{body}"


def loan_rf(loan_number: str, prefix: str) -> str:
    """The RF reference this lender issues for a loan: ``prefix`` (``payment_rf_prefix``) + the loan number's
    digits, e.g. ``L00012345`` -> ``RF..INC00012345``; the import matches it back to the loan."""
    digits = "".join(ch for ch in loan_number if ch.isdigit())
    if not digits:
        raise BadInput(N_("The loan number {number} has no digits to make a payment reference of"), number=loan_number)
    return make_rf(prefix + digits)


def is_valid_rf(s: str) -> bool:
    """True if ``s`` (spaces and case ignored) is an RF creditor reference with correct check digits."""
    ref = normalize_reference(s)
    if ref.isascii() and ref.isalnum():
        # what stdnum.iso11649.is_valid computes for such a string (its clean-up changes nothing in it): 5 to 25
        # characters, "RF" first, and the number "rest + first four" (letters as 10..35) is 1 modulo 97
        return 5 <= len(ref) <= 25 and ref.startswith("RF") and int((ref[4:] + ref[:4]).translate(_BASE36)) % 97 == 1
    from stdnum import iso11649

    return bool(iso11649.is_valid(ref))


def is_valid_iban(s: str) -> bool:
    """True if ``s`` (spaces and case ignored) is an IBAN: a known country, that country's length and format
    (``NL`` 18 characters with a 4-letter bank code) and correct check digits."""
    from stdnum import iban

    return bool(iban.is_valid(normalize_reference(s)))


def is_valid_bic(s: str) -> bool:
    """True if ``s`` (spaces and case ignored) has the form of a BIC (ISO 9362: 8 or 11 characters)."""
    from stdnum import bic

    return bool(bic.is_valid(normalize_reference(s)))


def _kenmerk_check_digit(body: str) -> int:
    total = sum(int(d) * _KENMERK_WEIGHTS[i % 10] for i, d in enumerate(reversed(body)))
    check = 11 - total % 11
    return {10: 1, 11: 0}.get(check, check)


def make_betalingskenmerk(number: int | str) -> str:
    """Return the 16-digit betalingskenmerk for ``number`` (at most 15 digits, zero-padded on the left).

    >>> make_betalingskenmerk(56789012345)
    '5000056789012345'
    """
    digits = str(number).strip()
    if not _DIGITS.match(digits) or len(digits) > _KENMERK_BODY:
        raise BadInput(
            N_("A payment reference (betalingskenmerk) is made from at most 15 digits, not {number!r}"),
            number=number,
        )
    body = digits.zfill(_KENMERK_BODY)
    return f"{_kenmerk_check_digit(body)}{body}"


def is_valid_betalingskenmerk(s: str) -> bool:
    """True if ``s`` (spaces ignored; dots too, as on Belastingdienst letters) is a valid 16-digit
    betalingskenmerk."""
    ref = normalize_reference(s).replace(".", "")
    return len(ref) == _KENMERK_BODY + 1 and bool(_DIGITS.match(ref)) and int(ref[0]) == _kenmerk_check_digit(ref[1:])
