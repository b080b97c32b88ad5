"""Registering a debt-relief or insolvency track (``i`` on the client detail), or ending the open one.

Saving goes through ``services.tracks.register_track`` / ``end_track`` in a worker; refusals appear at their
field and the form keeps what was typed (``form.FormScreen``).
"""

from __future__ import annotations

from typing import Any

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Input, Label, Select, Static

from incasso_tui.domain.enums import TrackKind, TrackOutcome
from incasso_tui.errors import N_
from incasso_tui.services.cases import ClientDetail
from incasso_tui.services.tracks import (
    CLAIM_DAYS,
    MAX_CONTACT,
    MAX_NAME,
    EndedTrack,
    RegisteredTrack,
    TrackInput,
    TrackRow,
    end_track,
    register_track,
)
from incasso_tui.ui.labels import TRACK_KIND
from incasso_tui.ui.screens.form import FormScreen
from incasso_tui.ui.text import lit

# the caption of the date field, by kind: a court rules a WSNP or a bankruptcy, an amicable track starts
DATE_CAPTION = {
    TrackKind.MINNELIJK: N_("Start date"),
    TrackKind.WSNP: N_("Ruling date"),
    TrackKind.FAILLISSEMENT: N_("Ruling date"),
}
TRUSTEE_CAPTION = {
    TrackKind.MINNELIJK: N_("Debt-help agency"),
    TrackKind.WSNP: N_("Bewindvoerder"),
    TrackKind.FAILLISSEMENT: N_("Curator"),
}


