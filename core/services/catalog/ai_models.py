"""AI models: the hierarchy, configuration, and what each model's training set will hold.

(Named ``ai_models`` rather than ``models`` so it is never confused with the ORM module.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from core.domain import NAME_MAX, SYSTEM_MESSAGE_MAX, ConversationStatus, ModelKind, QAType
from core.errors import NotFound, Problem, ValidationFailed
from core.models import (
    QA,
    AIModel,
    Compilation,
    ModelVersion,
    ProviderConnection,
    TrainingConversation,
)
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.catalog.base_model_facts import base_model_facts, base_model_refusal
from core.services.catalog.hierarchy import model_nodes
from core.services.catalog.training_data import pending_changes
from core.services.shared import changed_fields, check_row_version, get_or_404, snapshot
from core.training.hierarchy import (
    ModelNode,
    tree_order,
    would_create_cycle,
)
from core.uow import UnitOfWork

AUDITED_FIELDS = (
    "name",
    "notes",
    "kind",
    "connection_id",
    "base_model",
    "system_message",
    "parent_id",
    "inherit_parent_training",
    "aggregate_children_training",
    "n_epochs",
    "batch_size",
    "learning_rate_multiplier",
    "is_default",
    "auto_update_to_latest",
    "activation_gate",
)


@dataclass(frozen=True)
class ModelInput:
    name: str
    kind: ModelKind = ModelKind.ARBITER
    notes: str = ""
    connection_id: int | None = None
    base_model: str | None = None
    system_message: str = ""
    parent_id: int | None = None
    inherit_parent_training: bool = False
    aggregate_children_training: bool = False
    n_epochs: int | None = None
    batch_size: int | None = None
    learning_rate_multiplier: float | None = None
    is_default: bool = False
    auto_update_to_latest: bool = True
    activation_gate: bool = False


@dataclass(frozen=True)
class ModelDetail:
    id: int
    name: str
    kind: ModelKind
    notes: str
    connection_id: int | None
    connection_name: str | None
    # The connection used: the model's own, or the nearest ancestor's.
    effective_connection_id: int | None
    base_model: str | None
    effective_base_model: str | None
    system_message: str
    parent_id: int | None
    parent_name: str | None
    inherit_parent_training: bool
    aggregate_children_training: bool
    n_epochs: int | None
    batch_size: int | None
    learning_rate_multiplier: float | None
    is_default: bool
    auto_update_to_latest: bool
    activation_gate: bool
    active_version_id: int | None
    active_version_number: int | None
    pinned_version_id: int | None
    created_at: datetime
    updated_at: datetime
    row_version: int

    @property
    def fine_tunable(self) -> bool:
        return self.kind == ModelKind.ARBITER

    def as_input(self, **changes: Any) -> ModelInput:
        values = {name: getattr(self, name) for name in ModelInput.__dataclass_fields__}
        values.update(changes)
        return ModelInput(**values)


@dataclass(frozen=True)
class ModelSummary:
    id: int
    name: str
    depth: int
    parent_id: int | None
    kind: ModelKind
    connection_name: str | None
    base_model: str | None
    active_version_number: int | None
    training_qas: int
    validation_qas: int
    ready_conversations: int
    last_compilation_status: str | None
    is_default: bool
    # Arbiters: whether anything changed since the active version was built (None for
    # assistants, which are not compiled).
    changes_pending: bool | None = None


def _effective_connection(uow: UnitOfWork, model: AIModel) -> ProviderConnection | None:
    current: AIModel | None = model
    seen: set[int] = set()
    while current is not None and current.id not in seen:
        if current.connection is not None:
            return current.connection
        seen.add(current.id)
        current = current.parent
    return None


def _detail(uow: UnitOfWork, model: AIModel) -> ModelDetail:
    effective = _effective_connection(uow, model)
    version_number = None
    if model.active_version_id is not None:
        version_number = uow.session.scalar(
            select(ModelVersion.number).where(ModelVersion.id == model.active_version_id)
        )
    return ModelDetail(
        id=model.id,
        name=model.name,
        kind=model.kind,
        notes=model.notes,
        connection_id=model.connection_id,
        connection_name=model.connection.name if model.connection else None,
        effective_connection_id=effective.id if effective else None,
        base_model=model.base_model,
        effective_base_model=model.base_model
        or (effective.default_base_model if effective else None),
        system_message=model.system_message,
        parent_id=model.parent_id,
        parent_name=model.parent.name if model.parent else None,
        inherit_parent_training=model.inherit_parent_training,
        aggregate_children_training=model.aggregate_children_training,
        n_epochs=model.n_epochs,
        batch_size=model.batch_size,
        learning_rate_multiplier=model.learning_rate_multiplier,
        is_default=model.is_default,
        auto_update_to_latest=model.auto_update_to_latest,
        activation_gate=model.activation_gate,
        active_version_id=model.active_version_id,
        active_version_number=version_number,
        pinned_version_id=model.pinned_version_id,
        created_at=model.created_at,
        updated_at=model.updated_at,
        row_version=model.row_version,
    )


def _base_model_problems(uow: UnitOfWork, data: ModelInput) -> list[Problem]:
    """A base model the connection's provider does not offer for fine-tuning is refused when
    the model is saved, not found out after an upload (a typo, a retired model)."""
    if data.kind != ModelKind.ARBITER:
        return []  # assistants answer with their base model; they are never fine-tuned
    connection = _connection_for(uow, data.connection_id, data.parent_id)
    if connection is None:
        return []
    base_model = (data.base_model or "").strip() or connection.default_base_model
    if not base_model:
        return []
    facts = base_model_facts(uow.session, connection.provider_type, base_model)
    refused = base_model_refusal(connection.provider_type, base_model, facts)
    return [Problem("base model", refused)] if refused else []


def _connection_for(
    uow: UnitOfWork, connection_id: int | None, parent_id: int | None
) -> ProviderConnection | None:
    """The connection a model with these settings would use (its own or an ancestor's)."""
    if connection_id is not None:
        return uow.session.get(ProviderConnection, connection_id)
    seen: set[int] = set()
    while parent_id is not None and parent_id not in seen:
        seen.add(parent_id)
        parent = uow.session.get(AIModel, parent_id)
        if parent is None:
            return None
        if parent.connection is not None:
            return parent.connection
        parent_id = parent.parent_id
    return None


def _clean(uow: UnitOfWork, data: ModelInput, model_id: int | None) -> dict[str, Any]:
    problems: list[Problem] = []
    name = data.name.strip()
    if not name:
        problems.append(Problem("name", "must not be empty"))
    elif len(name) > NAME_MAX:
        problems.append(Problem("name", f"use at most {NAME_MAX} characters"))
    elif "@" in name or "\n" in name:
        problems.append(Problem("name", "must not contain @ or line breaks (used for mentions)"))
    else:
        clash = uow.session.scalar(
            select(AIModel.id).where(func.lower(AIModel.name) == name.lower())
        )
        if clash is not None and clash != model_id:
            problems.append(Problem("name", f"a model named {name!r} already exists"))
    try:
        kind = ModelKind(data.kind)
    except ValueError:
        problems.append(Problem("kind", "choose arbiter or assistant"))
        kind = ModelKind.ARBITER
    if len(data.system_message) > SYSTEM_MESSAGE_MAX:
        problems.append(Problem("system message", f"use at most {SYSTEM_MESSAGE_MAX:,} characters"))
    if (
        data.connection_id is not None
        and uow.session.get(ProviderConnection, data.connection_id) is None
    ):
        problems.append(Problem("connection", "the chosen connection no longer exists"))
    if data.parent_id is not None:
        nodes = model_nodes(uow.session)
        if data.parent_id not in nodes:
            problems.append(Problem("parent", "the chosen parent no longer exists"))
        elif model_id is not None and data.parent_id == model_id:
            problems.append(Problem("parent", "a model cannot be its own parent"))
        elif model_id is not None and would_create_cycle(nodes, model_id, data.parent_id):
            problems.append(
                Problem(
                    "parent",
                    f"{nodes[data.parent_id].name} is below this model in the hierarchy; "
                    "choosing it would create a cycle",
                )
            )
    if data.connection_id is None and data.parent_id is None:
        problems.append(
            Problem(
                "connection",
                "a model without a provider connection must have a parent (it then uses the "
                "parent's connection)",
            )
        )
    problems += _base_model_problems(uow, data)
    if data.n_epochs is not None and not 1 <= data.n_epochs <= 50:
        problems.append(Problem("epochs", "between 1 and 50, or auto"))
    if data.batch_size is not None and not 1 <= data.batch_size <= 256:
        problems.append(Problem("batch size", "between 1 and 256, or auto"))
    lr = data.learning_rate_multiplier
    if lr is not None and not 0 < lr <= 10:
        problems.append(Problem("learning-rate multiplier", "above 0 and at most 10, or auto"))
    if problems:
        raise ValidationFailed("The model cannot be saved.", problems)
    return {
        "name": name,
        "kind": kind,
        "notes": data.notes.strip(),
        "connection_id": data.connection_id,
        "base_model": (data.base_model or "").strip() or None,
        "system_message": data.system_message.strip(),
        "parent_id": data.parent_id,
        "inherit_parent_training": data.inherit_parent_training,
        "aggregate_children_training": data.aggregate_children_training,
        "n_epochs": data.n_epochs,
        "batch_size": data.batch_size,
        "learning_rate_multiplier": lr,
        "is_default": data.is_default,
        "auto_update_to_latest": data.auto_update_to_latest,
        "activation_gate": data.activation_gate,
    }


def _clear_other_defaults(uow: UnitOfWork, model_id: int) -> None:
    uow.session.execute(
        update(AIModel)
        .where(AIModel.id != model_id, AIModel.is_default.is_(True))
        .values(is_default=False)
    )


@requires(Permission.READ)
def list_models(uow: UnitOfWork, actor: Actor) -> list[ModelSummary]:
    """All models in hierarchy order (each parent followed by its children) with key facts."""
    with uow:
        session = uow.session
        models = {m.id: m for m in session.scalars(select(AIModel))}
        qa_counts: dict[tuple[int, QAType], int] = {
            (mid, qtype): n
            for mid, qtype, n in session.execute(
                select(QA.model_id, QA.qa_type, func.count())
                .where(QA.is_active.is_(True))
                .group_by(QA.model_id, QA.qa_type)
            )
        }
        ready: dict[int, int] = dict(
            session.execute(
                select(TrainingConversation.model_id, func.count())
                .where(TrainingConversation.status == ConversationStatus.READY)
                .group_by(TrainingConversation.model_id)
            ).all()
        )
        last_ids = select(func.max(Compilation.id)).group_by(Compilation.model_id).scalar_subquery()
        last_status = {
            mid: status.value
            for mid, status in session.execute(
                select(Compilation.model_id, Compilation.status).where(Compilation.id.in_(last_ids))
            )
        }
        version_numbers = dict(
            session.execute(
                select(ModelVersion.id, ModelVersion.number).where(
                    ModelVersion.id.in_(
                        [m.active_version_id for m in models.values() if m.active_version_id]
                    )
                )
            ).all()
        )
        nodes = {
            m.id: ModelNode(
                m.id, m.name, m.parent_id, m.inherit_parent_training, m.aggregate_children_training
            )
            for m in models.values()
        }
        pending = pending_changes(session)
        result = []
        for model_id, depth in tree_order(nodes):
            m = models[model_id]
            effective = _effective_connection(uow, m)
            result.append(
                ModelSummary(
                    id=m.id,
                    name=m.name,
                    depth=depth,
                    parent_id=m.parent_id,
                    kind=m.kind,
                    connection_name=effective.name if effective else None,
                    base_model=m.base_model
                    or (effective.default_base_model if effective else None),
                    active_version_number=version_numbers.get(m.active_version_id)
                    if m.active_version_id
                    else None,
                    training_qas=qa_counts.get((m.id, QAType.TRAINING), 0),
                    validation_qas=qa_counts.get((m.id, QAType.VALIDATION), 0),
                    ready_conversations=ready.get(m.id, 0),
                    last_compilation_status=last_status.get(m.id),
                    is_default=m.is_default,
                    changes_pending=pending.get(m.id),
                )
            )
        return result


@requires(Permission.READ)
def get_model(uow: UnitOfWork, actor: Actor, model_id: int) -> ModelDetail:
    with uow:
        return _detail(uow, get_or_404(uow.session, AIModel, model_id, "Model"))


@requires(Permission.READ)
def get_model_by_name(uow: UnitOfWork, actor: Actor, name: str) -> ModelDetail:
    with uow:
        model = uow.session.scalar(
            select(AIModel).where(func.lower(AIModel.name) == name.strip().lower())
        )
        if model is None:
            raise NotFound(f"There is no model named {name!r}.")
        return _detail(uow, model)


@requires(Permission.MANAGE_MODELS)
def create_model(uow: UnitOfWork, actor: Actor, data: ModelInput) -> ModelDetail:
    with uow:
        values = _clean(uow, data, None)
        model = AIModel(**values)
        uow.session.add(model)
        uow.session.flush()
        if model.is_default:
            _clear_other_defaults(uow, model.id)
        record_audit(
            uow.session,
            actor,
            "create",
            "model",
            model.id,
            f"created {model.kind.value} {model.name}",
            after=snapshot(model, AUDITED_FIELDS),
        )
        uow.commit()
        uow.session.refresh(model)
        return _detail(uow, model)


@requires(Permission.MANAGE_MODELS)
def update_model(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    data: ModelInput,
    expected_version: int | None = None,
) -> ModelDetail:
    with uow:
        model = get_or_404(uow.session, AIModel, model_id, "Model")
        check_row_version(model, expected_version, entity="model")
        values = _clean(uow, data, model_id)
        before = snapshot(model, AUDITED_FIELDS)
        for key, value in values.items():
            setattr(model, key, value)
        after = snapshot(model, AUDITED_FIELDS)
        changed = changed_fields(before, after)
        if changed:
            uow.session.flush()
            if model.is_default:
                _clear_other_defaults(uow, model.id)
            record_audit(
                uow.session,
                actor,
                "update",
                "model",
                model.id,
                f"changed {', '.join(changed)} of {model.name}",
                before,
                after,
            )
        uow.commit()
        uow.session.refresh(model)
        return _detail(uow, model)


@requires(Permission.MANAGE_MODELS)
def move_model(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    connection_id: int,
    base_model: str | None = None,
    expected_version: int | None = None,
) -> ModelDetail:
    """Put a model on another connection (and base model), e.g. away from a provider that
    takes no new fine-tuning jobs. Its active version keeps answering from the connection it
    was trained on until a compilation on the new one succeeds; its history keeps both."""
    detail = get_model(uow, actor, model_id)
    moved = detail.as_input(connection_id=connection_id, base_model=base_model or None)
    return update_model(
        uow, actor, model_id, moved, expected_version=expected_version or detail.row_version
    )
