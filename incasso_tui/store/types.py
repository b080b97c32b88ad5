"""Column types that keep money and rates exact in every database.

Money is stored as whole cents in a BIGINT and comes back as a ``Decimal`` with two places, so SQLite
(which has no exact decimal type) never sees a float and sums in SQL stay exact integers. Rates are
stored as millionths (8.5 % -> 85000).
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, Integer, String, func, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import TypeDecorator

from incasso_tui.domain.money import from_cents, to_cents

_MILLION = Decimal(1_000_000)


class Money(TypeDecorator[Decimal]):
    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> int | None:
        return None if value is None else to_cents(value)

    def process_result_value(self, value: int | None, dialect: object) -> Decimal | None:
        return None if value is None else from_cents(int(value))


class Rate(TypeDecorator[Decimal]):
    """An annual rate as a fraction (Decimal('0.085')), stored exactly as millionths."""

    impl = Integer
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: object) -> int | None:
        if value is None:
            return None
        scaled = value * _MILLION
        if scaled != scaled.to_integral_value():
            raise ValueError(f"rate {value} has more than 6 decimals")
        return int(scaled)

    def process_result_value(self, value: int | None, dialect: object) -> Decimal | None:
        return None if value is None else Decimal(int(value)) / _MILLION


def money_sum(expression: Any) -> ColumnElement[Decimal]:
    """``SUM(expression)`` as Money, 0.00 when there are no rows. Arithmetic on Money columns (``amount - paid``)
    yields plain cents in SQL; this turns the sum back into a Decimal of euros."""
    return type_coerce(func.coalesce(func.sum(expression), 0), Money)


class Vocab(TypeDecorator[str]):
    """A closed vocabulary (a ``StrEnum`` of ``domain``) stored as its plain string values in a VARCHAR of the
    column's length, so the database holds exactly the strings it always held. Writing (and comparing with) a value
    that is no member is refused with the vocabulary's name; reading gives the enum member."""

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int) -> None:
        super().__init__(length)
        self.enum = enum
        self._members: dict[str, StrEnum] = {member.value: member for member in enum}

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        if value is None:
            return None
        member = self._members.get(value)
        if member is None:
            raise ValueError(f"{value!r} is not a {self.enum.__name__} (one of {', '.join(self._members)})")
        return member.value

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        if value is None:
            return None
        member = self._members.get(value)
        if member is None:
            raise ValueError(f"the database holds {value!r}, which is not a {self.enum.__name__}")
        return member
