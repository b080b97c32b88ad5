"""The typed base of every screen of the desk: the session's context and translator, typed once.

Textual types ``self.app`` as ``App[object]``, which knows neither ``ctx`` (the service context: database, clock,
operator) nor ``tr`` (the session's translator) of :class:`incasso_tui.ui.app.IncassoApp`. A screen derives from
:class:`DeskScreen` (or :class:`DeskModal` for a modal one) and reads ``self.ctx`` and ``self.tr``, typed, instead of
``self.app.ctx  # type: ignore[attr-defined]``.

Two things every screen does at its first showing, so that Textual does not style the whole new tree twice
(issue 18: each restyle of the client detail cost 0.1-0.2 s): the breakpoint classes (``-narrow``/``-wide``) are set
when the screen is made, from the terminal's size, so the first resize finds them unchanged; and the first resume
after the screen was mounted does not restyle the tree its mount has just styled.

A screen that starts a read as it is made or shown again (a form's preview, the client's budget) can have its next
paint wait for it a bounded time (:meth:`DeskScreen.paint_after`, :data:`PAINT_WAIT_S`): painted once, with what
the read brought, instead of once without it and again, laid out anew, when it came (issue 18).

``DeskModal`` lists ``ModalScreen`` first: Textual takes CSS (the dimmed background) and the CSS type names from
the first DOMNode base only; the properties come along the MRO.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import suppress
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar, cast

from textual import events
from textual._context import active_app
from textual.screen import ModalScreen, Screen

from incasso_tui.ui.widgets.footer import DeskFooter

if TYPE_CHECKING:
    from textual.app import App
    from textual.geometry import Size

    from incasso_tui.i18n import Translator
    from incasso_tui.services.context import Context
    from incasso_tui.ui.app import IncassoApp

R = TypeVar("R")

# How long a screen's paint waits for the reads it was given (DeskScreen.paint_after): they take milliseconds; a
# slower one (a busy database) shows the screen without them after this, and they fill it in when they come.
PAINT_WAIT_S = 0.25


def desk_app(app: App[Any]) -> IncassoApp:
    """``app`` as the desk's app, for code that is not a screen (a command palette provider, a helper)."""
    return cast("IncassoApp", app)


