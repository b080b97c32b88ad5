"""Reading what the employee typed in the session's notation (amounts: ``domain.money.parse_amount``)."""

from __future__ import annotations

import calendar
import re
from datetime import date, datetime
from typing import TYPE_CHECKING

from incasso_tui.errors import N_, BadInput

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator


def parse_day(text: str, tr: Translator) -> date:
    """A date typed in the session's notation (dd-mm-yyyy for nl, dd/mm/yyyy for en) or ISO."""
    local = "%d-%m-%Y" if tr.lang == "nl" else "%d/%m/%Y"
    for pattern in (local, "%Y-%m-%d"):
        try:
            return datetime.strptime(text.strip(), pattern).date()
        except ValueError:
            continue
    shaped = re.fullmatch(r"([0-9]{1,2})[-/.]([0-9]{1,2})[-/.]([0-9]{4})", text.strip())
    if shaped:  # the right form, an impossible day: say so, not that the form is wrong (issue 14)
        day, month, year = (int(g) for g in shaped.groups())
        if not 1 <= month <= 12:
            raise BadInput(N_("{text} does not exist: there is no month {month}"), text=text.strip(), month=month)
        days = calendar.monthrange(year, month)[1]
        raise BadInput(N_("{text} does not exist: that month has {days} days"), text=text.strip(), days=days)
    raise BadInput(N_("Not a date: {text} (use {pattern})"), text=text, pattern=tr(N_("dd/mm/yyyy")))
