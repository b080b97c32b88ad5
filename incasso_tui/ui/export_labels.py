"""The labels of an export in the session's language (services.exports.ExportLabels), for the TUI and the CLI."""

from __future__ import annotations

from typing import TYPE_CHECKING

from incasso_tui.errors import N_
from incasso_tui.services.exports import ExportLabels
from incasso_tui.ui.labels import FLAG, STAGE, STATUS

if TYPE_CHECKING:
    from incasso_tui.i18n import Translator

HEADER = (
    N_("Case"),
    N_("Client number"),
    N_("Client"),
    N_("Loans"),
    N_("Days past due"),
    N_("Arrears"),
    N_("Stage"),
    N_("Status"),
    N_("Next action"),
    N_("Owner"),
    N_("Flag"),
)
_KINDS = {"stage": STAGE, "status": STATUS, "flag": FLAG}


def export_labels(tr: Translator) -> ExportLabels:
    def label(kind: str, code: str) -> str:
        msgid = _KINDS[kind].get(code)
        return tr(msgid) if msgid else code

    return ExportLabels(header=tuple(tr(h) for h in HEADER), label=label)
