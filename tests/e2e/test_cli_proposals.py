"""``incasso proposals``: the approvals queue on the command line, and the four-eyes decision with the version read."""

from __future__ import annotations

import json

from sqlalchemy import select

from incasso_tui.store.models import AuditEvent, Case, Proposal
from tests.conftest import AS_OF, _context
from tests.e2e.test_cli import one_line_error, run
from tests.services.test_proposals import _case_with_a_running_loan, _input


def _submitted(sqlite_db, clock, proposer: str) -> tuple[list[str], int, int]:  # type: ignore[no-untyped-def]
    """A deferral proposal of ``proposer``: the common options of the book, the case and the proposal."""
    from incasso_tui.services.proposals import propose_deferral_of_repayment

    ctx = _context(sqlite_db, clock, proposer)
    case_id, version, loan_id = _case_with_a_running_loan(ctx)
    proposal_id = propose_deferral_of_repayment(ctx, case_id, version, _input(loan_id))
    return ["--db", sqlite_db.url, "--date", AS_OF.isoformat()], case_id, proposal_id


def test_a_supervisor_lists_the_queue_and_approves_the_version_read(sqlite_db, clock) -> None:  # type: ignore[no-untyped-def]
    book, case_id, proposal_id = _submitted(sqlite_db, clock, "demo")
    listed = run("proposals", "list", "--json", *book, "--user", "bakker")
    assert listed.returncode == 0, listed.stderr
    (row,) = json.loads(listed.stdout)
    assert (row["id"], row["case_id"], row["kind"], row["status"], row["proposed_by"]) == (
        proposal_id,
        case_id,
        "deferral",
        "submitted",
        "demo",
    )
    assert row["payload"]["months"] == 3 and row["payload"]["option"] == "extend_term"
    dutch = run("proposals", "list", *book, "--user", "bakker").stdout
    assert "Uitstel van aflossing" in dutch and "wacht op Risk" in dutch and f"{case_id}" in dutch

    refused = run("proposals", "approve", str(proposal_id), "--version", str(row["version"]), *book, "--user", "demo")
    assert "voorstel" in one_line_error(refused).lower() or "rol" in refused.stderr.lower()
    stale = run(
        "proposals", "approve", str(proposal_id), "--version", str(row["version"] + 1), *book, "--user", "bakker"
    )
    assert "gewijzigd" in one_line_error(stale)
    with sqlite_db.reader() as s:
        assert s.get(Proposal, proposal_id).status == "submitted" and s.get(Case, case_id).status == "active"

    approved = run(
        "proposals", "approve", str(proposal_id), "--version", str(row["version"]), *book, "--user", "bakker"
    )
    assert approved.returncode == 0, approved.stderr
    assert approved.stdout.strip() == f"Voorstel {proposal_id} goedgekeurd"
    with sqlite_db.reader() as s:
        assert s.get(Proposal, proposal_id).status == "approved" and s.get(Case, case_id).status == "deferral"
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "proposal.deferral.approved", AuditEvent.case_id == case_id)
        ).one()
        assert event.actor == "bakker" and json.loads(event.after)["proposed_by"] == "demo"
    assert run("proposals", "list", *book, "--user", "bakker").stdout.strip() == "Geen voorstellen"
    english = run("--lang", "en", "proposals", "list", "--case", str(case_id), *book, "--user", "bakker").stdout
    assert "Deferral of repayment" in english and "approved  bakker" in english


def test_nobody_decides_their_own_proposal_and_a_rejection_needs_its_reason(sqlite_db, clock) -> None:  # type: ignore[no-untyped-def]
    book, case_id, proposal_id = _submitted(sqlite_db, clock, "bakker")
    (row,) = json.loads(run("proposals", "list", "--json", *book, "--user", "bakker").stdout)
    own = run("proposals", "approve", str(proposal_id), "--version", str(row["version"]), *book, "--user", "bakker")
    assert "vier ogen" in one_line_error(own)
    no_reason = run(
        "proposals", "reject", str(proposal_id), "--version", str(row["version"]), *book, "--user", "bakker"
    )
    assert no_reason.returncode == 2 and "--reason" in no_reason.stderr
    with sqlite_db.reader() as s:
        assert s.get(Proposal, proposal_id).status == "submitted"
        assert s.get(Case, case_id).status == "active"


def test_a_bad_number_is_said_in_one_line(sqlite_db, clock) -> None:  # type: ignore[no-untyped-def]
    book = ["--db", sqlite_db.url, "--date", AS_OF.isoformat(), "--user", "bakker"]
    assert "0" in one_line_error(run("proposals", "approve", "0", "--version", "1", *book))
    bad_version = run("proposals", "approve", "1", "--version", "x", *book)
    assert bad_version.returncode == 2 and "not a version" in bad_version.stderr
