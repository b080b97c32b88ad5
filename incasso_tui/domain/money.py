"""Money: euro amounts as :class:`~decimal.Decimal` with two decimals.

Rules (domain-rules.md, "Money"): every amount is a ``Decimal`` in euros with 2 decimals, rounded
half-up to the cent at the end of each computed step. A ``float`` is never accepted anywhere in a
money path: it is refused with ``TypeError`` (so is ``bool``, which Python treats as an ``int``).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from incasso_tui.errors import N_, BadInput

__all__ = ["CENT", "ZERO", "ensure_money", "from_cents", "money", "parse_amount", "to_cents"]

CENT = Decimal("0.01")
ZERO = Decimal("0.00")

# An amount as a person types it: optional sign and euro sign/"EUR" on either side of the digits.
_AMOUNT_RE = re.compile(
    r"""^(?P<sign1>[-+]?)\s*(?P<cur1>€|EUR)?\s*(?P<sign2>[-+]?)\s*
        (?P<body>[0-9][0-9.,]*?)(?P<dash>,-{1,2})?
        \s*(?P<cur2>€|EUR)?$""",
    re.IGNORECASE | re.VERBOSE,
)
_MAX_TEXT = 64
_MAX_DIGITS = 15  # below a quadrillion euros: far above any real loan, far below Decimal's precision
_FAST = Decimal(10**_MAX_DIGITS)  # the plain amounts below it take the short way in ensure_money and to_cents


def _refuse_non_decimal(value: object) -> None:
    if isinstance(value, (float, bool)) or not isinstance(value, (Decimal, int, str)):
        raise TypeError(f"money needs a Decimal, int or str, not {type(value).__name__}")


def money(value: Decimal | int | str) -> Decimal:
    """Return ``value`` as euros rounded half-up to the cent.

    ``float`` and ``bool`` raise ``TypeError``; a string that is not a plain decimal number, and NaN
    or infinity, raise ``ValueError``. (For text a person typed, use :func:`parse_amount`.)
    """
    _refuse_non_decimal(value)
    try:
        number = Decimal(value)
    except InvalidOperation:
        raise ValueError(f"not a decimal number: {value!r}") from None
    if not number.is_finite():
        raise ValueError(f"not a finite amount: {value!r}")
    try:
        return number.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation:  # more digits than the context's precision (28)
        raise ValueError(f"amount too large: {value!r}") from None


def ensure_money(value: Decimal | int) -> Decimal:
    """Return an amount that must already be whole cents, with exactly 2 decimals.

    For amounts handed between layers (never typed by a person): a value with a fraction of a cent
    is a programming error and raises ``ValueError`` instead of being rounded silently, so no
    computation can lose or create part of a cent. ``float``, ``bool`` and ``str`` raise ``TypeError``.
    """
    # same_quantum(CENT): a finite value's exponent is -2 (what as_tuple().exponent == -2 says, without the tuple)
    if type(value) is Decimal and value.is_finite() and value.same_quantum(CENT) and -_FAST < value < _FAST:
        return value  # already exactly 2 decimals: what the rounding below would give, the same digits
    if isinstance(value, str):
        raise TypeError("ensure_money needs a Decimal or int, not str")
    rounded = money(value)
    if rounded != value:
        raise ValueError(f"not a whole number of cents: {value!r}")
    return rounded


def to_cents(amount: Decimal | int) -> int:
    """Return ``amount`` as a whole number of cents; ``ValueError`` if it has a fraction of a cent."""
    if type(amount) is Decimal and amount.is_finite() and -_FAST < amount < _FAST:
        exponent = amount.as_tuple().exponent
        if isinstance(exponent, int) and exponent >= -2:
            # at most 2 decimals and far below the context's precision: whole cents, exactly (what ensure_money
            # concludes, without its rounding and comparison; a bank file or a run writes 100,000s of amounts)
            return int(amount.scaleb(2))
    return int(ensure_money(amount).scaleb(2))


def from_cents(cents: int) -> Decimal:
    """Return ``cents`` as euros with 2 decimals (``from_cents(12345) == Decimal("123.45")``)."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        raise TypeError(f"from_cents needs an int, not {type(cents).__name__}")
    return Decimal(cents).scaleb(-2)


