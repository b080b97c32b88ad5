"""The arrears procedure as data: stages per debtor type, their day offsets and their actions.

``data/procedure.toml`` holds one ``[[consumer]]`` and one ``[[business]]`` list of stages::

    [[consumer]]
    stage = "reminder"          # a value of domain.enums.Stage, in the enum's order
    after_days = 1              # first stage: days past due at which a case is opened;
                                # later stages: days after entering the previous stage (cases.stage_since);
                                # at least 1, so that a case moves at most one stage per day
    actions = ["reminder"]      # what the daily run does when a case enters the stage (Action values)
    next_action = "follow_up_reminder"   # the case's next action: a domain.enums.NextAction code

plus per debtor type ``[interest] consumer = "wettelijk"`` / ``business = "handels"`` (or ``"none"``): the
kind of statutory interest the run posts per calendar month once a case has entered the stage that carries
the ``statutory_interest`` action.

The file is validated at start (:func:`load_procedure`): an unknown field, a negative offset, a stage out of
the enum's order (or twice), an action before the stage it depends on (BKR registration before a BKR
warning; consumer collection costs before the 14-day letter) are refused with :class:`ConfigError` naming the
file, the stage and the field. The legal guards are NOT here: they are code (``domain.guards``) and no file
or setting switches them off.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from incasso_tui.domain.enums import NextAction, Stage
from incasso_tui.errors import N_, ConfigError

__all__ = [
    "DEFAULT_PROCEDURE_PATH",
    "STAGE_ORDER",
    "Action",
    "DebtorProcedure",
    "Procedure",
    "StageDef",
    "load_procedure",
    "parse_procedure",
]

DEFAULT_PROCEDURE_PATH = Path(__file__).resolve().parents[2] / "data" / "procedure.toml"
_MAX_FILE_BYTES = 200_000
STAGE_ORDER: dict[str, int] = {stage.value: rank for rank, stage in enumerate(Stage)}
DebtorType = Literal["consumer", "business"]


class Action(StrEnum):
    """What the daily run does when a case enters a stage."""

    REMINDER = "reminder"  # message by the client's preference: e-mail or WhatsApp (post without either)
    DEMAND_LETTER = "demand_letter"
    CALL_TASK = "call_task"
    FOURTEEN_DAY_LETTER = "fourteen_day_letter"  # consumers: the statutory 14-day letter (art. 6:96 lid 6 BW)
    BKR_WARNING_LETTER = "bkr_warning_letter"
    BKR_REGISTER = "bkr_register"  # BKR code A (guarded: warning 5-14 days earlier, 2 months, threshold)
    DEFAULT_NOTICE_LETTER = "default_notice_letter"
    COLLECTION_COSTS = "collection_costs"  # from this stage on, WIK costs are posted once the law allows
    STATUTORY_INTEREST = "statutory_interest"  # from this stage on, statutory interest is posted monthly
    CALL_IN_TASK = "call_in_task"  # a proposal to call the loan in, for Risk
    HANDOVER_TASK = "handover_task"  # a handover candidate for special management


# The letter kind (letters.kind) and task kind (tasks.kind) each action makes.
LETTER_KIND: dict[Action, str] = {
    Action.REMINDER: "reminder",
    Action.DEMAND_LETTER: "demand",
    Action.FOURTEEN_DAY_LETTER: "fourteen_day",
    Action.BKR_WARNING_LETTER: "bkr_warning",
    Action.DEFAULT_NOTICE_LETTER: "default_notice",
}
TASK_KIND: dict[Action, str] = {
    Action.CALL_TASK: "call",
    Action.CALL_IN_TASK: "call_in_proposal",
    Action.HANDOVER_TASK: "handover_review",
}


class StageDef(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    stage: Stage
    after_days: int = Field(ge=1, le=3650)
    actions: tuple[Action, ...] = ()
    next_action: NextAction  # a code, translated when shown (ui.labels.NEXT_ACTION)

    @field_validator("next_action")
    @classmethod
    def _coded(cls, value: NextAction) -> NextAction:
        if value in (NextAction.FREE, NextAction.NONE):  # free text has no place in a file of codes; none is no work
            raise ValueError(f"{value.value!r} is no next action for a stage")
        return value


class _Interest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    consumer: Literal["wettelijk", "handels", "none"]
    business: Literal["wettelijk", "handels", "none"]


class _File(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    consumer: tuple[StageDef, ...] = Field(min_length=1)
    business: tuple[StageDef, ...] = Field(min_length=1)
    interest: _Interest


@dataclass(frozen=True)
class DebtorProcedure:
    """The stages of one debtor type, in order, and its statutory interest kind."""

    debtor: DebtorType
    stages: tuple[StageDef, ...]
    interest: Literal["wettelijk", "handels", "none"]

    @property
    def first(self) -> StageDef:
        return self.stages[0]

    def get(self, stage: str) -> StageDef | None:
        return next((s for s in self.stages if s.stage.value == stage), None)

    def next_after(self, stage: str) -> StageDef | None:
        """The first configured stage after ``stage`` in the enum's order (also for a stage not configured
        for this debtor type, e.g. a case made before the file changed)."""
        rank = STAGE_ORDER[stage]
        return next((s for s in self.stages if STAGE_ORDER[s.stage.value] > rank), None)

    def first_with(self, action: Action) -> StageDef | None:
        return next((s for s in self.stages if action in s.actions), None)

    def reached(self, stage: str, action: Action) -> bool:
        """Whether a case at ``stage`` has entered (or passed) the stage that carries ``action``."""
        holder = self.first_with(action)
        return holder is not None and STAGE_ORDER[stage] >= STAGE_ORDER[holder.stage.value]


@dataclass(frozen=True)
class Procedure:
    consumer: DebtorProcedure
    business: DebtorProcedure
    source: str

    def for_debtor(self, consumer: bool) -> DebtorProcedure:
        return self.consumer if consumer else self.business


def _where(loc: tuple[Any, ...], raw: dict[str, Any]) -> tuple[str, str]:
    """(stage, field) named by a pydantic error location like ('consumer', 2, 'after_days')."""
    if len(loc) >= 2 and loc[0] in ("consumer", "business") and isinstance(loc[1], int):
        stages = raw.get(loc[0]) or []
        name = (
            stages[loc[1]].get("stage", f"#{loc[1] + 1}")
            if loc[1] < len(stages) and isinstance(stages[loc[1]], dict)
            else f"#{loc[1] + 1}"
        )
        field = ".".join(str(p) for p in loc[2:]) or "stage"
        return f"{loc[0]}.{name}", field
    return str(loc[0]) if loc else "-", ".".join(str(p) for p in loc[1:]) or "-"


def _refuse(path: str, stage: str, field: str, problem: str) -> ConfigError:
    return ConfigError(
        N_("Procedure file {file}, stage {stage}, field {field_name}: {problem}"),
        file=path,
        stage=stage,
        field_name=field,
        problem=problem,
    )


def _check_order(path: str, debtor: str, stages: tuple[StageDef, ...]) -> None:
    seen: dict[Action, str] = {}
    previous: StageDef | None = None
    for st in stages:
        where = f"{debtor}.{st.stage.value}"
        if previous is not None and STAGE_ORDER[st.stage.value] <= STAGE_ORDER[previous.stage.value]:
            raise _refuse(
                path,
                where,
                "stage",
                f"comes after {previous.stage.value}; stages must follow the procedure order without repeats",
            )
        if len(set(st.actions)) != len(st.actions):
            raise _refuse(path, where, "actions", "an action is listed twice")
        if Action.BKR_REGISTER in st.actions and Action.BKR_WARNING_LETTER not in seen:
            raise _refuse(path, where, "actions", "bkr_register needs a bkr_warning_letter in an earlier stage")
        if (
            debtor == "consumer"
            and Action.COLLECTION_COSTS in st.actions
            and Action.FOURTEEN_DAY_LETTER not in seen
            and Action.FOURTEEN_DAY_LETTER not in st.actions
        ):
            raise _refuse(
                path,
                where,
                "actions",
                "consumer collection costs need the fourteen_day_letter in this or an earlier stage",
            )
        for action in st.actions:
            seen.setdefault(action, st.stage.value)
        previous = st
    if Action.BKR_REGISTER in seen:
        register = next(s for s in stages if Action.BKR_REGISTER in s.actions)
        warning_stage = seen[Action.BKR_WARNING_LETTER]
        if stages[stages.index(register) - 1].stage.value != warning_stage:
            raise _refuse(
                path,
                f"{debtor}.{register.stage.value}",
                "actions",
                "bkr_register must directly follow the stage with the bkr_warning_letter",
            )
    if debtor == "business" and Action.FOURTEEN_DAY_LETTER in seen:
        raise _refuse(
            path, f"{debtor}.{seen[Action.FOURTEEN_DAY_LETTER]}", "actions", "the 14-day letter is for consumers only"
        )


def parse_procedure(raw: dict[str, Any], path: str) -> Procedure:
    """Validate an already parsed procedure document (see the module docstring)."""
    try:
        parsed = _File.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        stage, field = _where(tuple(first["loc"]), raw)
        raise _refuse(path, stage, field, first["msg"]) from None
    for debtor in ("consumer", "business"):
        _check_order(path, debtor, getattr(parsed, debtor))
    return Procedure(
        consumer=DebtorProcedure("consumer", parsed.consumer, parsed.interest.consumer),
        business=DebtorProcedure("business", parsed.business, parsed.interest.business),
        source=path,
    )


def load_procedure(path: Path | None = None) -> Procedure:
    """Read and validate ``data/procedure.toml`` (or ``path``); any problem is a :class:`ConfigError`."""
    path = DEFAULT_PROCEDURE_PATH if path is None else path
    try:
        with path.open("rb") as fh:
            content = fh.read(_MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise ConfigError(
            N_("Cannot read the procedure file {file}: {reason}"), file=str(path), reason=exc.strerror
        ) from exc
    if len(content) > _MAX_FILE_BYTES:
        raise ConfigError(N_("The procedure file {file} is too large"), file=str(path))
    try:
        raw = tomllib.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(
            N_("The procedure file {file} is not valid TOML: {reason}"), file=str(path), reason=str(exc)
        ) from exc
    return parse_procedure(raw, str(path))
