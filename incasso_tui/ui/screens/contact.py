"""Logging a contact (``c`` on the client detail) and adding a note (``n``): modal forms.

The promise fields show only for the outcome "promise to pay". Saving goes through
``services.contacts.log_contact`` / ``add_note`` in a worker; a refusal appears at its field and the form
keeps what was typed (see ``form.FormScreen``).
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Input, Label, Select, TextArea

from incasso_tui.domain.enums import ArrearsCause, Channel, ContactOutcome
from incasso_tui.errors import N_
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.contacts import MAX_TEXT, ContactInput, LoggedContact, add_note, log_contact
from incasso_tui.services.risk import debt_help_options
from incasso_tui.ui.labels import CAUSE, CHANNEL, OUTCOME
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.text import lit

KEPT_AS = "contact-form"  # the one contact form an app keeps for reuse (DeskScreen.open_kept)


class ContactScreen(FormScreen[LoggedContact]):
    KEPT_AS = KEPT_AS  # ~190 nodes: composing, mounting and styling them was most of the key ``c`` (issue 18)
    AUTO_FOCUS = "#outcome"  # focused as the form is composed, so the first paint shows it (issue 18)
    FIELDS = (
        "channel",
        "outcome",
        "promise_date",
        "promise_amount",
        "cause",
        "summary",
        "referral",
        "next_action_date",
    )

    def __init__(self, detail: ClientDetail, channel: Channel | None = None) -> None:
        super().__init__()
        self.detail = detail
        self.channel = channel  # a call task's contact is a phone call (issue 13); else the client's preference

    def _title(self) -> Content:
        return lit(self.tr(N_("Contact with {name}"), name=self.detail.client.name), "bold")

    def _channel(self) -> Channel:
        """The channel given, else the client's preferred one, else the phone."""
        preferred = self.channel.value if self.channel is not None else self.detail.client.preferred_channel
        return Channel(preferred) if preferred in Channel.__members__.values() else Channel.PHONE

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(self._title(), classes="title")
            yield from self.field(
                "channel",
                N_("Channel"),
                Select(
                    [(tr(CHANNEL[c.value]), c) for c in Channel],
                    value=self._channel(),
                    allow_blank=False,
                    compact=True,
                    id="channel",
                ),
            )
            yield from self.field(
                "outcome",
                N_("Outcome"),
                Select(
                    [(tr(OUTCOME[o.value]), o) for o in ContactOutcome],
                    value=ContactOutcome.REACHED,
                    allow_blank=False,
                    compact=True,
                    id="outcome",
                ),
            )
            with Vertical(id="promise-fields"):
                yield from self.field(
                    "promise_date",
                    N_("Pays on"),
                    Input(id="promise_date", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
                )
                yield from self.field(
                    "promise_amount", N_("Amount"), Input(id="promise_amount", placeholder="€", compact=True)
                )
            yield from self.field(
                "cause",
                N_("Cause"),
                Select(
                    [(tr(CAUSE[c.value]), c) for c in ArrearsCause],
                    prompt=tr(N_("(not known)")),
                    compact=True,
                    id="cause",
                ),
            )
            yield from self.field("summary", N_("Summary"), Input(id="summary", max_length=MAX_TEXT, compact=True))
            # debt help the client is referred to (issue 20): the list is data (data/risk.toml)
            yield from self.field(
                "referral",
                N_("Debt help"),
                Select(
                    [(lit(name), code) for code, name, _contact, _verified in debt_help_options(self.ctx)],
                    prompt=tr(N_("(no referral)")),
                    compact=True,
                    id="referral",
                ),
            )
            yield from self.field(
                "next_action_date",
                N_("Next action"),
                Input(id="next_action_date", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self._show_promise_fields()
        self.query_one("#outcome", Select).focus()

    def reset(self, detail: ClientDetail) -> None:
        """The form as a new one shows it, for ``detail``: every field as composed, no messages, not saving."""
        self.detail, self.channel = detail, None
        self.query_one(".title", Label).update(self._title())
        self.query_one("#channel", Select).value = self._channel()
        self.query_one("#outcome", Select).value = ContactOutcome.REACHED
        for select in ("#cause", "#referral"):
            self.query_one(select, Select).clear()
        for field in self.query(Input).results(Input):
            field.value = ""
        self._show_promise_fields()
        self._as_new()

    @on(Select.Changed, "#outcome")
    def _show_promise_fields(self) -> None:
        self.query_one("#promise-fields").display = self.query_one("#outcome", Select).value is ContactOutcome.PROMISE

    def read(self) -> ContactInput | None:
        outcome = self.query_one("#outcome", Select).value
        channel = self.query_one("#channel", Select).value
        cause = self.query_one("#cause", Select).value
        referral = self.query_one("#referral", Select).value
        assert isinstance(outcome, ContactOutcome) and isinstance(channel, Channel)
        ok = True
        promise_date = promise_amount = None
        if outcome is ContactOutcome.PROMISE:  # hidden fields are not read: they are not part of the contact
            ok_date, promise_date = self.parse("promise_date", self.day)
            ok_amount, promise_amount = self.parse("promise_amount", self.amount)
            ok = ok_date and ok_amount
        ok_next, next_date = self.parse("next_action_date", self.day)
        if not (ok and ok_next):
            return None
        return ContactInput(
            channel=channel,
            outcome=outcome,
            cause=cause if isinstance(cause, ArrearsCause) else None,
            summary=self.query_one("#summary", Input).value,
            next_action_date=next_date,
            promise_date=promise_date,
            promise_amount=promise_amount,
            referral=referral if isinstance(referral, str) else None,
        )

    def submit(self, given: Any) -> LoggedContact:
        case = self.detail.case
        return log_contact(self.ctx, case.id, case.version, given)


class NoteScreen(FormScreen[int]):
    AUTO_FOCUS = "#text"
    FIELDS = ("text",)

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(lit(self.tr(N_("Note on {name}"), name=self.detail.client.name), "bold"), classes="title")
            yield TextArea(id="text", soft_wrap=True, show_line_numbers=False, compact=True)
            yield Label(id="text-error", classes="error")
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#text", TextArea).focus()

    def read(self) -> str:
        return self.query_one("#text", TextArea).text

    def submit(self, given: Any) -> int:
        return add_note(self.ctx, self.detail.case.id, given)
