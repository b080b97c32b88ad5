"""Settings: environment over the TOML file over defaults; command-line values over all; bad values refused."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from incasso_tui.config import load_settings
from incasso_tui.errors import ConfigError


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "config.toml"
    monkeypatch.setenv("INCASSO_CONFIG", str(path))
    return path


def test_file_over_defaults_and_environment_over_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text('lang = "en"\ncase_lock_minutes = 30\nmandate_limit = "40000.00"\n')
    monkeypatch.setenv("INCASSO_CASE_LOCK_MINUTES", "45")
    settings = load_settings()
    assert settings.lang == "en"  # the file
    assert settings.case_lock_minutes == 45  # the environment, read as a number
    assert settings.mandate_limit == Decimal("40000.00")
    assert settings.arrangement_max_installments == 12  # the default


def test_command_line_over_environment_and_case_insensitive_names(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("incasso_lang", "en")
    monkeypatch.setenv("INCASSO_DB_URL", "sqlite:////tmp/from-env.db")
    assert load_settings().lang == "en"
    settings = load_settings(db_url="sqlite:////tmp/given.db", lang=None)
    assert settings.db_url == "sqlite:////tmp/given.db" and settings.lang == "en"


def test_other_incasso_variables_are_not_settings(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCASSO_TEST_PG_URL", "postgresql://elsewhere/test")
    monkeypatch.setenv("INCASSO_NO_SUCH_SETTING", "1")
    assert load_settings().lang == "nl"


def test_unknown_key_in_the_file_and_a_bad_environment_value_are_refused(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text("no_such_setting = 1\n")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.params["name"] == "no_such_setting"
    config.write_text("")
    monkeypatch.setenv("INCASSO_SMTP_PORT", "not-a-port")
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.params["name"] == "smtp_port" and err.value.params["path"] == str(config)


def test_a_plain_file_path_is_an_sqlite_database(config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert load_settings(db_url="book.db").db_url == f"sqlite:///{tmp_path / 'book.db'}"
    assert load_settings(db_url="sqlite:///x.db").db_url == "sqlite:///x.db"
    assert load_settings(db_url="postgresql+psycopg://u@h/db").db_url == "postgresql+psycopg://u@h/db"
