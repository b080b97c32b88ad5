"""Settings: environment variables (``INCASSO_*``) over a TOML file over defaults.

The TOML file is ``$XDG_CONFIG_HOME/incasso-tui/config.toml`` (``incasso config path`` prints it); set
``INCASSO_CONFIG`` to use another file. Every desk limit is a setting so that the desk can change a number
without a release; the legal guards themselves are code and cannot be switched off here.
"""

from __future__ import annotations

import os
import re
import tomllib
from decimal import Decimal
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from incasso_tui.domain.references import is_valid_bic, is_valid_iban, normalize_reference
from incasso_tui.errors import N_, ConfigError
from incasso_tui.safetext import is_email_address

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
        raise ConfigError(
            N_("The config file {path} is not valid TOML: {error}"), path=str(path), error=str(exc)
        ) from exc
    except OSError as exc:  # unreadable (permissions), vanished meanwhile
        raise ConfigError(
            N_("Cannot read the config file {path}: {error}"), path=str(path), error=exc.strerror or str(exc)
        ) from None


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


_HOST = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?$|^\[[0-9A-Fa-f:.]+\]$")
# the beneficiary name of the EPC payment QR code (domain/epc.py) holds at most 70 characters
LENDER_NAME_MAX = 70


def _text(value: str | None, limit: int = 200) -> str | None:
    """A text setting: surrounding blanks dropped, empty as not set; control characters refused."""
    if value is None:
        return None
    if any(ord(ch) < 0x20 or 0x7F <= ord(ch) < 0xA0 for ch in value):
        raise ValueError("holds a line break or a control character")
    value = value.strip()
    if len(value) > limit:
        raise ValueError(f"is {len(value)} characters long; at most {limit}")
    return value or None


def _email(value: str | None) -> str | None:
    """One e-mail address, optionally with a display name (``Incasso <incasso@lender.nl>``)."""
    value = _text(value, 254)
    if value is not None and not is_email_address(parseaddr(value)[1] if "<" in value else value):
        raise ValueError(f"not one valid e-mail address: {value!r}")
    return value


