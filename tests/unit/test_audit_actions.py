"""The audit action registry (domain.audit_actions): every action the code writes is in it with its meaning, and
services.audit refuses one that is not (the services tests then cover every action actually written)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from incasso_tui.domain.audit_actions import ACTIONS, check_action, meaning

PACKAGE = Path(__file__).resolve().parents[2] / "incasso_tui"
# the ways the code names an action: record(..., action="x.y"), action = "x.y", batch.case_event("x.y", ...),
# batch.insert(table, row, "x.y", ...)
_LITERAL = re.compile(
    r"""(?:action\s*[=:]\s*(?:str\s*=\s*)?|case_event\(|\}\s*,\s*\n?\s*)"([a-z_]+(?:\.[a-z_A-Z0-9]+)+|generate|search_index_rebuilt)\""""
)

# Event(at, actor, "x.y", ...): the action given by position
_POSITIONAL = re.compile(r'\bEvent\([^()"]*(?:\((?:[^()]|\([^()]*\))*\)[^()"]*)*"[a-z_]+"\s*,\s*"([a-z_]+\.[a-z_]+)"')


def _written() -> set[str]:
    found: set[str] = set()
    for path in PACKAGE.rglob("*.py"):
        if "migrations" in path.parts or path.name == "audit_actions.py":
            continue
        source = path.read_text(encoding="utf-8")
        found.update(_LITERAL.findall(source))
        found.update(_POSITIONAL.findall(source))
    return found


def test_every_literal_action_in_the_code_is_registered() -> None:
    written = _written()
    assert len(written) > 80, sorted(written)  # the scan finds the actions at all
    assert written - set(ACTIONS) == set()


def test_every_action_has_a_meaning() -> None:
    assert all(text.strip() for text in ACTIONS.values())
    assert meaning("contact.log").startswith("a contact")


def test_an_unknown_action_is_refused_by_name() -> None:
    with pytest.raises(ValueError, match="case.vanish"):
        check_action("case.vanish")
    assert check_action("case.pause") == "case.pause"


def test_the_kpi_payload_is_written_with_the_key_the_kpi_reads() -> None:
    """contact.log's before (services.contacts) carries the replaced next-action date under the key that
    services.kpi extracts; both go through ContactLogBefore."""
    from datetime import date

    from incasso_tui.domain.audit_actions import ContactLogBefore

    payload = ContactLogBefore(date(2026, 11, 23), "Bellen").payload()
    assert payload[ContactLogBefore.REPLACED_DATE] == date(2026, 11, 23)
    source = (PACKAGE / "services" / "kpi.py").read_text(encoding="utf-8")
    assert "ContactLogBefore.REPLACED_DATE" in source and '"next_action_date"].astext' not in source
