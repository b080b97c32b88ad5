"""Payment references: the ISO 11649 creditor reference (RF) and the Dutch betalingskenmerk.

Both are "structured" references a debtor copies into a transfer; the bank passes them on unchanged
(CAMT ``CdtrRefInf/Ref``, MT940 ``/REMI/STRD/``), so an incoming payment can be matched to the loan
without reading free text.

- RF (ISO 11649): ``RF`` + 2 check digits + 1 to 21 letters or digits. The check digits make the
  number ``base + "RF" + check`` (letters as 10..35) equal to 1 modulo 97, the ISO 7064 MOD 97-10
  scheme that IBANs use as well.
- Betalingskenmerk (Betaalvereniging Nederland): 16 digits, the first is a check digit over the 15
  others: weights 2, 4, 8, 5, 10, 9, 7, 3, 6, 1 (the powers of 2 modulo 11) repeating from the right,
  check = 11 - (sum mod 11), where 10 becomes 1 and 11 becomes 0. The shorter lengths (7 to 14 digits,
  with a length code) are not used by this lender and are not accepted.

Everything here is pure: no I/O, no database.
"""

from __future__ import annotations

import re

from incasso_tui.errors import N_, BadInput

__all__ = [
    "is_valid_betalingskenmerk",
    "is_valid_iban",
    "is_valid_rf",
    "make_betalingskenmerk",
    "make_rf",
    "normalize_reference",
]

_RF_BASE = re.compile(r"^[A-Z0-9]{1,21}$")
_RF = re.compile(r"^RF[0-9]{2}[A-Z0-9]{1,21}$")
_IBAN = re.compile(r"^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$")
_DIGITS = re.compile(r"^[0-9]+$")
_KENMERK_WEIGHTS = (2, 4, 8, 5, 10, 9, 7, 3, 6, 1)
_KENMERK_BODY = 15


def normalize_reference(s: str) -> str:
    """Return ``s`` without any whitespace and in upper case, as references are compared."""
    return "".join(s.split()).upper()


def _mod97(alnum: str) -> int:
    """ISO 7064 MOD 97-10 remainder of ``alnum`` with letters read as 10 (A) to 35 (Z)."""
    return int("".join(str(int(ch, 36)) for ch in alnum)) % 97


def make_rf(base: str) -> str:
    """Return the RF creditor reference for ``base`` (1 to 21 letters or digits; spaces are ignored).

    >>> make_rf("539007547034")
    'RF18539007547034'
    """
    body = normalize_reference(base)
    if not _RF_BASE.match(body):
        raise BadInput(
            N_("A creditor reference needs 1 to 21 letters or digits, not {base!r}"), base=base
        )
    return f"RF{98 - _mod97(body + 'RF00'):02d}{body}"


def is_valid_rf(s: str) -> bool:
    """True if ``s`` (spaces and case ignored) is an RF creditor reference with correct check digits."""
    ref = normalize_reference(s)
    return bool(_RF.match(ref)) and _mod97(ref[4:] + ref[:4]) == 1


def is_valid_iban(s: str) -> bool:
    """True if ``s`` (spaces and case ignored) has the shape of an IBAN and correct check digits.

    The national length and bank codes are not checked: that is for the account administration.
    """
    iban = normalize_reference(s)
    return bool(_IBAN.match(iban)) and _mod97(iban[4:] + iban[:4]) == 1


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
    return (
        len(ref) == _KENMERK_BODY + 1
        and bool(_DIGITS.match(ref))
        and int(ref[0]) == _kenmerk_check_digit(ref[1:])
    )
