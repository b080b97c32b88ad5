"""Settings: environment variables (``INCASSO_*``) over a TOML file over defaults.

The TOML file is ``$XDG_CONFIG_HOME/incasso-tui/config.toml`` (``incasso config path`` prints it); set
``INCASSO_CONFIG`` to use another file. Every desk limit is a setting so that the desk can change a number
without a release; the legal guards themselves are code and cannot be switched off here.
"""

from __future__ import annotations

import os
import tomllib
from decimal import Decimal
from pathlib import Path
from typing import Literal

import platformdirs
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator, model_validator

from incasso_tui.errors import N_, ConfigError

APP_NAME = "incasso-tui"
ENV_PREFIX = "incasso_"


def config_path() -> Path:
    explicit = os.environ.get("INCASSO_CONFIG")
    if explicit:
        return Path(explicit)
    return Path(platformdirs.user_config_dir(APP_NAME)) / "config.toml"


def data_dir() -> Path:
    return Path(platformdirs.user_data_dir(APP_NAME))


def default_db_url() -> str:
    return f"sqlite:///{data_dir() / 'incasso.db'}"


def demo_db_url() -> str:
    return f"sqlite:///{data_dir() / 'demo.db'}"


def database_url(given: str) -> str:
    """A URL as given, or a plain file path (``--db book.db``) as the SQLite URL of that file."""
    if "://" in given or given.startswith("sqlite:"):
        return given
    return f"sqlite:///{Path(given).expanduser().resolve()}"


def _toml_file(path: Path) -> dict[str, object]:
    """The TOML config file's values; a file that is not valid TOML is refused with its path and line."""
    if not path.is_file():
        return {}
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(N_("The config file {path} is not valid TOML: {error}"), path=str(path), error=str(exc))
    except OSError as exc:  # unreadable (permissions), vanished meanwhile
        raise ConfigError(N_("Cannot read the config file {path}: {error}"), path=str(path),
                          error=exc.strerror or str(exc)) from None


def _environment() -> dict[str, str]:
    """``INCASSO_<SETTING>`` variables (any case) for the settings that exist; other INCASSO_* variables
    (INCASSO_CONFIG, INCASSO_TEST_PG_URL) are not settings and are left alone."""
    fields = set(Settings.model_fields)
    found: dict[str, str] = {}
    for key, value in os.environ.items():
        name = key.lower().removeprefix(ENV_PREFIX)
        if key.lower().startswith(ENV_PREFIX) and name in fields:
            found[name] = value
    return found


