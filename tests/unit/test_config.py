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


def test_command_line_over_environment_and_case_insensitive_names(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("incasso_lang", "en")
    monkeypatch.setenv("INCASSO_DB_URL", "sqlite:////tmp/from-env.db")
    assert load_settings().lang == "en"
    settings = load_settings(db_url="sqlite:////tmp/given.db", lang=None)
    assert settings.db_url == "sqlite:////tmp/given.db" and settings.lang == "en"


def test_other_incasso_variables_are_not_settings(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INCASSO_TEST_PG_URL", "postgresql://elsewhere/test")
    monkeypatch.setenv("INCASSO_NO_SUCH_SETTING", "1")
    assert load_settings().lang == "nl"


def test_unknown_key_in_the_file_and_a_bad_environment_value_are_refused(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
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


# ----- the lender's and the mail server's settings are checked at start (LenderSettings, SmtpSettings)


@pytest.mark.parametrize(
    "iban",
    [
        "NL06ABNA04171643001",  # 19 characters: a Dutch IBAN has 18
        "XX62ABNA0417164300",  # no such country
        "DE08ABNA0417164300",  # a German IBAN has 22 characters and digits only
        "NL91ABNA0417164301",
    ],
)  # a wrong check digit
def test_a_wrong_lender_iban_is_refused_at_start_naming_the_setting(
    config: Path, monkeypatch: pytest.MonkeyPatch, iban: str
) -> None:
    monkeypatch.setenv("INCASSO_LENDER_IBAN", iban)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.params["name"] == "lender_iban"
    assert "not a valid IBAN" in err.value.params["error"] and iban in err.value.params["error"]


@pytest.mark.parametrize(
    ("iban", "stored"),
    [
        ("NL91ABNA0417164300", "NL91ABNA0417164300"),
        ("nl91 abna 0417 1643 00", "NL91ABNA0417164300"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("BE71 0961 2345 6769", "BE71096123456769"),
    ],
)
def test_good_ibans_are_taken_in_their_electronic_form(config: Path, iban: str, stored: str) -> None:
    settings = load_settings(lender_iban=iban)
    assert settings.lender_iban == stored and settings.lender.iban == stored


@pytest.mark.parametrize(
    ("values", "name", "error"),
    [
        ({"lender_bic": "ABNA"}, "lender_bic", "not a valid BIC"),
        ({"lender_email": "incasso@"}, "lender_email", "e-mail"),
        ({"lender_email": "a@b.nl, c@d.nl"}, "lender_email", "e-mail"),
        ({"lender_name": "N" * 71}, "lender_name", "at most 70"),
        ({"lender_name": "Lender\nB.V."}, "lender_name", "line break"),
        ({"smtp_host": "smtp://mail.example.nl"}, "smtp_host", "host name"),
        ({"smtp_host": "mail.example.nl"}, "smtp_from", "smtp_host is set"),
        ({"smtp_host": "mail.example.nl", "smtp_from": "not an address"}, "smtp_from", "e-mail"),
        ({"smtp_host": "mail.example.nl", "smtp_from": "a@b.nl", "smtp_user": "desk"}, "smtp_password", "smtp_user"),
    ],
)
def test_wrong_lender_and_smtp_settings_are_refused_at_start(
    config: Path, values: dict[str, str], name: str, error: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(**values)
    assert err.value.params["name"] == name and error in err.value.params["error"]
    assert name in str(err.value)


def test_lender_and_smtp_tables_in_the_file(config: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config.write_text(
        '[lender]\nname = "Kredietverlener B.V."\niban = "NL91 ABNA 0417 1643 00"\nbic = "abnanl2a"\n'
        'email = "incasso@lender.nl"\n\n[smtp]\nhost = "mail.lender.nl"\nfrom = "Incasso <incasso@lender.nl>"\n'
        'user = "desk"\npassword = "s3cret"\nport = 465\n'
    )
    settings = load_settings()
    assert (settings.lender.name, settings.lender.iban, settings.lender.bic) == (
        "Kredietverlener B.V.",
        "NL91ABNA0417164300",
        "ABNANL2A",
    )
    assert settings.lender_email == "incasso@lender.nl"
    smtp = settings.smtp
    assert (smtp.host, smtp.port, smtp.from_, smtp.user, settings.smtp_port) == (
        "mail.lender.nl",
        465,
        "Incasso <incasso@lender.nl>",
        "desk",
        465,
    )
    assert smtp.password is not None and smtp.password.get_secret_value() == "s3cret" and "s3cret" not in repr(smtp)
    config.write_text('[lender]\nibann = "NL91ABNA0417164300"\n')
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.params["name"] == "lender_ibann"
    config.write_text('[lender]\niban = "DE08ABNA0417164300"\n')
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert err.value.params["name"] == "lender_iban"


def test_unset_lender_and_smtp_settings_are_allowed(config: Path) -> None:
    settings = load_settings()
    assert settings.lender.iban is None and settings.smtp.host is None
