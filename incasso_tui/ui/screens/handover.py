"""Handover to special management (``h`` on the client detail).

Shows why the case qualifies (90+ days, above the mandate, insolvency, a second broken arrangement) and the
dossier checklist; the employee picks the reason and writes the summary. A missing dossier item can only be
waived by a supervisor (a checkbox they alone see). Saving goes through ``services.handover.hand_over``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Checkbox, Label, Select, Static, TextArea

from incasso_tui.domain.enums import Role
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.handover import REASONS, Qualification, hand_over, qualification, request_waiver
from incasso_tui.ui.labels import CHECKLIST_ITEM, HANDOVER_REASON
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.text import lit

# how to fix each missing dossier item (the checklist of services.handover), shown to whoever cannot waive it
HOW_TO_FIX = {
    "loan_agreement": N_("scan it into the dossier"),
    "pledge_deed": N_("scan it into the dossier, or ask a supervisor to waive it"),
    "letters_sent": N_("a letter by hand (l), or the procedure's"),
    "bkr_status": N_("known once the BKR mutation is made"),
}


class HandoverScreen(FormScreen[int]):
    """Dismissed with the handover's id, or None when cancelled."""

    # the summary box stays small enough for the buttons to fit at 80x24 (it scrolls as the text grows)
    DEFAULT_CSS = """
    HandoverScreen #summary { height: 4; }
    HandoverScreen #waivers { height: auto; }
    """

    FIELDS: ClassVar[tuple[str, ...]] = ("reason", "summary", "waive")

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail
        self.q: Qualification | None = None

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(
                lit(tr(N_("Hand {name} over to special management"), name=self.detail.client.name), "bold"),
                classes="title",
            )
            yield Static(id="qualifies")
            yield from self.field(
                "reason",
                N_("Reason"),
                Select(
                    [(tr(HANDOVER_REASON[r]), r) for r in REASONS],
                    value="decision",
                    allow_blank=False,
                    compact=True,
                    id="reason",
                ),
            )
            yield Label(tr(N_("Summary: cause, contacts, agreements")))
            yield TextArea(id="summary", soft_wrap=True, show_line_numbers=False, compact=True)
            yield Label(id="summary-error", classes="error")
            yield Static(id="checklist")
            with Vertical(id="waivers"):
                pass
            yield Label(id="waive-error", classes="error")
            yield from self.buttons(N_("Hand over"))

    def on_mount(self) -> None:
        self.query_one("#summary", TextArea).focus()
        self.run_worker(self._load, thread=True, exclusive=True, group="qualification")

    def _load(self) -> None:
        try:
            q = qualification(self.ctx, self.detail.case.id)
        except IncassoError as err:
            self.app.call_from_thread(self.error, None, self.tr.error(err))
            return
        self.app.call_from_thread(self._show, q)

    def _show(self, q: Qualification) -> None:
        tr = self.tr
        self.q = q
        reasons = ", ".join(tr(HANDOVER_REASON[r]) for r in q.reasons) or tr(N_("none: only by decision"))
        self.query_one("#qualifies", Static).update(
            tr(
                N_("{days} days past due · position {position} · qualifies: {reasons}"),
                days=q.days_past_due,
                position=tr.money(q.position),
                reasons=reasons,
            )
        )
        if q.reasons:
            self.query_one("#reason", Select).value = q.reasons[0]
        items = [f"{'✓' if present else '✗'} {tr(CHECKLIST_ITEM[item])}" for item, present in q.checklist.items()]
        missing = [item for item, present in q.checklist.items() if not present]
        can_waive = self.ctx.actor.role == Role.SUPERVISOR  # a supervisor ticks the waivers below instead
        fixes = [] if can_waive else [f"✗ {tr(CHECKLIST_ITEM[item])}: {tr(HOW_TO_FIX[item])}" for item in missing]
        self.query_one("#checklist", Static).update(
            "\n".join([tr(N_("Dossier: {items}"), items="  ".join(items)), *fixes])
        )
        box = self.query_one("#waivers", Vertical)
        if q.requested_summary and not self.query_one("#summary", TextArea).text.strip():
            # an employee's handover waits for the waiver: their summary, not retyped (issue 13)
            self.query_one("#summary", TextArea).text = q.requested_summary
            if q.requested_reason:
                self.query_one("#reason", Select).value = q.requested_reason
        if missing and self.ctx.actor.role == Role.SUPERVISOR:
            box.mount_all(
                Checkbox(tr(N_("waive: {item}"), item=tr(CHECKLIST_ITEM[item])), id=f"waive-{item}", compact=True)
                for item in missing
            )
        elif missing:
            box.mount(
                Static(
                    tr(
                        N_(
                            "Missing items must be added, or waived by a supervisor: saving sends the handover "
                            "to a supervisor, with your summary."
                        )
                    ),
                    classes="hint",
                )
            )

    def read(self) -> dict[str, Any] | None:
        waive = tuple(box.id.removeprefix("waive-") for box in self.query(Checkbox) if box.value and box.id)
        return {
            "reason": str(self.query_one("#reason", Select).value),
            "summary": self.query_one("#summary", TextArea).text,
            "waive": waive,
        }

    def submit(self, given: Any) -> int:
        case = self.detail.case
        missing = self.q is not None and not all(self.q.checklist.values())
        if missing and self.ctx.actor.role != Role.SUPERVISOR:
            return request_waiver(self.ctx, case.id, case.version, reason=given["reason"], summary=given["summary"])
        return hand_over(
            self.ctx, case.id, case.version, reason=given["reason"], summary=given["summary"], waive=given["waive"]
        )
