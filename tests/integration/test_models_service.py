from __future__ import annotations

from collections.abc import Callable

import pytest

from core.domain import ConversationStatus, ModelKind, ProviderType, QAType
from core.errors import Conflict, EditConflict, PermissionDenied, ValidationFailed
from core.models import QA, AuditEntry, TrainingConversation
from core.permissions import Actor
from core.services import catalog
from core.services.catalog import ModelInput
from core.training.hierarchy import Relation
from core.uow import UnitOfWork

Uows = Callable[[], UnitOfWork]


@pytest.fixture
def local_connection(new_uow: Uows, admin: Actor) -> int:
    return catalog.create_connection(
        new_uow(),
        admin,
        catalog.ConnectionInput(name="Local", provider_type=ProviderType.LOCAL),
    ).id


def _model(new_uow: Uows, admin: Actor, name: str, **kw: object) -> catalog.ModelDetail:
    return catalog.create_model(new_uow(), admin, ModelInput(name=name, **kw))  # type: ignore[arg-type]


def _add_data(
    new_uow: Uows, model_id: int, training: int, validation: int = 0, ready: int = 0
) -> None:
    uow = new_uow()
    with uow:
        for i in range(training + validation):
            qa_type = QAType.TRAINING if i < training else QAType.VALIDATION
            uow.session.add(
                QA(model_id=model_id, question=f"q{model_id}-{i}", answer="a", qa_type=qa_type)
            )
        for i in range(ready):
            uow.session.add(
                TrainingConversation(
                    model_id=model_id, title=f"c{i}", status=ConversationStatus.READY
                )
            )
        uow.commit()


def test_hierarchy_and_facts(
    new_uow: Uows, admin: Actor, trainer: Actor, local_connection: int
) -> None:
    master = _model(
        new_uow, admin, "Master", connection_id=local_connection, aggregate_children_training=True
    )
    sales = _model(new_uow, admin, "Sales", parent_id=master.id, inherit_parent_training=True)
    assert sales.effective_connection_id == local_connection and sales.connection_id is None
    _add_data(new_uow, master.id, training=3, validation=1, ready=1)
    _add_data(new_uow, sales.id, training=2, ready=2)
    tree = catalog.list_models(new_uow(), trainer)
    assert [(m.name, m.depth) for m in tree] == [("Master", 0), ("Sales", 1)]
    assert (tree[0].training_qas, tree[0].validation_qas, tree[0].ready_conversations) == (3, 1, 1)
    assert tree[1].connection_name == "Local"

    preview = catalog.training_set_preview(new_uow(), trainer, sales.id)
    assert [(s.model_name, s.relation, s.training_qas, s.ready_conversations) for s in preview] == [
        ("Sales", Relation.OWN, 2, 2),
        ("Master", Relation.INHERITED, 3, 1),
    ]
    preview = catalog.training_set_preview(new_uow(), trainer, master.id)
    assert [(s.model_name, s.relation) for s in preview] == [
        ("Master", Relation.OWN),
        ("Sales", Relation.AGGREGATED),
    ]


def test_cycles_and_self_parenting_are_refused(
    new_uow: Uows, admin: Actor, local_connection: int
) -> None:
    a = _model(new_uow, admin, "A", connection_id=local_connection)
    b = _model(new_uow, admin, "B", parent_id=a.id)
    c = _model(new_uow, admin, "C", parent_id=b.id)
    with pytest.raises(ValidationFailed) as cycle:
        catalog.update_model(new_uow(), admin, a.id, a.as_input(parent_id=c.id))
    assert "cycle" in str(cycle.value)
    with pytest.raises(ValidationFailed) as own:
        catalog.update_model(new_uow(), admin, a.id, a.as_input(parent_id=a.id))
    assert "its own parent" in str(own.value)


