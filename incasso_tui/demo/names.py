"""The generator's name tables, read from ``names.toml`` beside this module (package data).

Each list keeps the order of the file: the generator draws from them by position with its seeded random generator,
so the same file and the same seed give the same book. A missing or malformed table stops with a clear error naming
the file, the section and the table, rather than a generator that draws from something else.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incasso_tui.errors import N_, ConfigError

NAMES_PATH = Path(__file__).with_name("names.toml")


@dataclass(frozen=True)
class Names:
    first_names: tuple[str, ...]
    surnames: tuple[str, ...]
    trades: tuple[str, ...]
    sectors: tuple[str, ...]
    fancy: tuple[str, ...]
    streets: tuple[str, ...]
    cities: tuple[tuple[str, int, int], ...]  # city, lowest and highest 4-digit postcode number
    postcode_letters: str
    mail_providers: tuple[str, ...]
    area_codes: tuple[str, ...]
    hostile: tuple[str, ...]


def _wrong(path: Path, section: str, name: str) -> ConfigError:
    return ConfigError(
        N_("Data file {file}: [{section}] {name} is missing or wrong"), file=str(path), section=section, name=name
    )


def _strings(doc: dict[str, Any], path: Path, section: str, name: str) -> tuple[str, ...]:
    """A non-empty list of non-empty strings."""
    value = doc.get(section, {}).get(name) if isinstance(doc.get(section), dict) else None
    if not isinstance(value, list) or not value or not all(isinstance(v, str) and v.strip() for v in value):
        raise _wrong(path, section, name)
    return tuple(value)


def _cities(doc: dict[str, Any], path: Path) -> tuple[tuple[str, int, int], ...]:
    value = doc.get("places", {}).get("cities") if isinstance(doc.get("places"), dict) else None
    if not isinstance(value, list) or not value:
        raise _wrong(path, "places", "cities")
    cities = []
    for entry in value:
        if not (
            isinstance(entry, list)
            and len(entry) == 3
            and isinstance(entry[0], str)
            and entry[0].strip()
            and all(isinstance(n, int) and not isinstance(n, bool) for n in entry[1:])
            and 1000 <= entry[1] <= entry[2] <= 9999
        ):
            raise _wrong(path, "places", "cities")
        cities.append((entry[0], entry[1], entry[2]))
    return tuple(cities)


def load_names(path: Path = NAMES_PATH) -> Names:
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the data file {file}: {reason}"), file=str(path), reason=exc.strerror
        ) from exc
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            N_("The data file {file} is not valid TOML: {reason}"), file=str(path), reason=str(exc)
        ) from exc
    letters = doc.get("places", {}).get("postcode_letters") if isinstance(doc.get("places"), dict) else None
    if not isinstance(letters, str) or not letters.isalpha() or not letters.isupper():
        raise _wrong(path, "places", "postcode_letters")
    return Names(
        first_names=_strings(doc, path, "people", "first_names"),
        surnames=_strings(doc, path, "people", "surnames"),
        trades=_strings(doc, path, "businesses", "trades"),
        sectors=_strings(doc, path, "businesses", "sectors"),
        fancy=_strings(doc, path, "businesses", "fancy"),
        streets=_strings(doc, path, "places", "streets"),
        cities=_cities(doc, path),
        postcode_letters=letters,
        mail_providers=_strings(doc, path, "contact", "mail_providers"),
        area_codes=_strings(doc, path, "contact", "area_codes"),
        hostile=_hostile(doc, path),
    )


def _hostile(doc: dict[str, Any], path: Path) -> tuple[str, ...]:
    """Exactly two: the generator gives the first two business clients with an active case these names."""
    names = _strings(doc, path, "hostile", "names")
    if len(names) != 2:
        raise _wrong(path, "hostile", "names")
    return names
