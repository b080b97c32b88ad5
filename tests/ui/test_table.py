"""The desk's tables are as wide as their widest cell from the moment a row is added (ui.widgets.table)."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult
from textual.widgets import DataTable

from incasso_tui.ui.widgets.table import Table


class _Tables(App[None]):
    def compose(self) -> ComposeResult:
        for table in (Table[Text](id="ours"), DataTable[Text](id="textual")):
            table.add_column(Text("Ln"), key="loan")
            table.add_column(Text("Bedrag", justify="right"), key="amount")
            yield table


async def test_an_added_row_widens_its_columns_before_the_table_is_idle() -> None:
    app = _Tables()
    async with app.run_test(size=(60, 8)) as pilot:
        await pilot.pause()
        for table_id in ("ours", "textual"):
            app.query_one(f"#{table_id}", DataTable).add_row(Text("L11574049"), Text("€ 12.836,19"))
        ours, textual = app.query_one("#ours", DataTable), app.query_one("#textual", DataTable)
        widths = [c.content_width for c in ours.ordered_columns]
        assert widths == [len("L11574049"), len("€ 12.836,19")]
        # Textual's own table has not measured the row yet: the difference this widget exists for
        assert [c.content_width for c in textual.ordered_columns] == [len("Ln"), len("Bedrag")]
        await pilot.pause(0.2)
        # once idle, Textual measures the same widths: ours does not differ from what Textual would choose
        assert [c.content_width for c in textual.ordered_columns] == widths
        assert [c.content_width for c in ours.ordered_columns] == widths
