"""An impossible date says it does not exist, instead of blaming the notation (issue 14)."""

from __future__ import annotations

import pytest

from incasso_tui.errors import BadInput
from incasso_tui.i18n import Translator
from incasso_tui.ui.parse import parse_day


def test_31_february_does_not_exist() -> None:
    tr = Translator("nl")
    with pytest.raises(BadInput) as err:
        parse_day("31-02-2027", tr)
    assert tr.error(err.value) == "31-02-2027 bestaat niet: die maand heeft 28 dagen"
    with pytest.raises(BadInput) as err:
        parse_day("29-02-2028", tr) and parse_day("30-02-2028", tr)
    assert "29 dagen" in tr.error(err.value)  # 2028 is a leap year: 29 February exists, the 30th not


def test_month_13_and_a_bad_form() -> None:
    tr = Translator("en")
    with pytest.raises(BadInput) as err:
        parse_day("01/13/2027", tr)
    assert tr.error(err.value) == "01/13/2027 does not exist: there is no month 13"
    with pytest.raises(BadInput) as err:
        parse_day("next week", tr)
    assert "use dd/mm/yyyy" in tr.error(err.value)
