"""Reading what the employee typed in the session's notation (amounts: ``domain.money.parse_amount``)."""

from __future__ import annotations

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
    raise BadInput(N_("Not a date: {text} (use {pattern})"), text=text, pattern=tr(N_("dd/mm/yyyy")))
