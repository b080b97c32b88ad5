"""Search (services.search) on both databases: word starts, numbers, addresses, the two scopes, the index in step."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text, update

from incasso_tui.errors import BadInput
from incasso_tui.services.search import search, verify_index
from incasso_tui.services.worklist import WorklistFilter, worklist
from incasso_tui.store.models import DESK_WHERE, Case, Client, ClientSearch, Loan


def _client_with_case(ctx, desk: bool):  # type: ignore[no-untyped-def]
    with ctx.db.reader() as s:
        cond = text(DESK_WHERE) if desk else Case.status.in_(("handed_over", "closed"))
        case = s.execute(select(Case).where(cond).order_by(Case.id).limit(1)).scalar_one()
        client = s.get(Client, case.client_id)
        loan = s.scalar(select(Loan.number).where(Loan.client_id == client.id).limit(1))
        return case, client, loan


def test_a_word_inside_the_name_finds_the_client(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    with ctx.db.reader() as s:
        # a client whose name has a second word (the old prefix search missed those)
        clients = s.scalars(select(Client).where(Client.name.like("% %")).order_by(Client.id).limit(30)).all()
    for client in clients:
        last = client.name.split()[-1]
        if len([c for c in last if c.isalnum()]) < 2:
            continue
        found = search(ctx, last, "all", limit=1000)
        assert client.id in [h.client_id for h in found.hits], (client.name, last)


def test_numbers_and_address_find_the_client_in_both_scopes(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, client, loan = _client_with_case(ctx, desk=True)
    house = client.street.split()[-1]
    terms = [
        client.number,
        loan,
        loan[1:],
        client.iban,
        client.postcode[:4] + " " + client.postcode[4:],
        client.street,
        client.phone,
        client.email,
    ]
    if client.kvk:
        terms.append(client.kvk)
    for term in terms:
        if not term:
            continue
        for scope in ("desk", "all"):
            found = search(ctx, term, scope, limit=1000)
            hit = next((h for h in found.hits if h.client_id == client.id), None)
            assert hit is not None, (term, scope)
            assert hit.case_id == case.id and hit.on_desk
    assert house in client.street


def test_handed_over_and_closed_only_in_scope_all(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, client, _loan = _client_with_case(ctx, desk=False)
    assert client.id not in [h.client_id for h in search(ctx, client.number, "desk").hits]
    hit = search(ctx, client.number, "all").hits[0]
    assert hit.client_id == client.id and hit.case_status == case.status and not hit.on_desk


def test_a_client_never_in_arrears_is_found_without_a_case(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    with ctx.db.reader() as s:
        client = s.execute(select(Client).where(~Client.id.in_(select(Case.client_id))).limit(1)).scalar_one()
    hit = search(ctx, client.number, "all").hits[0]
    assert (hit.client_id, hit.case_id, hit.on_desk) == (client.id, None, False)
    assert search(ctx, client.number, "desk").total == 0


def test_counts_and_limit(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    found = search(ctx, "de", "all", limit=5)
    assert found.total > 5 and len(found.hits) == 5 and found.more


@pytest.mark.parametrize("term", ["d", "..", " "])
def test_a_one_letter_term_is_refused(ctx_for, term) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(BadInput):
        search(ctx_for(), term)


def test_the_worklist_box_uses_the_index(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, client, _loan = _client_with_case(ctx, desk=True)
    word = client.name.split()[-1]
    wl = worklist(ctx, WorklistFilter(text=word))
    rows = wl.page(0, 1000, wl.count()).rows
    assert case.id in [r.case_id for r in rows]


def test_a_change_to_a_client_or_a_loan_is_in_the_index_in_the_same_transaction(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    case, client, _loan = _client_with_case(ctx, desk=True)
    with ctx.db.transaction() as s:
        c = s.get(Client, client.id)
        c.street = "Zwanenburgwal 77"
        c.phone = "020-7654321"
    assert [h.client_id for h in search(ctx, "zwanenburgwal 77", "all").hits] == [client.id]
    assert client.id in [h.client_id for h in search(ctx, "0207654321", "all").hits]
    with ctx.db.reader() as s:
        words = s.get(ClientSearch, client.id).words.split()
    assert "zwanenburgwal" in words and client.street.split()[0].lower() not in words  # the old street is gone
    assert verify_index(ctx).ok


def test_verify_finds_a_stale_or_missing_row(ctx_for) -> None:  # type: ignore[no-untyped-def]
    ctx = ctx_for()
    assert verify_index(ctx).ok
    with ctx.db.engine.begin() as conn:  # behind the services' back
        ids = conn.execute(select(Client.id).order_by(Client.id).limit(2)).scalars().all()
        conn.execute(update(ClientSearch).where(ClientSearch.client_id == ids[0]).values(words="stale"))
        conn.execute(ClientSearch.__table__.delete().where(ClientSearch.client_id == ids[1]))
    report = verify_index(ctx)
    assert not report.ok
    assert any(p.startswith(f"client {ids[0]}:") for p in report.problems)
    assert f"client {ids[1]}: not in the search index" in report.problems


def test_cli_search_json_scope_and_refusal(db, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    from incasso_tui import cli

    ctx_client = None
    with db.reader() as s:
        ctx_client = s.execute(select(Client).where(~Client.id.in_(select(Case.client_id))).limit(1)).scalar_one()
    base = ["--db", db.url, "--user", "demo", "--date", "2026-11-23"]
    assert cli.main(["search", ctx_client.number, "--json", *base]) == 0
    assert json.loads(capsys.readouterr().out)["total"] == 0  # not on the desk
    assert cli.main(["search", ctx_client.number, "--all", "--json", *base]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["total"] == 1 and out["hits"][0]["case_id"] is None and out["hits"][0]["matched"] == ["number"]
    assert cli.main(["search", "x", *base]) == 2
    assert "Typ minstens 2 letters of cijfers" in capsys.readouterr().err
    assert cli.main(["search", "--verify", *base]) == 0
