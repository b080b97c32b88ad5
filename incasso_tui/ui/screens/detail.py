"""Client detail: one case and its client, with everything the desk needs to work it.

The data is read by ``services.cases.client_detail`` in a worker; the screen only lays it out. Every
value that comes from the data is shown literally (``safe``/``lit``): names and notes are never markup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from functools import partial
from typing import TYPE_CHECKING, Any, ClassVar

from rich.style import Style
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.compose import compose
from textual.containers import Container, Grid, Vertical, VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import DataTable, Header, Label, Static, Tab, TabbedContent, TabPane
from textual.widgets._tabs import Underline

from incasso_tui.domain.enums import CaseStatus, Role
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.access import may_write
from incasso_tui.services.bkr_status import BkrPanel, bkr_panel
from incasso_tui.services.cases import ArrangementRow, ClientDetail, DocumentRow, ScheduleRow, client_detail
from incasso_tui.services.consultations import ConsultationRow, consultations
from incasso_tui.services.locks import Presence, open_case, release_case
from incasso_tui.services.risk import Flag, vulnerabilities
from incasso_tui.services.tracks import CaseTracks, TrackRow, case_tracks
from incasso_tui.ui.desk import DeskScreen
from incasso_tui.ui.labels import (
    ARRANGEMENT_STATUS,
    CAUSE,
    CHANNEL,
    DOCUMENT_KIND,
    FLAG,
    FREQUENCY,
    KIND,
    LANGUAGE,
    LEDGER,
    LETTER_STATUS,
    LOAN_STATUS,
    OUTCOME,
    PROMISE_STATUS,
    REPAYMENT,
    SCHEDULE_STATE,
    STAGE,
    STATUS,
    TASK_KIND,
    TRACK_KIND,
    TRACK_STATUS,
    VULNERABILITY,
    label,
    next_action,
    task_title,
)
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, money_cell, right, safe, text_cell, translate_bindings
from incasso_tui.ui.timeline_text import sentence
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.widgets.table import Table
from incasso_tui.ui.work import service_worker

if TYPE_CHECKING:
    from textual.timer import Timer

    from incasso_tui.services.context import Context
    from incasso_tui.ui.screens.walk import CaseWalker

NO_STEP = {
    "paused": N_("No automatic step: the case is paused"),
    "arrangement": N_("No automatic step: an arrangement runs"),
    "deferral": N_("No automatic step: a deferral runs"),
    "insolvency": N_("No automatic step: a debt-relief or insolvency track"),
    "handed_over": N_("No automatic step: handed over to special management"),
    "closed": N_("The case is closed"),
    "last_stage": N_("The procedure has no further stage"),
}
SLOW_S = 0.3  # a case not read by then opens with its loading indicator (CaseOpener): a slow database shows
INSTALLED_AS = "client-detail"  # the one client detail screen an app keeps for reuse (CaseOpener)
SUMMARY_WIDTH = 40  # the contact's summary in the table; the highlighted one is shown in full below it

# tab id -> English title, in the order of the keys 1..9
TABS: dict[str, str] = {
    "loans": N_("Loans"),
    "schedule": N_("Schedule"),
    "payments": N_("Payments"),
    "contacts": N_("Contacts"),
    "notes": N_("Notes"),
    "arrangements": N_("Arrangements"),
    "timeline": N_("Timeline"),
    "dossier": N_("Dossier"),
    "tasks": N_("Tasks"),
}
FIRST_TAB = "loans"  # shown when the screen opens
LIST_TABS = frozenset({"notes", "arrangements"})  # a list of mounted widgets, not a table: built before shown
# the actions that change the case: hidden from auditors, dimmed until the case is read
WRITE_ACTIONS = frozenset(
    {
        "arrangement",
        "change_arrangement",
        "contact",
        "note",
        "track",
        "pause",
        "letter",
        "deferral",
        "handover",
        "write_off",
        "call_in",
        "consult",
        "budget",
    }
)


def _shorten(text: str, width: int) -> str:
    """The first line of ``text``, cut to ``width`` characters with an ellipsis."""
    line = text.partition("\n")[0]
    if len(line) > width:
        return line[: width - 1] + "…"
    return line if line == text else line + " …"


CaseRead = tuple[ClientDetail, CaseTracks, Presence | None, tuple[BkrPanel, bool, list[ConsultationRow]], list[Flag]]


def read_case(ctx: Context, case_id: int) -> CaseRead:
    """Everything the client detail shows of a case (runs in a worker thread); marks the case as in progress by
    this user for the others (``open_case``; renewed on every read, released on leaving)."""
    detail = client_detail(ctx, case_id)
    tracks = case_tracks(ctx, case_id)
    extra = (bkr_panel(ctx, case_id), may_write(ctx, case_id), consultations(ctx, case_id=case_id))
    presence = open_case(ctx, case_id)
    return detail, tracks, presence, extra, vulnerabilities(ctx, detail.client.id)


class ClientDetailScreen(DeskScreen[None]):
    CSS_PATH = STYLES / "detail.tcss"
    HORIZONTAL_BREAKPOINTS: ClassVar[list[tuple[int, str]] | None] = [(0, "-narrow"), (120, "-wide")]
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "back", "Back", id="back"),
        # the footer holds what fits at 80 columns (Dutch); `n`, `p`, `r` and the tab keys are in the `?` panel
        Binding("c", "contact", "Contact", id="contact"),
        Binding("n", "note", "Note", id="note", show=False),
        Binding("a", "arrangement", "Arrangement", id="arrangement"),
        Binding(
            "g",
            "change_arrangement",
            "Change arrangement",
            id="change_arrangement",
            show=False,
            tooltip="Change or end the running arrangement",
        ),
        Binding("i", "track", "Track", id="track", tooltip="Debt relief or insolvency: register or end"),
        Binding("p", "pause", "Pause", id="pause", tooltip="Pause or resume the procedure", show=False),
        Binding("l", "letter", "Letter", id="letter", tooltip="Preview and issue a letter by hand", show=False),
        Binding(
            "u", "deferral", "Deferral", id="deferral", tooltip="Propose a deferral of repayment to Risk", show=False
        ),
        Binding("h", "handover", "Handover", id="handover", tooltip="Hand over to special management", show=False),
        Binding("w", "write_off", "Write-off", id="write_off", tooltip="Propose a write-off to Risk", show=False),
        Binding("o", "call_in", "Call-in", id="call_in", tooltip="Propose calling in a loan to Risk", show=False),
        Binding(
            "k",
            "consult",
            "Consult",
            id="consult",
            tooltip="Ask the client's adviser or special management",
            show=False,
        ),
        Binding(
            "m", "discuss", "Team meeting", id="discuss", tooltip="Put the case on the team meeting's list", show=False
        ),
        Binding(
            "x", "technical", "Details", id="technical", tooltip="The technical details of a timeline event", show=False
        ),
        Binding("b", "budget", "Budget", id="budget", tooltip="The client's income and expenditure", show=False),
        Binding(
            "v",
            "vulnerability",
            "Vulnerability",
            id="vulnerability",
            show=False,
            tooltip="Flag the client as vulnerable, or remove a flag",
        ),
        Binding("e", "external", "External", id="external", tooltip="Bailiff, lawyer or collection agency", show=False),
        Binding("d", "complaints", "Complaints", id="complaints", tooltip="Complaints and disputes", show=False),
        Binding("r", "reload", "Reload", id="reload", show=False),
        # the worklist's next and previous case, in its order (ui.screens.walk); only when opened from it
        Binding("right_square_bracket", "walk(1)", "Next case", key_display="]", id="next_case", show=False),
        Binding("left_square_bracket", "walk(0)", "Previous case", key_display="[", id="previous_case", show=False),
        Binding("1", "tab(1)", "Tab", key_display="1-9", id="tab", show=False),
        *(Binding(str(n), f"tab({n})", "Tab", show=False) for n in range(2, len(TABS) + 1)),
    ]

    def __init__(self, case_id: int, walker: CaseWalker | None = None, read: CaseRead | None = None) -> None:
        super().__init__()
        self.case_id = case_id
        self.walker = walker
        self.detail: ClientDetail | None = None
        self.tracks: CaseTracks | None = None
        self.presence: Presence | None = None  # a colleague who has the case open too
        self.writable = False  # whether the actor may change the case in its state (services.access)
        self.bkr: BkrPanel | None = None
        self.consults: list[ConsultationRow] = []
        self._dossier_ids: list[int | None] = []  # the document behind each row of the dossier tab
        self.flags: list[Flag] = []  # the client's vulnerability flags (issue 20)
        self.technical = False  # the timeline's technical details shown (x)
        self._built = {FIRST_TAB}  # the tabs whose widgets are mounted (the others when first shown)
        self._building: set[str] = set()  # the tabs being mounted now
        self._stale: set[str] = set()  # built tabs that still show an earlier case: filled when next shown
        self._generation = 0  # which case this screen shows (a reused screen shows many, one after another)
        self._read = read  # the case as read before the push, or None: the screen reads it

    # ----- layout
    def compose(self) -> ComposeResult:
        yield Header()
        with Grid(id="head"):
            yield Static(id="client")
            yield Static(id="case")
            yield Static(id="arrears")  # one of these two shows, by the width of the terminal
            yield Static(id="arrears-short")
        with TabbedContent(id="tabs"):
            for tab_id in TABS:
                with self._pane(tab_id):
                    if tab_id == FIRST_TAB:  # the others are built when first shown (_build)
                        yield from self._pane_content(tab_id)
        yield DeskFooter(compact=True)

    def _pane_content(self, tab_id: str) -> ComposeResult:
        """What the tab ``tab_id`` holds; mounted when the tab is first shown (issue 18)."""
        tr = self.tr
        if tab_id == "loans":
            with Vertical(id="loans-box"):
                yield self._table(
                    "loans-table",
                    N_("Loan"),
                    N_("Product"),
                    (N_("Arrears"), True),
                    (N_("Days"), True),
                    (N_("Outstanding"), True),
                    (N_("Principal"), True),
                    (N_("Rate"), True),
                    (N_("Term"), True),
                    N_("Repayment"),
                    N_("Status"),
                    N_("Dossier"),
                )
                yield Static(id="bkr-panel")
        elif tab_id == "schedule":
            yield self._table(
                "schedule-table",
                N_("Loan"),
                (N_("No."), True),
                N_("Due date"),
                N_("State"),
                (N_("Amount"), True),
                (N_("Paid"), True),
                (N_("Principal"), True),
                (N_("Interest"), True),
            )
        elif tab_id == "payments":
            yield self._table(
                "payments-table", N_("Date"), N_("Loan"), N_("Kind"), (N_("Amount"), True), N_("Description")
            )
        elif tab_id == "contacts":
            with Container(id="contacts-box"):
                with Vertical(id="contacts-main"):
                    yield self._table(
                        "contacts-table", N_("At"), N_("Channel"), N_("Outcome"), N_("Summary"), N_("Cause"), N_("User")
                    )
                    yield Static(id="contact-summary")
                with Vertical(id="promises-box"):
                    yield Label(tr(N_("Promises to pay")), classes="subhead")
                    yield self._table("promises-table", N_("Date"), (N_("Amount"), True), N_("Status"))
        elif tab_id == "notes":
            yield VerticalScroll(id="notes-list", can_focus=True)
        elif tab_id == "arrangements":
            yield VerticalScroll(id="arrangements-list", can_focus=True)
        elif tab_id == "timeline":
            yield self._table("timeline-table", N_("At"), N_("Who"), N_("What happened"))
            yield Static(id="timeline-detail")
        elif tab_id == "dossier":
            yield self._table("dossier-table", N_("Added"), N_("Kind"), N_("Title"), N_("Sent"))
        elif tab_id == "tasks":
            with Vertical(id="tasks-box"):
                yield self._table("tasks-table", N_("Due date"), N_("Kind"), N_("Task"), N_("By"))
                yield Label(tr(N_("Debt relief and insolvency")), classes="subhead")
                yield self._table("tracks-table", N_("Track"), N_("Since"), N_("Trustee"), N_("Claim by"), N_("Status"))
                yield Label(tr(N_("Consultations")), classes="subhead")
                yield self._table("consults-table", N_("Asked"), N_("By"), N_("Of"), N_("Question"), N_("Answer"))

    async def _build(self, tab_id: str) -> None:
        """Mount the tab's widgets the first time it is shown, filled with the case as read; fill a tab built for
        an earlier case (``show_case``) with this one."""
        pane = self.query_one(f"#{tab_id}", TabPane)
        if tab_id in self._stale:
            self._stale.discard(tab_id)
            for scroll in pane.query(VerticalScroll):
                scroll.scroll_home(animate=False)
        elif tab_id in self._built or tab_id in self._building:
            return
        else:
            # built once mounted: a case shown meanwhile (a reload after a save, :meth:`_show`) fills only the
            # tabs whose tables exist, and this one is filled below with the case shown by then
            self._building.add(tab_id)
            try:
                await pane.mount_all(compose(pane, self._pane_content(tab_id)))
            finally:
                self._building.discard(tab_id)
            self._built.add(tab_id)
        if self.detail is not None:
            await self._fill_pane(tab_id, self.detail)
            for table in pane.query(DataTable):
                table.call_after_refresh(self._cursor_into_view, table, 5)

    def _cursor_into_view(self, table: DataTable[Text], tries: int) -> None:
        """A just-built tab's table opens with its cursor's line at the top (as one filled while its tab was hidden
        did: the schedule at its first unpaid line), once it has measured its rows (its idle) and has its size."""
        if (table._require_update_dimensions or not table.size.height) and tries > 1:
            table.call_after_refresh(self._cursor_into_view, table, tries - 1)
            return
        table.scroll_to(y=table.cursor_row, animate=False)  # one line a row

    async def _fill_pane(self, tab_id: str, d: ClientDetail) -> None:
        if tab_id == "loans":
            self._fill_loans(d)
            self._fill_bkr()
        elif tab_id == "schedule":
            self._fill_schedule(d)
        elif tab_id == "payments":
            self._fill_payments(d)
        elif tab_id == "contacts":
            self._fill_contacts(d)
        elif tab_id == "notes":
            await self._fill_notes(d)
        elif tab_id == "arrangements":
            await self._fill_arrangements(d)
        elif tab_id == "timeline":
            self._fill_timeline(d)
        elif tab_id == "dossier":
            self._fill_dossier(d)
        elif tab_id == "tasks" and self.tracks is not None:
            self._fill_tasks(d, self.tracks)
            self._fill_consults()

    async def _show_pane(self, tab_id: str) -> None:
        """Show the tab ``tab_id``; a tab of tables is built (and filled) once shown if it was not yet, so that its
        tables are filled at their size and a cursor below the first lines scrolls into view; a list of notes or
        arrangements is built first, so that it shows in the same frame as the tab (issue 18). The tab bar's
        underline moves in that frame too (``_underline_now``)."""
        tabbed = self.query_one(TabbedContent)
        if tab_id in LIST_TABS:  # its widgets mounted before it shows: not one frame empty, then filled
            await self._build(tab_id)
        tabbed.active = tab_id
        _underline_now(tabbed)
        await self._build(tab_id)

    def _pane(self, tab_id: str) -> TabPane:
        return TabPane(self.tr(TABS[tab_id]), id=tab_id)

    def _table(self, table_id: str | None, *columns: str | tuple[str, bool]) -> DataTable[Text]:
        """A read-only table; a column given as ``(title, True)`` is right-aligned (amounts, numbers)."""
        table: Table[Text] = Table(id=table_id, cursor_type="row", zebra_stripes=True)
        for column in columns:
            title, align_right = column if isinstance(column, tuple) else (column, False)
            table.add_column(Text(self.tr(title), justify="right" if align_right else "left"), key=title)
        return table

    async def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        self._show_place()
        if self._read is not None:  # read before the push (CaseOpener): shown in the first paint
            read, self._read = self._read, None
            await self._take(read)
            return
        self.refresh_bindings()
        self.query_one("#head").loading = True
        self.load()

    # ----- loading
    def load(self) -> None:
        """Read the case in a worker thread (``ui.work.service_worker``); the result is laid out on the UI thread."""
        ctx, case_id, generation = self.ctx, self.case_id, self._generation

        def shown(got: CaseRead) -> Awaitable[None] | None:
            if generation != self._generation:  # read for a case this (reused) screen no longer shows
                return None
            return self._take(got)

        def failed(err: IncassoError) -> None:
            if generation == self._generation:
                self._show_error(err)

        service_worker(self, partial(read_case, ctx, case_id), shown, failed, group="detail")

    async def _take(self, got: CaseRead) -> None:
        detail, tracks, presence, extra, self.flags = got
        await self._show(detail, tracks, presence, extra)

    async def show_case(self, case_id: int, walker: CaseWalker | None, got: CaseRead) -> None:
        """Lay out another case, read already (``read_case``), on this screen while it is off the stack: it is
        kept installed and pushed again (:class:`CaseOpener`, issue 18), so the case opens without composing,
        mounting and styling the screen's ~100 widgets and in one paint. What the last case left is reset: the
        first tab shows, the tables start at their first row (the schedule at its first unpaid line), and the
        other tabs built so far are filled again when next shown."""
        self._generation += 1  # a read of the last case still under way is not shown
        self.workers.cancel_node(self)
        self.case_id = case_id
        self.walker = walker
        self.technical = False
        self.sub_title = None
        self._show_place()
        self.query_one("#head").loading = False
        self._stale = self._built - {FIRST_TAB}
        for table in self.query(DataTable):
            table.clear()
        self.query_one(TabbedContent).active = FIRST_TAB
        await self._take(got)
        loans = self.query_one(f"#{FIRST_TAB}", TabPane)
        if self.focused is None or loans not in self.focused.ancestors:  # else focus stays: no restyle for it
            self._focus_pane()

    def _show_error(self, err: IncassoError) -> None:
        self.query_one("#head").loading = False
        self.query_one("#client", Static).update(lit(self.tr.error(err), "bold $error"))
        self.notify(self.tr.error(err), severity="error")

    async def _show(
        self,
        detail: ClientDetail,
        tracks: CaseTracks,
        presence: Presence | None,
        extra: tuple[BkrPanel, bool, list[ConsultationRow]] | None = None,
    ) -> None:
        self.detail = detail
        self.tracks = tracks
        self.presence = presence
        if extra is not None:
            self.bkr, self.writable, self.consults = extra
        self.query_one("#head").loading = False
        self.query_one("#client", Static).update(self._client_block(detail))
        self.query_one("#case", Static).update(self._case_block(detail))
        self.query_one("#arrears", Static).update(self._arrears_block(detail))
        self.query_one("#arrears-short", Static).update(self._arrears_short(detail))
        for tab_id in TABS:  # the tabs built so far; the others are filled when first shown
            if tab_id in self._built and tab_id not in self._stale:
                await self._fill_pane(tab_id, detail)
        self.refresh_bindings()
        if self.focused is None:
            self._focus_pane()

    # ----- header
    def _client_block(self, d: ClientDetail) -> Content:
        tr, c = self.tr, d.client
        kind = tr(KIND.get(c.kind, c.kind))
        segment = tr(N_("consumer")) if c.consumer else tr(N_("business"))
        lines = [
            lit(c.name, "bold"),
            lit(f"{c.number} · {kind} · {segment}", "$text-muted"),
            lit(f"{c.street}, {c.postcode} {c.city}"),
            lit(" · ".join(v for v in (c.phone, c.email) if v)),
        ]
        ids = [f"IBAN {c.iban}" if c.iban else "", tr(N_("KvK {kvk}"), kvk=c.kvk) if c.kvk else ""]
        lines.append(lit(" · ".join(v for v in ids if v)))
        reach = tr(
            N_("prefers {channel} · {language}"),
            channel=label(tr, CHANNEL, c.preferred_channel),
            language=label(tr, LANGUAGE, c.language),
        )
        if c.contact_person:
            lines.append(Content.assemble(lit(c.contact_person), (" · " + reach, "$text-muted")))
        else:
            lines.append(lit(reach, "$text-muted"))
        # whether legal notices may go by e-mail (issue 12); how the consent was given is on the Dossier tab
        if c.email_consent_on:
            lines.append(lit(tr(N_("Legal notices by e-mail since {day}"), day=c.email_consent_on), "$text-muted"))
        else:
            lines.append(lit(tr(N_("Legal notices by post only")), "$text-muted"))
        return Content("\n").join(lines)

    def _case_block(self, d: ClientDetail) -> Content:
        tr, case = self.tr, d.case
        lines = [
            Content.assemble(
                (tr(N_("Status")) + " ", "$text-muted"),
                (label(tr, STATUS, case.status), "bold"),
                (" · " + tr(N_("Stage")) + " ", "$text-muted"),
                label(tr, STAGE, case.stage),
            ),
            Content.assemble(
                (tr(N_("Handler")) + " ", "$text-muted"),
                lit(case.assignee or tr(N_("nobody"))),
                (" · " + tr(N_("case {id} since {day}"), id=str(case.id), day=case.opened_on), "$text-muted"),
            ),
            Content.assemble(
                (tr(N_("Next action")) + " ", "$text-muted"),
                (tr.date(case.next_action_date), "bold"),
                " ",
                lit(next_action(tr, case.next_action, case.next_action_params)),
            ),
        ]
        if case.cause:  # issue 15: the cause of the arrears as the desk knows it
            lines.append(
                Content.assemble((tr(N_("Cause")) + " ", "$text-muted"), (label(tr, CAUSE, case.cause), "bold"))
            )
        if case.flag:
            lines.append(lit(" " + label(tr, FLAG, case.flag) + " ", "bold $text-error on $error-muted"))
        role = self.ctx.actor.role
        if not self.writable and role != Role.AUDITOR:
            if case.status == CaseStatus.HANDED_OVER.value and role != Role.SPECIAL_MANAGEMENT:
                why = N_("Read only: handed over to special management")
            elif case.status == CaseStatus.CLOSED.value:
                why = N_("Read only: the case is closed")
            else:
                why = N_("Read only for you")
            lines.append(lit(tr(why), "bold $text-warning"))
        if self.flags:
            kinds = ", ".join(tr(VULNERABILITY.get(f.kind, f.kind)) for f in self.flags)
            last = self.flags[-1]
            lines.append(
                lit(
                    tr(
                        N_("Vulnerable: {kinds} ({user}, {day})"), kinds=kinds, user=last.set_by, day=last.set_at.date()
                    ),
                    "bold $text-warning",
                )
            )
        if self.presence is not None:
            busy = tr(
                N_("In progress by {name} (until {time})"),
                name=self.presence.user_name,
                time=self.presence.until.strftime("%H:%M"),
            )
            lines.append(lit(busy, "bold $text-warning"))
        track = self.tracks.open_track if self.tracks is not None else None
        if track is not None:
            lines.append(self._track_line(track))
        if case.pause_reason or case.pause_until:
            until = tr(N_("Paused until {day}"), day=case.pause_until) if case.pause_until else tr(N_("Paused"))
            lines.append(Content.assemble((until + ": ", "$text-warning"), lit(case.pause_reason or "")))
        if d.active_arrangement is not None:
            a = d.active_arrangement
            lines.append(
                lit(
                    tr(
                        N_("Arrangement: {count} x {frequency} from {day}"),
                        count=a.installment_count,
                        frequency=label(tr, FREQUENCY, a.frequency),
                        day=a.first_date,
                    ),
                    "$text-success",
                )
            )
        return Content("\n").join(lines)

    def _track_line(self, track: TrackRow) -> Content:
        tr = self.tr
        return Content.assemble(
            (
                tr(N_("{kind} since {day}"), kind=label(tr, TRACK_KIND, track.kind), day=track.ruling_date) + ": ",
                "bold $text-warning",
            ),
            lit(track.trustee_name),
            (" · " + tr(N_("claim by {day}"), day=track.claim_deadline) if track.claim_deadline else "", "$text-muted"),
        )

    def _arrears_block(self, d: ClientDetail) -> Content:
        tr, arrears = self.tr, d.arrears
        rows = [
            (tr(N_("Costs")), tr.money(arrears.costs), ""),
            (tr(N_("Interest")), tr.money(arrears.interest), ""),
            *(
                [(tr(N_("Statutory interest")), tr.money(arrears.statutory_interest), "")]
                if arrears.statutory_interest
                else []
            ),
            (tr(N_("Principal")), tr.money(arrears.principal), ""),
            (tr(N_("Total")), tr.money(arrears.total), "bold"),
        ]
        width = max(len(label) + len(amount) + 1 for label, amount, _ in rows)
        lines = [
            Content.assemble((label, style or "$text-muted"), (amount.rjust(width - len(label)), style))
            for label, amount, style in rows
        ]
        days = tr(N_("{days} days past due"), days=arrears.days_past_due)
        lines.append(lit(days.rjust(width), "bold $text-error" if arrears.days_past_due else "$text-muted"))
        return Content("\n").join([lit(tr(N_("Arrears")), "bold"), *lines])

    def _arrears_short(self, d: ClientDetail) -> Content:
        tr, arrears = self.tr, d.arrears
        return Content.assemble(
            (tr(N_("Arrears {total}"), total=arrears.total), "bold"),
            (
                " · " + tr(N_("{days} days"), days=arrears.days_past_due),
                "bold $text-error" if arrears.days_past_due else "$text-muted",
            ),
            "\n",
            (
                tr(
                    N_("costs {costs} · interest {interest} · principal {principal}"),
                    costs=arrears.costs,
                    interest=arrears.interest,
                    principal=arrears.principal,
                ),
                "$text-muted",
            ),
        )

    # ----- tabs
    def _fill(self, table_id: str, rows: Iterable[list[Text]], start: int = 0) -> None:
        """Fill a table; the cursor stays where it was on a reload and starts at row ``start`` the first time."""
        table = self.query_one(f"#{table_id}", DataTable)
        row = table.cursor_row if table.row_count else start
        table.clear()
        for cells in rows:
            table.add_row(*cells)
        if table.row_count:
            table.move_cursor(row=min(row, table.row_count - 1))

    def _fill_loans(self, d: ClientDetail) -> None:
        tr = self.tr
        self._fill(
            "loans-table",
            (
                [
                    text_cell(loan.number),
                    text_cell(loan.product),
                    money_cell(tr, loan.arrears.total, "bold" if loan.arrears.total else ""),
                    right(loan.arrears.days_past_due),
                    money_cell(tr, loan.outstanding_principal),
                    money_cell(tr, loan.principal),
                    right(tr.percent(loan.annual_rate)),
                    right(tr(N_("{months} mo"), months=loan.term_months)),
                    text_cell(label(tr, REPAYMENT, loan.repayment)),
                    text_cell(label(tr, LOAN_STATUS, loan.status)),
                    self._dossier_cell(loan.has_loan_agreement, loan.has_pledge_deed),
                ]
                for loan in d.loans
            ),
        )

    def _dossier_cell(self, agreement: bool, pledge: bool) -> Text:
        tr = self.tr
        cell = Text(end="")
        for present, name in ((agreement, N_("Loan agreement")), (pledge, N_("Pledge deed"))):
            if cell:
                cell.append("  ")
            cell.append(("✓ " if present else "✗ ") + tr(name), style="" if present else self._style("text-error"))
        return cell

    def _style(self, variable: str) -> Style:
        """A Rich style in the colour of a theme variable (for DataTable cells)."""
        return Style(color=self.app.theme_variables.get(variable))

    def _fill_schedule(self, d: ClientDetail) -> None:
        past_due = self._style("text-error")
        self._fill(
            "schedule-table",
            (self._schedule_row(r, past_due if r.state == "past_due" else "") for r in d.schedule),
            start=next((i for i, r in enumerate(d.schedule) if r.state != "paid"), 0),
        )

    def _schedule_row(self, r: ScheduleRow, style: str | Style) -> list[Text]:
        tr = self.tr
        return [
            text_cell(r.loan_number, style),
            right(r.seq, style),
            text_cell(tr.date(r.due_date), style),
            text_cell(label(tr, SCHEDULE_STATE, r.state), style),
            money_cell(tr, r.amount, style),
            money_cell(tr, r.paid, style),
            money_cell(tr, r.principal, style),
            money_cell(tr, r.interest, style),
        ]

    def _fill_payments(self, d: ClientDetail) -> None:
        tr = self.tr
        self._fill(
            "payments-table",
            (
                [
                    text_cell(tr.date(e.booking_date)),
                    text_cell(e.loan_number),
                    text_cell(label(tr, LEDGER, e.kind)),
                    money_cell(tr, e.amount),
                    text_cell(e.description),
                ]
                for e in d.ledger
            ),
        )

    def _fill_contacts(self, d: ClientDetail) -> None:
        tr = self.tr
        self._fill(
            "contacts-table",
            (
                [
                    text_cell(tr.datetime(c.at)),
                    text_cell(label(tr, CHANNEL, c.channel)),
                    text_cell(label(tr, OUTCOME, c.outcome)),
                    text_cell(_shorten(c.summary, SUMMARY_WIDTH)),
                    text_cell(label(tr, CAUSE, c.cause)),
                    text_cell(c.user),
                ]
                for c in d.contacts
            ),
        )
        broken = self._style("text-error")
        self._fill(
            "promises-table",
            (
                [
                    text_cell(tr.date(p.due_date)),
                    money_cell(tr, p.amount),
                    text_cell(label(tr, PROMISE_STATUS, p.status), broken if p.status == "broken" else ""),
                ]
                for p in d.promises
            ),
        )

    @on(DataTable.RowHighlighted, "#contacts-table")
    def _contact_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if self.detail is not None and event.cursor_row < len(self.detail.contacts):
            self.query_one("#contact-summary", Static).update(lit(self.detail.contacts[event.cursor_row].summary))

    def _fill_timeline(self, d: ClientDetail) -> None:
        tr = self.tr
        self._fill(
            "timeline-table",
            ([text_cell(tr.datetime(e.at)), text_cell(e.actor), text_cell(sentence(tr, e))] for e in d.timeline),
        )
        self._timeline_detail()

    @on(DataTable.RowHighlighted, "#timeline-table")
    def _timeline_detail(self) -> None:
        # the highlighted event's technical details (its code and after-state), shown with `x`
        box = self.query_one("#timeline-detail", Static)
        table = self.query_one("#timeline-table", DataTable)
        if self.detail is None or not 0 <= table.cursor_row < len(self.detail.timeline):
            box.update("")
            return
        e = self.detail.timeline[table.cursor_row]
        lines = [lit(sentence(self.tr, e))]  # in full: the table cuts it at 80 columns
        if self.technical:
            lines.append(lit(f"{e.action} · {e.details}", "$text-muted"))
        box.update(Content("\n").join(lines))

    async def action_technical(self) -> None:
        self.technical = not self.technical
        await self._show_pane("timeline")
        self._timeline_detail()

    def _fill_bkr(self) -> None:
        tr, panel = self.tr, self.bkr
        box = self.query_one("#bkr-panel", Static)
        if panel is None:
            box.update("")
            return
        lines = [lit(tr(N_("BKR")), "bold")]
        if panel.legal_person:
            lines.append(lit(tr(N_("Legal person: the BKR registers no codes for its loans")), "$text-muted"))
        for loan in panel.loans:
            standing = (
                tr(N_("code {code} since {day}"), code=loan.code, day=loan.since)
                if loan.code
                else tr(N_("no registration"))
            )
            pending = ", ".join(tr(N_("{code} of {day}"), code=c, day=d) for c, d in loan.pending)
            text = f"{loan.loan_number}: {standing}"
            if pending:
                text += " · " + tr(N_("not yet exported: {mutations}"), mutations=pending)
            lines.append(lit(text))
        if panel.warning_date is not None:
            state = tr(LETTER_STATUS.get(panel.warning_state or "", N_("unknown")))
            sent = (" " + tr(N_("on {day}"), day=panel.warning_sent_at)) if panel.warning_sent_at else ""
            if panel.warning_received_on is not None:  # the BKR window counts from the assumed receipt (issue 12)
                sent += ", " + tr(N_("received {day}"), day=panel.warning_received_on)
            lines.append(
                lit(tr(N_("Warning letter of {day}: {state}{sent}"), day=panel.warning_date, state=state, sent=sent))
            )
        else:
            lines.append(lit(tr(N_("No BKR warning letter")), "$text-muted"))
        step = panel.next_step
        if step.on is not None:
            text = tr(
                N_("Next step of the procedure: {stage} on {day}"), stage=label(tr, STAGE, step.what), day=step.on
            )
            if step.registers_code_a:
                text += " · " + tr(N_("registers BKR code A"))
            lines.append(lit(text, "bold" if step.registers_code_a else ""))
        else:
            lines.append(lit(tr(NO_STEP.get(step.what, N_("The procedure takes no further step"))), "$text-muted"))
        box.update(Content("\n").join(lines))

    def _fill_consults(self) -> None:
        tr = self.tr
        self._fill(
            "consults-table",
            (
                [
                    text_cell(tr.datetime(c.asked_at)),
                    text_cell(c.asked_by),
                    text_cell(c.asked_of),
                    text_cell(_shorten(c.question, SUMMARY_WIDTH)),
                    text_cell(_shorten(c.answer or tr(N_("(waiting)")), SUMMARY_WIDTH)),
                ]
                for c in self.consults
            ),
        )

    def _fill_dossier(self, d: ClientDetail) -> None:
        tr = self.tr
        # `enter` shows a row's document whole (ui.screens.document); the consent row has none
        self._dossier_ids = [*([None] if d.client.email_consent_on else []), *(doc.document_id for doc in d.documents)]
        self._fill(
            "dossier-table",
            [
                *(
                    [
                        [
                            text_cell(tr.date(d.client.email_consent_on)),
                            text_cell(tr(N_("E-mail consent"))),
                            text_cell(d.client.email_consent_source or ""),
                            text_cell(""),
                        ]
                    ]
                    if d.client.email_consent_on
                    else []
                ),
                *(
                    [
                        text_cell(tr.date(doc.added_on)),
                        text_cell(label(tr, DOCUMENT_KIND, doc.kind)),
                        text_cell(doc.title),
                        text_cell(self._letter_state(doc)),
                    ]
                    for doc in d.documents
                ),
            ],
        )

    @on(DataTable.RowSelected, "#dossier-table")
    def _open_document(self, event: DataTable.RowSelected) -> None:
        from incasso_tui.ui.screens.document import DocumentScreen

        ids = self._dossier_ids
        chosen = ids[event.cursor_row] if 0 <= event.cursor_row < len(ids) else None
        if chosen is not None:
            self.app.push_screen(DocumentScreen(chosen))
        else:
            self.notify(self.tr(N_("This line is not a document")))

    def _letter_state(self, doc: DocumentRow) -> str:
        """What became of a letter: sent on its day, or what it waits for (issue 12); empty for other documents."""
        tr = self.tr
        if doc.letter_status is None:
            return ""
        if doc.letter_status == "sent" and doc.dispatched_on:
            return tr(N_("sent {day}"), day=doc.dispatched_on)
        if doc.letter_status == "rendered":
            return tr(N_("in print batch {batch}"), batch=doc.batch_id) if doc.batch_id else tr(N_("waits for a batch"))
        return tr(LETTER_STATUS.get(doc.letter_status, doc.letter_status))

    def _fill_tasks(self, d: ClientDetail, t: CaseTracks) -> None:
        tr, today = self.tr, d.as_of
        late = self._style("text-error")
        self._fill(
            "tasks-table",
            (
                [
                    text_cell(tr.date(task.due_date), late if task.due_date < today else ""),
                    text_cell(label(tr, TASK_KIND, task.kind)),
                    text_cell(task_title(tr, task.subject, task.subject_params, task.title)),
                    text_cell(task.created_by),
                ]
                for task in t.tasks
            ),
        )
        self._fill(
            "tracks-table",
            (
                [
                    text_cell(label(tr, TRACK_KIND, track.kind)),
                    text_cell(tr.date(track.ruling_date)),
                    text_cell(" · ".join(v for v in (track.trustee_name, track.trustee_contact) if v)),
                    text_cell(tr.date(track.claim_deadline) if track.claim_deadline else ""),
                    text_cell(
                        label(tr, TRACK_STATUS, track.status)
                        + (" " + tr.date(track.ended_on) if track.ended_on else "")
                    ),
                ]
                for track in t.tracks
            ),
        )

    async def _fill_notes(self, d: ClientDetail) -> None:
        tr = self.tr
        notes = self.query_one("#notes-list", VerticalScroll)
        await notes.remove_children()
        if not d.notes:
            await notes.mount(Static(tr(N_("No notes")), classes="muted"))
            return
        await notes.mount_all(
            Static(
                Content.assemble((f"{tr.datetime(n.at)}  ", "$text-muted"), lit(n.user, "bold"), "\n", lit(n.text)),
                classes="note",
            )
            for n in d.notes
        )

    async def _fill_arrangements(self, d: ClientDetail) -> None:
        tr = self.tr
        box = self.query_one("#arrangements-list", VerticalScroll)
        await box.remove_children()
        if not d.arrangements:
            await box.mount(Static(tr(N_("No arrangements")), classes="muted"))
            return
        for a in d.arrangements:
            await box.mount(Static(self._arrangement_title(a), classes="subhead"))
            table = self._table(None, (N_("No."), True), N_("Due date"), (N_("Amount"), True), (N_("Paid"), True))
            await box.mount(table)
            for seq, due, amount, paid in a.lines:
                table.add_row(
                    right(seq if seq else tr(N_("down"))),
                    text_cell(tr.date(due)),
                    money_cell(tr, amount),
                    money_cell(tr, paid),
                )

    def _arrangement_title(self, a: ArrangementRow) -> Content:
        tr = self.tr
        return Content.assemble(
            (label(tr, ARRANGEMENT_STATUS, a.status), "bold $text-success" if a.status == "active" else "bold"),
            " · ",
            tr(
                N_("covers {amount} in {count} x {frequency}, registered by {name} on {day}"),
                amount=a.arrears_covered,
                count=a.installment_count,
                frequency=label(tr, FREQUENCY, a.frequency),
                name=safe(a.created_by),
                day=a.created_at.date(),
            ),
        )

    def _focus_pane(self) -> None:
        pane = self.query_one(TabbedContent).active_pane
        if pane is not None:  # now, not after a call_later as Widget.focus does: the focus shows in the tab's frame
            self.set_focus(pane.query("DataTable, VerticalScroll").first())

    @on(TabbedContent.TabActivated)
    async def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id is not None:  # shown by a click or the tab bar's own keys: built now
            await self._build(event.pane.id)
        # a table filled while its tab was hidden could not scroll its cursor into view: do it now
        for table in event.pane.query(DataTable):
            table.call_after_refresh(table.move_cursor, row=table.cursor_row)

    # ----- actions
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "walk":
            return self.walker is not None
        if action in WRITE_ACTIONS or action == "discuss":
            if self.ctx.actor.role in (Role.AUDITOR, Role.ADMIN):
                return False  # auditors read only
            if self.detail is None:
                return None  # shown dimmed until the case is read
            if action in WRITE_ACTIONS and not self.writable:
                return False  # read-only for this user in the case's state (services.access says why)
        return True

    def action_consult(self) -> None:
        from incasso_tui.ui.screens.consult import ConsultScreen

        if self.detail is not None:
            self.app.push_screen(ConsultScreen(self.detail), partial(self._saved, N_("Consultation asked"), "tasks"))

    def action_discuss(self) -> None:
        from incasso_tui.ui.screens.prompt import PromptScreen

        def given(question: str | None) -> None:
            if question:
                self._raise(question)

        self.app.push_screen(
            PromptScreen(
                self.tr(N_("What should the team meeting discuss about this case?")), required=N_("Please fill this in")
            ),
            given,
        )

    @work(thread=True, group="discuss")
    def _raise(self, question: str) -> None:
        from incasso_tui.services.discussion import raise_item

        try:
            raise_item(self.ctx, self.case_id, question)
        except IncassoError as err:
            self.app.call_from_thread(self.notify, self.tr.error(err), severity="error")
            return
        self.app.call_from_thread(self.notify, self.tr(N_("On the team meeting's list")))
        self.app.call_from_thread(self.load)

    def action_back(self) -> None:
        # an app-level worker: it outlives this screen
        # a refusal (the user was disabled meanwhile) is said; the mark expires by itself (case_lock_minutes)
        app = self.desk
        service_worker(
            app,
            partial(release_case, app.ctx, self.case_id),
            lambda _: None,
            lambda err: app.notify(app.tr.error(err), severity="warning"),
            group="release",
            exclusive=False,
        )
        self._generation += 1  # a reload under way is not shown on the screen left (kept for reuse)
        self.dismiss()

    def action_reload(self) -> None:
        self.load()

    @work(thread=True, exclusive=True, group="walk")
    def action_walk(self, forward: int) -> None:
        """The next (``]``) or previous (``[``) case of the worklist, without going back to it."""
        assert self.walker is not None  # check_action hides the keys otherwise
        try:
            row = self.walker.step(bool(forward))
        except IncassoError as err:
            self.app.call_from_thread(self.notify, self.tr.error(err), severity="error")
            return
        if row is None:
            message = N_("This is the last case of the list") if forward else N_("This is the first case of the list")
            self.app.call_from_thread(self.notify, self.tr(message))
            return
        self.app.call_from_thread(self._switch_case, row.case_id)

    def _switch_case(self, case_id: int) -> None:
        self.app.run_worker(partial(release_case, self.ctx, self.case_id), thread=True, group="release")
        self.case_id = case_id
        self.detail = None
        self.refresh_bindings()
        self._show_place()
        self.query_one("#head").loading = True
        self.load()

    def _show_place(self) -> None:
        """'case 3 of 108' in the title bar while walking the worklist."""
        if self.walker is not None:
            self.sub_title = self.tr(N_("case {n} of {total}"), n=self.walker.offset + 1, total=self.walker.total)

    async def action_tab(self, number: int) -> None:
        await self._show_pane(list(TABS)[number - 1])
        self._focus_pane()

    def action_arrangement(self) -> None:
        from incasso_tui.ui.screens.arrangement import ArrangementScreen

        if self.detail is None:
            return
        running = self.detail.active_arrangement
        if running is not None:  # refused when the form would open, not after it is typed (issue 14)
            self.notify(
                self.tr(
                    N_("The case already has an active arrangement, registered by {name} on {day}"),
                    name=running.created_by,
                    day=running.created_at.date(),
                )
                + " · "
                + self.tr(N_("g changes or ends it")),
                severity="warning",
                markup=False,
            )
            return
        ArrangementScreen.open_kept(self.app, self._arrangement_done, self.detail)

    def action_change_arrangement(self) -> None:
        if self.detail is None:
            return
        if self.detail.active_arrangement is None:
            self.notify(self.tr(N_("The case has no running arrangement: a makes one")), markup=False)
            return
        self._open_change()

    @work(thread=True, exclusive=True, group="detail")
    def _open_change(self) -> None:
        from incasso_tui.services.arrangement_changes import running

        found = running(self.ctx, self.case_id)
        if found is not None and self.detail is not None:
            self.app.call_from_thread(self._push_change, found)

    def _push_change(self, found: object) -> None:
        from incasso_tui.ui.screens.arrangement_change import ArrangementChangeScreen

        assert self.detail is not None
        self.app.push_screen(ArrangementChangeScreen(self.detail, found), self._arrangement_done)  # type: ignore[arg-type]

    def _arrangement_done(self, arrangement_id: int | None) -> None:
        if arrangement_id is None:
            return
        self.notify(self.tr(N_("Arrangement saved")))
        self.call_later(self._show_pane, "arrangements")
        self.load()

    def _saved(self, message: str, tab: str, result: object) -> None:
        """After a form: say what was saved, show it on its tab, and read the case again."""
        if result is None:  # cancelled
            return
        self.notify(self.tr(message))
        # after the form has closed and focus has come back here (which would show the focused table's tab)
        self.call_after_refresh(self._show_tab, tab)
        self.load()

    async def _show_tab(self, tab: str) -> None:
        await self._show_pane(tab)
        self._focus_pane()

    def action_contact(self) -> None:
        from incasso_tui.ui.screens.contact import ContactScreen

        if self.detail is not None:
            ContactScreen.open_kept(self.app, partial(self._saved, N_("Contact saved"), "contacts"), self.detail)

    def action_vulnerability(self) -> None:
        from incasso_tui.ui.screens.vulnerability import VulnerabilityScreen

        if self.detail is not None:
            self.app.push_screen(
                VulnerabilityScreen(self.detail, self.flags),
                partial(self._saved, N_("Vulnerability saved"), "timeline"),
            )

    def action_note(self) -> None:
        from incasso_tui.ui.screens.contact import NoteScreen

        if self.detail is not None:
            self.app.push_screen(NoteScreen(self.detail), partial(self._saved, N_("Note saved"), "notes"))

    def action_track(self) -> None:
        from incasso_tui.ui.screens.track import EndTrackScreen, TrackScreen

        if self.detail is None or self.tracks is None:
            return
        track = self.tracks.open_track
        if track is None:
            self.app.push_screen(TrackScreen(self.detail), partial(self._saved, N_("Track registered"), "tasks"))
        else:
            self.app.push_screen(EndTrackScreen(self.detail, track), partial(self._saved, N_("Track ended"), "tasks"))

    def action_letter(self) -> None:
        from incasso_tui.ui.screens.letter import LetterScreen

        if self.detail is not None:
            self.app.push_screen(LetterScreen(self.detail), partial(self._saved, N_("Letter issued"), "dossier"))

    def action_deferral(self) -> None:
        from incasso_tui.ui.screens.deferral import DeferralScreen

        if self.detail is not None:
            DeferralScreen.open_kept(
                self.app, partial(self._saved, N_("Deferral proposed to Risk"), "timeline"), self.detail
            )

    def action_handover(self) -> None:
        from incasso_tui.ui.screens.handover import HandoverScreen

        if self.detail is not None:
            self.app.push_screen(
                HandoverScreen(self.detail),
                partial(
                    self._saved,
                    N_("Handover saved (to special management, or to a supervisor for a waiver)"),
                    "timeline",
                ),
            )

    def action_external(self) -> None:  # issue 19
        from incasso_tui.ui.screens.outside import ExternalScreen

        self.app.push_screen(ExternalScreen(self.case_id), lambda _r: self.load())

    def action_complaints(self) -> None:  # issue 19
        from incasso_tui.ui.screens.outside import ComplaintsScreen

        self.app.push_screen(ComplaintsScreen(self.case_id), lambda _r: self.load())

    def action_write_off(self) -> None:
        from incasso_tui.ui.screens.propose import WriteOffScreen

        if self.detail is not None:
            self.app.push_screen(
                WriteOffScreen(self.detail), partial(self._saved, N_("Write-off proposed to Risk"), "timeline")
            )

    def action_call_in(self) -> None:
        from incasso_tui.ui.screens.propose import CallInScreen

        if self.detail is not None:
            self.app.push_screen(
                CallInScreen(self.detail), partial(self._saved, N_("Call-in proposed to Risk"), "timeline")
            )

    def action_budget(self) -> None:
        from incasso_tui.ui.screens.budget import BudgetScreen

        if self.detail is not None:
            self.app.push_screen(BudgetScreen(self.detail), partial(self._saved, N_("Budget saved"), "timeline"))

    def action_pause(self) -> None:
        from incasso_tui.ui.screens.pause import PauseScreen, ResumeScreen

        if self.detail is None:
            return
        if self.detail.case.status == CaseStatus.PAUSED.value:
            self.app.push_screen(ResumeScreen(self.detail), partial(self._saved, N_("Procedure resumed"), "timeline"))
        else:
            self.app.push_screen(PauseScreen(self.detail), partial(self._saved, N_("Case paused"), "timeline"))


def _underline_now(tabbed: TabbedContent) -> None:
    """Put the tab bar's underline under the active tab now. Textual moves it only after the next refresh
    (``Tabs._highlight_active``, to read the tab's place from the layout), so the bar changed one frame after the
    tab's content (issue 18); once the bar is laid out, the tabs' places do not change with the active one, and
    Textual's own move later sets the same values (no further frame)."""
    try:
        tab = tabbed.query_one("#tabs-list > Tab.-active", Tab)
        underline = tabbed.query_one(Underline)
    except NoMatches:
        return
    region = tab.virtual_region.shrink(tab.styles.gutter)
    if region.width:  # laid out
        underline.highlight_start, underline.highlight_end = region.column_span


class CaseOpener:
    """Opens cases from a list (the worklist): the case is read first, in a worker of the list's screen, and the
    client detail is pushed once it is there, laid out, so that it paints once and with the case (issue 18: the
    screen used to paint empty with a loading indicator, then again with the case).

    The app keeps one client detail installed (:data:`INSTALLED_AS`) and shows each next case on it
    (:meth:`ClientDetailScreen.show_case`): no compose, mount or restyle of its widgets per case. While the case
    is read, the list stays as it was and keeps taking keys. A read that takes longer than :data:`SLOW_S` opens a
    new detail screen with its loading indicator, which reads the case itself; so does a read that failed, and
    the screen shows the error where it shows the case, as a screen opened directly does.
    """

    def __init__(self, screen: DeskScreen[Any]) -> None:
        self.screen = screen
        self._token = 0  # the open under way; a newer open, or the slow path, makes an older answer moot
        self._case_id: int | None = None  # the case of the newest open
        self._timer: Timer | None = None

    def _release(self, case_id: int) -> None:
        """Give back the "in progress" mark the read took for a case that is not shown after all."""
        app = self.screen.desk
        service_worker(app, partial(release_case, app.ctx, case_id), _ignore, _ignore, group="release")

    def open(
        self, case_id: int, walker: CaseWalker | None = None, callback: Callable[[None], Any] | None = None
    ) -> None:
        self._token += 1
        self._case_id = case_id
        token, screen, app = self._token, self.screen, self.screen.desk
        shown = False  # whether this open pushed a screen of its own (which reads, marks and releases the case)
        if self._timer is not None:
            self._timer.stop()

        def fresh() -> None:  # the screen reads the case itself and shows it (or the error) as it comes
            nonlocal shown
            shown = True
            self._token += 1
            if self._timer is not None:
                self._timer.stop()
            app.push_screen(ClientDetailScreen(case_id, walker), callback)

        def slow() -> None:
            if token == self._token and screen.is_active:
                fresh()

        async def done(got: CaseRead) -> None:
            if token != self._token:  # a newer open, or opened by the slow path already
                if not shown and self._case_id != case_id:  # superseded by the open of another case
                    self._release(case_id)
                return
            if not screen.is_active:  # the person went elsewhere meanwhile: not opened after all
                self._token += 1
                self._release(case_id)
                return
            self._token += 1
            if self._timer is not None:
                self._timer.stop()
            await self._push(case_id, walker, got, callback)

        def failed(err: IncassoError) -> None:
            if token == self._token and screen.is_active:
                fresh()

        self._timer = screen.set_timer(SLOW_S, slow)
        # not exclusive: a newer open must not cancel this read, whose answer gives back the mark it took (done)
        service_worker(screen, partial(read_case, app.ctx, case_id), done, failed, group="open-case", exclusive=False)

    async def _push(
        self, case_id: int, walker: CaseWalker | None, got: CaseRead, callback: Callable[[None], Any] | None
    ) -> None:
        app = self.screen.desk
        kept = app.get_screen(INSTALLED_AS) if app.is_screen_installed(INSTALLED_AS) else None
        if isinstance(kept, ClientDetailScreen) and kept.is_attached and kept not in app.screen_stack:
            await kept.show_case(case_id, walker, got)
            kept.prepare_reuse()
            app.push_screen(kept, callback)
            return
        detail = ClientDetailScreen(case_id, walker, read=got)
        if kept is None:
            app.install_screen(detail, INSTALLED_AS)
        app.push_screen(detail, callback)


def _ignore(_: object) -> None:
    """A lock released for a case that was not opened after all: a refusal changes nothing (the mark expires)."""
