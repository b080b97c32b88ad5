"""Money helpers: Decimal only, half-up to the cent, parsing what people type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incasso_tui.domain.money import CENT, ZERO, ensure_money, from_cents, money, parse_amount, to_cents
from incasso_tui.errors import BadInput


def test_constants() -> None:
    assert CENT == Decimal("0.01") and str(ZERO) == "0.00"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Decimal("1.005"), "1.01"),
        (Decimal("1.004"), "1.00"),
        (Decimal("-1.005"), "-1.01"),  # half-up = away from zero on the half
        (Decimal("2.675"), "2.68"),
        (40, "40.00"),
        ("12.345", "12.35"),
    ],
)
def test_money_rounds_half_up(value: Decimal | int | str, expected: str) -> None:
    assert str(money(value)) == expected


@pytest.mark.parametrize("bad", [1.5, True, None, [1]])
def test_money_refuses_float_bool_and_others(bad: object) -> None:
    with pytest.raises(TypeError):
        money(bad)  # type: ignore[arg-type]


@pytest.mark.parametrize("bad", ["abc", "NaN", "Infinity", "1e30"])
def test_money_refuses_non_numbers(bad: str) -> None:
    with pytest.raises(ValueError):
        money(bad)


def test_ensure_money_keeps_cents_and_refuses_fractions() -> None:
    assert str(ensure_money(Decimal("3.5"))) == "3.50"
    assert str(ensure_money(7)) == "7.00"
    with pytest.raises(ValueError):
        ensure_money(Decimal("0.001"))
    with pytest.raises(TypeError):
        ensure_money(0.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        ensure_money("1.00")  # type: ignore[arg-type]


def test_cents_round_trip_values() -> None:
    assert to_cents(Decimal("123.45")) == 12345
    assert to_cents(Decimal("-0.07")) == -7
    assert from_cents(12345) == Decimal("123.45") and str(from_cents(12345)) == "123.45"
    assert str(from_cents(0)) == "0.00"
    with pytest.raises(ValueError):
        to_cents(Decimal("1.234"))
    with pytest.raises(TypeError):
        to_cents(1.23)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_cents(1.0)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        from_cents(True)


@given(st.integers(min_value=-(10**15), max_value=10**15))
def test_cents_round_trip_property(cents: int) -> None:
    assert to_cents(from_cents(cents)) == cents
    assert from_cents(cents).as_tuple().exponent == -2


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1234,56", "1234.56"),
        ("1.234,56", "1234.56"),
        ("1234.56", "1234.56"),
        ("1,234.56", "1234.56"),
        ("€ 12,5", "12.50"),
        ("40", "40.00"),
        ("  40  ", "40.00"),
        ("EUR 5", "5.00"),
        ("5 €", "5.00"),
        ("12,-", "12.00"),
        ("1.234,-", "1234.00"),
        ("1.234.567", "1234567.00"),
        ("1,234,567.8", "1234567.80"),
        ("0,10", "0.10"),
        ("€\xa01.234,56", "1234.56"),  # what Babel prints for nl_NL
        ("€1,234.56", "1234.56"),  # what Babel prints for en_GB
        ("+3", "3.00"),
        ("-0", "0.00"),
    ],
)
def test_parse_amount_accepts(text: str, expected: str) -> None:
    assert str(parse_amount(text)) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("-12,50", "-12.50"), ("€ -1.234,56", "-1234.56"), ("-€1,234.56", "-1234.56"), ("\u221212", "-12.00")],
)
def test_parse_amount_negative_when_allowed(text: str, expected: str) -> None:
    assert str(parse_amount(text, allow_negative=True)) == expected
    with pytest.raises(BadInput) as info:
        parse_amount(text)
    assert info.value.msgid == "The amount may not be negative: {text}"
    assert info.value.params == {"text": text}


@pytest.mark.parametrize(
    "text",
    [
        "",
        "abc",
        "1..2",
        "1,2,3",
        "12,",
        ".5",
        "€€1",
        "1 234",
        "1e5",
        "NaN",
        "--1",
        "1,23.4",
        "12,5-",
        "1.23.456",
        "1" * 16,
        "9" * 80,
        "12,3,-",
    ],
)
def test_parse_amount_refuses_garbage(text: str) -> None:
    with pytest.raises(BadInput) as info:
        parse_amount(text)
    assert info.value.msgid == "Not an amount: {text}"
    assert str(info.value) == f"Not an amount: {text}"


@pytest.mark.parametrize("text", ["12,345", "0,125", "1.2345", "1.234", "1,000"])
def test_parse_amount_refuses_more_than_two_decimals(text: str) -> None:
    # A lone separator followed by 3 digits is read as a decimal separator, so "1.234" is refused
    # rather than guessed to be 1234 (a wrong guess books a thousand times too much or too little).
    with pytest.raises(BadInput) as info:
        parse_amount(text)
    assert info.value.msgid == "An amount has at most 2 decimals: {text}"


def test_parse_amount_refuses_non_str() -> None:
    with pytest.raises(TypeError):
        parse_amount(12.5)  # type: ignore[arg-type]


@given(st.integers(min_value=0, max_value=10**13))
def test_parse_amount_reads_babel_output_back(cents: int) -> None:
    from babel.numbers import format_currency

    amount = from_cents(cents)
    for locale in ("nl_NL", "en_GB"):
        assert parse_amount(format_currency(amount, "EUR", locale=locale)) == amount


def _old_to_cents(amount: Decimal) -> int | str:
    """What to_cents was before its fast path (ensure_money, then scaled), or the error it raised."""
    try:
        return int(ensure_money(amount).scaleb(2))
    except (ValueError, TypeError) as exc:
        return type(exc).__name__


def _new_to_cents(amount: Decimal) -> int | str:
    try:
        return to_cents(amount)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__


@given(st.decimals(allow_nan=True, allow_infinity=True) | st.decimals(places=2) | st.decimals(places=3))
def test_to_cents_agrees_with_ensure_money(amount: Decimal) -> None:
    """The fast path for plain amounts gives what ensure_money gives, error or value, for any Decimal."""
    assert _new_to_cents(amount) == _old_to_cents(amount)


@pytest.mark.parametrize(
    "text", ["1.0000000000000000000000000001", "1.230", "-0.00", "1E+14", "999999999999999.99", "1E+15", "1E+40", "-5"]
)
def test_to_cents_agrees_with_ensure_money_at_the_edges(text: str) -> None:
    assert _new_to_cents(Decimal(text)) == _old_to_cents(Decimal(text))


def _old_ensure_money(amount: Decimal) -> str:
    """What ensure_money was before its fast path (the digits, as str), or the error it raised."""
    try:
        rounded = money(amount)
        if rounded != amount:
            raise ValueError
        return str(rounded)
    except (ValueError, TypeError) as exc:
        return type(exc).__name__


def _new_ensure_money(amount: Decimal) -> str:
    try:
        return str(ensure_money(amount))
    except (ValueError, TypeError) as exc:
        return type(exc).__name__


@given(st.decimals(allow_nan=True, allow_infinity=True) | st.decimals(places=2) | st.decimals(places=1))
def test_ensure_money_agrees_with_its_old_route(amount: Decimal) -> None:
    """The same value with the same digits (``5.00``, never ``5``), or the same error, for any Decimal."""
    assert _new_ensure_money(amount) == _old_ensure_money(amount)


@pytest.mark.parametrize("text", ["5", "5.0", "5.00", "-0.00", "1.230", "999999999999999.99", "1E+15", "1.00E+3"])
def test_ensure_money_agrees_with_its_old_route_at_the_edges(text: str) -> None:
    assert _new_ensure_money(Decimal(text)) == _old_ensure_money(Decimal(text))