class LenderSettings(BaseModel):
    """The lender's details printed on every letter and in the payment QR code (``lender_*`` settings, or a
    ``[lender]`` table in the TOML file). Each may be unset (letters are then refused, naming what is missing, see
    ``services.letters``); what is set is checked when the settings are read, not at the first letter."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = None
    street: str | None = None
    postcode: str | None = None
    city: str | None = None
    iban: str | None = None
    bic: str | None = None  # optional: printed in the payment QR code when set (EPC QR version 002)
    phone: str | None = None
    email: str | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return _text(value, LENDER_NAME_MAX)

    @field_validator("street", "postcode", "city", "phone")
    @classmethod
    def _plain(cls, value: str | None) -> str | None:
        return _text(value)

    @field_validator("iban")
    @classmethod
    def _iban(cls, value: str | None) -> str | None:
        value = _text(value)
        if value is not None and not is_valid_iban(value):
            raise ValueError(f"not a valid IBAN (country, length, bank code and check digits): {value!r}")
        return normalize_reference(value) if value else None

    @field_validator("bic")
    @classmethod
    def _bic(cls, value: str | None) -> str | None:
        value = _text(value)
        if value is not None and not is_valid_bic(value):
            raise ValueError(f"not a valid BIC (8 or 11 letters and digits): {value!r}")
        return normalize_reference(value) if value else None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return _email(value)


class SmtpSettings(BaseModel):
    """The mail server of the e-mail outbox (``smtp_*`` settings, or an ``[smtp]`` table in the TOML file). Unset
    ``host``: no e-mail is sent (the outbox waits). Set: it needs ``from``, and a ``user`` needs a ``password``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    host: str | None = None
    port: int = Field(587, ge=1, le=65535)
    starttls: bool = True
    user: str | None = None
    password: SecretStr | None = Field(None, validate_default=True)
    from_: str | None = Field(None, alias="from", validate_default=True)
    timeout_seconds: float = Field(30.0, gt=0, le=600)

    @field_validator("host")
    @classmethod
    def _host(cls, value: str | None) -> str | None:
        value = _text(value, 255)
        if value is not None and not _HOST.match(value):
            raise ValueError(f"not a host name or address (no scheme, port or path): {value!r}")
        return value

    @field_validator("user")
    @classmethod
    def _user(cls, value: str | None) -> str | None:
        return _text(value)

    @field_validator("password")
    @classmethod
    def _password(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is not None and not value.get_secret_value():
            value = None
        if value is None and info.data.get("user"):
            raise ValueError("is needed when smtp_user is set")
        return value

    @field_validator("from_")
    @classmethod
    def _from(cls, value: str | None, info: ValidationInfo) -> str | None:
        value = _email(value)
        if value is None and info.data.get("host"):
            raise ValueError("is needed when smtp_host is set: the sender address of the e-mails")
        return value


# the flat setting names of the two groups: lender_<field>, smtp_<field> (smtp_from for SmtpSettings.from_)
_GROUPS: dict[str, tuple[type[BaseModel], dict[str, str]]] = {
    "lender": (LenderSettings, {f"lender_{name}": name for name in LenderSettings.model_fields}),
    "smtp": (
        SmtpSettings,
        {f"smtp_{name.rstrip('_')}": (field.alias or name) for name, field in SmtpSettings.model_fields.items()},
    ),
}


def _check_group(group: str, values: dict[str, Any]) -> None:
    """Validate the ``group``'s flat settings in ``values`` through its model and put back what it made of them
    (an IBAN without spaces, in capitals); the first wrong one is named in the error."""
    model, names = _GROUPS[group]
    given = {names[key]: values[key] for key in names if key in values}
    try:
        checked = model.model_validate(given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = str(first["loc"][0]).rstrip("_") if first["loc"] else ""  # from_ (alias from)
        key = next((k for k, v in names.items() if where == v), group)
        raise ValueError(f"{key}: {first['msg'].removeprefix('Value error, ')}") from None
    for key, name in names.items():
        if key in values:
            values[key] = getattr(checked, "from_" if name == "from" else name)


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
    # (the lender_* and smtp_* settings are checked at start by LenderSettings and SmtpSettings; ``settings.lender``
    # and ``settings.smtp`` give them as those models)
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
    # a payment link through a payment provider (services/payment_link.py): the provider's adapter name; none ships,
    # so a link is "not configured" whatever is set here, and never pretends to take a payment
    payment_link_provider: str | None = Field(None, pattern=r"^[a-z][a-z0-9_-]{0,39}$")

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
    # whether every letter that asks for payment prints the client's personal link and a new one-time code (the
    # older codes then stop working); needs portal_base_url set to the portal's public address
    portal_on_letters: bool = False

    @field_validator("db_url")
    @classmethod
    def _db_url(cls, value: str) -> str:
        return database_url(value)

    @model_validator(mode="before")
    @classmethod
    def _groups(cls, data: Any) -> Any:
        """``[lender]`` and ``[smtp]`` tables (TOML) become the flat ``lender_*`` / ``smtp_*`` settings; both groups
        are checked here, at start, naming the first wrong setting."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for group, (_model, names) in _GROUPS.items():
            table = data.pop(group, None)
            if isinstance(table, dict):
                for key, value in table.items():
                    flat = f"{group}_{key}"
                    if flat not in names:
                        raise ValueError(f"{flat}: there is no such setting")
                    data.setdefault(flat, value)
            elif table is not None:
                raise ValueError(f"{group}: must be a table of settings")
            _check_group(group, data)
        return data

    @property
    def lender(self) -> LenderSettings:
        """The lender's details as checked at start (``lender_*``)."""
        return LenderSettings(**{name: getattr(self, key) for key, name in _GROUPS["lender"][1].items()})

    @property
    def smtp(self) -> SmtpSettings:
        """The mail server's settings as checked at start (``smtp_*``)."""
        return SmtpSettings.model_validate({name: getattr(self, key) for key, name in _GROUPS["smtp"][1].items()})

    @model_validator(mode="after")
    def _bkr_window(self) -> Settings:
        if self.bkr_warning_min_days > self.bkr_warning_max_days:
            raise ValueError("bkr_warning_min_days must not be above bkr_warning_max_days")
        return self

    @model_validator(mode="after")
    def _portal_address(self) -> Settings:
        if self.portal_on_letters and (
            not self.portal_base_url.startswith("https://") or self.portal_base_url.rstrip("/").endswith(".invalid")
        ):
            raise ValueError("portal_on_letters needs portal_base_url set to the portal's public https:// address")
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
        error = first["msg"].removeprefix("Value error, ")
        named = _NAMED.match(error) if where == "?" else None
        if named:  # a check of the lender or SMTP group: "lender_iban: not a valid IBAN ..."
            where, error = named.group(1), named.group(2)
        raise ConfigError(
            N_("Setting {name} is wrong ({error}); check {path} and the INCASSO_* environment"),
            name=where,
            error=error,
            path=str(config_path()),
        ) from None


_NAMED = re.compile(r"^((?:lender|smtp)(?:_[a-z]+)*): (.*)$", re.S)
