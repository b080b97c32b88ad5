"""The task inbox ("agenda", issue 13): the user's open tasks, overdue first, then today, this week, later.

`a` on the worklist or "Agenda" in the command palette; the start screen of a business adviser. A supervisor sees
the team's and filters by employee (`f`). Every action is a service call (services.inbox, .consultations) in a
worker; a refusal is shown on the message line.
"""

from __future__ import annotations

from datetime import date
from typing import ClassVar

from rich.text import Text
from textual import on, work
from textual.binding import Binding, BindingType
from textual.content import Content
from textual.widgets import DataTable

from incasso_tui.domain.enums import Channel, Role
from incasso_tui.errors import N_, BadInput, IncassoError
from incasso_tui.services.cases import client_detail
from incasso_tui.services.consultations import answer
from incasso_tui.services.inbox import TaskRow, assign_task, complete_task, list_tasks, move_task
from incasso_tui.ui.labels import TASK_BUCKET, TASK_KIND, task_title
from incasso_tui.ui.parse import parse_day
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, text_cell

BUCKET_STYLE = {"overdue": "bold red", "today": "bold", "week": "", "later": "dim"}


class InboxScreen(RowsScreen[TaskRow]):
    CSS_PATH = STYLES / "inbox.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "dossier", "Dossier", id="dossier"),
        Binding("d", "done", "Done", id="done", tooltip="Complete the task (a call: log the contact)"),
        Binding("y", "answer", "Answer", id="answer", tooltip="Answer the consultation"),
        Binding("m", "move", "Move", id="move", tooltip="Move the due date, with a reason"),
        Binding("t", "assign", "Assign", id="assign", tooltip="Give the task to someone (or take it)"),
        Binding("f", "filter", "Employee", id="filter", tooltip="Show one employee's tasks", show=False),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    KEPT_AS: ClassVar[str | None] = "task-inbox"  # the worklist's `a` shows the one the app keeps (issue 18)

    def __init__(self) -> None:
        super().__init__()
        self.user: str | None = None  # a supervisor's filter: one employee's tasks

    def reset(self) -> None:
        self.user = None  # opened again, it shows the whole list, as a new one does
        super().reset()

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Due")), "due", 10),
            (tr(N_("When")), "bucket", 9),
            (tr(N_("Task")), "kind", 13),
            (tr(N_("Client")), "client", 18),
            (tr(N_("Owner")), "owner", 7),
            (tr(N_("What")), "title", None),
        ]

    def fetch(self) -> list[TaskRow]:
        return list_tasks(self.ctx, user=self.user)

    def title_of(self, row: TaskRow) -> str:
        return task_title(self.tr, row.subject, row.subject_params, row.title)

    def _today(self) -> date:
        return self.ctx.clock.today()

    def cells(self, row: TaskRow) -> list[Text]:
        tr = self.tr
        bucket = row.bucket(self._today())
        return [
            Text(tr.date(row.due_date), style=BUCKET_STYLE[bucket]),
            Text(tr(TASK_BUCKET[bucket]), style=BUCKET_STYLE[bucket]),
            text_cell(tr(TASK_KIND.get(row.kind, row.kind))),
            text_cell(row.client_name),
            text_cell(row.assignee or "-"),
            text_cell(self.title_of(row)[:80]),
        ]

    def count_text(self, count: int) -> Content | str:
        tr = self.tr
        today = self._today()
        counts = {b: sum(1 for r in self.rows if r.bucket(today) == b) for b in TASK_BUCKET}
        whose = (
            tr(N_("Tasks of {name}"), name=self.user)
            if self.user
            else tr(N_("Team tasks"))
            if self.ctx.actor.role in (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
            else tr(N_("My tasks"))
        )
        return lit(
            tr(
                N_("{whose}: {overdue} overdue, {today} today, {week} this week, {later} later"),
                whose=whose,
                overdue=counts["overdue"],
                today=counts["today"],
                week=counts["week"],
                later=counts["later"],
            )
        )

    def panel(self, row: TaskRow | None) -> Content | str:
        tr = self.tr
        if row is None:
            return tr(N_("No open tasks."))
        return Content("\n").join(
            [
                lit(
                    tr(
                        N_("{kind} · case {case} · {client} · due {day}"),
                        kind=tr(TASK_KIND.get(row.kind, row.kind)),
                        case=row.case_id,
                        client=row.client_name,
                        day=row.due_date,
                    ),
                    "bold",
                ),
                lit(self.title_of(row)),
                lit(
                    tr(
                        N_("Made by {name}; owner: {owner}"),
                        name=row.created_by,
                        owner=row.assignee or tr(N_("nobody yet")),
                    )
                ),
            ]
        )

    @on(DataTable.RowSelected, "#queue")
    def _selected(self) -> None:
        self.action_dossier()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        row = self.current
        role = self.ctx.actor.role
        if action == "filter":
            return role in (Role.SUPERVISOR, Role.AUDITOR, Role.ADMIN)
        if action == "answer":
            return row is not None and row.kind == "consultation"
        if action == "done":
            return row is not None and row.kind != "consultation"
        if action in ("dossier", "move", "assign"):
            return row is not None
        return True

    def action_dossier(self) -> None:
        from incasso_tui.ui.screens.detail import ClientDetailScreen

        if self.current is not None:
            self.app.push_screen(ClientDetailScreen(self.current.case_id), lambda _r: self.load())

    def action_done(self) -> None:
        row = self.current
        if row is None:
            return
        if row.kind == "call":  # a call is done by logging its contact: straight into the contact form
            self._contact_form(row)
            return

        def given(outcome: str | None) -> None:
            if outcome:
                self.run_action(
                    lambda: complete_task(self.ctx, row.id, outcome),
                    self.tr(N_("Task done: {title}"), title=self.title_of(row)),
                )

        self.app.push_screen(PromptScreen(self.tr(N_("What came of it?")), required=N_("Please fill this in")), given)

    @work(thread=True, exclusive=True, group="inbox-contact")
    def _contact_form(self, row: TaskRow) -> None:
        try:
            detail = client_detail(self.ctx, row.case_id)
        except IncassoError as exc:
            self.app.call_from_thread(self.message, self.tr.error(exc))
            return
        self.app.call_from_thread(self._push_contact, detail)

    def _push_contact(self, detail) -> None:  # type: ignore[no-untyped-def]
        from incasso_tui.ui.screens.contact import ContactScreen

        def saved(result: object) -> None:
            if result is not None:  # log_contact completed the call task in the same transaction
                self.message(self.tr(N_("Contact saved; the call task is done")))
            self.load()

        self.app.push_screen(ContactScreen(detail, Channel.PHONE), saved)

    def action_answer(self) -> None:
        row = self.current
        if row is None or row.ref is None:
            return
        consultation_id = int(row.ref.split(":", 1)[1])

        def given(text: str | None) -> None:
            if text:
                self.run_action(lambda: answer(self.ctx, consultation_id, text), self.tr(N_("Answer sent")))

        self.app.push_screen(
            PromptScreen(
                self.tr(N_("Your answer to: {question}"), question=self.title_of(row)),
                required=N_("Please fill this in"),
            ),
            given,
        )

    def action_move(self) -> None:
        row = self.current
        if row is None:
            return
        tr = self.tr

        def to_given(text: str | None) -> None:
            if not text:
                return
            try:
                to = parse_day(text, tr)
            except BadInput as exc:
                self.message(tr.error(exc))
                return

            def reason_given(reason: str | None) -> None:
                if reason:
                    self.run_action(
                        lambda: move_task(self.ctx, row.id, to, reason), tr(N_("Task moved to {day}"), day=to)
                    )

            self.app.push_screen(PromptScreen(tr(N_("Why does it move?"))), reason_given)

        self.app.push_screen(
            PromptScreen(tr(N_("Move to which date?")), required=N_("Please give a date"), value=tr.date(row.due_date)),
            to_given,
        )

    def action_assign(self) -> None:
        row = self.current
        if row is None:
            return
        me = self.ctx.actor.name

        def given(name: str | None) -> None:
            if name:
                self.run_action(
                    lambda: assign_task(self.ctx, row.id, name), self.tr(N_("Task given to {name}"), name=name)
                )

        self.app.push_screen(
            PromptScreen(
                self.tr(N_("Give the task to (user name; your own to take it):")),
                required=N_("Please give a user name"),
                value=me,
            ),
            given,
        )

    def action_filter(self) -> None:
        def given(name: str | None) -> None:
            self.user = name if name and name != "*" else None
            self.load()

        self.app.push_screen(
            PromptScreen(
                self.tr(N_("Whose tasks? (user name; * for the whole team)")),
                required=N_("Please give a user name"),
                value=self.user or "*",
            ),
            given,
        )