def _split_body(body: str, text: str) -> tuple[str, str]:
    """Split the digits of an amount into (integer digits, decimal digits).

    When both ``.`` and ``,`` appear, the last one is the decimal separator and the other groups
    thousands. A separator that appears once is the decimal separator; one that appears more than
    once groups thousands. So ``1.234,56`` and ``1,234.56`` are both 1234.56 and ``1.234.567`` is
    1234567, but ``1.234`` is read as 1.234 (and refused for its 3 decimals) rather than guessed to
    mean 1234: a wrong guess would silently book a thousand times too much or too little.
    """
    dots, commas = body.count("."), body.count(",")
    decimal_sep: str | None
    group_sep: str | None
    if dots and commas:
        decimal_sep = "." if body.rfind(".") > body.rfind(",") else ","
        group_sep = "," if decimal_sep == "." else "."
    elif dots == 1 or commas == 1:
        decimal_sep, group_sep = ("." if dots else ","), None
    elif dots or commas:
        decimal_sep, group_sep = None, ("." if dots else ",")
    else:
        decimal_sep = group_sep = None
    whole, fraction = body, ""
    if decimal_sep is not None:
        whole, _, fraction = body.rpartition(decimal_sep)
        if decimal_sep in whole or not fraction.isdigit():
            raise BadInput(N_("Not an amount: {text}"), text=text)
    if group_sep is not None:
        if not re.fullmatch(rf"[0-9]{{1,3}}(?:{re.escape(group_sep)}[0-9]{{3}})+", whole):
            raise BadInput(N_("Not an amount: {text}"), text=text)
        whole = whole.replace(group_sep, "")
    if not whole.isdigit():
        raise BadInput(N_("Not an amount: {text}"), text=text)
    return whole, fraction


def parse_amount(text: str, *, allow_negative: bool = False) -> Decimal:
    """Parse an amount a person typed (Dutch or English notation) into euros with 2 decimals.

    Accepted: ``1234,56`` · ``1.234,56`` · ``1234.56`` · ``1,234.56`` · ``€ 12,5`` · ``40`` ·
    ``EUR 40`` · ``12,-`` (Dutch for 12.00) · what Babel prints for nl_NL and en_GB. See
    :func:`_split_body` for how ``.`` and ``,`` are told apart.

    Raises :class:`BadInput` for text that is not an amount, for more than 2 decimals (never rounded
    silently), and for a negative amount unless ``allow_negative``.
    """
    if not isinstance(text, str):
        raise TypeError(f"parse_amount needs a str, not {type(text).__name__}")
    cleaned = text.strip().replace("\u2212", "-")  # U+2212 MINUS SIGN
    match = _AMOUNT_RE.match(cleaned) if len(cleaned) <= _MAX_TEXT else None
    if match is None or (match["sign1"] and match["sign2"]) or (match["cur1"] and match["cur2"]):
        raise BadInput(N_("Not an amount: {text}"), text=text)
    body = match["body"]
    if match["dash"]:  # "12,-" / "1.234,-": the comma is the decimal comma, no decimals follow
        if not re.fullmatch(r"[0-9]+|[0-9]{1,3}(?:\.[0-9]{3})+", body):
            raise BadInput(N_("Not an amount: {text}"), text=text)
        whole, fraction = body.replace(".", ""), ""
    else:
        whole, fraction = _split_body(body, text)
    if len(fraction) > 2:
        raise BadInput(N_("An amount has at most 2 decimals: {text}"), text=text)
    if len(whole.lstrip("0")) > _MAX_DIGITS:
        raise BadInput(N_("Not an amount: {text}"), text=text)
    amount = Decimal(f"{whole}.{fraction or '0'}").quantize(CENT)
    if (match["sign1"] or match["sign2"]) == "-":
        amount = -amount
    if amount < 0 and not allow_negative:
        raise BadInput(N_("The amount may not be negative: {text}"), text=text)
    return amount + ZERO  # normalises -0.00 to 0.00
