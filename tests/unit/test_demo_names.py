"""The generator's name tables are data (incasso_tui/demo/names.toml): read in the file's order, and a missing or
malformed table is refused with the file, the section and the table rather than drawn from silently."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from incasso_tui.demo import generate
from incasso_tui.demo.names import NAMES_PATH, load_names
from incasso_tui.errors import ConfigError


def _copy(tmp_path: Path, edit) -> Path:  # type: ignore[no-untyped-def]
    """names.toml with one line edited by ``edit`` (a function of the text)."""
    path = tmp_path / "names.toml"
    path.write_text(edit(NAMES_PATH.read_text(encoding="utf-8")), encoding="utf-8")
    return path


def test_the_shipped_tables_are_what_the_generator_draws_from_in_the_files_order() -> None:
    raw = tomllib.loads(NAMES_PATH.read_text(encoding="utf-8"))
    names = load_names()
    assert generate.FIRST_NAMES == names.first_names == tuple(raw["people"]["first_names"])
    assert generate.SURNAMES == tuple(raw["people"]["surnames"])
    assert generate.CITIES == tuple(tuple(c) for c in raw["places"]["cities"])
    assert generate.POSTCODE_LETTERS == raw["places"]["postcode_letters"]
    # the hostile names keep their markup and their escape byte through TOML's \u001b
    assert generate.HOSTILE_NAMES[0] == "Kapsalon [bold]x[/] Jansen"
    assert "\x1b[31m" in generate.HOSTILE_NAMES[1]
    assert NAMES_PATH.parent == Path(generate.__file__).parent  # package data beside the generator


def test_a_missing_table_is_named(tmp_path: Path) -> None:
    path = _copy(tmp_path, lambda t: t.replace("streets = [", "roads = ["))
    with pytest.raises(ConfigError, match=r"names.toml: \[places\] streets is missing or wrong"):
        load_names(path)


def test_an_empty_name_or_a_number_in_a_list_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[people\] first_names"):
        load_names(_copy(tmp_path, lambda t: t.replace('"Jan", ', '"  ", ', 1)))
    with pytest.raises(ConfigError, match=r"\[contact\] area_codes"):
        load_names(_copy(tmp_path, lambda t: t.replace('"010", ', "10, ", 1)))


def test_a_city_with_a_wrong_postcode_range_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[places\] cities"):
        load_names(_copy(tmp_path, lambda t: t.replace('["Amsterdam", 1011, 1109]', '["Amsterdam", 1109, 1011]')))


def test_exactly_two_hostile_names(tmp_path: Path) -> None:
    path = _copy(tmp_path, lambda t: t.replace('"Kapsalon [bold]x[/] Jansen", ', ""))
    with pytest.raises(ConfigError, match=r"\[hostile\] names"):
        load_names(path)


def test_not_toml_or_not_there(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_names(_copy(tmp_path, lambda t: t + "\n[people\n"))
    with pytest.raises(ConfigError, match="Cannot read the data file"):
        load_names(tmp_path / "gone.toml")
