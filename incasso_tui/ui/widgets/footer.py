"""The desk's footer: Textual's Footer, without restyling its keys more often than what it shows changes (issue 18).

Textual's Footer recomposes (removes every key and mounts new ones, each styled with the whole stylesheet) whenever
the screen's bindings change, and a compact footer's keys are styled twice at their mount (once as mounted, once
more when their ``compact`` watcher adds the ``-compact`` class). On the client detail the bindings change when the
case has been read (the dimmed writing keys light up): that was a recompose of the whole footer per open.

Here the keys are composed as Textual composes them, with ``-compact`` already set in a compact footer; when the
bindings change, the new keys are composed but only mounted if they differ from the shown ones in more than their
enabled state. When only that differs, the shown keys' ``-disabled`` class is switched in place.

A screen's start changes its bindings several times in a row (mounted, focus given, ``refresh_bindings``): only the
last of such a burst of changes composes the keys to compare them; the earlier ones find a newer one queued behind
them and leave it the work. That was 5 compositions of the keys per SSH login before the worklist was painted,
about 10 ms of the session's CPU (issue 18).
"""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.compose import compose
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Footer
from textual.widgets._footer import FooterKey


def _shape(node: Widget, children: list[Widget]) -> tuple[Any, ...]:
    """What a footer node shows, apart from whether a key is enabled."""
    own: tuple[Any, ...] = (type(node), frozenset(node.classes - {"-disabled"}))
    if isinstance(node, FooterKey):
        own += (node.key, node.key_display, node.description, node.action, node.tooltip)
    return own, tuple(_shape(child, list(_kids(child))) for child in children)


def _kids(node: Widget) -> list[Widget]:
    """A node's children: mounted ones, or those a compose gave it that are not mounted yet."""
    return list(node.children) if node.is_attached else list(node._pending_children)


def _keys(nodes: list[Widget]) -> list[FooterKey]:
    found: list[FooterKey] = []
    for node in nodes:
        if isinstance(node, FooterKey):
            found.append(node)
        found.extend(_keys(_kids(node)))
    return found


class DeskFooter(Footer):
    """A drop-in :class:`textual.widgets.Footer`: Footer's CSS applies (a subclass matches ``Footer`` rules)."""

    _show_requests = 0  # bindings changes handed to _show_bindings so far (the newest one does the work)
    shown = 0  # times the keys were composed to compare with the shown ones (tests)

    def __init__(self, *args: Any, keys_later: bool = False, **kwargs: Any) -> None:
        """``keys_later``: compose no keys at the footer's mount; the screen shows them with :meth:`show_now` (or
        the first bindings signal does), when what enables them has come (``RowsScreen``: its rows)."""
        super().__init__(*args, **kwargs)
        self._keys_later = keys_later

    def compose(self) -> ComposeResult:
        if self._keys_later:
            self._keys_later = False
            return
        if not self._bindings_ready and self.is_attached:
            # Textual's Footer composes nothing until the screen's first bindings signal, which comes after the
            # screen's first paint: the keys then appear in a paint of their own and the footer in a layout of its
            # own (issue 18). Composed from the screen's bindings as they are now, the footer is in the first paint;
            # the signal that follows mounts nothing when what it shows is the same (``_show_bindings``).
            self.set_reactive(Footer._bindings_ready, True)
        for node in super().compose():
            if self.compact and isinstance(node, FooterKey):
                node.add_class("-compact", update=False)  # what its compact watcher sets at mount
            yield node

    def bindings_changed(self, screen: Screen[Any]) -> None:
        self._bindings_ready = True
        if not screen.app.app_focus:
            return
        if self.is_attached and screen is self.screen:
            request = self._show_requests + 1
            if self.call_after_refresh(self._show_bindings, request):
                self._show_requests = request

    async def show_now(self) -> None:
        """Show the screen's bindings as they are now, before the screen's next paint (a screen that waits, before
        its first paint, for what enables its keys: ``RowsScreen``). Run as the footer (its compose binds data)."""
        with self._context():
            await self._show_bindings()

    async def _show_bindings(self, request: int | None = None) -> None:
        if not self.is_attached or self._pruning:
            return
        if request is not None and request != self._show_requests:
            return  # a newer change is queued behind this one: it looks at the bindings as they will be then
        self.shown += 1
        new = compose(self)
        shown = list(self.query_children("*").exclude(".-textual-system"))
        if [_shape(n, _kids(n)) for n in new] == [_shape(n, _kids(n)) for n in shown]:
            for old_key, new_key in zip(_keys(shown), _keys(new), strict=True):
                if old_key._disabled != new_key._disabled:
                    old_key._disabled = new_key._disabled
                    old_key.set_class(new_key._disabled, "-disabled")
            return
        async with self.batch():
            await self.query_children("*").exclude(".-textual-system").remove()
            if self.is_attached:
                await self.mount_all(new)
