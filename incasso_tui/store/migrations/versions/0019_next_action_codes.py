"""next actions as codes (issue 17, language): cases.next_action holds a domain.enums.NextAction code with its
parameters in cases.next_action_params (JSON), translated when shown; tasks made by the code get the same pair
(tasks.subject, tasks.subject_params) and keep a title only for what a person typed.

Existing rows: a sentence this version knows becomes its code (with its parameter: the outside party's name, the
outcome, the trustee), "" becomes "none", anything else becomes "free" with the old text as its parameter "text",
so nothing is lost. The downgrade writes the Dutch sentences back (and "free" as its text).

The tables below are a frozen copy: the sentences the code wrote up to 0018 (and the demo book's), not read from
the code, so a later label change does not change what this migration did.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03 10:00:00
"""

import sqlalchemy as sa
from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# code -> the Dutch sentence the code wrote for it (the first is the one the downgrade writes back)
SENTENCES: dict[str, tuple[str, ...]] = {
    "follow_up_reminder": ("Herinnering nabellen",),
    "follow_up_demand": ("Aanmaning opvolgen", "Aanmaning versturen"),
    "call_about_arrears": ("Klant bellen over achterstand",),
    "watch_fourteen_day_term": ("Veertiendagenbrief: termijn bewaken",),
    "prepare_bkr_report": ("BKR-melding voorbereiden", "BKR-waarschuwing versturen"),
    "check_bkr_report": ("BKR-melding controleren",),
    "follow_up_default_notice": ("Ingebrekestelling opvolgen", "Ingebrekestelling versturen"),
    "call_in_proposal": ("Voorstel opeising naar Risk",),
    "handover_to_special": ("Overdracht aan Bijzonder Beheer",),
    "pause_ended_review": ("Pauze afgelopen: stand van zaken bekijken",),
    "pause_over_resume": ("Einde pauze: dossier weer oppakken", "Pauze loopt af: stand van zaken opvragen"),
    "check_promise": ("Betaalbelofte controleren",),
    "follow_up_contact": ("Vervolgactie na contact",),
    "promise_broken": ("Toezegging gebroken: opvolgen",),
    "check_arrangement_payment": ("Betaling regeling controleren",),
    "arrangement_broken": ("Afspraak gebroken: opvolgen",),
    "arrangement_ended_resume": ("Regeling beëindigd: procedure hervatten",),
    "evaluate_deferral": ("Uitstel van aflossing evalueren",),
    "file_claim_debt_counsellor": ("Vordering indienen bij schuldhulpverlener",),
    "file_claim_administrator": ("Vordering indienen bij bewindvoerder", "Vordering indienen bij bewindvoerder (WSNP)"),
    "file_claim_curator": ("Vordering indienen bij curator",),
    "watch_settlement": ("Schikking: betaling van het afgesproken bedrag bewaken",),
    "track_ended_resume": ("Einde traject: dossier weer oppakken",),
    "review_handed_over": ("Dossier beoordelen (Bijzonder Beheer)",),
    "returned_by_special": ("Teruggegeven door Bijzonder Beheer",),
    "review_handover": ("Overdracht beoordelen",),  # the handover_review task
}
# code -> (the sentence's fixed start, its one parameter): "Bij <party>", "Terug van extern: <outcome>"
PREFIXED: dict[str, tuple[str, str]] = {
    "at_outside_party": ("Bij ", "party"),
    "back_from_outside": ("Terug van extern: ", "outcome"),
}
# the claim-filing task: "<sentence>: <trustee>"
CLAIM_TASKS = {
    "claim_task_debt_counsellor": "Vordering indienen bij schuldhulpverlener: ",
    "claim_task_administrator": "Vordering indienen bij bewindvoerder: ",
    "claim_task_curator": "Vordering indienen bij curator: ",
}
# the consultation tasks: "<start><who>: <text as typed>" (a login has no ": ")
CONSULTATIONS = {
    "consultation_question": ("consultation", "Vraag van "),
    "consultation_answer": ("consultation_answer", "Antwoord van "),
}
OUTCOMES = ("paid", "uncollectable", "returned", "recalled")
# the task kinds whose titles the code wrote from a next action (a person's call task is free text unless it is
# word for word the procedure's sentence, which then shows the same in Dutch)
CODED_TASK_KINDS = ("call", "call_in_proposal", "handover_review", "follow_up", "promise_check")


def _json(pg: bool, *pairs: str) -> str:
    """SQL for a JSON object of (key, SQL expression) pairs."""
    return f"{'json_build_object' if pg else 'json_object'}({', '.join(pairs)})"


def _field(pg: bool, column: str, key: str) -> str:
    return f"({column} ->> '{key}')" if pg else f"json_extract({column}, '$.{key}')"