class TrackScreen(FormScreen[RegisteredTrack]):
    FIELDS = ("kind", "ruling_date", "trustee_name", "trustee_contact", "claim_deadline", "response_due")

    def __init__(self, detail: ClientDetail) -> None:
        super().__init__()
        self.detail = detail

    def compose(self) -> ComposeResult:
        tr = self.tr
        with Vertical(classes="dialog"):
            yield Label(
                lit(tr(N_("Debt relief or insolvency for {name}"), name=self.detail.client.name), "bold"),
                classes="title",
            )
            yield from self.field(
                "kind",
                N_("Track"),
                Select(
                    [(tr(TRACK_KIND[k.value]), k) for k in TrackKind],
                    value=TrackKind.MINNELIJK,
                    allow_blank=False,
                    compact=True,
                    id="kind",
                ),
            )
            yield from self.field(
                "ruling_date", N_("Start date"), Input(id="ruling_date", placeholder=tr(N_("dd/mm/yyyy")), compact=True)
            )
            yield from self.field(
                "trustee_name", N_("Debt-help agency"), Input(id="trustee_name", max_length=MAX_NAME, compact=True)
            )
            yield from self.field(
                "trustee_contact",
                N_("Contact"),
                Input(
                    id="trustee_contact",
                    max_length=MAX_CONTACT,
                    placeholder=tr(N_("phone, e-mail, address")),
                    compact=True,
                ),
            )
            yield from self.field(
                "claim_deadline",
                N_("File claim by"),
                Input(id="claim_deadline", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
            )
            yield Static(id="deadline-hint", classes="hint")
            with Vertical(id="response-fields"):
                yield from self.field(
                    "response_due",
                    N_("Answer offer by"),
                    Input(id="response_due", placeholder=tr(N_("dd/mm/yyyy")), compact=True),
                )
            yield Static(
                tr(N_("The procedure stops: no automatic letters or steps while the track runs.")), classes="hint"
            )
            yield from self.buttons()

    def on_mount(self) -> None:
        self._kind_changed()
        self.query_one("#kind", Select).focus()

    @property
    def kind(self) -> TrackKind:
        kind = self.query_one("#kind", Select).value
        assert isinstance(kind, TrackKind)
        return kind

    @on(Select.Changed, "#kind")
    def _kind_changed(self) -> None:
        tr, kind = self.tr, self.kind
        self.query_one("#ruling_date-row Label", Label).update(tr(DATE_CAPTION[kind]))
        self.query_one("#trustee_name-row Label", Label).update(tr(TRUSTEE_CAPTION[kind]))
        self.query_one("#response-fields").display = kind is TrackKind.MINNELIJK
        hint = (
            tr(N_("Required: the date set by the court."))
            if kind is TrackKind.FAILLISSEMENT
            else tr(N_("Empty: {days} days after the ruling or start date."), days=CLAIM_DAYS)
        )
        self.query_one("#deadline-hint", Static).update(hint)

    def read(self) -> TrackInput | None:
        kind = self.kind
        results = [self.parse(name, self.day) for name in ("ruling_date", "claim_deadline")]
        response = self.parse("response_due", self.day) if kind is TrackKind.MINNELIJK else (True, None)
        if not all(ok for ok, _ in (*results, response)):
            return None
        (_, ruling), (_, deadline) = results
        if ruling is None:
            self.error("ruling_date", self.tr(N_("Please fill this in")))
            return None
        return TrackInput(
            kind=kind,
            ruling_date=ruling,
            trustee_name=self.query_one("#trustee_name", Input).value,
            trustee_contact=self.query_one("#trustee_contact", Input).value,
            claim_deadline=deadline,
            response_due=response[1],
        )

    def submit(self, given: Any) -> RegisteredTrack:
        case = self.detail.case
        return register_track(self.ctx, case.id, case.version, given)


# how a track can end, in the order offered (issue 12, part 7)
OUTCOME = {
    TrackOutcome.SCHONE_LEI: N_("Clean slate (schone lei): write off the rest"),
    TrackOutcome.TERMINATED: N_("Terminated: the procedure resumes"),
    TrackOutcome.REJECTED: N_("Rejected: the procedure resumes"),
    TrackOutcome.SETTLED: N_("Settled: agreed amount, the rest written off"),
}
OUTCOME_HINT = {
    TrackOutcome.SCHONE_LEI: N_(
        "The case closes; the remaining claim goes to a supervisor for write-off. No letters, "
        "costs, interest or BKR step follow."
    ),
    TrackOutcome.TERMINATED: N_("The case returns to the procedure; no interest for the days inside the track."),
    TrackOutcome.REJECTED: N_("The case returns to the procedure; no interest for the days inside the track."),
    TrackOutcome.SETTLED: N_(
        "The agreed amount stays due (paid in through the bank); the rest goes to a supervisor "
        "for write-off. The case waits until the amount is due."
    ),
}


class EndTrackScreen(FormScreen[EndedTrack]):
    """End the open track with its outcome; a settlement asks the agreed amount and when it is due."""

    FIELDS = ("outcome", "amount", "settle_by")

    def __init__(self, detail: ClientDetail, track: TrackRow) -> None:
        super().__init__()
        self.detail = detail
        self.track = track

    def compose(self) -> ComposeResult:
        tr, track = self.tr, self.track
        with Vertical(classes="dialog"):
            yield Label(lit(tr(N_("End the track of {name}?"), name=self.detail.client.name), "bold"), classes="title")
            yield Static(
                lit(
                    tr(
                        N_("{kind} since {day}, {trustee}"),
                        kind=tr(TRACK_KIND[track.kind]),
                        day=track.ruling_date,
                        trustee=track.trustee_name,
                    )
                )
            )
            yield from self.field(
                "outcome",
                N_("Outcome"),
                Select([(tr(OUTCOME[o]), o) for o in OUTCOME], prompt=tr(N_("(choose)")), compact=True, id="outcome"),
            )
            with Vertical(id="settlement-fields"):
                yield from self.field("amount", N_("Agreed amount"), Input(id="amount", compact=True))
                yield from self.field(
                    "settle_by", N_("Due by"), Input(id="settle_by", placeholder=tr(N_("dd/mm/yyyy")), compact=True)
                )
            yield Static(id="outcome-hint", classes="hint")
            yield from self.buttons(N_("End track"))

    def on_mount(self) -> None:
        self._outcome_changed()
        self.query_one("#outcome", Select).focus()

    @on(Select.Changed, "#outcome")
    def _outcome_changed(self) -> None:
        outcome = self.query_one("#outcome", Select).value
        chosen = outcome if isinstance(outcome, TrackOutcome) else None
        self.query_one("#settlement-fields").display = chosen is TrackOutcome.SETTLED
        self.query_one("#outcome-hint", Static).update(
            self.tr(OUTCOME_HINT[chosen])
            if chosen
            else self.tr(N_("The track ends today; open claim-filing tasks are cancelled."))
        )

    def read(self) -> dict[str, Any] | None:
        outcome = self.query_one("#outcome", Select).value
        if not isinstance(outcome, TrackOutcome):
            self.error("outcome", self.tr(N_("Please fill this in")))
            return None
        if outcome is not TrackOutcome.SETTLED:
            return {"outcome": outcome}
        (ok_amount, amount), (ok_day, settle_by) = self.parse("amount", self.amount), self.parse("settle_by", self.day)
        if not (ok_amount and ok_day):
            return None
        return {"outcome": outcome, "settled_amount": amount, "settle_by": settle_by}

    def submit(self, given: Any) -> EndedTrack:
        return end_track(
            self.ctx,
            self.detail.case.id,
            self.detail.case.version,
            given["outcome"],
            settled_amount=given.get("settled_amount"),
            settle_by=given.get("settle_by"),
        )
