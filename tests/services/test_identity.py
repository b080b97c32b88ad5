"""Four eyes bound to identity (issue 16): a desk user is an OS account locally, a key over SSH; --user for another
desk user only for an operator; every approval records how its actor was identified."""

from __future__ import annotations

import json
import os
from dataclasses import replace

import pytest
from sqlalchemy import select

from incasso_tui import cli
from incasso_tui.errors import NotAllowed, NotFound, RuleViolation
from incasso_tui.services import identity
from incasso_tui.services.context import Context
from incasso_tui.services.identity import identify, is_operator, os_login
from incasso_tui.services.proposals import decide, proposals, propose_deferral_of_repayment
from incasso_tui.services.users import add_user, bind_user, list_users
from incasso_tui.store.models import AuditEvent
from tests.services.test_proposals import _case_with_a_running_loan, _input


def test_a_desk_user_is_the_os_account_recorded_for_them(db, clock) -> None:  # type: ignore[no-untyped-def]
    add_user(db, clock, "cli:root", "jdevries", "employee", "Jan de Vries", os_user="jan")
    assert [u.os_user for u in list_users(db) if u.name == "jdevries"] == ["jan"]
    me = identify(db, None, "jan")  # no --user: the account's own desk user
    assert (me.name, me.identified_by) == ("jdevries", "os:jan")
    assert identify(db, "jdevries", "jan").identified_by == "os:jan"
    with pytest.raises(NotAllowed, match="may not act as bakker"):  # propose as one user, approve as another: no
        identify(db, "bakker", "jan")
    with pytest.raises(NotAllowed):
        identify(db, "jdevries", "piet")  # someone else's account may not be jdevries either
    # a user without a recorded account is the account of the same name (as the default --user always was)
    assert identify(db, "demo", "demo").identified_by == "os:demo"
    with pytest.raises(NotFound, match="No desk user for the OS account"):
        identify(db, None, "nobody")
    with pytest.raises(RuleViolation, match="bound to jdevries already"):
        bind_user(db, clock, "cli:root", "jansen", "jan")


def test_only_an_operator_acts_as_another_user(db, clock) -> None:  # type: ignore[no-untyped-def]
    assert not is_operator(db, "ops")
    bind_user(db, clock, "cli:root", "admin", "ops")  # the admin desk user works as the OS account ops
    assert is_operator(db, "ops") and is_operator(db, "root")
    assert identify(db, "bakker", "ops").identified_by == "operator:ops"
    assert identify(db, "bakker", "root").identified_by == "operator:root"
    # the SSH front ends say how the login was checked: believed of an operator account only
    assert identify(db, "bakker", "root", via="ssh-key:SHA256:abc").identified_by == "ssh-key:SHA256:abc"
    assert identify(db, "demo", "demo", via="ssh-key:SHA256:abc").identified_by == "os:demo"


def test_the_os_account_is_not_taken_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    monkeypatch.setenv("USER", "bakker")
    monkeypatch.setenv("LOGNAME", "bakker")
    assert os_login() == pwd.getpwuid(os.getuid()).pw_name


def test_every_approval_records_how_its_actor_was_identified(ctx_for) -> None:  # type: ignore[no-untyped-def]
    demo = ctx_for("demo")
    demo = Context(
        db=demo.db, actor=replace(demo.actor, identified_by="os:demo"), clock=demo.clock, settings=demo.settings
    )
    bakker = ctx_for("bakker")
    bakker = Context(
        db=bakker.db,
        actor=replace(bakker.actor, identified_by="ssh-key:SHA256:xyz"),
        clock=bakker.clock,
        settings=bakker.settings,
    )
    case_id, version, loan_id = _case_with_a_running_loan(demo)
    proposal_id = propose_deferral_of_repayment(demo, case_id, version, _input(loan_id))
    decide(bakker, proposal_id, proposals(bakker, case_id=case_id)[0].version, approve=True)
    with demo.db.reader() as s:
        events = {
            e.action: json.loads(e.after) for e in s.scalars(select(AuditEvent).where(AuditEvent.case_id == case_id))
        }
    assert events["proposal.deferral.submit"]["identified_by"] == "os:demo"
    assert events["proposal.deferral.approved"]["identified_by"] == "ssh-key:SHA256:xyz"


def test_the_cli_refuses_another_users_name_for_a_non_operator(
    db,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
    capsys: pytest.CaptureFixture[str],
) -> None:
    if db.backend != "sqlite":
        pytest.skip("the command line on one backend is enough")
    monkeypatch.setattr(identity, "os_login", lambda: "demo")  # an employee's own OS account, not root
    url = db.url
    assert cli.main(["--db", url, "--lang", "en", "tui", "--user", "bakker"]) == 2
    assert "The OS account demo may not act as bakker" in capsys.readouterr().err
    assert cli.main(["--db", url, "--lang", "en", "report", "kpi", "--user", "bakker", "--json"]) == 2
    assert cli.main(["--db", url, "--lang", "en", "report", "kpi", "--json"]) == 0  # as its own desk user, demo
    monkeypatch.setattr(identity, "os_login", lambda: "root")
    assert cli.main(["--db", url, "--lang", "en", "report", "kpi", "--user", "bakker", "--json"]) == 0  # an operator
