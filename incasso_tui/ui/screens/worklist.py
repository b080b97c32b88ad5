"""The worklist: the start screen. Cases in arrears, prioritised, filtered in the database, paged on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, wait
from dataclasses import replace
from functools import partial
from typing import TYPE_CHECKING, ClassVar

from rich.cells import cell_len
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.command import DiscoveryHit, Hit, Hits, Provider
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Header, Input, Static

from incasso_tui.domain.arrears import BUCKETS
from incasso_tui.domain.enums import Role, Stage
from incasso_tui.errors import N_, IncassoError
from incasso_tui.services.audit import latest_event_id
from incasso_tui.services.context import DESK_WRITERS
from incasso_tui.services.selections import SelectionInfo, list_selections, selection_filter
from incasso_tui.services.worklist import (
    SORTS,
    OpenedWorklist,
    Worklist,
    WorklistFilter,
    WorklistPage,
    WorklistRow,
    open_worklist,
)
from incasso_tui.ui.desk import DeskScreen, desk_app
from incasso_tui.ui.labels import BUCKET, FLAG, SORT, STAGE, STATUS_MARK
from incasso_tui.ui.paging import PAGE_SIZE
from incasso_tui.ui.screens.walk import CaseWalker
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, safe, translate_bindings
from incasso_tui.ui.widgets.footer import DeskFooter
from incasso_tui.ui.widgets.virtual_table import Column, VirtualTable
from incasso_tui.ui.work import service_worker

if TYPE_CHECKING:
    from incasso_tui.ui.screens.detail import CaseOpener

SEARCH_DELAY = 0.25  # seconds of quiet typing before the search runs
FIRST_PAGE_WAIT = 0.3  # seconds the first paint waits for the first page fetched before the app (cli.tui.run_tui)


def _cycle(options: tuple[str | None, ...], current: str | None) -> str | None:
    return options[(options.index(current) + 1) % len(options)]


class WorklistCommands(Provider):
    """Command palette entries for the worklist: its screens (listed when the palette opens, before anything is
    typed) and its filters, orders and selections (found by typing)."""

    def _screens(self, screen: WorklistScreen) -> list[tuple[str, Callable[[], object]]]:
        tr = desk_app(screen.app).tr
        entries: list[tuple[str, Callable[[], object]]] = [
            (tr(N_("Dashboard")), screen.action_dashboard),
            (tr(N_("Agenda: my tasks")), screen.action_agenda),
            (tr(N_("Team meeting: cases to discuss")), screen.action_discussion),
            (tr(N_("Selections")), screen.action_selections),
            (tr(N_("Campaigns")), screen.action_campaigns),
            (tr(N_("Export the worklist to CSV")), screen.action_export),
        ]
        if screen.check_action("import_statement", ()):
            entries += [
                (tr(N_("Payments: import a bank statement")), screen.action_import_statement),
                (tr(N_("Payments: unmatched queue")), screen.action_unmatched),
            ]
        return entries

    def _filters(self, screen: WorklistScreen) -> list[tuple[str, Callable[[], object]]]:
        tr = desk_app(screen.app).tr
        changes: list[tuple[str, dict[str, object] | None]] = []
        for bucket in BUCKETS:
            changes.append((tr(N_("Worklist: ageing bucket {bucket}"), bucket=tr(BUCKET[bucket])), {"bucket": bucket}))
        for stage in Stage:
            changes.append((tr(N_("Worklist: stage {stage}"), stage=tr(STAGE[stage.value])), {"stage": stage.value}))
        for sort in SORTS:
            changes.append((tr(N_("Worklist: sort by {sort}"), sort=tr(SORT[sort])), {"sort": sort}))
        changes.append((tr(N_("Worklist: my cases")), {"mine": True}))
        changes.append((tr(N_("Worklist: action due today")), {"due_today": True}))
        changes.append((tr(N_("Worklist: early-warning signals")), {"signals": True}))
        changes.append((tr(N_("Worklist: clear all filters")), None))
        return [(label, partial(screen.apply_filter_change, change)) for label, change in changes]

    async def discover(self) -> Hits:
        screen = self.screen
        if isinstance(screen, WorklistScreen):
            for label, run in self._screens(screen):
                yield DiscoveryHit(label, run)

    async def search(self, query: str) -> Hits:
        screen = self.screen
        if not isinstance(screen, WorklistScreen):
            return
        matcher = self.matcher(query)
        for label, run in self._filters(screen) + self._screens(screen):
            score = matcher.match(label)
            if score > 0:
                yield Hit(score, matcher.highlight(label), run, help=None)
        tr = desk_app(screen.app).tr
        ctx = desk_app(screen.app).ctx
        for info in await asyncio.to_thread(list_selections, ctx, counts=False):
            label = tr(N_("Selection: {name}"), name=info.name)
            score = matcher.match(label)
            if score > 0:  # the name is data: shown literally, not as markup
                yield Hit(score, lit(label), lambda i=info: screen.open_selection(i), help=None)


class WorklistScreen(DeskScreen[None]):
    CSS_PATH = STYLES / "worklist.tcss"
    AUTO_FOCUS = "#cases"  # the list, not the search box above it (focused, then left: two restyles at the start)
    COMMANDS = {WorklistCommands}
    BINDINGS: ClassVar[list[BindingType]] = [
        # priority: handled as the key arrives, so keys typed right behind it (one burst over a slow
        # link) are already sent to the search box instead of the table
        # The footer at 80 columns has room for the few keys below it shows and for `? Keys`, which lists
        # them all; every one is in the command palette too.
        Binding("slash", "search", "Search", id="search", priority=True),
        Binding("b", "bucket", "Ageing", id="bucket"),
        Binding("s", "stage", "Stage", id="stage"),
        Binding("m", "mine", "Mine", id="mine", show=False),
        Binding("t", "today", "Due today", id="today", show=False),
        Binding("w", "signals", "Signals", id="signals", show=False),
        Binding("o", "sort", "Sort", id="sort", show=False),
        Binding("r", "refresh", "Refresh", id="refresh", show=False),
        Binding("v", "approvals", "Approvals", id="approvals", show=False),
        Binding("g", "special", "Special management", id="special", show=False),
        Binding("i", "import_statement", "Import statement", id="import_statement", show=False),
        Binding("u", "unmatched", "Unmatched payments", id="unmatched", show=False),
        Binding("k", "dashboard", "Dashboard", id="dashboard"),
        Binding("a", "agenda", "Agenda", id="agenda", tooltip="My tasks: overdue, today, this week", show=False),
        Binding(
            "d",
            "discussion",
            "Team meeting",
            id="discussion",
            show=False,
            tooltip="The cases to discuss in the team meeting",
        ),
        Binding("l", "selections", "Selections", id="selections", show=False),
        Binding("p", "post", "Post", id="post", tooltip="Print batches and the letters waiting to be sent", show=False),
        Binding("e", "export", "Export CSV", id="export", show=False),
        Binding("escape", "clear", "Clear filters", id="clear", show=False),
        # all clients, also handed over, closed or never in arrears (ui.screens.search), with the box's text
        Binding("f", "find", "Find client", id="find", show=False),
        Binding("ctrl+t", "find", "All clients", id="find_all", show=False, priority=True),
    ]

    def __init__(self, opening: Future[OpenedWorklist] | None = None) -> None:
        """``opening``: the first load of this screen's filter, begun before the app ran (cli.tui.run_tui)."""
        super().__init__()
        self.flt = WorklistFilter()
        self._opening = opening
        self._left = False  # another screen was over this one since it was last shown
        self._worklist: Worklist | None = None
        self._seen_event = 0
        self._search_timer: Timer | None = None
        self._walker: CaseWalker | None = None
        self._opener: CaseOpener | None = None  # made at the first case opened

    def compose(self) -> ComposeResult:
        tr = self.tr
        yield Header()
        with Horizontal(id="filterbar"):
            yield Input(placeholder=tr(N_("/ name, number, address · ctrl+t all clients")), id="search")
            yield Static(id="filters")
        yield Static(id="colheader")
        yield VirtualTable[WorklistRow](self._columns(), self._cells, flagged=lambda r: r.flag is not None, id="cases")
        yield Static(id="status")
        yield DeskFooter(compact=True)

    def _columns(self) -> list[Column]:
        tr = self.tr
        return [
            Column("", 1),
            Column(tr(N_("Client")), 12, flex=True, wants=24),
            Column(tr(N_("Loans")), 11),
            Column(tr(N_("DPD")), 4, "right"),
            Column(tr(N_("Arrears")), 11, "right"),
            Column(tr(N_("Stage")), 12, wants=max(cell_len(tr(label)) for label in STAGE.values())),
            Column(tr(N_("Action")), 10),
            Column(tr(N_("Owner")), 6),
        ]

    def _cells(self, row: WorklistRow) -> list[str]:
        tr = self.tr
        loans = row.loan_numbers.split(", ")
        loan_text = loans[0] if len(loans) == 1 else f"{loans[0]}+{len(loans) - 1}"
        mark = "!" if row.flag else "*" if row.in_progress_by else STATUS_MARK.get(row.status, "")
        return [
            mark,
            row.client_name,
            loan_text,
            str(row.days_past_due),
            tr.money(row.arrears),
            tr(STAGE.get(row.stage, row.stage)),
            tr.date(row.next_action_date),
            row.assignee or "",
        ]

    @property
    def table(self) -> VirtualTable[WorklistRow]:
        return self.query_one("#cases", VirtualTable)

    def on_mount(self) -> None:
        translate_bindings(self, self.tr)
        translate_bindings(self.table, self.tr)
        self.refresh_bindings()
        self.table.focus()
        self._show_filters()
        self.reload()
        self.set_interval(self.ctx.settings.worklist_poll_seconds, self._poll)

    def on_screen_suspend(self) -> None:
        self._left = True

    def on_screen_resume(self) -> None:
        # back from a case: show what changed, stay on the same case. Not when first shown: the first load was just
        # made (on mount, or before the app with the start's first page)
        if self._left and self._worklist is not None:
            self._refresh_keeping_cursor()
        self._left = False

    def on_resize(self) -> None:
        self._paint_header()

    def _paint_header(self) -> None:
        self.query_one("#colheader", Static).update(
            lit(self.table.header_text(self.table.scrollable_content_region.width), "bold")
        )

    # ----- loading
    def reload(self, keep_case: int | None = None) -> None:
        """Count the filtered cases, place the cursor (on ``keep_case`` when it is still there) and fetch
        the page under it before swapping, so a refresh does not flicker."""
        ctx = self.ctx
        flt = self.flt
        opening, self._opening = self._opening, None  # the start's first load: for the first reload only
        if opening is not None and (keep_case is not None or flt != WorklistFilter()):
            opening = None
        if opening is not None:
            # fetched while Textual started: waited for a moment, before anything is painted, so that the screen is
            # painted once, with its rows. The thread needs the GIL back after every row SQLite reads, which it gets
            # only every few milliseconds while this thread works (Python's switch interval): it finishes while this
            # one waits. Longer (a locked database): the screen is painted and its worker waits.
            wait((opening,), timeout=FIRST_PAGE_WAIT)
            if opening.done() and opening.exception() is None:
                self._reset(opening.result())
                return

        def load() -> OpenedWorklist:
            if opening is not None:  # still on its way (or failed: its error is shown as a load's)
                return opening.result()
            return open_worklist(ctx, flt, PAGE_SIZE, keep_case)

        service_worker(self, load, self._reset, self._show_error, group="worklist")

    def _reset(self, opened: OpenedWorklist) -> None:
        self._worklist = opened.worklist
        self._seen_event = opened.seen
        self.table.reset(opened.total, opened.cursor)
        if opened.first is not None:
            self.table.set_page(opened.first.offset // PAGE_SIZE, opened.first.rows, self.table.generation)
        self._paint_header()
        self._show_status()

    # ----- live: changes by others appear within a few seconds
    def _poll(self) -> None:
        if self.is_current and self._worklist is not None and not self.workers_busy():
            self._check_changes()

    def workers_busy(self) -> bool:
        return any(w.group == "worklist" and w.is_running for w in self.workers)

    def _check_changes(self) -> None:
        def changed(latest: int) -> None:
            if latest != self._seen_event:
                self._refresh_keeping_cursor()

        def failed(err: IncassoError) -> None:  # said on the status line; the next tick tries again
            self._show_error(IncassoError(N_("Live update failed, retrying: {error}"), error=self.tr.error(err)))

        db = self.ctx.db
        service_worker(self, lambda: latest_event_id(db), changed, failed, group="poll")

    def _refresh_keeping_cursor(self) -> None:
        row = self.table.cursor_row
        keep = row.case_id if row else None
        if self._walker is not None:  # walking the cases from the detail: on the case last shown
            keep = self._walker.row.case_id
            if self.app.screen is self:  # back from the detail (a live update meanwhile leaves the walk alone)
                self._walker = None
        self.reload(keep_case=keep)

    @on(VirtualTable.PageNeeded)
    def _page_needed(self, event: VirtualTable.PageNeeded) -> None:
        if self._worklist is not None:
            self._fetch_page(self._worklist, event.page, self.table.generation)

    def _fetch_page(self, wl: Worklist, page: int, generation: int) -> None:
        table = self.table
        offset = page * PAGE_SIZE
        before, after = table.page_rows(page - 1), table.page_rows(page + 1)
        total = table.total

        def fetch() -> WorklistPage:
            if before:
                return wl.page_after(before[-1], offset, PAGE_SIZE)
            if after:
                return wl.page_before(after[0], offset + PAGE_SIZE, PAGE_SIZE)
            return wl.page(offset, PAGE_SIZE, total)

        def show(result: WorklistPage) -> None:
            table.set_page(page, result.rows, generation)
            self._show_status()

        service_worker(self, fetch, show, self._show_error, group="pages", exclusive=False)

    # ----- status and filters
    def _show_status(self) -> None:
        tr = self.tr
        table = self.table
        if self._worklist is None:  # the first count is still on its way: "no cases" would be untrue
            text = tr(N_("Loading the cases..."))
        elif table.total == 0:
            text = tr(N_("No cases match"))
        else:
            text = tr.plural(
                "{n} of {total} case", "{n} of {total} cases", table.total, n=table.cursor + 1, total=table.total
            )
        if self.flt.selection:
            text = tr(N_("Selection {name}: {cases}"), name=self.flt.selection, cases=text)
        row = table.cursor_row
        if row is not None and row.flag:
            text += "  ·  " + tr(FLAG.get(row.flag, row.flag))
        if row is not None and row.in_progress_by:
            text += "  ·  " + tr(N_("in progress by {name}"), name=row.in_progress_by)
        self.query_one("#status", Static).update(lit(text))

    def _show_error(self, err: IncassoError) -> None:
        self.query_one("#status", Static).update(lit(self.tr.error(err), "bold $error"))

    def _show_filters(self) -> None:
        tr = self.tr
        parts = [tr(N_("sort: {sort}"), sort=tr(SORT[self.flt.sort]))]
        if self.flt.selection:
            parts.insert(0, tr(N_("selection: {name}"), name=self.flt.selection))
        if self.flt.bucket:
            parts.append(tr(BUCKET[self.flt.bucket]))
        if self.flt.stage:
            parts.append(tr(STAGE[self.flt.stage]))
        if self.flt.mine:
            parts.append(tr(N_("mine")))
        if self.flt.due_today:
            parts.append(tr(N_("due today")))
        if self.flt.signals:
            parts.append(tr(N_("signals")))
        self.query_one("#filters", Static).update(lit(" · ".join(parts)))

    def apply_filter_change(self, change: dict[str, object] | None) -> None:
        """Apply a change to the filter (None clears everything but the order) and reload."""
        if change is None:
            self.flt = WorklistFilter(sort=self.flt.sort)
            self.query_one("#search", Input).value = ""
        else:
            self.flt = replace(self.flt, **change)  # type: ignore[arg-type]
        self._show_filters()
        row = self.table.cursor_row
        self.reload(keep_case=row.case_id if row else None)

    @on(VirtualTable.CursorMoved)
    def _cursor_moved(self) -> None:
        self._show_status()

    @on(VirtualTable.Selected)
    def _open(self, event: VirtualTable.Selected) -> None:
        from incasso_tui.ui.screens.detail import CaseOpener

        walker = None
        if self._worklist is not None:  # `]` and `[` in the detail walk this list as filtered and sorted
            walker = CaseWalker(self._worklist, event.row, self.table.cursor, self.table.total)
        self._walker = walker
        if self._opener is None:
            self._opener = CaseOpener(self)
        self._opener.open(event.row.case_id, walker)  # read first, then shown in one paint (issue 18)

    # ----- search box
    @on(Input.Changed, "#search")
    def _search_changed(self, event: Input.Changed) -> None:
        if self._search_timer is not None:
            self._search_timer.stop()
        value = event.value
        self._search_timer = self.set_timer(SEARCH_DELAY, lambda: self._search(value))

    def _search(self, value: str) -> None:
        if value != self.flt.text:
            self.apply_filter_change({"text": value})

    @on(Input.Submitted, "#search")
    def _search_submitted(self, event: Input.Submitted) -> None:
        self._search(event.value)
        self.set_focus(self.table)

    # ----- actions
    def action_find(self) -> None:
        from incasso_tui.ui.screens.search import SearchScreen

        self.app.push_screen(SearchScreen(self.query_one("#search", Input).value, scope="all"))

    def action_search(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:  # a "/" typed in the box is text
            search.insert_text_at_cursor("/")
        else:  # focus at once, not via call_later, for the same reason as the priority above
            self.set_focus(search)

    def action_clear(self) -> None:
        search = self.query_one("#search", Input)
        if search.has_focus:
            if search.value:
                search.value = ""
            self.set_focus(self.table)
            return
        if self.flt.selection and self.flt.filtered:  # the filters first; the selection at the next esc
            self.query_one("#search", Input).value = ""
            self.flt = replace(self.flt, text="", bucket=None, stage=None, mine=False, due_today=False, signals=False)
            self.apply_filter_change({})
            return
        self.apply_filter_change(None)

    def open_selection(self, info: SelectionInfo) -> None:
        """Show a saved selection as the worklist (the filters on top of it cleared, the order kept)."""
        self.query_one("#search", Input).value = ""
        self.flt = selection_filter(info, WorklistFilter(sort=self.flt.sort))
        self._show_filters()
        self.set_focus(self.table)
        self.reload()

    def action_bucket(self) -> None:
        self.apply_filter_change({"bucket": _cycle((None, *BUCKETS), self.flt.bucket)})

    def action_stage(self) -> None:
        self.apply_filter_change({"stage": _cycle((None, *(s.value for s in Stage)), self.flt.stage)})

    def action_mine(self) -> None:
        self.apply_filter_change({"mine": not self.flt.mine})

    def action_today(self) -> None:
        self.apply_filter_change({"due_today": not self.flt.due_today})

    def action_signals(self) -> None:
        self.apply_filter_change({"signals": not self.flt.signals})

    def action_sort(self) -> None:
        self.apply_filter_change({"sort": _cycle(SORTS, self.flt.sort)})

    def action_refresh(self) -> None:
        self.apply_filter_change({})

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # the supervisor's approval queue and special management's list; hidden for everyone else (the
        # services refuse them too)
        role = self.ctx.actor.role
        if action == "approvals":
            return role == Role.SUPERVISOR
        if action == "special":
            return role in (Role.SPECIAL_MANAGEMENT, Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
        if action in ("import_statement", "unmatched"):  # incoming payments: the desk
            return role in DESK_WRITERS
        return True

    def action_approvals(self) -> None:
        from incasso_tui.ui.screens.approvals import ApprovalsScreen

        ApprovalsScreen.open_kept(self.app, None)  # the app keeps one (issue 18)

    def action_import_statement(self) -> None:
        from incasso_tui.ui.screens.payments import ImportScreen

        self.app.push_screen(ImportScreen())

    def action_unmatched(self) -> None:
        from incasso_tui.ui.screens.payments import QueueScreen

        self.app.push_screen(QueueScreen())

    def action_selections(self) -> None:
        from incasso_tui.ui.screens.selections import SelectionsScreen

        self.app.push_screen(SelectionsScreen(self.open_selection))

    def action_campaigns(self) -> None:
        from incasso_tui.ui.screens.selections import CampaignsScreen

        self.app.push_screen(CampaignsScreen())

    def action_post(self) -> None:
        from incasso_tui.ui.screens.post import PostScreen

        self.app.push_screen(PostScreen())

    def action_export(self) -> None:
        from incasso_tui.ui.screens.selections import ask_export

        # a notification: the status line is repainted by the next cursor move or live update
        ask_export(self, self.flt, lambda text: self.notify(safe(text), markup=False, timeout=8))

    def action_dashboard(self) -> None:
        from incasso_tui.ui.screens.dashboard import DashboardScreen

        DashboardScreen.open_kept(self.app, None)  # the app keeps one (issue 18)

    def action_agenda(self) -> None:
        from incasso_tui.ui.screens.inbox import InboxScreen

        InboxScreen.open_kept(self.app, None)  # the app keeps one (issue 18)

    def action_discussion(self) -> None:
        from incasso_tui.ui.screens.discussion import DiscussionScreen

        self.app.push_screen(DiscussionScreen())

    def action_special(self) -> None:
        from incasso_tui.ui.screens.special import SpecialManagementScreen

        self.app.push_screen(SpecialManagementScreen())
