"""A small modal form: captions and inputs, a message under each field, saving through a service in a worker.

Subclasses compose their fields with :meth:`FormScreen.field`, parse what was typed in :meth:`read` (reporting
what cannot be read at its field) and make the service call in :meth:`submit`, which runs in a thread worker.
A refusal is shown at the field it names (``IncassoError.field``) or under the form, and everything typed
stays; only a successful save closes the form, with the service's result. :class:`SavingScreen` is that
behaviour without the modal box (the full-screen arrangement form uses it); :class:`ConfirmScreen` is a
modal question without fields.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.css.query import NoMatches
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, TextArea

from incasso_tui.domain.money import parse_amount
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.parse import parse_day
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, translate_bindings
from incasso_tui.ui.work import closing_worker

R = TypeVar("R")


class SavingScreen(DeskScreen[R | None], Generic[R]):
    """What every form shares, modal or full screen: messages at the fields and saving in a worker.

    Dismissed with what :meth:`submit` returned, or None when cancelled.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="save", priority=True),
        Binding("escape", "cancel", "Cancel", id="cancel"),
    ]
    FIELDS: ClassVar[tuple[str, ...]] = ()  # the inputs, by the names the services use in IncassoError.field

    def __init__(self, name: str | None = None, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(name=name, id=id, classes=classes)
        self.saving = False
        self._initial: dict[str, str] | None = None  # what the inputs held when the form opened (issue 14)

    def on_mount(self) -> None:  # runs along the MRO with the subclasses' on_mount; the values after theirs
        self.call_after_refresh(self._remember_initial)

    def _values(self) -> dict[str, str]:
        values = {f"i{n}:{i.id}": i.value for n, i in enumerate(self.query(Input).results(Input))}
        values |= {f"t{n}:{t.id}": t.text for n, t in enumerate(self.query(TextArea).results(TextArea))}
        return values

    def _remember_initial(self) -> None:
        self._initial = self._values()

    def _as_new(self) -> None:
        """The end of a kept form's ``reset`` (``DeskScreen.open_kept``), once its fields hold what a new form's
        do: not saving, no messages, the save button on, the first field (``AUTO_FOCUS``) focused, and what the
        fields hold now as what was there when it opened."""
        self.saving = False
        self._clear_errors()
        self.query_one("#save", Button).disabled = False
        if self.AUTO_FOCUS:
            self.set_focus(self.query_one(self.AUTO_FOCUS))
        self._initial = self._values()

    @property
    def dirty(self) -> bool:
        """Something was typed that is not saved: leaving asks first (escape here, ctrl+q in the app)."""
        if self._initial is None or self.saving:
            return False
        return self._values() != self._initial

    def confirm_leave(self, leave: Callable[[], None]) -> None:
        """Run ``leave`` at once when nothing is unsaved, else after the person typed y."""
        if not self.dirty:
            leave()
            return
        from incasso_tui.ui.screens.prompt import PromptScreen

        def answered(answer: str | None) -> None:
            if answer is not None and answer.strip().lower() in ("y", "j", "ja", "yes"):
                leave()

        self.app.push_screen(
            PromptScreen(
                self.tr(
                    N_("What you typed is not saved. Leave anyway? Type y to leave, escape to go back to the form")
                ),
                placeholder=self.tr(N_("y")),
                required=N_("Type y to leave, escape to stay"),
            ),
            answered,
        )

    @on(Input.Submitted)
    def _next_field(self) -> None:
        self.focus_next()

    def field(self, name: str, caption: str, widget: Widget) -> ComposeResult:
        """A captioned input (row ``#{name}-row``) with its message line (``#{name}-error``) under it."""
        with Horizontal(classes="field", id=f"{name}-row"):
            yield Label(self.tr(caption), classes="caption")
            yield widget
        yield Label(id=f"{name}-error", classes="error")

    # ----- messages at the fields
    def _clear_errors(self) -> None:
        for label in self.query(".error").results(Label):
            label.update("")
            label.display = False

    def error(self, name: str | None, text: str) -> None:
        label = self.query_one(f"#{name}-error" if name in self.FIELDS else "#message", Label)
        label.update(lit(text))
        label.display = True

    # ----- what subclasses provide
    def read(self) -> Any | None:
        """What was typed, parsed; None when a field cannot be read (its message is shown)."""
        raise NotImplementedError

    def submit(self, given: Any) -> R:
        """The service call (runs in a worker thread)."""
        raise NotImplementedError

    # ----- saving
    def action_save(self) -> None:
        if self.saving:
            return
        self._clear_errors()
        given = self.read()
        if given is None:
            self.app.bell()
            return
        self.saving = True
        self.query_one("#save", Button).disabled = True
        self._save(given)

    def _save(self, given: Any) -> None:
        closing_worker(self, lambda: self.submit(given), self.dismiss, self._refused, group="form-save")

    def _refused(self, err: IncassoError) -> None:
        self.saving = False
        self.query_one("#save", Button).disabled = False
        self.error(err.field, self.tr.error(err))
        self.app.bell()

    def action_cancel(self) -> None:
        if not self.saving:  # once sent, the answer decides how the form closes
            self.confirm_leave(lambda: self.dismiss(None))

    @on(Button.Pressed, "#save")
    def _save_pressed(self) -> None:
        self.action_save()

    @on(Button.Pressed, "#cancel")
    def _cancel_pressed(self) -> None:
        self.action_cancel()


# ModalScreen first: Textual takes CSS (ModalScreen's dimmed background) and CSS type names from the first
# DOMNode base only; handlers, bindings and methods come along the whole MRO (so SavingScreen's too)
class FormScreen(ModalScreen[R | None], SavingScreen[R]):
    """A modal form (see the module docstring)."""

    CSS_PATH = STYLES / "form.tcss"

    # ----- layout helpers
    def buttons(self, save: str = N_("Save")) -> ComposeResult:
        with Horizontal(classes="buttons"):
            yield Button(self.tr(save), id="save", variant="primary", compact=True)
            yield Button(self.tr(N_("Cancel")), id="cancel", compact=True)
        yield Label(id="message", classes="error")

    def on_mount(self) -> None:
        # Textual runs every class's on_mount along the MRO: subclasses must not call super().on_mount()
        translate_bindings(self, self.tr)
        self.refresh_bindings()
        self._clear_errors()

    # ----- checking a field as it is left (issue 14): a date or an amount that cannot be read says so at once
    DAY_FIELDS: ClassVar[frozenset[str]] = frozenset(
        {"since", "until", "ruling_date", "claim_deadline", "response_due"}
    )
    AMOUNT_FIELDS: ClassVar[frozenset[str]] = frozenset({"income", "expenses", "min_arrears", "max_arrears"})

    def _leave_check(self, name: str) -> Callable[[str], Any] | None:
        if name.endswith("_date") or name in self.DAY_FIELDS:
            return self.day
        if name.endswith("amount") or name in self.AMOUNT_FIELDS:
            return self.amount
        return None

    @on(Input.Blurred)
    def _check_left_field(self, event: Input.Blurred) -> None:
        name = event.input.id or ""
        check = self._leave_check(name)
        if check is None or self.saving or not self.is_attached:
            return
        try:
            label = self.query_one(f"#{name}-error", Label)
        except NoMatches:  # a field without its message line: checked at save only
            return
        try:
            check(event.value.strip())
        except BadInput as err:
            label.update(lit(self.tr.error(err)))
            label.display = True
            return
        label.update("")
        label.display = False

    # ----- parsing helpers: the reason goes to the field, the value (or None) comes back
    def parse(self, name: str, parse: Callable[[str], Any]) -> tuple[bool, Any]:
        try:
            return True, parse(self.query_one(f"#{name}", Input).value.strip())
        except BadInput as err:
            self.error(name, self.tr.error(err))
            return False, None

    def day(self, text: str) -> date | None:
        return parse_day(text, self.tr) if text else None

    @staticmethod
    def amount(text: str) -> Decimal | None:
        return parse_amount(text) if text else None


class ConfirmScreen(FormScreen[bool]):
    """A modal question with no fields (Cancel has the focus): the subclass's :meth:`submit` makes the change."""

    def on_mount(self) -> None:  # Textual calls FormScreen.on_mount as well (handlers run along the MRO)
        self.query_one("#cancel").focus()

    def read(self) -> bool:
        return True
