"""Importing and exporting Q&As on SQLite and PostgreSQL: the preview's per-row errors and
duplicates, skip or update, all-or-nothing writes, and export → import round trips."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from core.domain import QAType
from core.errors import PermissionDenied, ValidationFailed
from core.models import QA, AuditEntry
from core.permissions import Actor
from core.services import qas
from core.services.qas import OnDuplicate, QAQuery, RowStatus
from core.tabular import read_table
from core.uow import UnitOfWork
from tests.qa_seed import add_qas, make_model

Uows = Callable[[], UnitOfWork]


def _count(uow: UnitOfWork, model_id: int) -> int:
    with uow:
        return uow.session.scalar(select(func.count()).where(QA.model_id == model_id)) or 0


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def test_preview_names_every_problem_by_row_and_writes_nothing(
    new_uow: Uows, trainer: Actor
) -> None:
    model = make_model(new_uow(), "M")
    add_qas(new_uow(), model, [("Opening hours?", "9 to 5"), ("Refunds?", "30 days")])
    data = (
        "Frage;Antwort;Typ\n"
        "New question?;New answer;training\n"  # row 2: new
        "Empty answer?;;training\n"  # row 3: error
        "Odd type?;An answer;exam\n"  # row 4: error
        "Opening hours?;9 to 5;training\n"  # row 5: same as existing
        "Refunds?;60 days now;validation\n"  # row 6: existing, differs
        "new question;Another answer;training\n"  # row 7: duplicate of row 2
        f"Long?;{'x' * 32_001};training\n"  # row 8: too long
    ).encode() + b"Caf\xe9?;Latin-1;training\n"  # row 9: broken encoding
    table = qas.read_upload("upload.csv", data)
    mapping = qas.suggest_mapping(table.headers)
    assert mapping["question"] == "Frage" and mapping["answer"] == "Antwort"
    assert mapping["qa_type"] == "Typ" or mapping["qa_type"] is None
    mapping["qa_type"] = "Typ"

    preview = qas.preview_import(new_uow(), trainer, model, table, mapping)
    assert preview.total == 8
    assert preview.counts == {
        RowStatus.NEW: 1,
        RowStatus.ERROR: 4,
        RowStatus.EXISTING_SAME: 1,
        RowStatus.EXISTING_CHANGED: 1,
        RowStatus.DUPLICATE_IN_FILE: 1,
    }
    errors = {r.where: r.errors for r in preview.problems if r.status == RowStatus.ERROR}
    assert errors == {
        "row 3": ("answer is empty",),
        "row 4": ("type 'exam' is unknown; use training or validation",),
        "row 8": ("answer has 32,001 characters; at most 32,000 are allowed",),
        "row 9": ("question has broken characters (the file is not valid UTF-8 there)",),
    }
    duplicate = next(r for r in preview.problems if r.status == RowStatus.DUPLICATE_IN_FILE)
    assert (duplicate.where, duplicate.duplicate_of) == ("row 7", 2)
    assert preview.would_write(OnDuplicate.SKIP) == 1
    assert preview.would_write(OnDuplicate.UPDATE) == 2
    assert _count(new_uow(), model) == 2


def test_preview_and_import_name_similar_existing_questions(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    (instagram, _hours) = add_qas(
        new_uow(),
        model,
        [("How often should we post on Instagram?", "Twice a week."), ("Hours?", "9 to 5")],
    )
    data = _csv(
        "question,answer\n"
        "How often do we post on Instagram?,Every day.\n"  # row 2: similar to the first
        "How often do we post on Facebook?,Never.\n"  # row 3: another question
    )
    table = qas.read_upload("social.csv", data)
    mapping = qas.suggest_mapping(table.headers)
    preview = qas.preview_import(new_uow(), trainer, model, table, mapping)
    assert preview.counts == {RowStatus.NEW: 2}
    assert [(r.where, r.similar_to) for r in preview.problems] == [("row 2", (instagram,))]
    result = qas.commit_import(new_uow(), trainer, model, table, mapping)
    assert result.created == 2
    assert result.similar == (f"row 2 is similar to #{instagram}",)


def test_import_with_errors_is_refused_unless_they_are_left_out(
    new_uow: Uows, trainer: Actor
) -> None:
    model = make_model(new_uow(), "M")
    table = qas.read_upload("x.csv", _csv("question,answer\nGood?,Yes\nBad?,\n"))
    with pytest.raises(ValidationFailed) as caught:
        qas.commit_import(new_uow(), trainer, model, table, qas.suggest_mapping(table.headers))
    assert "row 3: answer is empty" in str(caught.value)
    assert _count(new_uow(), model) == 0

    result = qas.commit_import(
        new_uow(),
        trainer,
        model,
        table,
        qas.suggest_mapping(table.headers),
        leave_out_errors=True,
    )
    assert (result.created, result.errors) == (1, 1)
    assert _count(new_uow(), model) == 1


def test_skip_or_update_duplicates(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    (existing,) = add_qas(new_uow(), model, [("Refunds?", "30 days", "Old")])
    data = _csv(
        "question,answer,section\nRefunds?,60 days,New\nShipping?,2 days,\nshipping,3 days,\n"
    )
    table = qas.read_upload("x.csv", data)

    skipped = qas.commit_import(
        new_uow(), trainer, model, table, qas.suggest_mapping(table.headers), OnDuplicate.SKIP
    )
    assert (skipped.created, skipped.updated, skipped.skipped) == (1, 0, 2)
    rows = {r.question: r for r in qas.list_qas(new_uow(), trainer, QAQuery(model_id=model)).rows}
    assert rows["Refunds?"].answer == "30 days" and rows["Shipping?"].answer == "2 days"

    updated = qas.commit_import(
        new_uow(), trainer, model, table, qas.suggest_mapping(table.headers), OnDuplicate.UPDATE
    )
    # The last "shipping" row of the file wins, as if the rows were applied in order.
    assert (updated.created, updated.updated) == (0, 2)
    refreshed = qas.get_qa(new_uow(), trainer, existing)
    assert (refreshed.answer, refreshed.section, refreshed.row_version) == ("60 days", "New", 2)
    rows = {r.question: r for r in qas.list_qas(new_uow(), trainer, QAQuery(model_id=model)).rows}
    assert rows["shipping"].answer == "3 days" and "Shipping?" not in rows
    uow = new_uow()
    with uow:
        audits = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "import"))
        assert [a.after["created"] for a in audits if a.after] == [1, 0]


def test_a_failure_half_way_writes_nothing(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    (existing,) = add_qas(new_uow(), model, [("Q0?", "old")])
    rows = "".join(f"Q{i}?,A{i}\n" for i in range(5_000))
    table = qas.read_upload("x.csv", _csv("question,answer\n" + rows))
    calls: list[str] = []

    def explode(fraction: float, text: str) -> None:
        calls.append(text)
        if text.startswith("wrote"):
            raise RuntimeError("the connection dropped")

    with pytest.raises(RuntimeError):
        qas.commit_import(
            new_uow(),
            trainer,
            model,
            table,
            qas.suggest_mapping(table.headers),
            OnDuplicate.UPDATE,
            progress=explode,
        )
    assert any(c.startswith("wrote") for c in calls)
    assert _count(new_uow(), model) == 1
    assert qas.get_qa(new_uow(), trainer, existing).answer == "old"


@pytest.mark.parametrize("kind", ["csv", "xlsx", "jsonl"])
def test_export_then_import_gives_the_same_data(new_uow: Uows, trainer: Actor, kind: str) -> None:
    source = make_model(new_uow(), "Source")
    add_qas(
        new_uow(),
        source,
        [
            {"question": "=1+1?", "answer": "-5 degrees", "section": "@ops", "notes": "+1"},
            {"question": "'=quoted", "answer": 'Line one\nLine two, "quoted"', "section": ""},
            {"question": "Grüße?", "answer": "東京 ✓", "qa_type": QAType.VALIDATION},
            {"question": "Old?", "answer": "Inactive", "is_active": False, "notes": "kept"},
        ],
    )
    exported = qas.export_qas(new_uow(), trainer, QAQuery(model_id=source), kind)
    assert exported.rows == 4 and exported.name == f"source-qas.{kind}"
    target = make_model(new_uow(), "Target")
    table = qas.read_upload(exported.name, exported.data)
    mapping = qas.suggest_mapping(table.headers)
    result = qas.commit_import(new_uow(), trainer, target, table, mapping)
    assert result.created == 4

    def content(model_id: int) -> list[tuple[object, ...]]:
        listing = qas.list_qas(new_uow(), trainer, QAQuery(model_id=model_id))
        return [
            (r.section, r.question, r.answer, r.qa_type, r.is_active, r.notes) for r in listing.rows
        ]

    assert content(target) == content(source)


def test_export_follows_the_filter_and_neutralises_formulas(
    new_uow: Uows, trainer: Actor, manager: Actor
) -> None:
    model = make_model(new_uow(), "M")
    add_qas(new_uow(), model, [("=cmd|' /C calc'!A0", "x", "Risky"), ("Safe?", "y", "Other")])
    exported = qas.export_qas(
        new_uow(), manager, QAQuery(model_id=model, sections=("Risky",)), "csv"
    )
    text = exported.data.decode("utf-8-sig")
    assert exported.rows == 1 and "Safe?" not in text
    assert "\"'=cmd|' /C calc'!A0\"" in text
    with pytest.raises(ValidationFailed):
        qas.export_qas(new_uow(), manager, QAQuery(model_id=model), "docx")
    table = read_table("x.csv", exported.data)
    with pytest.raises(PermissionDenied):
        qas.commit_import(new_uow(), manager, model, table, qas.suggest_mapping(table.headers))


def test_pasted_rows_with_or_without_a_header(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    table, mapping = qas.read_paste("Where?\tHere\tOps\nWhen?\tNow\t\n")
    assert mapping["question"] == "column 1" and mapping["section"] == "column 3"
    preview = qas.preview_import(new_uow(), trainer, model, table, mapping)
    assert preview.counts == {RowStatus.NEW: 2}
    assert [r.values["section"] for r in preview.sample] == ["Ops", ""]

    table, mapping = qas.read_paste("answer,question\nHere,Where?\n")
    assert mapping["question"] == "question" and table.rows[0].number == 2
    result = qas.commit_import(new_uow(), trainer, model, table, mapping)
    assert result.created == 1
    with pytest.raises(ValidationFailed, match="Nothing to add"):
        qas.read_paste("   ")


def test_unmapped_columns_are_named(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    table = qas.read_upload("x.csv", _csv("q,text\nA?,B\n"))
    with pytest.raises(ValidationFailed) as caught:
        qas.preview_import(new_uow(), trainer, model, table, {"question": "q"})
    assert "answer: choose the column that holds it" in str(caught.value)
    with pytest.raises(ValidationFailed, match="no column 'nope'"):
        qas.preview_import(new_uow(), trainer, model, table, {"question": "q", "answer": "nope"})


def test_a_column_is_cleaned_as_each_of_its_values() -> None:
    import random

    from core.qa_rules import EDITABLE_FIELDS, FieldError, clean_column, clean_field

    rng = random.Random(8)
    pieces = ["a", "B", " ", "\t", "\n", "\r\n", "\r", "\x00", "\x1f", "\ufffd", "é", "x" * 700]
    words = ["", " ", "yes", "No", "0", "training", " Validation ", "maybe", "TRUE", "x"]
    for field in EDITABLE_FIELDS:
        raws = [
            rng.choice(words)
            if rng.random() < 0.3
            else "".join(rng.choice(pieces) for _ in range(rng.randint(0, 12)))
            for _ in range(2_000)
        ]
        values, errors = clean_column(field, raws)
        for i, raw in enumerate(raws):
            try:
                assert (values[i], i in errors) == (clean_field(field, raw), False)
            except FieldError as exc:
                assert (values[i], errors.get(i)) == (None, str(exc))
        assert errors and len(errors) < len(raws)