def test_a_model_without_connection_must_be_a_child(new_uow: Uows, admin: Actor) -> None:
    with pytest.raises(ValidationFailed, match="cannot be saved") as exc:
        _model(new_uow, admin, "Orphan")
    assert "must have a parent" in str(exc.value)


def test_names_are_unique_and_validated(new_uow: Uows, admin: Actor, local_connection: int) -> None:
    _model(new_uow, admin, "Sales", connection_id=local_connection)
    with pytest.raises(ValidationFailed, match="cannot be saved"):
        _model(new_uow, admin, "sales", connection_id=local_connection)
    with pytest.raises(ValidationFailed):
        _model(new_uow, admin, "  ", connection_id=local_connection)
    with pytest.raises(ValidationFailed):
        _model(new_uow, admin, "X", connection_id=local_connection, n_epochs=0)


def test_only_one_default(new_uow: Uows, admin: Actor, local_connection: int) -> None:
    a = _model(new_uow, admin, "A", connection_id=local_connection, is_default=True)
    _model(new_uow, admin, "B", connection_id=local_connection, is_default=True)
    assert not catalog.get_model(new_uow(), admin, a.id).is_default


def test_concurrent_edits_are_detected(new_uow: Uows, admin: Actor, local_connection: int) -> None:
    model = _model(new_uow, admin, "A", connection_id=local_connection)
    catalog.update_model(
        new_uow(),
        admin,
        model.id,
        model.as_input(notes="first"),
        expected_version=model.row_version,
    )
    with pytest.raises(EditConflict):
        catalog.update_model(
            new_uow(),
            admin,
            model.id,
            model.as_input(notes="second"),
            expected_version=model.row_version,
        )
    assert catalog.get_model(new_uow(), admin, model.id).notes == "first"


def test_delete_rules(new_uow: Uows, admin: Actor, local_connection: int) -> None:
    parent = _model(new_uow, admin, "Parent", connection_id=local_connection)
    child = _model(new_uow, admin, "Child", parent_id=parent.id)
    with pytest.raises(Conflict, match="child models"):
        catalog.delete_model(new_uow(), admin, parent.id)
    _add_data(new_uow, child.id, training=2, ready=1)
    impact = catalog.deletion_impact(new_uow(), admin, child.id)
    assert impact.losses == ["2 Q&As", "1 training conversations"]
    with pytest.raises(ValidationFailed, match="2 Q&As"):
        catalog.delete_model(new_uow(), admin, child.id)
    catalog.delete_model(new_uow(), admin, child.id, confirm_name="Child")
    catalog.delete_model(new_uow(), admin, parent.id)
    assert catalog.list_models(new_uow(), admin) == []


def test_roles(
    new_uow: Uows, admin: Actor, trainer: Actor, manager: Actor, local_connection: int
) -> None:
    model = _model(new_uow, admin, "A", connection_id=local_connection)
    for actor in (trainer, manager):
        assert catalog.get_model(new_uow(), actor, model.id).name == "A"
        with pytest.raises(PermissionDenied):
            catalog.update_model(new_uow(), actor, model.id, model.as_input(notes="x"))
        with pytest.raises(PermissionDenied):
            catalog.create_model(
                new_uow(), actor, ModelInput(name="B", connection_id=local_connection)
            )


def test_changes_are_audited_with_before_and_after(
    new_uow: Uows, admin: Actor, local_connection: int
) -> None:
    model = _model(new_uow, admin, "A", connection_id=local_connection, kind=ModelKind.ASSISTANT)
    catalog.update_model(new_uow(), admin, model.id, model.as_input(system_message="Be brief."))
    uow = new_uow()
    with uow:
        entries = (
            uow.session.query(AuditEntry)
            .filter_by(entity_type="model")
            .order_by(AuditEntry.id)
            .all()
        )
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[1].summary == "changed system_message of A"
        assert entries[1].before is not None and entries[1].before["system_message"] == ""
        assert entries[1].after is not None and entries[1].after["system_message"] == "Be brief."
        assert entries[1].actor_email == admin.email