class Settings(BaseModel):
    """The validated settings. ``Settings(...)`` takes only what it is given (tests); ``load_settings`` reads the
    environment and the file. Plain pydantic: pydantic-settings cost 55 ms of every start (benchmarks/RESULTS.md)."""

    model_config = ConfigDict(extra="forbid")

    db_url: str = Field(default_factory=default_db_url)
    lang: Literal["nl", "en"] = "nl"
    theme: str = "textual-dark"

    # desk limits for payment arrangements
    arrangement_max_installments: int = Field(12, ge=1, le=120)
    arrangement_min_installment: Decimal = Field(Decimal("25.00"), ge=0)
    # the desk's mandate: positions above it belong to special management
    mandate_limit: Decimal = Field(Decimal("50000.00"), gt=0)
    # how long "in progress by NAME" lasts after a case was opened
    case_lock_minutes: int = Field(15, ge=1, le=480)
    # how often the worklist looks for changes by others
    worklist_poll_seconds: float = Field(3.0, ge=0.5, le=300)

    # deferral of repayment (issue 5): months of principal deferred, how many per loan, and the watch period
    # after one ends during which the same loan gets no new deferral
    deferral_max_months: int = Field(6, ge=1, le=24)
    deferral_max_per_loan: int = Field(2, ge=1, le=10)
    deferral_watch_months: int = Field(12, ge=0, le=60)

    # letters (docs/letters.md): the outbox of rendered PDFs, the templates, and the sender printed on them.
    # The lender's details have no default: a letter is never sent with made-up payment details.
    letters_dir: Path = Field(default_factory=lambda: data_dir() / "letters")
    letter_templates_dir: Path | None = None  # None: the templates shipped in data/templates
    # exports (worklist, selections, BKR) are written only here, by a plain file name (services/exports.py)
    export_dir: Path = Field(default_factory=lambda: data_dir() / "exports")
    lender_name: str | None = None
    lender_street: str | None = None
    lender_postcode: str | None = None
    lender_city: str | None = None
    lender_iban: str | None = None
    lender_bic: str | None = None  # optional: printed in the payment QR code when set (EPC QR version 002)
    lender_phone: str | None = None
    lender_email: str | None = None
    # e-mail (SMTP) for the outbox; the password is never logged or printed
    smtp_host: str | None = None
    smtp_port: int = Field(587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_from: str | None = None
    smtp_timeout_seconds: float = Field(30.0, gt=0, le=600)
    mail_max_attempts: int = Field(8, ge=1, le=50)
    mail_retry_base_seconds: int = Field(60, ge=1, le=86400)  # doubled after every temporary failure

    # outside parties and complaints (issue 19): the complaint terms (default: the repository's data/complaints.toml)
    # and the claim above which the answer to a debt counsellor's proposal needs a second person (four eyes)
    complaint_terms_file: Path | None = None
    debt_offer_four_eyes_above: Decimal = Field(Decimal("5000.00"), ge=0)

    # the arrears procedure (issue 3); the legal guards are code, these are the numbers they are given
    # the procedure definition (stages, offsets, actions); default: the repository's data/procedure.toml
    procedure_file: Path | None = None
    # receipt of a 14-day letter is assumed on this delivery day after sending (domain-rules.md)
    fourteen_day_receipt_delivery_days: int = Field(2, ge=1, le=10)
    # the BKR warning is sent at least .. and at most .. days before a code A (rulebook: unverified, a setting)
    bkr_warning_min_days: int = Field(5, ge=0, le=60)
    bkr_warning_max_days: int = Field(14, ge=1, le=60)
    # no code A for an arrears below this amount (the desk's threshold; not a documented BKR number)
    bkr_threshold: Decimal = Field(Decimal("50.00"), ge=0)

    # incoming payments (issue 4): days after a promise's or arrangement installment's due date before an unpaid
    # one counts as broken, and the letters/digits before the loan number in the RF creditor references we issue
    payment_grace_days: int = Field(3, ge=0, le=60)
    payment_rf_prefix: str = Field("INC", pattern=r"^[A-Z]{0,13}$")

    # bank statements (issue 16): the lender's own accounts (a statement of any other account is refused whole;
    # ``lender_iban`` counts as one), how far from today a booking date may be, and the largest file read
    lender_accounts: list[str] = Field(default_factory=list)
    statement_max_days_ahead: int = Field(366, ge=0, le=3660)
    statement_max_days_back: int = Field(3653, ge=1, le=36525)
    statement_max_bytes: int = Field(200 * 1024 * 1024, ge=1024, le=4 * 1024 * 1024 * 1024)

    # the keyed audit trail (issue 16): the HMAC key lives outside the database in a file only its owner can read
    # (``incasso audit init-key``); signed checkpoints go to an append-only file and, when set, to an auditor
    audit_key_file: Path = Field(default_factory=lambda: data_dir() / "audit.key")
    audit_checkpoint_file: Path = Field(default_factory=lambda: data_dir() / "audit-checkpoints.jsonl")
    audit_checkpoint_email: str | None = None

    @field_validator("lender_accounts", mode="before")
    @classmethod
    def _accounts(cls, value: object) -> object:
        if isinstance(value, str):  # INCASSO_LENDER_ACCOUNTS="NL..,NL.."
            value = [part for part in value.replace(";", ",").split(",") if part.strip()]
        if isinstance(value, (list, tuple)):
            return ["".join(str(v).split()).upper() for v in value]
        return value

    def own_accounts(self) -> frozenset[str]:
        """The IBANs whose statements may be imported: ``lender_accounts`` and ``lender_iban``."""
        extra = ["".join(self.lender_iban.split()).upper()] if self.lender_iban else []
        return frozenset([*self.lender_accounts, *extra])

    # budgets and capacity (issue 15): which norm protects the income (the statutory beslagvrije voet or the desk's
    # own minimum in data/budget_norms.toml), when a budget is too old to use unflagged, what a plan above the
    # capacity needs (a reason, or it is refused), and the largest plausible monthly figures (typing errors above)
    budget_norm: Literal["beslagvrije_voet", "desk"] = "beslagvrije_voet"
    budget_norms_file: Path | None = None  # default: data/budget_norms.toml
    budget_max_age_months: int = Field(3, ge=1, le=24)
    arrangement_above_capacity: Literal["reason", "refuse"] = "reason"
    budget_household_max: Decimal = Field(Decimal("50000.00"), gt=0)
    budget_business_max: Decimal = Field(Decimal("500000.00"), gt=0)

    # the risk view (issue 20): the rules' numbers (default: data/risk.toml), and whether an early-warning signal
    # on a client with an open case becomes a call task ("call before it goes wrong")
    risk_file: Path | None = None
    signal_tasks: bool = False

    # the client's portal (issue 21): how long a personal link's one-time code is valid, how long a session lasts
    # idle and at most, how many wrong confirmations lock a link and for how long, the public address printed in
    # links, and whether cookies carry Secure (off only for plain-http tests on 127.0.0.1: the portal refuses
    # otherwise)
    portal_code_days: int = Field(30, ge=1, le=90)
    portal_session_minutes: int = Field(15, ge=1, le=120)
    portal_session_max_minutes: int = Field(60, ge=5, le=480)
    portal_max_failures: int = Field(3, ge=1, le=10)
    portal_lock_minutes: int = Field(30, ge=1, le=1440)
    portal_base_url: str = "https://portal.example.invalid"
    portal_secure_cookies: bool = True

    @field_validator("db_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        return database_url(value)

    @model_validator(mode="after")
    def _bkr_window(self) -> "Settings":
        if self.bkr_warning_min_days > self.bkr_warning_max_days:
            raise ValueError("bkr_warning_min_days must not be above bkr_warning_max_days")
        return self


def load_settings(**overrides: object) -> Settings:
    """Settings from env over file over defaults, with command-line ``overrides`` over all (None values are ignored)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    values = {**_toml_file(config_path()), **_environment(), **given}
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "?"
        raise ConfigError(
            N_("Setting {name} is wrong ({error}); check {path} and the INCASSO_* environment"),
            name=where,
            error=first["msg"],
            path=str(config_path()),
        ) from None