class DeskScreen(Screen[R]):
    """A screen of the desk: ``ctx`` and ``tr`` are the app's, typed."""

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self._styled_by_mount = False  # whether the first resume may skip its restyle
        self._css_seen = -1  # the app's CSS generation (App._css_update_count) when this screen was last shown
        self._paint_waits: list[asyncio.Event] = []  # what the next paint waits for (paint_after)
        try:
            app = active_app.get()
        except LookupError:  # made outside a running app: the first resize sets the classes
            return
        # A screen whose CSS the app reads at its push is styled (the screen node itself) only by that restyle
        # (Textual styles the node before it loads the CSS): the first screen of a kind in a session keeps it.
        self._styled_by_mount = not self.CSS and all(app.stylesheet.has_source(str(p), "") for p in self.css_path)
        self._set_breakpoints(app, update=False)  # before anything is styled

    def _set_breakpoints(self, app: App[Any], *, update: bool) -> None:
        """The classes Screen._on_resize would set (textual/screen.py) for the terminal's size now."""
        width, height = app.size
        horizontal = app.HORIZONTAL_BREAKPOINTS if self.HORIZONTAL_BREAKPOINTS is None else self.HORIZONTAL_BREAKPOINTS
        vertical = app.VERTICAL_BREAKPOINTS if self.VERTICAL_BREAKPOINTS is None else self.VERTICAL_BREAKPOINTS
        for breakpoints, dimension in ((horizontal or [], width), (vertical or [], height)):
            shown = set(self._get_breakpoint_classes(dimension, breakpoints))
            for _, name_ in breakpoints:
                if (name_ in shown) != self.has_class(name_):
                    self.set_class(name_ in shown, name_, update=update)

    KEPT_AS: ClassVar[str | None] = None  # the name an app keeps one screen of this class under (open_kept)

    @classmethod
    def open_kept(cls, app: App[Any], callback: Callable[[Any], Any] | None, *args: Any) -> None:
        """Push a screen of this class made with ``args``: the app keeps one (installed as :attr:`KEPT_AS`) and
        shows it again through :meth:`reset` with the next ``args`` (issue 18: composing, mounting and styling a
        form's nodes was most of its key). A new screen is made the first time, and when the kept one is on the
        stack already (below a question, say), or cannot show them (:meth:`can_show`)."""
        name = cls.KEPT_AS
        if name is None:
            raise TypeError(f"{cls.__name__} sets no KEPT_AS")
        kept = app.get_screen(name) if app.is_screen_installed(name) else None
        if type(kept) is cls and kept.is_attached and kept not in app.screen_stack and kept.can_show(*args):
            kept.reset(*args)
            kept.prepare_reuse()
            app.push_screen(kept, callback)
            return
        screen = cls(*args)
        if kept is None:
            app.install_screen(screen, name)
        app.push_screen(screen, callback)

    def can_show(self, *args: Any) -> bool:
        """Whether this kept screen can show ``args`` through :meth:`reset` (else a new one is made for them)."""
        return True

    def reset(self, *args: Any) -> None:
        """Show this kept screen as a new one made with ``args`` shows itself (:meth:`open_kept`)."""
        raise NotImplementedError(f"{type(self).__name__} cannot be shown again")

    def prepare_reuse(self) -> None:
        """Called before this screen, kept installed while off the stack, is pushed again (the client detail,
        issue 18): its breakpoint classes follow the terminal as it is now (an off-stack screen gets no resize),
        and its resume skips the restyle of its whole tree unless the app's CSS changed (a theme) since the
        screen was last shown: its nodes still have the styles they were shown with."""
        self._set_breakpoints(self.app, update=True)
        self._styled_by_mount = self._css_seen == self.app._css_update_count
        # What changed while off the stack is laid out in the first frame, not in one after it: its widgets ask for
        # their layout from their own idle, which may come after the screen's first update.
        self.refresh(layout=True)

    def paint_after(self, *reads: asyncio.Event) -> None:
        """Let the screen's next paint (its next resume: the push that shows it, or the first one after its mount)
        wait, at most :data:`PAINT_WAIT_S`, until each of ``reads`` is set: the caller sets it on the UI thread once
        the read's answer is shown. The footer then shows the keys as the answers left them (``check_action`` may
        depend on them: a list's highlighted row), in the same paint."""
        self._paint_waits.extend(reads)

    async def _on_screen_resume(self, event: events.ScreenResume) -> None:  # type: ignore[override]  # Textual awaits it
        """Runs before Screen's own handler (which lays out and paints): the first resume of a new screen comes
        right after its mount, which styled every node with the screen's CSS already loaded (see ``__init__``); a
        later resume (back from a modal) restyles. The reads given to :meth:`paint_after` are waited for here."""
        self._css_seen = self.app._css_update_count  # the CSS this screen's nodes are styled with, once shown
        if self._styled_by_mount:
            self._styled_by_mount = False
            event.refresh_styles = False
        waits, self._paint_waits = self._paint_waits, []
        if waits:
            with suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(*(done.wait() for done in waits)), PAINT_WAIT_S)
            for footer in self.query(DeskFooter):  # mounts keys only where they differ from the shown ones
                await footer.show_now()

    def _screen_resized(self, size: Size) -> None:
        """Lay the screen out again only for a new size. Textual relays a screen on every Resize it gets: also the
        one its own first layout sends it (``Screen._refresh_layout`` posts a Resize to every widget it shows, the
        screen among them), which the screen then passes to the screens below it: a second full layout and paint
        of the new screen, and one of the worklist beneath, per opened screen at an unchanged size (10-30 ms,
        issue 18). A change inside the screen is laid out by its refresh timer as always."""
        if size != self._compositor.size:
            super()._screen_resized(size)

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
