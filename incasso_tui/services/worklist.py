"""The worklist: cases in arrears, filtered, sorted and paged in the database.

Built for a loan book of a million loans: nothing loads all cases. A page is fetched either by keyset
(continuing after or before a row the screen already holds: the cost does not grow with the depth) or by
offset for a random jump (walked from whichever end of the order is nearer). Every order is backed by a
partial index on ``cases`` (see ``store.models.Case``) and queries repeat ``DESK_WHERE`` literally so
SQLite and PostgreSQL both use it.

Priority (the default order, see screens.md): first the cases whose next action is due (on or before
today), then the rest; within each, most days past due first (oldest unpaid due date), then the larger
arrears, then the case number.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, or_, select, text
from sqlalchemy.orm import Session

from incasso_tui.domain.arrears import BUCKETS, bucket_bounds
from incasso_tui.domain.enums import CaseStatus, Role, Stage, TaskStatus
from incasso_tui.domain.search import query_words
from incasso_tui.errors import N_, BadInput
from incasso_tui.services.audit import latest_event_id
from incasso_tui.services.context import Context
from incasso_tui.services.criteria import Criteria, criteria_where
from incasso_tui.store import search_index
from incasso_tui.store.models import DESK_WHERE, NO_ARREARS, Case, CaseLock, Client, ClientAdviser, Loan, Task, User

Sort = Literal["priority", "dpd", "amount", "next_action"]
Queue = Literal["desk", "special"]
SORTS: tuple[Sort, ...] = ("priority", "dpd", "amount", "next_action")


@dataclass(frozen=True)
class WorklistFilter:
    text: str = ""  # word starts of the name, a number or an address (see services.search)
    bucket: str | None = None  # an ageing bucket from domain.arrears.BUCKETS
    stage: str | None = None
    mine: bool = False
    due_today: bool = False  # next action, or an open task, on or before today
    signals: bool = False  # the client has an early-warning signal in the look-back window (issue 20)
    queue: Queue = "desk"
    sort: Sort = "priority"
    # a saved selection opened as the worklist: its criteria apply on top of the filters above
    criteria: Criteria | None = None
    selection: str | None = None  # its name, for the screen and the export

    @property
    def filtered(self) -> bool:
        """Any filter besides the order and the selection."""
        return bool(self.text.strip() or self.bucket or self.stage or self.mine or self.due_today or self.signals)


@dataclass(frozen=True)
class WorklistRow:
    case_id: int
    client_id: int
    client_number: str
    client_name: str
    loan_numbers: str
    days_past_due: int
    arrears: Decimal
    stage: str
    status: str
    next_action_date: date
    assignee: str | None
    flag: str | None
    in_progress_by: str | None  # a colleague who has the case open now
    # the row's place in the order (for keyset continuation)
    key: tuple[object, ...] = field(repr=False, compare=False)


@dataclass(frozen=True)
class WorklistPage:
    offset: int  # index of rows[0] in the whole ordered list
    rows: tuple[WorklistRow, ...]


def name_key(text_: str) -> str:
    """The search key of a name: lower case, accents folded, only letters and digits."""
    folded = unicodedata.normalize("NFKD", text_).encode("ascii", "ignore").decode().lower()
    return "".join(ch for ch in folded if ch.isalnum())


class _Order:
    """The sort columns of one order, with the direction of each and the matching keyset predicate."""

    def __init__(self, sort: Sort) -> None:
        arrears_desc = (Case.pos_arrears, True)
        if sort in ("priority", "dpd"):
            self.cols = [(Case.pos_oldest_due, False), arrears_desc, (Case.id, False)]
        elif sort == "amount":
            self.cols = [arrears_desc, (Case.id, False)]
        elif sort == "next_action":
            self.cols = [(Case.next_action_date, False), (Case.id, False)]
        else:
            raise BadInput(N_("Unknown sort order: {sort}"), sort=sort)

    def order_by(self, reverse: bool) -> list[ColumnElement[object]]:
        return [col.desc() if desc != reverse else col.asc() for col, desc in self.cols]

    def after(self, key: tuple[object, ...], reverse: bool) -> ColumnElement[bool]:
        """Rows strictly after ``key`` in this order (before it when ``reverse``)."""
        clauses = []
        for i, (col, desc) in enumerate(self.cols):
            later = col < key[i] if desc != reverse else col > key[i]
            equal_before = [c == key[j] for j, (c, _d) in enumerate(self.cols[:i])]
            clauses.append(and_(*equal_before, later))
        # the leading column's range first, so the index range scan starts at the key
        first, first_desc = self.cols[0]
        lead = first <= key[0] if first_desc != reverse else first >= key[0]
        return and_(lead, or_(*clauses))

    def key_of(self, values: dict[str, object]) -> tuple[object, ...]:
        return tuple(values[col.key] for col, _d in self.cols)


class Worklist:
    """Queries for one filter as of one day. Cheap to build; every method is one read transaction."""

    def __init__(self, ctx: Context, flt: WorklistFilter, today: date | None = None) -> None:
        self.ctx = ctx
        self.flt = flt
        self.today = today or ctx.clock.today()
        self.order = _Order(flt.sort)
        # the priority order is two segments: next action due first, then the rest
        self.segmented = flt.sort == "priority" and not flt.due_today
        self._due: int | None = None  # the due segment's size, counted with the total

    # ----- building blocks
    def _where(self) -> list[ColumnElement[bool]]:
        flt, today = self.flt, self.today
        if flt.queue == "desk":
            where: list[ColumnElement[bool]] = [text(DESK_WHERE)]
        else:
            where = [Case.status == CaseStatus.HANDED_OVER.value]
        if flt.bucket:
            if flt.bucket not in BUCKETS:
                raise BadInput(N_("Unknown ageing bucket: {bucket}"), bucket=flt.bucket)
            low, high = bucket_bounds(flt.bucket)
            # days past due d = today - oldest  =>  low <= d <= high  <=>  today-high <= oldest <= today-low
            if flt.bucket == BUCKETS[0]:
                where.append(Case.pos_oldest_due >= today)
            else:
                where.append(Case.pos_oldest_due <= today - timedelta(days=low))
                if high is not None:
                    where.append(Case.pos_oldest_due >= today - timedelta(days=high))
        if flt.stage:
            if flt.stage not in {s.value for s in Stage}:
                raise BadInput(N_("Unknown stage: {stage}"), stage=flt.stage)
            where.append(Case.stage == flt.stage)
        if flt.mine:
            where.append(Case.assignee_id == self.ctx.actor.id)
        if self.ctx.actor.role == Role.ADVISER:  # a business adviser reads their own clients' cases only (issue 13)
            where.append(
                Case.client_id.in_(select(ClientAdviser.client_id).where(ClientAdviser.adviser_id == self.ctx.actor.id))
            )
        if flt.due_today:  # the next action, or an open task on the case, due on or before today (issue 13)
            where.append(
                or_(
                    Case.next_action_date <= today,
                    Case.id.in_(select(Task.case_id).where(Task.status == TaskStatus.OPEN, Task.due_date <= today)),
                )
            )
        if flt.signals:
            from incasso_tui.services.risk import rules_for, signal_condition

            where.append(signal_condition(today, rules_for(self.ctx).signals.lookback_days))
        if flt.text.strip():
            # any word or word start of the name, a number, an address: the search index (issue 14)
            tokens = query_words(flt.text)
            where.append(Case.client_id.in_(search_index.matching_ids(self.ctx.db.backend, tokens)))
        if flt.criteria is not None:
            where.extend(criteria_where(flt.criteria, today))
        return where

    def _segment(self, first: bool) -> ColumnElement[bool]:
        return Case.next_action_date <= self.today if first else Case.next_action_date > self.today

    def _select(self) -> Select[tuple[object, ...]]:
        return select(
            Case.id,
            Case.client_id,
            Case.pos_oldest_due,
            Case.pos_arrears,
            Case.stage,
            Case.status,
            Case.next_action_date,
            Case.assignee_id,
            Case.flag,
        )

    # ----- public queries
    def conditions(self) -> list[ColumnElement[bool]]:
        """The filter's conditions on ``cases`` (a campaign takes its members with them, set-based)."""
        return self._where()

    def count(self) -> int:
        """The number of cases in the list. In the priority order the same pass counts the due segment too
        (kept for :meth:`page`): one scan of whichever index the filter picks, instead of a second query for
        which SQLite would choose the next-action index and read every filtered row from the table."""
        with self.ctx.db.reader() as s:
            if not self.segmented:
                return int(s.execute(select(func.count()).select_from(Case).where(*self._where())).scalar_one())
            due = func.coalesce(func.sum(case((self._segment(True), 1), else_=0)), 0)
            total, self._due = s.execute(select(func.count(), due).select_from(Case).where(*self._where())).one()
            return int(total)

    def _segment_count(self, s: Session) -> int:
        """The due segment's size: from the last :meth:`count` (a page and its total belong to one count)."""
        if self._due is None:
            query = select(func.count()).select_from(Case).where(*self._where(), self._segment(True))
            self._due = s.execute(query).scalar_one()
        return int(self._due)

    def page(self, offset: int, limit: int, total: int) -> WorklistPage:
        """Rows ``offset`` .. ``offset+limit`` of the order (``total`` from :meth:`count`)."""
        offset = max(0, min(offset, max(total - 1, 0)))
        with self.ctx.db.reader() as s:
            if not self.segmented:
                raw = self._offset_rows(s, [], offset, limit, total)
            else:
                due = self._segment_count(s)
                raw = []
                if offset < due:
                    raw += self._offset_rows(s, [self._segment(True)], offset, limit, due)
                if len(raw) < limit and offset + len(raw) >= due:
                    rest_offset = offset + len(raw) - due
                    raw += self._offset_rows(s, [self._segment(False)], rest_offset, limit - len(raw), total - due)
            return WorklistPage(offset, self._rows(s, raw))

    def page_after(self, row: WorklistRow, offset: int, limit: int) -> WorklistPage:
        """The ``limit`` rows following ``row`` (which stands at ``offset - 1``): a keyset continuation."""
        with self.ctx.db.reader() as s:
            raw = self._keyset(s, row, limit, reverse=False)
            return WorklistPage(offset, self._rows(s, raw))

    def page_before(self, row: WorklistRow, offset: int, limit: int) -> WorklistPage:
        """The ``limit`` rows preceding ``row`` (which stands at ``offset``)."""
        with self.ctx.db.reader() as s:
            raw = list(reversed(self._keyset(s, row, limit, reverse=True)))
            return WorklistPage(offset - len(raw), self._rows(s, raw))

    def iter_rows(self, page_size: int = 500) -> Iterator[WorklistRow]:
        """Every row in the order, fetched ``page_size`` at a time by keyset in one read transaction (one snapshot):
        what an export streams. Only one page is held at a time."""
        with self.ctx.db.reader() as s:
            if self.segmented:
                raw = self._offset_rows(s, [self._segment(True)], 0, page_size, page_size)
                if len(raw) < page_size:
                    raw += self._offset_rows(s, [self._segment(False)], 0, page_size - len(raw), page_size)
            else:
                raw = self._offset_rows(s, [], 0, page_size, page_size)
            while raw:
                rows = self._rows(s, raw)
                yield from rows
                if len(raw) < page_size:
                    return
                raw = self._keyset(s, rows[-1], page_size, reverse=False)

    def position_of(self, case_id: int) -> int | None:
        """Where a case stands in this order now (to keep the cursor on it after a refresh)."""
        with self.ctx.db.reader() as s:
            found = s.execute(self._select().where(*self._where(), Case.id == case_id)).mappings().first()
            if found is None:
                return None
            key = self.order.key_of(dict(found))
            where = [*self._where(), self.order.after(key, reverse=True)]
            if self.segmented:
                in_due = found["next_action_date"] <= self.today
                seg_where = [*self._where(), self._segment(True)]
                before_in_segment = s.execute(
                    select(func.count()).select_from(Case).where(*where, self._segment(in_due))
                ).scalar_one()
                if in_due:
                    return int(before_in_segment)
                due = s.execute(select(func.count()).select_from(Case).where(*seg_where)).scalar_one()
                return int(due) + int(before_in_segment)
            return int(s.execute(select(func.count()).select_from(Case).where(*where)).scalar_one())

    # ----- internals
    def _offset_rows(
        self, s: Session, extra: list[ColumnElement[bool]], offset: int, limit: int, total: int
    ) -> list[dict[str, object]]:
        """Walk from the nearer end of the order: a jump near the end costs as little as one near the top."""
        if limit <= 0 or offset >= total:
            return []
        where = [*self._where(), *extra]
        if offset <= total // 2:
            q = self._select().where(*where).order_by(*self.order.order_by(False)).offset(offset).limit(limit)
            return [dict(r) for r in s.execute(q).mappings()]
        end = min(offset + limit, total)
        q = self._select().where(*where).order_by(*self.order.order_by(True)).offset(total - end).limit(end - offset)
        return list(reversed([dict(r) for r in s.execute(q).mappings()]))

    def _keyset(self, s: Session, row: WorklistRow, limit: int, reverse: bool) -> list[dict[str, object]]:
        where = self._where()
        if not self.segmented:
            q = self._select().where(*where, self.order.after(row.key, reverse)).order_by(*self.order.order_by(reverse))
            return [dict(r) for r in s.execute(q.limit(limit)).mappings()]
        in_due = row.next_action_date <= self.today
        q = (
            self._select()
            .where(*where, self._segment(in_due), self.order.after(row.key, reverse))
            .order_by(*self.order.order_by(reverse))
        )
        out = [dict(r) for r in s.execute(q.limit(limit)).mappings()]
        crossing = (not reverse and in_due) or (reverse and not in_due)
        if len(out) < limit and crossing:
            q = self._select().where(*where, self._segment(not in_due)).order_by(*self.order.order_by(reverse))
            out += [dict(r) for r in s.execute(q.limit(limit - len(out))).mappings()]
        return out

    def _rows(self, s: Session, raw: list[dict[str, object]]) -> tuple[WorklistRow, ...]:
        """Decorate raw case rows with client names, loan numbers, assignees and presence (small queries)."""
        if not raw:
            return ()
        client_ids = {r["client_id"] for r in raw}
        clients = {
            cid: (number, name)
            for cid, number, name in s.execute(
                select(Client.id, Client.number, Client.name).where(Client.id.in_(client_ids))
            )
        }
        loans: dict[int, list[str]] = {}
        for cid, number in s.execute(
            select(Loan.client_id, Loan.number).where(Loan.client_id.in_(client_ids)).order_by(Loan.number)
        ):
            loans.setdefault(cid, []).append(number)
        user_ids = {r["assignee_id"] for r in raw if r["assignee_id"] is not None}
        users = dict(s.execute(select(User.id, User.name).where(User.id.in_(user_ids))).all()) if user_ids else {}
        case_ids = [r["id"] for r in raw]
        busy = dict(
            s.execute(
                select(CaseLock.case_id, CaseLock.user_name).where(
                    CaseLock.case_id.in_(case_ids),
                    CaseLock.until > self.ctx.clock.now(),
                    CaseLock.user_name != self.ctx.actor.name,
                )
            ).all()
        )
        rows = []
        for r in raw:
            oldest: date = r["pos_oldest_due"]  # type: ignore[assignment]
            dpd = 0 if oldest == NO_ARREARS or oldest >= self.today else (self.today - oldest).days
            rows.append(
                WorklistRow(
                    case_id=r["id"],  # type: ignore[arg-type]
                    client_id=r["client_id"],  # type: ignore[arg-type]
                    client_number=clients[r["client_id"]][0],  # type: ignore[index]
                    client_name=clients[r["client_id"]][1],  # type: ignore[index]
                    loan_numbers=", ".join(loans.get(r["client_id"], [])),  # type: ignore[arg-type]
                    days_past_due=dpd,
                    arrears=r["pos_arrears"],  # type: ignore[arg-type]
                    stage=r["stage"],  # type: ignore[arg-type]
                    status=r["status"],  # type: ignore[arg-type]
                    next_action_date=r["next_action_date"],  # type: ignore[arg-type]
                    assignee=users.get(r["assignee_id"]),  # type: ignore[arg-type]
                    flag=r["flag"],  # type: ignore[arg-type]
                    in_progress_by=busy.get(r["id"]),  # type: ignore[arg-type]
                    key=self.order.key_of(r),
                )
            )
        return tuple(rows)


