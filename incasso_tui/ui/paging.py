"""The rows of one page of a virtual table (ui.widgets.virtual_table), without Textual: the TUI's start fetches the
worklist's first page before Textual is imported (cli.tui.run_tui, issue 18), in the page size the table asks for."""

PAGE_SIZE = 100
