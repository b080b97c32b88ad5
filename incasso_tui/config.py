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
from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from incasso_tui.errors import N_, ConfigError

APP_NAME = "incasso-tui"


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


class _TomlFile(PydanticBaseSettingsSource):
    """Reads the TOML config file; a file that is not valid TOML is refused with its path and line."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path) -> None:
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field, field_name):  # type: ignore[no-untyped-def]
        raise NotImplementedError  # __call__ does the work

    def __call__(self) -> dict[str, object]:
        if not self.path.is_file():
            return {}
        try:
            return tomllib.loads(self.path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(N_("The config file {path} is not valid TOML: {error}"), path=str(self.path), error=str(exc))


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="INCASSO_", extra="forbid")

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

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings, env_settings, _TomlFile(settings_cls, config_path()))


def load_settings(**overrides: object) -> Settings:
    """Settings from env and file, with command-line ``overrides`` (None values are ignored)."""
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "?"
        raise ConfigError(
            N_("Setting {name} is wrong ({error}); check {path} and the INCASSO_* environment"),
            name=where,
            error=first["msg"],
            path=str(config_path()),
        ) from None