@dataclass(frozen=True)
class OpenedWorklist:
    """A worklist as a screen opens it: the total, the cursor, the page under the cursor (None: no cases) and the
    newest audit event seen before counting (a later one means something changed since: the live update)."""

    worklist: Worklist
    total: int
    cursor: int
    first: WorklistPage | None
    seen: int


def open_worklist(ctx: Context, flt: WorklistFilter, page_size: int, keep_case: int | None = None) -> OpenedWorklist:
    """Count the filtered cases, place the cursor (on ``keep_case`` when it is still there) and fetch the page of
    ``page_size`` rows under it."""
    seen = latest_event_id(ctx.db)
    wl = worklist(ctx, flt)
    total = wl.count()
    position = wl.position_of(keep_case) if keep_case is not None else None
    cursor = position or 0
    page = cursor // page_size
    first = wl.page(page * page_size, page_size, total) if total else None
    return OpenedWorklist(wl, total, cursor, first, seen)


def worklist(ctx: Context, flt: WorklistFilter) -> Worklist:
    """The worklist for ``flt``; special management's queue only for roles that work it."""
    if flt.queue == "special" and ctx.actor.role not in (Role.SPECIAL_MANAGEMENT, Role.SUPERVISOR, Role.AUDITOR):
        ctx.require(Role.SPECIAL_MANAGEMENT, Role.SUPERVISOR, Role.AUDITOR)
    return Worklist(ctx, flt)


__all__ = [
    "SORTS",
    "OpenedWorklist",
    "Worklist",
    "WorklistFilter",
    "WorklistPage",
    "WorklistRow",
    "name_key",
    "open_worklist",
    "worklist",
]
