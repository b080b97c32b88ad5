"""Walking the worklist from the client detail: the next and previous case in the list's own order (issue 14).

The worklist hands the detail a :class:`CaseWalker` for the row that was opened. A step asks the service for the
one row after (or before) the current one by keyset (``Worklist.page_after`` / ``page_before``), so the order is
the worklist's as filtered and sorted, and a case that left the list meanwhile does not break the walk. Back on the
worklist, the cursor stands on the case last shown.
"""

from __future__ import annotations

from incasso_tui.services.worklist import Worklist, WorklistRow


class CaseWalker:
    def __init__(self, wl: Worklist, row: WorklistRow, offset: int, total: int) -> None:
        self.wl = wl
        self.row = row
        self.offset = offset  # the row's place in the list (0-based)
        self.total = total

    def step(self, forward: bool) -> WorklistRow | None:
        """Move to the next (``forward``) or previous case; None at either end (the walker stays). Blocking:
        call it in a worker thread."""
        if forward:
            page = self.wl.page_after(self.row, self.offset + 1, 1)
        else:
            page = self.wl.page_before(self.row, self.offset, 1)
        if not page.rows:
            return None
        self.row = page.rows[0]
        self.offset += 1 if forward else -1
        return self.row
