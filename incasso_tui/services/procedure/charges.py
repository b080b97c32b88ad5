"""The postings of the run: collection costs (consumers after a dispatched 14-day letter's term, business debtors from
the costs stage on commercial agreements) and statutory interest per calendar month, and the interest helpers the
debt tracks share (``interest_kind``, ``resume_dates``, ``interest_lines``)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, timedelta
from decimal import ROUND_DOWN, Decimal

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select, type_coerce
from sqlalchemy.orm import Session

from incasso_tui.domain.costs import wik_costs
from incasso_tui.domain.enums import CaseStatus, LetterStatus, Stage, TrackStatus
from incasso_tui.domain.guards import check_consumer_costs_date, check_costs_within_wik
from incasso_tui.domain.interest import load_rates
from incasso_tui.domain.legal_data import load_costs_rules
from incasso_tui.domain.money import CENT, ZERO
from incasso_tui.domain.postings import InterestLine, period_interest, stacked_costs
from incasso_tui.domain.procedure import STAGE_ORDER, Action, DebtorProcedure, Procedure
from incasso_tui.letters import model as lm
from incasso_tui.services.claims_cover import prior_costs
from incasso_tui.services.procedure import common
from incasso_tui.services.procedure.batch import Batch
from incasso_tui.services.procedure.common import OPEN_LINE, Run, no_open_track, selected
from incasso_tui.store.models import Case, Charge, Client, DebtTrack, Installment, Letter, Loan
from incasso_tui.store.types import Money


def _stages_reaching(debtor: DebtorProcedure, action: Action) -> list[str]:
    holder = debtor.first_with(action)
    if holder is None:
        return []
    return [s.value for s in Stage if STAGE_ORDER[s.value] >= STAGE_ORDER[holder.stage.value]]


def _reached(run: Run, action: Action):  # type: ignore[no-untyped-def]
    return or_(
        and_(Client.consumer.is_(True), Case.stage.in_(_stages_reaching(run.procedure.consumer, action))),
        and_(Client.consumer.is_(False), Case.stage.in_(_stages_reaching(run.procedure.business, action))),
    )


def _split(total: Decimal, weights: dict[int, Decimal]) -> dict[int, Decimal]:
    """Divide ``total`` over the keys in proportion to ``weights``, cent-exact (the rest to the largest)."""
    base = sum(weights.values(), ZERO)
    parts = {k: (total * w / base).quantize(CENT, rounding=ROUND_DOWN) for k, w in weights.items()}
    largest = max(weights, key=lambda k: (weights[k], -k))
    parts[largest] += total - sum(parts.values(), ZERO)
    return {k: v for k, v in parts.items() if v > 0}


def _charge(
    batch: Batch,
    case_id: int,
    loan_id: int,
    kind: str,
    amount: Decimal,
    key: str,
    description: str,
    due: date,
    basis: str | None = None,
) -> None:
    run = batch.run
    batch.insert(
        "charges",
        {
            "loan_id": loan_id,
            "kind": kind,
            "due_date": due,
            "amount": amount,
            "paid": ZERO,
            "description": description,
            "period_key": key,
            "basis": basis,
        },
        f"charge.{kind}",
        case_id,
        {"loan_id": loan_id, "amount": amount, "period_key": key, "due_date": due},
    )
    run.count(f"charge_{kind}")
    run.touched.add(case_id)


def _open_lines(run: Run, loan_ids: Iterable[int], before: date) -> dict[int, list[tuple[date, Decimal]]]:
    """Per loan, in due-date order: (due date, unpaid principal and contractual interest) of each installment due
    before ``before`` that is not fully paid."""
    lines: dict[int, list[tuple[date, Decimal]]] = {}
    for loan_id, due, amount in run.s.execute(
        select(
            Installment.loan_id,
            Installment.due_date,
            type_coerce(
                Installment.principal - Installment.principal_paid + Installment.interest - Installment.interest_paid,
                Money,
            ),
        )
        .where(Installment.loan_id.in_(list(loan_ids)), Installment.due_date < before, OPEN_LINE)
        .order_by(Installment.loan_id, Installment.due_date)
    ):
        lines.setdefault(loan_id, []).append((due, amount))
    return lines


def _open_claims(
    lines: dict[int, list[tuple[date, Decimal]]], loan_ids: Iterable[int], before: date
) -> dict[int, Decimal]:
    """Per loan (ascending id): the unpaid part of the lines due before ``before``, where there is one."""
    claims = {}
    for loan_id in sorted(loan_ids):
        amount = sum((a for due, a in lines.get(loan_id, ()) if due < before), ZERO)
        if amount > 0:
            claims[loan_id] = amount
    return claims


def post_costs(run: Run) -> None:
    """Collection costs. Consumers: a DISPATCHED 14-day letter whose term (counted from its dispatch) has passed and
    that has no posting yet, on the unpaid remainder of the installments it covers, never more than it stated, nor
    more than the stacking limit allows. Business: WIK once per case from the costs stage, on commercial agreements
    only (art. 6:96 lid 4 BW); a business debtor's other loans follow the consumer route (a 14-day letter)."""
    key = literal("wik:letter:") + cast(Letter.id, String)
    posted = exists().where(
        Loan.client_id == Letter.client_id,
        Charge.loan_id == Loan.id,
        Charge.kind == "collection_costs",
        Charge.period_key == key,
    )
    query = (
        select(Letter.id, Letter.client_id, Letter.figures, Letter.letter_date, Letter.costs_from, Case.id)
        .join(Case, Case.id == Letter.case_id)
        .where(
            Letter.kind == "fourteen_day",
            Letter.status == LetterStatus.SENT,
            Letter.costs_from <= run.day,
            Case.status == CaseStatus.ACTIVE.value,
            no_open_track(),
            ~posted,
        )
        .order_by(Letter.id)
    )
    letters = selected(run, "costs_consumer", query)
    costs_rules = load_costs_rules()
    for start in range(0, len(letters), common.CHUNK):
        chunk = [
            (letter_id, client_id, lm.LetterFigures.from_json(raw), letter_date, costs_from, case_id)
            for letter_id, client_id, raw, letter_date, costs_from, case_id in letters[start : start + common.CHUNK]
        ]
        loan_of = {
            number: loan_id
            for number, loan_id in run.s.execute(
                select(Loan.number, Loan.id).where(
                    Loan.number.in_({number for _l, _c, figures, *_rest in chunk for number in figures.loans})
                )
            )
        }
        lines = _open_lines(run, loan_of.values(), max(letter_date for _l, _c, _f, letter_date, *_rest in chunk))
        batch = Batch(run)
        for letter_id, client_id, figures, letter_date, costs_from, case_id in chunk:
            assert figures.collection_costs is not None  # a fourteen_day letter cannot be made without them
            if figures.claims is not None:
                wanted = {(loan_of[c.loan], c.seq) for c in figures.claims if c.loan in loan_of}
                remainder: dict[int, Decimal] = {}
                for loan_id, seq, amount in _open_seq_lines(run, {loan for loan, _seq in wanted}):
                    if (loan_id, seq) in wanted:
                        remainder[loan_id] = remainder.get(loan_id, ZERO) + amount
            else:  # a letter from before issue 12: the installments of its loans due before its date
                remainder = _open_claims(lines, [loan_of[n] for n in figures.loans if n in loan_of], letter_date)
            if not remainder:
                continue  # paid within the term: no costs
            check_consumer_costs_date(costs_from, run.day)
            base = sum(remainder.values(), ZERO)
            prior = prior_costs(run.s, client_id, figures.loans, letter_date, before_id=letter_id)
            if prior and not costs_rules.verified:
                run.unverified("costs: stacking period (data/costs.toml)")
            # never more than the letter stated; on the unpaid remainder only; within the stacking limit
            costs = min(figures.collection_costs.amount, stacked_costs(base, prior))
            if costs <= 0:
                run.report.held["costs_stacked_away"] += 1
                continue
            check_costs_within_wik(costs, base)
            basis = json.dumps(
                {"letter_id": letter_id, "base": str(base), "claims": [[c.loan, c.seq] for c in figures.claims or ()]}
            )
            for loan_id, part in _split(costs, remainder).items():
                _charge(
                    batch,
                    case_id,
                    loan_id,
                    "collection_costs",
                    part,
                    f"wik:letter:{letter_id}",
                    f"Buitengerechtelijke incassokosten (WIK) na veertiendagenbrief van {letter_date.isoformat()}",
                    run.day,
                    basis,
                )
        batch.write()
    # business: from the costs stage on, once per case, WIK per commercial loan (a loan charged before is skipped)
    earlier = exists().where(
        Charge.loan_id == Loan.id, Charge.kind == "collection_costs", Charge.due_date >= Case.opened_on
    )
    query = (
        select(Case.id, Loan.id)
        .join(Client, Client.id == Case.client_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(
            Client.consumer.is_(False),
            Loan.commercial.is_(True),
            Case.status == CaseStatus.ACTIVE.value,
            Case.pos_arrears > 0,
            no_open_track(),
            _reached(run, Action.COLLECTION_COSTS),
            ~earlier,
        )
        .order_by(Case.id, Loan.id)
    )
    rows = selected(run, "costs_business", query)
    for chunk_start in range(0, len(rows), common.CHUNK):
        chunk = rows[chunk_start : chunk_start + common.CHUNK]
        principals = _open_claims(
            _open_lines(run, [loan_id for _c, loan_id in chunk], run.day), [loan_id for _c, loan_id in chunk], run.day
        )
        batch = Batch(run)
        for case_id, loan_id in chunk:
            principal = principals.get(loan_id)
            if not principal:
                continue
            costs = wik_costs(principal)
            check_costs_within_wik(costs, principal)
            _charge(
                batch,
                case_id,
                loan_id,
                "collection_costs",
                costs,
                f"wik:case:{case_id}",
                "Buitengerechtelijke incassokosten (WIK)",
                run.day,
                json.dumps({"base": str(principal)}),
            )
        batch.write()


def _open_seq_lines(run: Run, loan_ids: Iterable[int]) -> list[tuple[int, int, Decimal]]:
    """(loan, seq, unpaid amount) of every open line of these loans."""
    ids = list(loan_ids)
    if not ids:
        return []
    return list(
        run.s.execute(
            select(
                Installment.loan_id,
                Installment.seq,
                type_coerce(
                    Installment.principal
                    - Installment.principal_paid
                    + Installment.interest
                    - Installment.interest_paid,
                    Money,
                ),
            ).where(Installment.loan_id.in_(ids), OPEN_LINE)
        ).all()
    )


def interest_kind(procedure: Procedure, consumer: bool, commercial: bool) -> str:
    """The interest kind follows the loan: handelsrente (art. 6:119a BW) only for a commercial agreement of a business
    debtor; every other loan carries the wettelijke rente of art. 6:119 BW (unless the procedure says none)."""
    configured = procedure.for_debtor(consumer).interest
    if configured == "handels" and (consumer or not commercial):
        return "wettelijk"
    return configured


def _interest_kind(run: Run, consumer: bool, commercial: bool) -> str:
    return interest_kind(run.procedure, consumer, commercial)


def resume_dates(s: Session, client_ids: Iterable[int]) -> dict[int, date]:
    """Per client: the day after its last ended debt track (no interest for a day inside a track)."""
    found: dict[int, date] = {}
    for client_id, ended in s.execute(
        select(Case.client_id, func.max(DebtTrack.ended_on))
        .join(Case, Case.id == DebtTrack.case_id)
        .where(
            Case.client_id.in_(list(client_ids)), DebtTrack.status == TrackStatus.ENDED, DebtTrack.ended_on.is_not(None)
        )
        .group_by(Case.client_id)
    ):
        if ended is not None:
            found[client_id] = ended + timedelta(days=1)
    return found


def interest_lines(lines: Iterable[tuple[date, Decimal]], resume: date | None) -> list[InterestLine]:
    """Open lines (due date, unpaid amount) as interest lines: from the day after the due date, or from ``resume``
    (the day after a debt track ended) when that is later."""
    return [
        InterestLine(amount, max(due + timedelta(days=1), resume) if resume else due + timedelta(days=1))
        for due, amount in lines
    ]


def post_interest(run: Run) -> None:
    """Statutory interest over the previous calendar month on each past-due line still open, once per loan and
    month (period key ``interest:YYYY-MM``), for cases that reached the interest stage; compounded yearly from each
    line's start (domain.postings.period_interest), never on a day inside a debt track."""
    month_start = run.day.replace(day=1)
    previous_start = (month_start - timedelta(days=1)).replace(day=1)
    key = f"interest:{previous_start:%Y-%m}"
    posted = exists().where(Charge.loan_id == Loan.id, Charge.kind == "statutory_interest", Charge.period_key == key)
    late = exists().where(Installment.loan_id == Loan.id, Installment.due_date < month_start, OPEN_LINE)
    query = (
        select(Case.id, Loan.id, Client.consumer, Loan.commercial, Case.client_id)
        .join(Client, Client.id == Case.client_id)
        .join(Loan, Loan.client_id == Case.client_id)
        .where(
            Case.status == CaseStatus.ACTIVE.value,
            no_open_track(),
            _reached(run, Action.STATUTORY_INTEREST),
            late,
            ~posted,
        )
        .order_by(Case.id, Loan.id)
    )
    rows = [r for r in selected(run, "interest", query) if _interest_kind(run, r[2], r[3]) != "none"]
    rates = load_rates()
    for chunk_start in range(0, len(rows), common.CHUNK):
        chunk = rows[chunk_start : chunk_start + common.CHUNK]
        lines = _open_lines(run, [r[1] for r in chunk], month_start)
        resume = resume_dates(run.s, {r[4] for r in chunk})
        batch = Batch(run)
        for case_id, loan_id, consumer, commercial, client_id in chunk:
            kind = _interest_kind(run, consumer, commercial)
            open_lines = interest_lines(lines.get(loan_id, []), resume.get(client_id))
            total, basis, used = period_interest(open_lines, previous_start, month_start, kind, rates)  # type: ignore[arg-type]
            for row in used:
                if not row.verified:
                    run.unverified(f"rates: row {row.start.isoformat()} (data/rates.toml)")
            if total > 0:
                _charge(
                    batch,
                    case_id,
                    loan_id,
                    "statutory_interest",
                    total,
                    key,
                    f"Wettelijke rente {previous_start:%m-%Y}",
                    month_start,
                    basis.to_json(),
                )
        batch.write()
