"""Post: the print batches and the letters waiting to be dispatched (``p`` on the worklist; issue 12).

The table lists the print batches, newest first; the panel below says how many letters wait for what (rendering,
a batch, the post, the mail server) and the highlighted batch's file. Keys: ``b`` collects the rendered post letters
into a new batch (one PDF to print), ``p`` records the day the highlighted batch went into the post (asked, today by
default; not in the future, not before the batch was made), ``u`` undoes a batch that was not posted. Service calls:
``services.dispatch.batches``, ``waiting_counts``, ``make_batch``, ``mark_posted``, ``undo_batch``.
"""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.binding import Binding, BindingType
from textual.content import Content

from incasso_tui.errors import N_, BadInput
from incasso_tui.services.dispatch import BatchRow, batches, make_batch, mark_posted, undo_batch, waiting_counts
from incasso_tui.ui.parse import parse_day
from incasso_tui.ui.screens.prompt import PromptScreen
from incasso_tui.ui.screens.rows import RowsScreen
from incasso_tui.ui.styles_dir import STYLES
from incasso_tui.ui.text import lit, text_cell

BATCH_STATUS = {"open": N_("to post"), "posted": N_("posted"), "undone": N_("undone")}
WAITS_FOR = {
    "rendering": N_("to be made"),
    "batch": N_("for a print batch"),
    "post": N_("to be posted"),
    "mail_server": N_("for the mail server"),
    "nothing": N_("cannot be sent (see the letter)"),
}


class PostScreen(RowsScreen[BatchRow]):
    CSS_PATH = STYLES / "payments.tcss"
    TABLE_ID = "entries"
    PANEL_ID = "entry"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("b", "make_batch", "New batch", id="make_batch"),
        Binding("p", "posted", "Posted", id="posted"),
        Binding("u", "undo", "Undo batch", id="undo", show=False),
        Binding("r", "reload", "Refresh", id="reload", show=False),
        Binding("escape", "back", "Back", id="back"),
    ]

    def columns(self) -> list[tuple[str | Text, str, int | None]]:
        tr = self.tr
        return [
            (tr(N_("Batch")), "batch", None),
            (tr(N_("Made")), "made", None),
            (tr(N_("Status")), "status", None),
            (Text(tr(N_("Letters")), justify="right"), "letters", None),
            (tr(N_("Posted")), "posted", None),
        ]

    def fetch(self) -> list[BatchRow]:
        ctx = self.ctx
        self.waiting = waiting_counts(ctx)
        return batches(ctx)

    def cells(self, row: BatchRow) -> list[Text]:
        tr = self.tr
        return [
            text_cell(str(row.id)),
            text_cell(tr.date(row.made_on)),
            text_cell(tr(BATCH_STATUS[row.status])),
            Text(str(row.letters), justify="right"),
            text_cell(tr.date(row.posted_on) if row.posted_on else ""),
        ]

    def count_text(self, count: int) -> str:
        return self.tr(N_("Print batches: {count}"), count=count)

    def panel(self, row: BatchRow | None) -> Content | str:
        tr = self.tr
        waiting = getattr(self, "waiting", {})
        lines = [
            lit(tr(N_("Letters waiting {what}: {count}"), what=tr(WAITS_FOR[what]), count=n))
            for what, n in waiting.items()
            if n
        ]
        if not lines:
            lines = [lit(tr(N_("No letter waits to be dispatched.")))]
        if row is not None:
            lines.append(lit(tr(N_("Batch {batch}: {file}"), batch=row.id, file=row.file_path), "$text-muted"))
        return Content("\n").join(lines)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("posted", "undo"):
            return self.current is not None and self.current.status == "open"
        return True

    def action_make_batch(self) -> None:
        ctx, tr = self.ctx, self.tr
        self.run_action(lambda: make_batch(ctx), tr(N_("The rendered post letters are in a new print batch")))

    def action_posted(self) -> None:
        row = self.current
        if row is None or row.status != "open":
            return
        ctx, tr = self.ctx, self.tr

        def given(text: str | None) -> None:
            if not text:
                return
            try:
                day = parse_day(text, tr)
            except BadInput as exc:
                self.message(tr.error(exc))
                return
            self.run_action(
                lambda: mark_posted(ctx, row.id, day),
                tr(N_("Print batch {batch} posted on {day}: its letters are dispatched"), batch=row.id, day=day),
            )

        self.app.push_screen(
            PromptScreen(
                tr(N_("On which day did print batch {batch} go into the post?"), batch=row.id),
                placeholder=tr(N_("dd/mm/yyyy")),
                required=N_("Please fill this in"),
                value=tr.date(ctx.clock.today()),
            ),
            given,
        )

    def action_undo(self) -> None:
        row = self.current
        if row is None or row.status != "open":
            return
        ctx, tr = self.ctx, self.tr
        self.run_action(
            lambda: undo_batch(ctx, row.id),
            tr(N_("Print batch {batch} undone: its letters wait for the next batch"), batch=row.id),
        )
