"""The migrations build exactly the schema the models describe, on every backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from incasso_tui.store.db import Database, current_revision, head_revision
from incasso_tui.store.models import Base

HAND_WRITTEN = {"ix_cases_desk_prio", "ix_cases_desk_amount", "ix_cases_desk_assignee", "ix_cases_desk_stage"}
# the client search index (store.search_index): FTS5 tables on SQLite, a GIN expression index on PostgreSQL
SEARCH_INDEX = {"ix_client_search_words"}


def _hand_written(name: str, type_: str) -> bool:
    if type_ == "index":
        return name in HAND_WRITTEN or name in SEARCH_INDEX
    return type_ == "table" and name.startswith("client_search_fts")


def test_migrated_schema_matches_the_models(db: Database) -> None:
    assert current_revision(db.engine) == head_revision()
    with db.engine.connect() as conn:
        ctx = MigrationContext.configure(
            conn, opts={"include_object": lambda o, name, type_, r, c: not _hand_written(name, type_)}
        )
        assert compare_metadata(ctx, Base.metadata) == []
        names = {ix["name"] for ix in db.engine.dialect.get_indexes(conn, "cases")}
    assert HAND_WRITTEN <= names


def test_demo_migrates_its_own_older_book(sqlite_template: str, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """`incasso demo` on a demo book from an older version migrates it instead of refusing it."""
    import shutil

    from alembic import command
    from sqlalchemy import create_engine

    from incasso_tui import cli
    from incasso_tui.cli import tui
    from incasso_tui.store.db import alembic_config

    book = tmp_path / "demo.db"
    shutil.copy(sqlite_template, book)
    url = f"sqlite:///{book}"
    engine = create_engine(url)
    command.downgrade(alembic_config(engine), "0002")
    assert current_revision(engine) == "0002"
    opened: list[tuple[str, str | None]] = []
    monkeypatch.setattr(
        tui,
        "run_tui",
        lambda settings, user, clock, db_url, demo=False: opened.append((db_url, settings.lender_name)) or 0,
    )
    assert cli.main(["demo", "--db", url, "--date", "2026-11-23"]) == 0
    # the demo can print letters: it brings a (plainly fictitious) sender of its own
    assert opened == [(url, "Demo Kredietverlener B.V.")] and current_revision(engine) == head_revision()
    engine.dispose()


def test_the_start_up_schema_check_knows_the_newest_migration() -> None:
    from incasso_tui.store.db import SCHEMA_HEAD

    assert SCHEMA_HEAD == head_revision()


def test_0019_turns_the_stored_sentences_into_codes_and_back(db: Database) -> None:
    """Next actions and the code's task titles as they were stored up to 0018 become codes with parameters; a text
    the migration does not know is kept as free text; the downgrade writes the sentences back."""
    import json

    from alembic import command
    from sqlalchemy import text

    from incasso_tui.store.db import alembic_config

    cfg = alembic_config(db.engine)
    command.downgrade(cfg, "0018")
    old = {
        "Betaling regeling controleren": ("check_arrangement_payment", None),
        "Herinnering nabellen": ("follow_up_reminder", None),
        "Aanmaning versturen": ("follow_up_demand", None),  # the demo book's wording
        "Klant bellen na de vakantie": ("free", {"text": "Klant bellen na de vakantie"}),
        "Bij de buren langs": ("free", {"text": "Bij de buren langs"}),  # no claim at an outside party: typed text
        "Terug van extern: paid": ("back_from_outside", {"outcome": "paid"}),
        "Terug van extern: zomaar": ("free", {"text": "Terug van extern: zomaar"}),
        "": ("none", None),
        "O'Neill's 'vraag'": ("free", {"text": "O'Neill's 'vraag'"}),
    }
    with db.engine.begin() as conn:
        ids = list(conn.execute(text("SELECT id FROM cases ORDER BY id LIMIT :n"), {"n": len(old) + 1}).scalars())
        by_case = dict(zip(ids, old, strict=False))
        for case_id, sentence in by_case.items():
            conn.execute(text("UPDATE cases SET next_action = :s WHERE id = :id"), {"s": sentence, "id": case_id})
        party_case = ids[-1]  # "Bij <party>" on a case whose claim is at that party
        conn.execute(text("UPDATE cases SET next_action = 'Bij Incasso & Co B.V.' WHERE id = :id"), {"id": party_case})
        party = conn.execute(
            text(
                "INSERT INTO external_parties (name, kind, street, postcode, city, contact, iban, created_by, "
                "created_at) VALUES ('Incasso & Co B.V.', 'agency', 'Straat 1', '1000 AA', 'Amsterdam', '', "
                "'NL91ABNA0417164300', 'demo', :at) RETURNING id"
            ),
            {"at": "2026-11-01 10:00:00"},
        ).scalar_one()
        conn.execute(
            text(
                "INSERT INTO external_claims (case_id, party_id, status, reason, proposed_by, proposed_at, version) "
                "VALUES (:c, :p, 'at_party', 'test', 'demo', :at, 1)"
            ),
            {"c": party_case, "p": party, "at": "2026-11-01 10:00:00"},
        )
        tasks = {
            ("follow_up", "Vervolgactie na contact"): ("follow_up_contact", None, ""),
            ("call", "Klant bellen over achterstand"): ("call_about_arrears", None, ""),
            ("call", "Even bellen over de auto"): ("free", None, "Even bellen over de auto"),
            ("handover_review", "Overdracht beoordelen"): ("review_handover", None, ""),
            ("consultation", "Vraag van jansen: Mag ik: ja of nee?"): (
                "consultation_question",
                {"by": "jansen", "text": "Mag ik: ja of nee?"},
                "",
            ),
            ("consultation_answer", "Antwoord van bakker: Ja."): (
                "consultation_answer",
                {"by": "bakker", "text": "Ja."},
                "",
            ),
            ("claim_filing", "Vordering indienen bij curator: mr. A. de Vries"): (
                "claim_task_curator",
                {"party": "mr. A. de Vries"},
                "",
            ),
            ("portal_request", "Betaalbelofte controleren"): ("free", None, "Betaalbelofte controleren"),
        }
        task_ids = {}
        for kind, title in tasks:
            task_ids[kind, title] = conn.execute(
                text(
                    "INSERT INTO tasks (case_id, kind, title, due_date, status, created_by, created_at) "
                    "VALUES (:c, :k, :t, :d, 'open', 'demo', :at) RETURNING id"
                ),
                {"c": ids[0], "k": kind, "t": title, "d": "2026-11-24", "at": "2026-11-23 09:00:00"},
            ).scalar_one()

    command.upgrade(cfg, "head")

    def params(value: object) -> object:
        return json.loads(value) if isinstance(value, str) else value

    with db.engine.connect() as conn:
        for case_id, sentence in by_case.items():
            code, stored = conn.execute(
                text("SELECT next_action, next_action_params FROM cases WHERE id = :id"), {"id": case_id}
            ).one()
            assert (code, params(stored)) == old[sentence], sentence
        code, stored = conn.execute(
            text("SELECT next_action, next_action_params FROM cases WHERE id = :id"), {"id": party_case}
        ).one()
        assert (code, params(stored)) == ("at_outside_party", {"party": "Incasso & Co B.V."})
        for key, expected in tasks.items():
            row = conn.execute(
                text("SELECT subject, subject_params, title FROM tasks WHERE id = :id"), {"id": task_ids[key]}
            ).one()
            assert (row[0], params(row[1]), row[2]) == expected, key
        assert conn.execute(text("SELECT count(*) FROM cases WHERE next_action = ''")).scalar_one() == 0

    command.downgrade(cfg, "0018")
    back = {"Aanmaning versturen": "Aanmaning opvolgen"}  # a second wording comes back as the first
    with db.engine.connect() as conn:
        for case_id, sentence in by_case.items():
            restored = conn.execute(text("SELECT next_action FROM cases WHERE id = :id"), {"id": case_id}).scalar_one()
            assert restored == back.get(sentence, sentence)
        restored = conn.execute(text("SELECT next_action FROM cases WHERE id = :id"), {"id": party_case}).scalar_one()
        assert restored == "Bij Incasso & Co B.V."
        for (_kind, title), tid in task_ids.items():
            assert conn.execute(text("SELECT title FROM tasks WHERE id = :id"), {"id": tid}).scalar_one() == title
    command.upgrade(cfg, "head")


PARTIAL_PROBE = """
from incasso_tui.store.db import make_engine
from incasso_tui.store.models import Base

def predicates(dialect):
    return {ix.name: str(ix.dialect_options[dialect]["where"]) for t in Base.metadata.tables.values()
            for ix in t.indexes if ix.dialect_options["sqlite"]["where"] is not None}

import sys
print("SQLITE", len(predicates("sqlite")), "sqlalchemy.dialects.postgresql" in sys.modules)
print("BEFORE", sum(v != "None" for v in predicates("postgresql").values()))
make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none").dispose()  # made, never connected
print("AFTER", predicates("postgresql") == predicates("sqlite"))
"""


def test_partial_indexes_get_their_predicate_for_postgresql_when_a_postgresql_engine_is_made() -> None:
    """The models name a partial index's predicate once (sqlite_where): a PostgreSQL engine gives it to PostgreSQL's
    index too, so the migrations' comparison (above, on PostgreSQL) and autogenerate see it there."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-c", PARTIAL_PROBE], capture_output=True, text=True, timeout=60)
    lines = dict(line.split(" ", 1) for line in out.stdout.splitlines())
    assert int(lines["SQLITE"].split()[0]) >= 15 and lines["SQLITE"].split()[1] == "False", out.stdout + out.stderr
    assert lines["BEFORE"] == "0" and lines["AFTER"] == "True", out.stdout + out.stderr
