"""Showing data literally in Textual: no markup is interpreted and no control character reaches the terminal.

The characters themselves are made harmless by :func:`incasso_tui.safetext.safe` (the one safe-text module, also
used by the CLI, CSV exports, letters and mail); here they become widget content that is never parsed as markup.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from rich.style import Style
from rich.text import Text
from textual.content import Content

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

from incasso_tui.safetext import safe

__all__ = ["lit", "money_cell", "right", "safe", "text_cell", "translate_bindings"]


def lit(value: object, style: str = "") -> Content:
    """Content that shows ``value`` exactly as typed (markup characters included)."""
    return Content.styled(safe(value), style) if style else Content(safe(value))


def translate_bindings(node: object, tr: object) -> None:
    """Show a node's key descriptions (English ids in BINDINGS, Textual's own included) in the session's language;
    once per node (a second call would look the Dutch text up as an English id)."""
    from dataclasses import replace

    if getattr(node, "_incasso_translated", False):
        return
    node._incasso_translated = True  # type: ignore[attr-defined]
    bindings = node._bindings  # type: ignore[attr-defined]
    for key, items in bindings.key_to_bindings.items():
        bindings.key_to_bindings[key] = [
            replace(b, description=tr(b.description), tooltip=tr(b.tooltip) if b.tooltip else b.tooltip)  # type: ignore[operator]
            for b in items
        ]


# ----- DataTable cells (a plain str cell would be parsed as markup)


def text_cell(value: object, style: str | Style = "") -> Text:
    """A DataTable cell that shows ``value`` literally."""
    return Text(safe(value), style=style, end="")


def right(value: object, style: str | Style = "") -> Text:
    """A right-aligned literal cell (numbers)."""
    return Text(safe(value), style=style, justify="right", end="")


def money_cell(tr: Translator, amount: Decimal, style: str | Style = "") -> Text:
    """An amount in the session's notation, right-aligned."""
    return Text(tr.money(amount), style=style, justify="right", end="")
