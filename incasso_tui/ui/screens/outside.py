"""Outside parties, external collection and complaints (issue 19).

- ``PartiesScreen``: the bailiffs, lawyers and collection agencies; ``a`` adds one (``PartyForm``).
- ``ExternalScreen``: one case's claim at an outside party (``e`` on the client detail): the claim statement as
  handed over, the dossier's folder, the party's status reports and the payments to us since the handover.
  ``h`` proposes the handover, ``y`` approves / ``j`` rejects it (the other person), ``s`` records a status report,
  ``m`` imports a party's status file, ``b`` reports the payments to the party, ``t`` recalls the claim.
- ``ComplaintsScreen``: the complaints register (palette), or one case's complaints (``k`` on the client detail):
  acknowledge-by and answer-by per complaint; ``a`` records one (on a case), ``v`` acknowledges, ``f`` answers.
- ``OutsideCommands``: the palette entries for these screens, everywhere; on a client detail also for its case.

Every service call runs in a worker; a refusal is shown on the screen, in the session's language.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import DataTable, Header, Input, Label, Select, Static

from incasso_tui.domain.complaints import KINDS as COMPLAINT_KINDS
from incasso_tui.domain.complaints import OUTCOMES as COMPLAINT_OUTCOMES
from incasso_tui.domain.enums import Channel
from incasso_tui.domain.external import PARTY_KINDS, REPORT_STATUSES
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services import complaints as cs
from incasso_tui.services import external as ext
from incasso_tui.ui.desk import DeskScreen, desk_app
from incasso_tui.ui.labels import (
    CHANNEL,
    CLAIM_STATUS,
    COMPLAINT_KIND,
    COMPLAINT_OUTCOME,
    COMPLAINT_STATUS,
    REPORT_STATUS,
    label,
)
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, text_cell, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.widgets.table import Table

if TYPE_CHECKING:
    from decimal import Decimal


PARTY_KIND = {"bailiff": N_("bailiff"), "lawyer": N_("lawyer"), "agency": N_("collection agency")}


# ----- parties


class PartiesScreen(RowsScreen[ext.PartyRow]):
    CSS_PATH = STYLES / "approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Add party", id="add"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Name")), "name", 24),
            (tr(N_("Kind")), "kind", 19),
            (tr(N_("City")), "city", 11),
            (tr(N_("Wki")), "wki", 8),
            (Text(tr(N_("Open")), justify="right"), "claims", None),
        ]

    def fetch(self) -> list[ext.PartyRow]:
        return ext.parties(self.ctx)

    def cells(self, row: ext.PartyRow) -> list[Text]:
        return [
            text_cell(row.name),
            text_cell(label(self.tr, PARTY_KIND, row.kind, missing="–")),
            text_cell(row.city),
            text_cell(row.wki_registration or "–"),
            Text(str(row.open_claims), justify="right"),
        ]

    def count_text(self, count: int) -> str:
        return self.tr(N_("Outside parties: {count}"), count=count)

    def panel(self, row: ext.PartyRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No outside parties yet: a adds one."))
        return Content("\n").join(
            [
                lit(f"{row.name} · {label(tr, PARTY_KIND, row.kind, missing='–')}", "bold"),
                lit(", ".join(row.address)),
                lit(tr(N_("Contact: {contact} · IBAN {iban}"), contact=row.contact or "–", iban=row.iban)),
                lit(tr(N_("Wki registration: {wki}"), wki=row.wki_registration or tr(N_("none recorded")))),
            ]
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "add":
            return self.ctx.actor.role in ext.PARTY_KEEPERS
        return True

    def action_add(self) -> None:
        def added(party_id: int | None) -> None:
            if party_id:
                self.message(self.tr(N_("Party added")))
                self.load()

        self.app.push_screen(PartyForm(), added)


class PartyForm(FormScreen[int]):
    FIELDS: ClassVar[tuple[str, ...]] = (
        "name",
        "kind",
        "street",
        "postcode",
        "city",
        "iban",
        "contact",
        "wki_registration",
    )

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(tr(N_("New outside party")), classes="title")
            yield from self.field("name", N_("Name"), Input(id="name", compact=True))
            yield from self.field(
                "kind",
                N_("Kind"),
                Select(
                    [(tr(PARTY_KIND[k]), k) for k in PARTY_KINDS],
                    value="bailiff",
                    allow_blank=False,
                    compact=True,
                    id="kind",
                ),
            )
            yield from self.field("street", N_("Street"), Input(id="street", compact=True))
            yield from self.field("postcode", N_("Postcode"), Input(id="postcode", compact=True))
            yield from self.field("city", N_("City"), Input(id="city", compact=True))
            yield from self.field("iban", N_("IBAN"), Input(id="iban", compact=True))
            yield from self.field("contact", N_("Contact"), Input(id="contact", compact=True))
            yield from self.field(
                "wki_registration",
                N_("Wki registration"),
                Input(id="wki_registration", compact=True, placeholder=tr(N_("agencies only"))),
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def read(self) -> ext.PartyInput:
        v = {name: self.query_one(f"#{name}", Input).value for name in self.FIELDS if name != "kind"}
        return ext.PartyInput(kind=str(self.query_one("#kind", Select).value), **v)

    def submit(self, given: Any) -> int:
        return ext.add_party(self.ctx, given)


# ----- external collection of one case


class HandoverExternalForm(FormScreen[int]):
    FIELDS: ClassVar[tuple[str, ...]] = ("party", "reason")
    DEFAULT_CSS = "HandoverExternalForm .hint { width: 100%; }"

    def __init__(self, case_id: int, parties: list[ext.PartyRow]) -> None:
        super().__init__()
        self.case_id = case_id
        self.parties = parties

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(tr(N_("Hand the claim of case {case} to an outside party"), case=self.case_id), classes="title")
            yield from self.field(
                "party",
                N_("Party"),
                Select(
                    [(lit(f"{p.name} ({tr(PARTY_KIND[p.kind])})"), p.name) for p in self.parties],  # names: literal
                    prompt=tr(N_("Choose the party")),
                    compact=True,
                    id="party",
                ),
            )
            yield from self.field("reason", N_("Reason"), Input(id="reason", compact=True))
            yield Label(
                tr(N_("Another person (special management or a supervisor) decides: four eyes.")), classes="hint"
            )
            yield from self.buttons(N_("Propose"))

    def on_mount(self) -> None:
        self.query_one("#party", Select).focus()

    def read(self) -> dict[str, str] | None:
        party = self.query_one("#party", Select).value
        if party is Select.BLANK:
            self.error("party", self.tr(N_("Choose the party")))
            return None
        return {"party": str(party), "reason": self.query_one("#reason", Input).value}

    def submit(self, given: Any) -> int:
        return ext.propose_handover(self.ctx, self.case_id, given["party"], given["reason"])


class StatusReportForm(FormScreen[int]):
    FIELDS: ClassVar[tuple[str, ...]] = ("status", "amount", "costs", "note")

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(tr(N_("Status report of the party on case {case}"), case=self.case_id), classes="title")
            yield from self.field(
                "status",
                N_("Status"),
                Select(
                    [(tr(REPORT_STATUS[s]), s) for s in REPORT_STATUSES],
                    value="arrangement",
                    allow_blank=False,
                    compact=True,
                    id="status",
                ),
            )
            yield from self.field("amount", N_("Collected"), Input(id="amount", compact=True, placeholder="0,00"))
            yield from self.field("costs", N_("Party's costs"), Input(id="costs", compact=True, placeholder="0,00"))
            yield from self.field("note", N_("Note"), Input(id="note", compact=True))
            yield from self.buttons()

    def on_mount(self) -> None:
        self.query_one("#status", Select).focus()

    def read(self) -> dict[str, Any] | None:
        ok_a, amount = self.parse("amount", self.amount)
        ok_c, costs = self.parse("costs", self.amount)
        if not (ok_a and ok_c):
            return None
        return {
            "status": str(self.query_one("#status", Select).value),
            "amount": amount,
            "costs": costs,
            "note": self.query_one("#note", Input).value,
        }

    def submit(self, given: Any) -> int:
        return ext.report_status(
            self.ctx, self.case_id, given["status"], amount=given["amount"], costs=given["costs"], note=given["note"]
        )


class ExternalScreen(DeskScreen[None]):
    """One case's claim at an outside party (see the module docstring)."""

    DEFAULT_CSS = """
    ExternalScreen #claim { padding: 0 1; height: auto; }
    ExternalScreen #events { height: 1fr; }
    ExternalScreen #message { padding: 0 1; width: 100%; height: auto; color: $error; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("h", "propose", "Hand over", id="propose"),
        Binding("y", "approve", "Approve", id="approve"),
        Binding("j", "reject", "Reject", id="reject", show=False),
        Binding("s", "status", "Status", id="status"),
        Binding("m", "import", "Import", id="import", tooltip="Import the party's status file (CSV)"),
        Binding("b", "payments", "Report payments", id="payments", show=False),
        Binding("t", "recall", "Recall", id="recall"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.view: ext.ClaimView | None = None
        self.loaded = False

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="claim")
        table: Table[Text] = Table(id="events", cursor_type="row", zebra_stripes=True)
        tr = self.tr
        for caption, key, width in (
            (tr(N_("Date")), "date", 10),
            (tr(N_("What")), "what", 17),
            (Text(tr(N_("Amount")), justify="right"), "amount", 11),
            (Text(tr(N_("Costs")), justify="right"), "costs", 10),
            (tr(N_("Note")), "note", None),
        ):
            table.add_column(caption, key=key, width=width)
        yield table
        yield Label(id="message")
        yield DeskFooter(compact=True)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self.load()

    @work(thread=True, exclusive=True, group="external")
    def load(self) -> None:
        try:
            view = ext.claim_for_case(self.ctx, self.case_id)
        except IncassoError as exc:
            self.app.call_from_thread(self.message, self.tr.error(exc))
            return
        self.app.call_from_thread(self._show, view)

    def _show(self, view: ext.ClaimView | None) -> None:
        tr = self.tr
        self.view, self.loaded = view, True
        self.sub_title = tr(N_("External collection · case {case}"), case=self.case_id)
        table = self.query_one("#events", DataTable)
        table.clear()
        if view is None:
            self.query_one("#claim", Static).update(
                tr(N_("Case {case} was never handed to an outside party: h proposes it."), case=self.case_id)
            )
            self.refresh_bindings()
            return
        lines = [
            lit(
                tr(
                    N_("Claim {claim} · {party} ({kind}) · {status}"),
                    claim=view.id,
                    party=view.party,
                    kind=tr(PARTY_KIND[view.party_kind]),
                    status=label(tr, CLAIM_STATUS, view.status, missing="–"),
                ),
                "bold",
            ),
            lit(
                tr(
                    N_("Proposed by {by}, decided by {decided}: {reason}"),
                    by=view.proposed_by,
                    decided=view.decided_by or "–",
                    reason=view.reason,
                )
            ),
        ]
        if view.statement:
            st = view.statement
            lines.append(
                lit(
                    tr(
                        N_(
                            "Statement {date}: principal {principal}, interest {interest}, costs {costs}, total {total}"
                        ),
                        date=tr.date(view.handed_on) if view.handed_on else "–",
                        principal=self._m(st["principal"]),
                        interest=self._m(st["interest"]),
                        costs=self._m(st["costs"]),
                        total=self._m(st["total"]),
                    )
                )
            )
            lines.append(lit(tr(N_("Dossier: {path}"), path=view.dossier_path or "–")))
        if view.outcome:
            lines.append(
                lit(
                    tr(
                        N_("Back from the party: {outcome} on {date}"),
                        outcome=label(tr, REPORT_STATUS, view.outcome, missing="–"),
                        date=tr.date(view.ended_on) if view.ended_on else "–",
                    ),
                    "bold",
                )
            )
        unreported = [p for p in view.payments if p.reported_on is None]
        if unreported:
            lines.append(
                lit(
                    tr(
                        N_("Payments to us not yet reported to the party: {count} (b reports them)"),
                        count=len(unreported),
                    )
                )
            )
        self.query_one("#claim", Static).update(Content("\n").join(lines))
        for i, r in enumerate(view.reports):
            table.add_row(
                text_cell(tr.date(r.report_date)),
                text_cell(label(tr, REPORT_STATUS, r.status, missing="–")),
                money_cell(tr, r.amount),
                money_cell(tr, r.costs),
                text_cell(r.note or r.source),
                key=f"r{i}",
            )
        for p in view.payments:
            state = (
                tr(N_("reported {date}"), date=tr.date(p.reported_on)) if p.reported_on else tr(N_("not yet reported"))
            )
            table.add_row(
                text_cell(tr.date(p.booking_date)),
                text_cell(tr(N_("payment to us"))),
                money_cell(tr, p.amount),
                text_cell(""),
                text_cell(f"{state} · {p.loan}"),
                key=f"p{p.ledger_id}",
            )
        self.refresh_bindings()

    def _m(self, value: str) -> str:
        from decimal import Decimal

        return self.tr.money(Decimal(value))

    def message(self, text: str) -> None:
        self.query_one("#message", Label).update(lit(text))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("propose", "approve", "reject", "status", "import", "payments", "recall"):
            if self.ctx.actor.role not in ext.HANDOVER_ROLES:
                return False
            if not self.loaded:
                return None
            status = self.view.status if self.view else None
            if action == "propose":
                return status not in ("proposed", "at_party")
            if action in ("approve", "reject"):
                return status == "proposed" and self.view is not None and self.view.proposed_by != self.ctx.actor.name
            if action == "import":
                return True
            return status == "at_party"
        return True

    def _run(self, call: Any, done: str) -> None:
        self._act(call, done)

    @work(thread=True, exclusive=True, group="external-action")
    def _act(self, call: Any, done: str) -> None:
        try:
            result = call()
        except IncassoError as exc:
            self.app.call_from_thread(self.message, self.tr.error(exc))
            return
        text = done.format(result=result) if "{result}" in done else done
        self.app.call_from_thread(self.message, text)
        self.app.call_from_thread(self.load)

    def _after_form(self, done: str) -> Any:
        def after(result: object) -> None:
            if result is not None:
                self.message(self.tr(done))
                self.load()

        return after

    @work(thread=True, exclusive=True, group="external-parties")
    def action_propose(self) -> None:
        try:
            rows = ext.parties(self.ctx)
        except IncassoError as exc:
            self.app.call_from_thread(self.message, self.tr.error(exc))
            return
        if not rows:
            self.app.call_from_thread(
                self.message, self.tr(N_("There are no outside parties yet: add one first (palette: Outside parties)"))
            )
            return
        self.app.call_from_thread(
            self.app.push_screen,
            HandoverExternalForm(self.case_id, rows),
            self._after_form(N_("Handover proposed: another person decides")),
        )

    def action_approve(self) -> None:
        if self.view is not None:
            claim_id = self.view.id
            self._run(
                lambda: ext.decide_handover(self.ctx, claim_id, approve=True).dossier_pdf,
                self.tr(N_("Handed over; the dossier is in {path}"), path="{result}"),
            )

    def action_reject(self) -> None:
        if self.view is None:
            return
        claim_id = self.view.id

        def given(reason: str | None) -> None:
            if reason:
                self._run(
                    lambda: ext.decide_handover(self.ctx, claim_id, approve=False, reason=reason),
                    self.tr(N_("Handover rejected")),
                )

        self.app.push_screen(PromptScreen(self.tr(N_("Why is the handover rejected?"))), given)

    def action_status(self) -> None:
        self.app.push_screen(StatusReportForm(self.case_id), self._after_form(N_("Status report recorded")))

    def action_import(self) -> None:
        from pathlib import Path

        def given(path: str | None) -> None:
            if path:
                self._run(
                    lambda: ext.import_status(self.ctx, Path(path).expanduser()).lines,
                    self.tr(N_("Status file booked: {count} lines"), count="{result}"),
                )

        self.app.push_screen(
            PromptScreen(
                self.tr(N_("The party's status file (CSV, docs/external-collection.md):")),
                required=N_("Give the file's path"),
            ),
            given,
        )

    def action_payments(self) -> None:
        self._run(
            lambda: ext.report_payments(self.ctx, self.case_id)[0] or "–",
            self.tr(N_("Payments reported to the party: {path}"), path="{result}"),
        )

    def action_recall(self) -> None:
        def given(reason: str | None) -> None:
            if reason:
                self._run(lambda: ext.recall(self.ctx, self.case_id, reason), self.tr(N_("The claim is recalled")))

        self.app.push_screen(PromptScreen(self.tr(N_("Why is the claim recalled from the party?"))), given)

    def action_reload(self) -> None:
        self.load()

    def action_back(self) -> None:
        self.dismiss()


# ----- complaints


class ComplaintForm(FormScreen[int]):
    FIELDS: ClassVar[tuple[str, ...]] = ("kind", "received", "channel", "about")
    DEFAULT_CSS = "ComplaintForm .hint { width: 100%; }"

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(tr(N_("Record a complaint or dispute on case {case}"), case=self.case_id), classes="title")
            yield from self.field(
                "kind",
                N_("Kind"),
                Select(
                    [(tr(COMPLAINT_KIND[k]), k) for k in COMPLAINT_KINDS],
                    value="complaint",
                    allow_blank=False,
                    compact=True,
                    id="kind",
                ),
            )
            yield from self.field("received", N_("Received on"), Input(self._today(), id="received", compact=True))
            yield from self.field(
                "channel",
                N_("Channel"),
                Select(
                    [(tr(CHANNEL[c.value]), c.value) for c in Channel],
                    value="email",
                    allow_blank=False,
                    compact=True,
                    id="channel",
                ),
            )
            yield from self.field("about", N_("About"), Input(id="about", compact=True))
            yield Label(tr(N_("A dispute holds the procedure and its costs until it is answered.")), classes="hint")
            yield from self.buttons()

    def _today(self) -> str:
        day = self.ctx.clock.today()
        return day.strftime("%d-%m-%Y" if self.tr.lang == "nl" else "%d/%m/%Y")

    def on_mount(self) -> None:
        self.query_one("#about", Input).focus()

    def read(self) -> cs.ComplaintInput | None:
        ok, received = self.parse("received", self.day)
        if not ok:
            return None
        return cs.ComplaintInput(
            kind=str(self.query_one("#kind", Select).value),
            received_on=received,
            channel=str(self.query_one("#channel", Select).value),
            about=self.query_one("#about", Input).value,
        )

    def submit(self, given: Any) -> int:
        return cs.add_complaint(self.ctx, self.case_id, given)


class AnswerForm(FormScreen[str]):
    FIELDS: ClassVar[tuple[str, ...]] = ("outcome", "text")
    DEFAULT_CSS = "AnswerForm .hint { width: 100%; }"

    def __init__(self, row: cs.ComplaintRow) -> None:
        super().__init__()
        self.row = row

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(
                tr(N_("Final answer to {kind} {id}"), kind=tr(COMPLAINT_KIND[self.row.kind]), id=self.row.id),
                classes="title",
            )
            yield from self.field(
                "outcome",
                N_("Outcome"),
                Select(
                    [(tr(COMPLAINT_OUTCOME[o]), o) for o in COMPLAINT_OUTCOMES],
                    value="rejected",
                    allow_blank=False,
                    compact=True,
                    id="outcome",
                ),
            )
            yield from self.field("text", N_("Answer"), Input(id="text", compact=True))
            yield Label(tr(N_("The mention of Kifid is added when the answer lacks it.")), classes="hint")
            yield from self.buttons(N_("Answer"))

    def on_mount(self) -> None:
        self.query_one("#text", Input).focus()

    def read(self) -> dict[str, str]:
        return {"outcome": str(self.query_one("#outcome", Select).value), "text": self.query_one("#text", Input).value}

    def submit(self, given: Any) -> str:
        return cs.answer(self.ctx, self.row.id, given["outcome"], given["text"], self.row.version)


class ComplaintsScreen(RowsScreen[cs.ComplaintRow]):
    CSS_PATH = STYLES / "approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "add", "Record", id="add"),
        Binding("v", "acknowledge", "Acknowledged", id="acknowledge"),
        Binding("f", "answer", "Answer", id="answer"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def __init__(self, case_id: int | None = None) -> None:
        super().__init__()
        self.case_id = case_id

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("No.")), "id", 3),
            (tr(N_("Client")), "client", 15),
            (tr(N_("Kind")), "kind", 10),
            (tr(N_("Received")), "received", 9),
            (tr(N_("Ack.")), "ack", 9),
            (tr(N_("Answer")), "answer", 9),
            (tr(N_("Status")), "status", None),
        ]

    def fetch(self) -> list[cs.ComplaintRow]:
        return cs.complaints(self.ctx, case_id=self.case_id)

    def cells(self, row: cs.ComplaintRow) -> list[Text]:
        tr = self.tr
        ack_late, answer_late = row.overdue(self.ctx.clock.today())
        short = "%d-%m-%y" if tr.lang == "nl" else "%d/%m/%y"
        ack = "✓" if row.acknowledged_on else row.acknowledge_by.strftime(short) + ("!" if ack_late else "")
        status = (
            label(tr, COMPLAINT_STATUS, row.status, missing="–")
            if row.status == "open"
            else label(tr, COMPLAINT_OUTCOME, row.outcome, missing="–")
        )
        return [
            text_cell(str(row.id)),
            text_cell(row.client_name),
            text_cell(label(tr, COMPLAINT_KIND, row.kind, missing="–")),
            text_cell(row.received_on.strftime(short)),
            text_cell(ack, "bold red" if ack_late else ""),
            text_cell(row.answer_by.strftime(short) + ("!" if answer_late else ""), "bold red" if answer_late else ""),
            text_cell(status),
        ]

    def count_text(self, count: int) -> str:
        tr = self.tr
        open_ = sum(1 for r in self.rows if r.status == "open")
        late = sum(1 for r in self.rows if any(r.overdue(self.ctx.clock.today())))
        scope = tr(N_("case {case}"), case=self.case_id) if self.case_id else tr(N_("all cases"))
        return tr(
            N_("Complaints ({scope}): {count}, {open} open, {late} past a term"),
            scope=scope,
            count=count,
            open=open_,
            late=late,
        )

    def panel(self, row: cs.ComplaintRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No complaints.")) + (" " + tr(N_("a records one.")) if self.case_id else "")
        parts = [
            lit(
                tr(
                    N_("{kind} {id} · case {case} · received {date} by {channel} · handled by {by}"),
                    kind=label(tr, COMPLAINT_KIND, row.kind, missing="–"),
                    id=row.id,
                    case=row.case_id,
                    date=tr.date(row.received_on),
                    channel=label(tr, CHANNEL, row.channel, missing="–"),
                    by=row.handled_by,
                ),
                "bold",
            ),
            lit(row.about),
        ]
        if row.answer:  # its paragraphs one below the other (a line break in data would show as a symbol)
            first, *rest = [line for line in row.answer.splitlines() if line.strip()] or [""]
            parts.append(
                lit(
                    tr(
                        N_("Answered {date}: {answer}"),
                        date=tr.date(row.answered_on) if row.answered_on else "–",
                        answer=first,
                    )
                )
            )
            parts.extend(lit(line) for line in rest)
        return Content("\n").join(parts)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        role = self.ctx.actor.role
        if action in ("add", "acknowledge", "answer") and role not in cs.WRITERS:
            return False
        if action == "add":
            return self.case_id is not None
        row = self.current
        if action == "acknowledge":
            return row is not None and row.status == "open" and row.acknowledged_on is None
        if action == "answer":
            return row is not None and row.status == "open"
        return True

    def action_add(self) -> None:
        if self.case_id is None:
            return

        def added(complaint_id: int | None) -> None:
            if complaint_id:
                self.message(self.tr(N_("Recorded: the acknowledgement and answer tasks are in the inbox")))
                self.load()

        self.app.push_screen(ComplaintForm(self.case_id), added)

    def action_acknowledge(self) -> None:
        row = self.current
        if row is not None:
            ctx = self.ctx
            self.run_action(lambda: cs.acknowledge(ctx, row.id, row.version), self.tr(N_("Acknowledgement recorded")))

    def action_answer(self) -> None:
        row = self.current
        if row is None:
            return

        def answered(text: str | None) -> None:
            if text:
                self.message(self.tr(N_("Final answer recorded")))
                self.load()

        self.app.push_screen(AnswerForm(row), answered)


# ----- the palette


class OutsideCommands(Provider):
    """Palette entries for outside parties, external collection and complaints (on every screen; listed when the
    palette opens, before anything is typed)."""

    def _entries(self) -> list[tuple[str, Any]]:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        app = desk_app(self.app)
        tr = app.tr
        entries: list[tuple[str, Any]] = [
            (tr(N_("Outside parties (bailiffs, lawyers, agencies)")), lambda: app.push_screen(PartiesScreen())),
            (tr(N_("Complaints register")), lambda: app.push_screen(ComplaintsScreen())),
            (tr(N_("External collection: claims at outside parties")), lambda: app.push_screen(ExternalClaimsScreen())),
        ]
        screen = self.screen
        if isinstance(screen, ClientDetailScreen):
            case_id = screen.case_id
            entries += [
                (tr(N_("External collection of this case")), lambda: app.push_screen(ExternalScreen(case_id))),
                (tr(N_("Complaints of this case")), lambda: app.push_screen(ComplaintsScreen(case_id))),
            ]
        return entries

    async def discover(self) -> Hits:
        for title, run in self._entries():
            yield DiscoveryHit(title, run)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for title, run in self._entries():
            score = matcher.match(title)
            if score > 0:
                yield Hit(score, matcher.highlight(title), run, help=None)


class ExternalClaimsScreen(RowsScreen[tuple[ext.ClaimView, str]]):
    """The claims proposed for or at an outside party; enter opens the case's external collection screen."""

    CSS_PATH = STYLES / "approvals.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "open", "Open", id="open"),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def key(self, row: tuple[ext.ClaimView, str]) -> str:
        return str(row[0].id)

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Case")), "case", 7),
            (tr(N_("Client")), "client", 22),
            (tr(N_("Party")), "party", 22),
            (tr(N_("Status")), "status", 12),
            (Text(tr(N_("Claim")), justify="right"), "total", None),
        ]

    def fetch(self) -> list[tuple[ext.ClaimView, str]]:
        return ext.claims(self.ctx)

    def cells(self, row: tuple[ext.ClaimView, str]) -> list[Text]:
        from decimal import Decimal

        view, name = row
        total: Decimal | None = Decimal(view.statement["total"]) if view.statement else None
        return [
            text_cell(str(view.case_id)),
            text_cell(name),
            text_cell(view.party),
            text_cell(label(self.tr, CLAIM_STATUS, view.status, missing="–")),
            money_cell(self.tr, total) if total is not None else text_cell("–"),
        ]

    def count_text(self, count: int) -> str:
        return self.tr.plural(
            "External collection: {count} claim proposed or at a party",
            "External collection: {count} claims proposed or at a party",
            count,
            count=count,
        )

    def panel(self, row: tuple[ext.ClaimView, str] | None) -> Content | str:
        if row is None:
            return self.tr(N_("No claims at outside parties."))
        view, _name = row
        return lit(self.tr(N_("Proposed by {by}: {reason}"), by=view.proposed_by, reason=view.reason))

    def on_data_table_row_selected(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        if self.current is not None:
            self.app.push_screen(ExternalScreen(self.current[0].case_id), lambda _r: self.load())
