"""The Q&A grid's services on SQLite and PostgreSQL: paging, search, filters, sorting,
related rows, cell saves with conflicts, and bulk actions with undo."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import func, or_, select

from core.domain import QAType, utcnow
from core.errors import Conflict, EditConflict, PermissionDenied, ValidationFailed
from core.models import QA, AuditEntry
from core.permissions import Actor
from core.services import qas
from core.services.qas import BulkAction, QAInput, QAQuery, Selection
from core.training.hierarchy import Relation
from core.uow import UnitOfWork
from tests.qa_seed import add_qas, make_model, make_tree

Uows = Callable[[], UnitOfWork]


def _rows(n: int, section: str = "") -> list[tuple[str, str, str]]:
    return [(f"Question {i:03d}?", f"Answer {i:03d}.", section) for i in range(n)]


def test_paging_counts_and_sections(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    add_qas(new_uow(), model, _rows(120, "Billing") + _rows(30, "Shipping"))
    query = QAQuery(model_id=model)

    first = qas.list_qas(new_uow(), trainer, query, offset=0, limit=50)
    assert first.total == 150 and len(first.rows) == 50
    assert first.section_counts == {"Billing": 120, "Shipping": 30}
    last = qas.list_qas(new_uow(), trainer, query, offset=140, limit=50)
    assert len(last.rows) == 10 and last.offset == 140
    # An offset past the end shows the last page rather than nothing.
    beyond = qas.list_qas(new_uow(), trainer, query, offset=10_000, limit=50)
    assert beyond.offset == 100 and len(beyond.rows) == 50
    # Never more than one page of 500, whatever is asked.
    assert qas.list_qas(new_uow(), trainer, query, limit=10_000).limit == 500

    shipping = qas.list_qas(new_uow(), trainer, QAQuery(model_id=model, sections=("Shipping",)))
    assert shipping.total == 30
    # The section counts ignore the section filter, so the picker still offers every section.
    assert shipping.section_counts == {"Billing": 120, "Shipping": 30}


def test_search_words_phrases_and_wildcards(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    add_qas(
        new_uow(),
        model,
        [
            ("How do refunds work?", "Refund within 30 days to the original card."),
            ("Opening hours?", "Monday to Friday, 9 to 5; no REFUNDS at the desk."),
            ("Discount codes", "Use 100% off codes only with approval_id."),
            ("Bank transfer", "Our bank credit line is separate."),
            ("Other", "Nothing here."),
        ],
    )

    def found(text: str) -> list[str]:
        listing = qas.list_qas(new_uow(), trainer, QAQuery(model_id=model, search=text))
        assert listing.total == len(listing.rows)
        return [r.question for r in listing.rows]

    assert found("refund") == ["How do refunds work?", "Opening hours?"]  # any case, q or a
    assert found("refund card") == ["How do refunds work?"]  # every word must match
    assert found('"bank credit"') == ["Bank transfer"]
    assert found('"credit bank"') == []
    # % and _ are text, not wildcards.
    assert found("100%") == ["Discount codes"]
    assert found("approval_id") == ["Discount codes"]
    assert found("approval%id") == []
    assert len(found("")) == 5


def test_filters_and_sorting(new_uow: Uows, trainer: Actor, admin: Actor) -> None:
    model = make_model(new_uow(), "M")
    ids = add_qas(
        new_uow(),
        model,
        [
            {"question": "b?", "answer": "x", "qa_type": QAType.VALIDATION},
            {"question": "a?", "answer": "y", "is_active": False},
            {"question": "c?", "answer": "z"},
        ],
        user_id=admin.user_id,
    )
    qas.update_qa(new_uow(), trainer, ids[2], {"answer": "zz"}, expected_version=1)

    def questions(**kw: object) -> list[str]:
        query = QAQuery(model_id=model, **kw)  # type: ignore[arg-type]
        return [r.question for r in qas.list_qas(new_uow(), trainer, query).rows]

    assert questions(qa_type=QAType.VALIDATION) == ["b?"]
    assert questions(active=False) == ["a?"]
    assert questions(changed_by_id=trainer.user_id) == ["c?"]
    assert questions(changed_since=utcnow() + timedelta(hours=1)) == []
    assert questions(ids=(ids[0], ids[2])) == ["b?", "c?"]
    assert questions(sort="question") == ["a?", "b?", "c?"]
    assert questions(sort="question", descending=True) == ["c?", "b?", "a?"]
    assert questions(sort="id", descending=True) == ["c?", "a?", "b?"]
    with pytest.raises(ValidationFailed):
        questions(sort="password")

    facets = qas.qa_facets(new_uow(), trainer, model)
    assert facets.total == 3
    assert set(facets.editors) == {admin.user_id, trainer.user_id}


def test_related_rows_are_read_only_with_their_source(new_uow: Uows, trainer: Actor) -> None:
    tree = make_tree(new_uow())
    add_qas(new_uow(), tree.master, [("Company hours?", "9 to 5")])
    add_qas(new_uow(), tree.sales, [("Discount?", "Up to 10%")])
    add_qas(new_uow(), tree.support, [("Reset password?", "Use the link")])

    own = qas.list_qas(new_uow(), trainer, QAQuery(model_id=tree.sales))
    assert [r.question for r in own.rows] == ["Discount?"]

    sales = qas.list_qas(new_uow(), trainer, QAQuery(model_id=tree.sales, include_related=True))
    by_question = {r.question: r for r in sales.rows}
    assert set(by_question) == {"Company hours?", "Discount?"}
    inherited = by_question["Company hours?"]
    assert inherited.relation == Relation.INHERITED and inherited.model_name == "Master"
    assert not inherited.editable and by_question["Discount?"].editable

    master = qas.list_qas(new_uow(), trainer, QAQuery(model_id=tree.master, include_related=True))
    relations = {r.question: (r.relation, r.model_name) for r in master.rows}
    assert relations["Reset password?"] == (Relation.AGGREGATED, "Support")
    facets = qas.qa_facets(new_uow(), trainer, tree.master)
    assert [name for _, name, _ in facets.related_models] == ["Sales", "Support"]

    # A bulk action over "all that match" never touches the related rows.
    selection = Selection(tree.sales, query=QAQuery(model_id=tree.sales, include_related=True))
    assert qas.count_selection(new_uow(), trainer, selection) == 1


def test_locate_finds_the_page_of_a_record(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    ids = add_qas(new_uow(), model, [(f"q{i:03d}", f"a{i}", f"s{i % 3}") for i in range(30)])
    assert qas.locate_qa(new_uow(), trainer, ids[17], QAQuery(model_id=model)) == 17
    by_section = QAQuery(model_id=model, sort="section", descending=True)
    position = qas.locate_qa(new_uow(), trainer, ids[17], by_section)
    listing = qas.list_qas(new_uow(), trainer, by_section, limit=500)
    assert position is not None and listing.rows[position].id == ids[17]
    hidden = QAQuery(model_id=model, search="nothing like this")
    assert qas.locate_qa(new_uow(), trainer, ids[17], hidden) is None


def test_cell_save_keeps_key_and_audit(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    (qa_id,) = add_qas(new_uow(), model, [("Old question?", "Old answer")])

    saved = qas.update_qa(
        new_uow(), trainer, qa_id, {"question": "  New   QUESTION!  "}, expected_version=1
    )
    assert saved.question == "New   QUESTION!" and saved.row_version == 2
    assert saved.changed_by == trainer.display_name
    uow = new_uow()
    with uow:
        row = uow.session.get(QA, qa_id)
        assert row is not None and row.question_key == "new question"
        audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.entity_id == qa_id)).one()
        assert audit.before == {"question": "Old question?"}
        assert audit.after == {"question": "New   QUESTION!"}

    deactivated = qas.update_qa(new_uow(), trainer, qa_id, {"is_active": False}, 2)
    assert not deactivated.is_active
    typed = qas.update_qa(new_uow(), trainer, qa_id, {"qa_type": "validation"}, 3)
    assert typed.qa_type == QAType.VALIDATION
    # Saving the same value again changes nothing and keeps the version.
    same = qas.update_qa(new_uow(), trainer, qa_id, {"qa_type": "validation"}, 4)
    assert same.row_version == 4


def test_conflict_shows_both_values_and_writes_nothing(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    (qa_id,) = add_qas(new_uow(), model, [("Q?", "Original")])
    qas.update_qa(new_uow(), trainer, qa_id, {"answer": "Theirs"}, expected_version=1)

    with pytest.raises(EditConflict) as caught:
        qas.update_qa(
            new_uow(),
            trainer,
            qa_id,
            {"answer": "Mine"},
            expected_version=1,
            seen={"answer": "Original"},
        )
    change = caught.value.changes[0]
    assert (change.field, change.seen, change.stored, change.attempted) == (
        "answer",
        "Original",
        "Theirs",
        "Mine",
    )
    assert caught.value.stored_version == 2
    assert qas.get_qa(new_uow(), trainer, qa_id).answer == "Theirs"
    # Choosing "keep mine" is a save against the version now stored.
    kept = qas.update_qa(new_uow(), trainer, qa_id, {"answer": "Mine"}, expected_version=2)
    assert kept.answer == "Mine" and kept.row_version == 3


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"question": "   "}, "question is empty"),
        ({"answer": ""}, "answer is empty"),
        ({"qa_type": "test"}, "type 'test' is unknown"),
        ({"answer": "x" * 32_001}, "answer has 32,001 characters; at most 32,000"),
        ({"section": "s" * 121}, "section has 121 characters"),
        ({"is_active": "maybe"}, "active 'maybe' is unknown"),
        ({"row_version": 9}, "is not editable"),
    ],
)
def test_refused_values_write_nothing(
    new_uow: Uows, trainer: Actor, changes: dict[str, object], message: str
) -> None:
    model = make_model(new_uow(), "M")
    (qa_id,) = add_qas(new_uow(), model, [("Q?", "A")])
    with pytest.raises(ValidationFailed) as caught:
        qas.update_qa(new_uow(), trainer, qa_id, changes, expected_version=1)
    assert message in str(caught.value)
    stored = qas.get_qa(new_uow(), trainer, qa_id)
    assert (stored.question, stored.answer, stored.row_version) == ("Q?", "A", 1)


def test_add_and_roles(new_uow: Uows, trainer: Actor, manager: Actor) -> None:
    model = make_model(new_uow(), "M")
    row = qas.add_qa(
        new_uow(), trainer, model, QAInput("Where?", "Here", section="Ops", qa_type="validation")
    )
    assert row.qa_type == QAType.VALIDATION and row.added_by == trainer.display_name
    with pytest.raises(ValidationFailed, match="answer is empty"):
        qas.add_qa(new_uow(), trainer, model, QAInput("Where?", " "))
    with pytest.raises(PermissionDenied):
        qas.add_qa(new_uow(), manager, model, QAInput("Where?", "Here"))
    with pytest.raises(PermissionDenied):
        qas.update_qa(new_uow(), manager, row.id, {"answer": "x"}, row.row_version)
    assert qas.list_qas(new_uow(), manager, QAQuery(model_id=model)).total == 1


def _snapshot(uow: UnitOfWork, model_id: int) -> list[tuple[object, ...]]:
    with uow:
        return [
            tuple(r)
            for r in uow.session.execute(
                select(
                    QA.id,
                    QA.model_id,
                    QA.section,
                    QA.question,
                    QA.answer,
                    QA.qa_type,
                    QA.is_active,
                    QA.notes,
                )
                .where(QA.model_id == model_id)
                .order_by(QA.id)
            )
        ]


@pytest.mark.parametrize(
    ("action", "value"),
    [
        (BulkAction.SET_SECTION, "Archive"),
        (BulkAction.SET_TYPE, "validation"),
        (BulkAction.DEACTIVATE, None),
        (BulkAction.DELETE, None),
        (BulkAction.MOVE, None),
        (BulkAction.COPY, None),
    ],
)
def test_bulk_action_then_undo_restores_everything(
    new_uow: Uows, trainer: Actor, action: BulkAction, value: object
) -> None:
    model = make_model(new_uow(), "M")
    other = make_model(new_uow(), "Other")
    add_qas(new_uow(), model, _rows(40, "Billing") + _rows(10, "Shipping"))
    add_qas(new_uow(), other, [("Question 000?", "Answer 000.")])
    before_model, before_other = _snapshot(new_uow(), model), _snapshot(new_uow(), other)

    selection = Selection(model, query=QAQuery(model_id=model, sections=("Billing",)))
    assert qas.count_selection(new_uow(), trainer, selection) == 40
    result = qas.bulk_update(new_uow(), trainer, selection, action, value, target_model_id=other)
    # Copy skips the one row the other model already holds word for word.
    assert result.changed == (39 if action == BulkAction.COPY else 40)
    assert result.journal_id is not None
    after = _snapshot(new_uow(), model)
    assert after != before_model or action == BulkAction.COPY
    uow = new_uow()
    with uow:
        audit = uow.session.scalars(
            select(AuditEntry).where(AuditEntry.action == f"bulk_{action.value}")
        ).one()
        assert audit.actor_email == trainer.email and str(result.changed) in audit.summary

    undone = qas.undo_bulk(new_uow(), trainer, result.journal_id)
    assert undone.changed == result.changed
    assert _snapshot(new_uow(), model) == before_model
    assert _snapshot(new_uow(), other) == before_other
    with pytest.raises(Conflict, match="already undone"):
        qas.undo_bulk(new_uow(), trainer, result.journal_id)


def test_undo_never_overwrites_a_later_edit(new_uow: Uows, trainer: Actor, admin: Actor) -> None:
    model = make_model(new_uow(), "M")
    ids = add_qas(new_uow(), model, _rows(5))
    result = qas.bulk_update(
        new_uow(), trainer, Selection(model, ids=tuple(ids[:3])), BulkAction.SET_SECTION, "New"
    )
    assert result.changed == 3 and result.journal_id is not None
    qas.update_qa(new_uow(), admin, ids[1], {"answer": "edited later"}, expected_version=2)
    with pytest.raises(Conflict, match="1 of these Q&As were changed"):
        qas.undo_bulk(new_uow(), trainer, result.journal_id)
    rows = qas.list_qas(new_uow(), trainer, QAQuery(model_id=model)).rows
    assert [r.section for r in rows] == ["New", "New", "New", "", ""]


def test_bulk_actions_skip_rows_that_already_have_the_value(new_uow: Uows, trainer: Actor) -> None:
    model = make_model(new_uow(), "M")
    ids = add_qas(new_uow(), model, _rows(4))
    qas.update_qa(new_uow(), trainer, ids[0], {"is_active": False}, 1)
    result = qas.bulk_update(
        new_uow(), trainer, Selection(model, ids=tuple(ids)), BulkAction.DEACTIVATE
    )
    assert (result.changed, result.skipped) == (3, 1)
    with pytest.raises(ValidationFailed, match="unknown"):
        qas.bulk_update(new_uow(), trainer, Selection(model, ids=tuple(ids)), "set_type", "x")
    with pytest.raises(ValidationFailed, match="another model"):
        qas.bulk_update(
            new_uow(), trainer, Selection(model, ids=tuple(ids)), "move", target_model_id=model
        )
    uow = new_uow()
    with uow:
        inactive = uow.session.scalar(
            select(func.count()).where(QA.model_id == model, QA.deactivated_at.is_not(None))
        )
    assert inactive == 4


def test_a_search_pages_counts_and_sorts_like_any_other_filter(
    new_uow: Uows, trainer: Actor
) -> None:
    model = make_model(new_uow(), "M")
    add_qas(new_uow(), model, _rows(120, "Billing") + _rows(30, "Shipping"))
    everything = QAQuery(model_id=model, sort="question", descending=True, sections=("Billing",))
    searched = replace(everything, search="answer")  # every row matches
    for offset in (0, 50, 10_000):
        plain = qas.list_qas(new_uow(), trainer, everything, offset=offset, limit=50)
        found = qas.list_qas(new_uow(), trainer, searched, offset=offset, limit=50)
        assert [r.id for r in found.rows] == [r.id for r in plain.rows]
        assert (found.total, found.offset) == (plain.total, plain.offset)
        assert found.section_counts == plain.section_counts == {"Billing": 120, "Shipping": 30}
    some = qas.list_qas(new_uow(), trainer, QAQuery(model_id=model, search='"answer 01"'))
    assert some.total == 20 and some.section_counts == {"Billing": 10, "Shipping": 10}


def test_search_finds_what_a_case_blind_like_over_each_text_finds(
    new_uow: Uows, trainer: Actor
) -> None:
    from core.services import qas
    from core.services.qas.query import contains_text, dialect_of

    model = make_model(new_uow(), "M")
    add_qas(
        new_uow(),
        model,
        [
            ("Größe der ÉCOLE?", "Straße 5, İstanbul"),
            ("tail?", "head of the answer"),
            ("x", "50% _off_ \\ back"),
            ("MIXED Case", "ǅ ǈ ΣΑΣ"),
        ],
    )
    terms = ["école", "GRÖSSE", "straße", "istanbul", "tail?\nhead", "? head", "?", "50%",
             "_off_", "\\", "σας", "ǆ", "case", "CASE", "ÉCOLE", "x"]  # fmt: skip
    for term in terms:
        listing = qas.list_qas(new_uow(), trainer, QAQuery(model_id=model, search=f'"{term}"'))
        uow = new_uow()
        with uow:
            dialect = dialect_of(uow.session)
            expected = uow.session.scalars(
                select(QA.id)
                .where(
                    QA.model_id == model,
                    or_(
                        contains_text(QA.question, term, dialect),
                        contains_text(QA.answer, term, dialect),
                    ),
                )
                .order_by(QA.id)
            ).all()
        assert [r.id for r in listing.rows] == expected, term
