"""Legal rules that could not be verified, kept as data with their source (``data/bkr.toml``, ``data/costs.toml``).

shared/domain-rules.md: a fact marked unverified stays data, never a literal in code. Each file section carries
``verified`` and ``source``; the daily run reports when it applied an unverified one.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from incasso_tui.errors import N_, ConfigError

__all__ = ["BKR_PATH", "COSTS_PATH", "BkrRules", "CostsRules", "load_bkr_rules", "load_costs_rules"]

DATA = Path(__file__).resolve().parents[2] / "data"
BKR_PATH = DATA / "bkr.toml"
COSTS_PATH = DATA / "costs.toml"


@dataclass(frozen=True)
class BkrRules:
    """Code A needs ``min_installments`` installments in arrears or ``min_days_past_due`` days past due, and the
    arrears must have existed ``months_after_due`` months; ``legal_person_kinds`` get no BKR code at all."""

    min_installments: int
    min_days_past_due: int
    months_after_due: int
    arrears_verified: bool
    arrears_source: str
    legal_person_kinds: frozenset[str]
    zk_kinds: frozenset[str]
    zk_verified: bool
    zk_source: str


@dataclass(frozen=True)
class CostsRules:
    """The Besluit BIK's limit on stacking costs on installment claims: the look-back period in months."""

    stacking_months: int
    verified: bool
    source: str


def _read(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the data file {file}: {reason}"), file=str(path), reason=exc.strerror
        ) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            N_("The data file {file} is not valid TOML: {reason}"), file=str(path), reason=str(exc)
        ) from exc


def _field(doc: dict[str, Any], path: Path, section: str, name: str, kind: type) -> Any:
    value = doc.get(section, {}).get(name) if isinstance(doc.get(section), dict) else None
    if not isinstance(value, kind) or (kind is int and (isinstance(value, bool) or value < 0)):
        raise ConfigError(
            N_("Data file {file}: [{section}] {name} is missing or wrong"), file=str(path), section=section, name=name
        )
    if kind is str and not value.strip():
        raise ConfigError(
            N_("Data file {file}: [{section}] {name} is missing or wrong"), file=str(path), section=section, name=name
        )
    return value


@lru_cache(maxsize=4)
def load_bkr_rules(path: Path = BKR_PATH) -> BkrRules:
    doc = _read(path)
    kinds = _field(doc, path, "persons", "legal_person_kinds", list)
    zk = _field(doc, path, "persons", "zk_kinds", list)
    return BkrRules(
        min_installments=_field(doc, path, "arrears", "min_installments", int),
        min_days_past_due=_field(doc, path, "arrears", "min_days_past_due", int),
        months_after_due=_field(doc, path, "arrears", "months_after_due", int),
        arrears_verified=_field(doc, path, "arrears", "verified", bool),
        arrears_source=_field(doc, path, "arrears", "source", str),
        legal_person_kinds=frozenset(str(k) for k in kinds),
        zk_kinds=frozenset(str(k) for k in zk),
        zk_verified=_field(doc, path, "persons", "verified", bool),
        zk_source=_field(doc, path, "persons", "source", str),
    )


@lru_cache(maxsize=4)
def load_costs_rules(path: Path = COSTS_PATH) -> CostsRules:
    doc = _read(path)
    months = _field(doc, path, "stacking", "months", int)
    if not 1 <= months <= 24:
        raise ConfigError(
            N_("Data file {file}: [{section}] {name} is missing or wrong"),
            file=str(path),
            section="stacking",
            name="months",
        )
    return CostsRules(
        months, _field(doc, path, "stacking", "verified", bool), _field(doc, path, "stacking", "source", str)
    )
