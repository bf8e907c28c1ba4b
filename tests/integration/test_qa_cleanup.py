"""The clean-up view's findings and actions, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from core.errors import ValidationFailed
from core.permissions import Actor
from core.services import qas
from core.services.qas import FindingKind, QAQuery
from core.uow import UnitOfWork
from tests.qa_seed import add_qas, make_tree

Uows = Callable[[], UnitOfWork]


def test_findings_of_each_kind(new_uow: Uows, trainer: Actor) -> None:
    tree = make_tree(new_uow())
    add_qas(new_uow(), tree.master, [("What are the opening hours?", "From 9 am to 5 pm")])
    ids = add_qas(
        new_uow(),
        tree.sales,
        [
            ("Do we ship abroad?", "Yes, within the EU."),  # 0 exact duplicate of 1
            ("Do we ship abroad?", "Yes, within the EU."),  # 1
            ("How long is the warranty?", "Two years."),  # 2 near duplicate of 3
            ("how long is the warranty", "two years"),  # 3
            ("What are the opening hours?", "From 8 am to 8 pm"),  # 4 conflicts with the master
            ("Who handles refunds?", "Write to refunds@northwind.example"),  # 5 personal data
            ("Pay to?", "IBAN DE89 3704 0044 0532 0130 00, thanks to everyone involved"),  # 6
            ("Is it free?", "No."),  # 7 very short
            ("Terms?", "word " * 1_000),  # 8 very long
            {"question": "Inactive dup?", "answer": "x" * 20, "is_active": False},  # 9
            {"question": "Inactive dup?", "answer": "x" * 20, "is_active": False},  # 10
        ],
    )
    report = qas.cleanup_report(new_uow(), trainer, tree.sales)
    assert report.scanned == 9  # active own rows

    def ids_of(kind: FindingKind) -> list[list[int]]:
        return [f.ids for f in report.findings[kind]]

    assert ids_of(FindingKind.EXACT_DUPLICATE) == [[ids[0], ids[1]]]
    assert ids_of(FindingKind.NEAR_DUPLICATE) == [[ids[2], ids[3]]]
    (conflict,) = report.findings[FindingKind.CONFLICT]
    assert conflict.own_ids == [ids[4]] and len(conflict.ids) == 2
    assert "also in Master" in conflict.summary
    assert [r.model_name for r in conflict.rows if not r.editable] == ["Master"]
    personal = {f.ids[0]: f.summary for f in report.findings[FindingKind.PERSONAL_DATA]}
    assert set(personal) == {ids[5], ids[6]}
    assert "1 e-mail address" in personal[ids[5]] and "IBAN" in personal[ids[6]]
    assert ids_of(FindingKind.SHORT_ANSWER) == [[ids[7]]]
    assert ids_of(FindingKind.LONG_ANSWER) == [[ids[8]]]
    assert report.count(FindingKind.CONFLICT) == 1

    # The master aggregates its children: the same conflict shows there too.
    master = qas.cleanup_report(new_uow(), trainer, tree.master)
    assert [f.summary for f in master.findings[FindingKind.CONFLICT]] == [
        "'What are the opening hours?' has 2 different answers (also in Sales)"
    ]


def test_merge_keeps_one_and_deactivates_the_rest(new_uow: Uows, trainer: Actor) -> None:
    tree = make_tree(new_uow())
    ids = add_qas(
        new_uow(),
        tree.sales,
        [("Ship abroad?", "Yes"), ("ship abroad", "Yes"), ("Ship abroad?", "Yes"), ("Other?", "x")],
    )
    result = qas.merge_duplicates(new_uow(), trainer, ids[0], [ids[1], ids[2]])
    assert result.changed == 2 and result.journal_id is not None
    active = qas.list_qas(new_uow(), trainer, QAQuery(model_id=tree.sales, active=True))
    assert [r.id for r in active.rows] == [ids[0], ids[3]]
    report = qas.cleanup_report(new_uow(), trainer, tree.sales)
    assert report.findings[FindingKind.EXACT_DUPLICATE] == []

    with pytest.raises(ValidationFailed, match="Only duplicates"):
        qas.merge_duplicates(new_uow(), trainer, ids[0], [ids[3]])
    qas.undo_bulk(new_uow(), trainer, result.journal_id)
    assert qas.list_qas(new_uow(), trainer, QAQuery(model_id=tree.sales, active=True)).total == 4


def test_fuzzy_duplicates_and_contradictions(new_uow: Uows, trainer: Actor) -> None:
    tree = make_tree(new_uow())
    (master_id,) = add_qas(
        new_uow(), tree.master, [("When can we post on LinkedIn?", "Never on weekends.")]
    )
    ids = add_qas(
        new_uow(),
        tree.sales,
        [
            ("How often should we post on Instagram?", "Twice a week."),  # 0
            ("How often do we post on Instagram?", "Twice a week"),  # 1 near-duplicate of 0
            ("How often should we post on Facebook?", "Once a month."),  # 2 another question
            ("Is order 12345 shipped?", "Yes, on Monday."),  # 3
            ("Is order 12346 shipped?", "No, next week."),  # 4 another order
            ("When can we post on Linkedin", "Any day at 9 am, weekends included."),  # 5
        ],
    )
    report = qas.cleanup_report(new_uow(), trainer, tree.sales)
    assert [f.ids for f in report.findings[FindingKind.NEAR_DUPLICATE]] == [[ids[0], ids[1]]]
    (conflict,) = report.findings[FindingKind.CONFLICT]
    assert sorted(conflict.ids) == sorted([master_id, ids[5]])
    assert "2 different answers (also in Master)" in conflict.summary

    result = qas.merge_duplicates(new_uow(), trainer, ids[0], [ids[1]])
    assert result.changed == 1
    assert (
        qas.cleanup_report(new_uow(), trainer, tree.sales).findings[FindingKind.NEAR_DUPLICATE]
        == []
    )
    with pytest.raises(ValidationFailed, match="Only duplicates"):
        qas.merge_duplicates(new_uow(), trainer, ids[0], [ids[2]])
    assert result.journal_id is not None
    qas.undo_bulk(new_uow(), trainer, result.journal_id)
    again = qas.cleanup_report(new_uow(), trainer, tree.sales)
    assert [f.ids for f in again.findings[FindingKind.NEAR_DUPLICATE]] == [[ids[0], ids[1]]]
