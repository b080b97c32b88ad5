"""The Textual application: one per session (local terminal or SSH login), with its own user and locale."""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any

from textual import events, on
from textual._path import _css_path_type_as_list
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.command import CommandPalette
from textual.content import Content
from textual.driver import Driver
from textual.screen import Screen

from incasso_tui.domain.enums import Role
from incasso_tui.i18n import Translator
from incasso_tui.services.context import Context
from incasso_tui.ui import css_cache
from incasso_tui.ui.heap import IdleCollector
from incasso_tui.ui.labels import ROLE
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import safe, translate_bindings

if TYPE_CHECKING:
    from incasso_tui.services.worklist import OpenedWorklist


def _outside_commands():  # type: ignore[no-untyped-def]
    from incasso_tui.ui.screens.outside import OutsideCommands

    return OutsideCommands


class IncassoApp(App[None]):
    CSS_PATH = STYLES / "app.tcss"
    TITLE = "Incasso & Beheer"
    ENABLE_COMMAND_PALETTE = True
    COMMANDS = App.COMMANDS | {_outside_commands}  # issue 19: outside parties, external, complaints
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", id="quit", priority=True),
        Binding("question_mark", "toggle_help", "Keys", id="help"),
    ]

    def __init__(self, ctx: Context, tr: Translator, worklist: Future[OpenedWorklist] | None = None) -> None:
        """``worklist``: the worklist's first load, begun before the app (cli.tui.run_tui: it runs while Textual is
        imported and the app starts, issue 18); without it the worklist screen loads itself."""
        super().__init__()
        css_cache.install(self)  # parsed CSS shared by every app of the process (issue 18)
        self.ctx = ctx
        self.tr = tr
        self._opening = worklist
        self.heap = IdleCollector()
        self.theme = ctx.settings.theme
        actor = ctx.actor
        self.sub_title = f"{actor.full_name} ({actor.name}) · {tr(ROLE[actor.role.value])}"
        translate_bindings(self, tr)
        self.css_path = [*self.css_path, *self._start_screens_css()]

    def _start_screens_css(self) -> list[Path]:
        """The stylesheets of the screens the app opens with (:meth:`_open_start_screens`), read with the app's
        own. Textual reads a screen's stylesheet when the screen is first pushed, parses the whole stylesheet
        again and restyles every node the app has; then the new screen is styled twice, at its mount and again when
        it is first shown (``DeskScreen._styled_by_mount``): about 10 % of an SSH session's CPU to its first paint
        (issue 18). A screen's stylesheet applies to the whole app either way, read early or late."""
        from incasso_tui.ui.screens.worklist import WorklistScreen

        screens: list[type[Screen[Any]]] = [WorklistScreen]
        if self.ctx.actor.role == Role.SPECIAL_MANAGEMENT:
            from incasso_tui.ui.screens.special import SpecialManagementScreen

            screens.append(SpecialManagementScreen)
        elif self.ctx.actor.role == Role.ADVISER:
            from incasso_tui.ui.screens.inbox import InboxScreen

            screens.append(InboxScreen)
        paths = [Path(path) for screen in screens for path in _css_path_type_as_list(screen.CSS_PATH or [])]
        return [path for path in dict.fromkeys(paths) if path not in self.css_path]

    def get_driver_class(self) -> type[Driver]:
        """Textual's driver for the platform; in its place of LinuxDriver the desk's, which reports Escape when its
        delay is over instead of up to 0.1 s later (ui.driver, issue 18). A driver named in TEXTUAL_DRIVER stays."""
        driver = super().get_driver_class()
        if (driver.__module__, driver.__name__) == ("textual.drivers.linux_driver", "LinuxDriver"):  # not on Windows
            from incasso_tui.ui.driver import DeskDriver

            return DeskDriver
        return driver

    # ----- Textual's own texts in the session's language (i18n/nl/textual.po): the keys of its widgets in the ?
    # panel, the command palette's placeholder and its system commands

    @on(events.DescendantFocus)
    def _translate_focused(self, event: events.DescendantFocus) -> None:
        """The ? panel lists the keys of the focused widget and of every node above it: a widget of Textual's own
        (a table, an input field, a scrolling pane) has its descriptions translated once, when first focused."""
        node: Any = event.widget
        while node is not None and node is not self:
            translate_bindings(node, self.tr)  # once per node
            node = node.parent

    def get_system_commands(self, screen: Any) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            yield SystemCommand(self.tr(command.title), self.tr(command.help), command.callback, command.discover)

    def action_command_palette(self) -> None:
        if self.use_command_palette and not CommandPalette.is_open(self):  # type: ignore[arg-type]
            self.push_screen(CommandPalette(placeholder=self.tr("Search for commands…"), id="--command-palette"))

    # ----- every title and notification goes through the one safe-text function, never parsed as markup

    def format_title(self, title: str, sub_title: str) -> Content:
        return super().format_title(safe(title), safe(sub_title))  # Content(): literal, controls made visible

    def notify(self, message: str, *, title: str = "", markup: bool = True, **kw: Any) -> None:
        """A toast shows its text literally, whatever a caller passes (a message with a client's name in it)."""
        super().notify(safe(message), title=safe(title), markup=False, **kw)

    def on_mount(self) -> None:
        # the cyclic collector runs while the person reads, not inside a key's response (ui.heap, issue 18)
        self.call_after_refresh(self.heap.start, self)
        self._open_start_screens()

    def on_unmount(self) -> None:
        self.heap.stop()

    async def on_event(self, event: events.Event) -> None:
        if isinstance(event, (events.Key, events.MouseDown, events.MouseScrollDown, events.MouseScrollUp)):
            self.heap.saw_input()
        await super().on_event(event)

    def _open_start_screens(self) -> None:
        from incasso_tui.ui.screens.worklist import WorklistScreen

        opening, self._opening = self._opening, None
        self.push_screen(WorklistScreen(opening))
        if self.ctx.actor.role == Role.SPECIAL_MANAGEMENT:  # their own list first; the desk's one escape away
            from incasso_tui.ui.screens.special import SpecialManagementScreen

            self.push_screen(SpecialManagementScreen())
        elif self.ctx.actor.role == Role.ADVISER:  # a business adviser starts at the consultations asked of them
            from incasso_tui.ui.screens.inbox import InboxScreen

            self.push_screen(InboxScreen())

    async def action_quit(self) -> None:
        """ctrl+q: a form with unsaved input asks first (issue 14), anywhere under a question too."""
        from incasso_tui.ui.screens.form import SavingScreen

        forms = [screen for screen in self.screen_stack if isinstance(screen, SavingScreen)]
        if forms and forms[-1].dirty:
            if self.screen is forms[-1]:
                forms[-1].confirm_leave(self.exit)
            return  # a question is open above the form: it is answered first
        self.exit()

    def action_toggle_help(self) -> None:
        if self.screen.query("HelpPanel"):
            self.action_hide_help_panel()
        else:
            self.action_show_help_panel()
