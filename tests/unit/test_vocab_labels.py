"""Every member of every closed vocabulary (domain.enums) has a display label (ui.labels) in English and Dutch."""

from __future__ import annotations

from enum import StrEnum

import pytest

from incasso_tui.domain import enums
from incasso_tui.i18n import catalog
from incasso_tui.ui import labels

# vocabulary -> its labels
LABELS: dict[type[StrEnum], dict[str, str]] = {
    enums.CaseStatus: labels.STATUS,
    enums.Stage: labels.STAGE,
    enums.ClientKind: labels.KIND,
    enums.Channel: labels.CHANNEL,
    enums.ContactOutcome: labels.OUTCOME,
    enums.ArrearsCause: labels.CAUSE,
    enums.LedgerKind: labels.LEDGER,
    enums.Repayment: labels.REPAYMENT,
    enums.Frequency: labels.FREQUENCY,
    enums.Role: labels.ROLE,
    enums.LoanStatus: labels.LOAN_STATUS,
    enums.ArrangementStatus: labels.ARRANGEMENT_STATUS,
    enums.TrackKind: labels.TRACK_KIND,
    enums.TrackStatus: labels.TRACK_STATUS,
    enums.TrackOutcome: labels.TRACK_OUTCOME,
    enums.LetterStatus: labels.LETTER_STATUS,
    enums.EmailStatus: labels.EMAIL_STATUS,
    enums.PrintBatchStatus: labels.PRINT_BATCH_STATUS,
    enums.PromiseStatus: labels.PROMISE_STATUS,
    enums.TaskStatus: labels.TASK_STATUS,
    enums.ProposalKind: labels.PROPOSAL_KIND,
    enums.ProposalStatus: labels.PROPOSAL_STATUS,
    enums.HandoverStatus: labels.HANDOVER_STATUS,
    enums.BankEntryStatus: labels.BANK_ENTRY_STATUS,
    enums.NextAction: labels.NEXT_ACTION,
}


def test_every_vocabulary_of_the_domain_has_labels() -> None:
    vocabularies = {
        v for v in vars(enums).values() if isinstance(v, type) and issubclass(v, StrEnum) and v is not StrEnum
    }
    assert vocabularies == set(LABELS)


@pytest.mark.parametrize("vocabulary", list(LABELS), ids=lambda v: v.__name__)
def test_every_member_has_a_label_in_both_languages(vocabulary: type[StrEnum]) -> None:
    shown = LABELS[vocabulary]
    assert {m.value for m in vocabulary} <= set(shown), f"{vocabulary.__name__} members without a label"
    nl = catalog("nl")
    for member in vocabulary:
        english = shown[member]  # keyed by the member (equal to its stored string)
        assert english.strip(), member
        assert nl.get(english, "").strip(), f"{vocabulary.__name__}.{member.name}: no Dutch for {english!r}"
