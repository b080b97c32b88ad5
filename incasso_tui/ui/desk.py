"""The typed base of every screen of the desk: the session's context and translator, typed once.

Textual types ``self.app`` as ``App[object]``, which knows neither ``ctx`` (the service context: database, clock,
operator) nor ``tr`` (the session's translator) of :class:`incasso_tui.ui.app.IncassoApp`. A screen derives from
:class:`DeskScreen` (or :class:`DeskModal` for a modal one) and reads ``self.ctx`` and ``self.tr``, typed, instead of
``self.app.ctx  # type: ignore[attr-defined]``.

``DeskModal`` lists ``ModalScreen`` first: Textual takes CSS (the dimmed background) and the CSS type names from
the first DOMNode base only; the properties come along the MRO.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar, cast

from textual.screen import ModalScreen, Screen

if TYPE_CHECKING:
    from textual.app import App

    from incasso_tui.i18n import Translator
    from incasso_tui.services.context import Context
    from incasso_tui.ui.app import IncassoApp

R = TypeVar("R")


def desk_app(app: App[Any]) -> IncassoApp:
    """``app`` as the desk's app, for code that is not a screen (a command palette provider, a helper)."""
    return cast("IncassoApp", app)


class DeskScreen(Screen[R]):
    """A screen of the desk: ``ctx`` and ``tr`` are the app's, typed."""

    @property
    def desk(self) -> IncassoApp:
        """The running app, as what it is."""
        return desk_app(self.app)

    @property
    def ctx(self) -> Context:
        return self.desk.ctx

    @property
    def tr(self) -> Translator:
        return self.desk.tr


class DeskModal(ModalScreen[R], DeskScreen[R]):
    """A modal screen of the desk (see :class:`DeskScreen`)."""
