"""The complaint terms: deadlines counted by hand from the calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from incasso_tui.domain.complaints import ComplaintTerms, add_working_days, deadlines, load_terms
from incasso_tui.errors import ConfigError

TERMS = ComplaintTerms(acknowledge_working_days=5, answer_weeks=8, kifid_notice={"nl": "Kifid", "en": "Kifid"})


def test_acknowledge_by_counts_working_days_and_answer_by_eight_weeks() -> None:
    # received Monday 23 November 2026: Tue 24 (1), Wed 25 (2), Thu 26 (3), Fri 27 (4), [Sat, Sun], Mon 30 (5);
    # 8 weeks = 56 days: 23 November 2026 + 56 days = 18 January 2027
    assert deadlines(date(2026, 11, 23), TERMS) == (date(2026, 11, 30), date(2027, 1, 18))


def test_public_holidays_do_not_count() -> None:
    # received Wednesday 23 December 2026: Thu 24 (1), Fri 25 Christmas (no), [Sat 26, Sun 27], Mon 28 (2),
    # Tue 29 (3), Wed 30 (4), Thu 31 (5)
    assert add_working_days(date(2026, 12, 23), 5) == date(2026, 12, 31)
    # one more: Fri 1 January is New Year's Day, so the 6th working day is Monday 4 January 2027
    assert add_working_days(date(2026, 12, 23), 6) == date(2027, 1, 4)


def test_the_shipped_terms_are_read_and_a_broken_file_is_refused(tmp_path: Path) -> None:
    terms = load_terms()
    assert terms.answer_weeks == 8 and "Kifid" in terms.kifid_notice["nl"] and "Kifid" in terms.kifid_notice["en"]
    bad = tmp_path / "c.toml"
    bad.write_text("[acknowledge]\nworking_days = 0\n[answer]\nweeks = 8\n[kifid_notice]\nnl = 'x'\nen = 'y'\n")
    with pytest.raises(ConfigError, match="out of range"):
        load_terms(bad)
    bad.write_text("[answer]\nweeks = 8\n")
    with pytest.raises(ConfigError, match="cannot be read"):
        load_terms(bad)