def _quoted(values: tuple[str, ...] | list[str]) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _find(pg: bool, column: str, what: str) -> str:
    return f"strpos({column}, '{what}')" if pg else f"instr({column}, '{what}')"


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    # plain ALTER TABLE ADD/DROP COLUMN on both backends (SQLite 3.35 or later): no copy of a million-row table
    op.add_column("cases", sa.Column("next_action_params", sa.JSON(), nullable=True))
    op.add_column("tasks", sa.Column("subject", sa.String(length=40), server_default="free", nullable=False))
    op.add_column("tasks", sa.Column("subject_params", sa.JSON(), nullable=True))

    known = [s for sentences in SENTENCES.values() for s in sentences]
    at_party = "EXISTS (SELECT 1 FROM external_claims x WHERE x.case_id = cases.id AND x.status = 'at_party')"
    back = f"next_action LIKE 'Terug van extern: %' AND substr(next_action, 19) IN ({_quoted(OUTCOMES)})"
    # first what is no known sentence: "free", the old text kept as its parameter
    kept = _json(pg, "'text'", "next_action")
    op.execute(
        f"UPDATE cases SET next_action_params = {kept}, next_action = 'free' "
        f"WHERE next_action <> '' AND next_action NOT IN ({_quoted(known)}) "
        f"AND NOT (next_action LIKE 'Bij %' AND {at_party}) AND NOT ({back})"
    )
    op.execute("UPDATE cases SET next_action = 'none' WHERE next_action = ''")
    for code, sentences in SENTENCES.items():
        op.execute(f"UPDATE cases SET next_action = '{code}' WHERE next_action IN ({_quoted(sentences)})")
    for code, (start, param) in PREFIXED.items():
        rest = f"substr(next_action, {len(start) + 1})"
        where = f"next_action LIKE '{start}%' AND " + (at_party if param == "party" else back)
        params = _json(pg, f"'{param}'", rest)
        op.execute(f"UPDATE cases SET next_action_params = {params}, next_action = '{code}' WHERE {where}")

    for code, sentences in SENTENCES.items():
        op.execute(
            f"UPDATE tasks SET subject = '{code}', title = '' "
            f"WHERE kind IN ({_quoted(CODED_TASK_KINDS)}) AND title IN ({_quoted(sentences)})"
        )
    for code, start in CLAIM_TASKS.items():
        rest = f"substr(title, {len(start) + 1})"
        params = _json(pg, "'party'", rest)
        op.execute(
            f"UPDATE tasks SET subject_params = {params}, subject = '{code}', title = '' "
            f"WHERE kind = 'claim_filing' AND title LIKE '{start}%'"
        )
    for code, (kind, start) in CONSULTATIONS.items():
        colon = _find(pg, "title", ": ")
        who = f"substr(title, {len(start) + 1}, {colon} - {len(start) + 1})"
        params = _json(pg, "'by'", who, "'text'", f"substr(title, {colon} + 2)")
        op.execute(
            f"UPDATE tasks SET subject_params = {params}, subject = '{code}', title = '' "
            f"WHERE kind = '{kind}' AND title LIKE '{start}%' AND {colon} > {len(start) + 1}"
        )


def downgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"
    op.execute(f"UPDATE cases SET next_action = {_field(pg, 'next_action_params', 'text')} WHERE next_action = 'free'")
    op.execute("UPDATE cases SET next_action = '' WHERE next_action = 'none'")
    for code, sentences in SENTENCES.items():
        op.execute(f"UPDATE cases SET next_action = {_quoted(sentences[:1])} WHERE next_action = '{code}'")
    for code, (start, param) in PREFIXED.items():
        op.execute(
            f"UPDATE cases SET next_action = substr({_quoted([start])} || {_field(pg, 'next_action_params', param)}"
            f", 1, 200) WHERE next_action = '{code}'"
        )
    for code, sentences in SENTENCES.items():
        op.execute(f"UPDATE tasks SET title = {_quoted(sentences[:1])} WHERE subject = '{code}'")
    for code, start in CLAIM_TASKS.items():
        op.execute(
            f"UPDATE tasks SET title = substr({_quoted([start])} || {_field(pg, 'subject_params', 'party')}, 1, 200) "
            f"WHERE subject = '{code}'"
        )
    for code, (_kind, start) in CONSULTATIONS.items():
        who, said = _field(pg, "subject_params", "by"), _field(pg, "subject_params", "text")
        op.execute(
            f"UPDATE tasks SET title = substr({_quoted([start])} || {who} || ': ' || {said}, 1, 200) "
            f"WHERE subject = '{code}'"
        )
    op.drop_column("tasks", "subject_params")
    op.drop_column("tasks", "subject")
    op.drop_column("cases", "next_action_params")
