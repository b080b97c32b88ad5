"""data/procedure.toml is validated at start: unknown fields, negative offsets and a conflicting order are
refused with the file, the stage and the field."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from incasso_tui.domain.enums import Stage
from incasso_tui.domain.procedure import (
    DEFAULT_PROCEDURE_PATH,
    Action,
    load_procedure,
    parse_procedure,
)
from incasso_tui.errors import ConfigError


def _raw() -> dict:
    return tomllib.loads(DEFAULT_PROCEDURE_PATH.read_text(encoding="utf-8"))


def test_the_shipped_file_is_valid_and_uses_the_stage_enum() -> None:
    proc = load_procedure()
    assert [s.stage for s in proc.consumer.stages] == list(Stage)
    assert Stage.FOURTEEN_DAY not in [s.stage for s in proc.business.stages]
    assert proc.consumer.first.stage is Stage.REMINDER
    assert proc.consumer.next_after("call").stage is Stage.FOURTEEN_DAY
    assert proc.business.next_after("call").stage is Stage.BKR_WARNING
    assert proc.business.next_after("fourteen_day").stage is Stage.BKR_WARNING  # a stage not configured for it
    assert proc.consumer.next_after("handover") is None
    assert proc.consumer.reached("bkr_warning", Action.COLLECTION_COSTS)
    assert not proc.consumer.reached("call", Action.COLLECTION_COSTS)


def test_unknown_field_is_refused_with_file_stage_and_field() -> None:
    raw = _raw()
    raw["consumer"][2]["colour"] = "red"
    with pytest.raises(ConfigError) as err:
        parse_procedure(raw, "p.toml")
    text = str(err.value)
    assert "p.toml" in text and "consumer.call" in text and "field colour" in text


def test_negative_offset_is_refused() -> None:
    raw = _raw()
    raw["business"][1]["after_days"] = -3
    with pytest.raises(ConfigError, match=r"p.toml, stage business.demand, field after_days"):
        parse_procedure(raw, "p.toml")


def test_unknown_stage_and_unknown_action_are_refused() -> None:
    raw = _raw()
    raw["consumer"][0]["stage"] = "lunch"
    with pytest.raises(ConfigError, match=r"stage consumer.lunch, field stage"):
        parse_procedure(raw, "p.toml")
    raw = _raw()
    raw["consumer"][0]["actions"] = ["send_flowers"]
    with pytest.raises(ConfigError, match=r"stage consumer.reminder, field actions.0"):
        parse_procedure(raw, "p.toml")


def test_stages_out_of_order_or_twice_are_refused() -> None:
    raw = _raw()
    raw["consumer"][1], raw["consumer"][2] = raw["consumer"][2], raw["consumer"][1]
    with pytest.raises(ConfigError, match=r"stage consumer.demand, field stage: comes after call"):
        parse_procedure(raw, "p.toml")
    raw = _raw()
    raw["business"].insert(1, dict(raw["business"][0]))
    with pytest.raises(ConfigError, match=r"stage business.reminder, field stage"):
        parse_procedure(raw, "p.toml")


def test_bkr_registration_without_an_earlier_warning_is_refused() -> None:
    raw = _raw()
    raw["business"][3]["actions"] = []  # bkr_warning stage without its letter
    with pytest.raises(
        ConfigError, match=r"business.bkr_registered, field actions: bkr_register needs a bkr_warning_letter"
    ):
        parse_procedure(raw, "p.toml")


def test_consumer_costs_before_the_fourteen_day_letter_are_refused() -> None:
    raw = _raw()
    raw["consumer"][1]["actions"] = ["demand_letter", "collection_costs"]
    with pytest.raises(ConfigError, match=r"consumer.demand, field actions: consumer collection costs need"):
        parse_procedure(raw, "p.toml")


def test_a_fourteen_day_letter_for_business_is_refused() -> None:
    raw = _raw()
    raw["business"][2]["actions"] = ["call_task", "fourteen_day_letter"]
    with pytest.raises(ConfigError, match=r"business.call, field actions: the 14-day letter is for consumers only"):
        parse_procedure(raw, "p.toml")


def test_a_broken_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "procedure.toml"
    bad.write_text("[[consumer]\nstage=", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"procedure.toml is not valid TOML"):
        load_procedure(bad)
    with pytest.raises(ConfigError, match=r"Cannot read the procedure file"):
        load_procedure(tmp_path / "missing.toml")
