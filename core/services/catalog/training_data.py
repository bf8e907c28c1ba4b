"""A model's training data as the database holds it: what the next training set will hold
(per source model, for the models page) and, for the compilation services, the data itself.

``load`` gives what the builder and the validator need (with the hierarchy applied);
``fingerprints`` gives, for every model at once and with a few grouped queries, a hash of
everything its next training set and configuration depend on, so that the models list can
show "changes pending" without building 100,000 examples.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.domain import CompilationStatus, ConversationStatus, ModelKind, QAType
from core.errors import NotFound
from core.models import (
    QA,
    AIModel,
    Compilation,
    ModelVersion,
    TrainingConversation,
    TrainingMessage,
)
from core.permissions import Actor, Permission, requires
from core.services.catalog.base_model_facts import BaseModelRow, base_model_facts
from core.services.catalog.hierarchy import model_nodes
from core.services.catalog.usage import (
    ConnectionFacts,
    connection_facts,
    effective_price,
    model_usage,
)
from core.services.shared import get_or_404
from core.training.builder import (
    ConversationRecord,
    MessageRecord,
    QARecord,
    SourceData,
    TrainingSet,
    build_training_set,
)
from core.training.bulk import bulk
from core.training.hierarchy import Relation, ancestors, training_sources
from core.training.preference import PreferencePair
from core.uow import UnitOfWork


@dataclass(frozen=True)
class ModelInputs:
    """A model's configuration as a compilation uses it."""

    model_id: int
    model_name: str
    connection: ConnectionFacts | None
    base_model: str | None
    system_message: str
    n_epochs: int | None
    batch_size: int | None
    learning_rate_multiplier: float | None
    sources: list[tuple[int, str, Relation]]  # (model id, name, relation), own first
    # What the catalogue knows of the base model (None: nothing), and the price per 1M
    # trained tokens that applies.
    base_model_facts: BaseModelRow | None = None
    training_price: Decimal = Decimal(0)

    @property
    def config(self) -> dict[str, Any]:
        return {
            "connection_id": self.connection.id if self.connection else None,
            "provider_type": self.connection.provider_type.value if self.connection else None,
            "base_model": self.base_model,
            "system_message": self.system_message,
            "n_epochs": self.n_epochs,
            "batch_size": self.batch_size,
            "learning_rate_multiplier": self.learning_rate_multiplier,
        }

    @property
    def config_hash(self) -> str:
        return _hash(self.config)


def _hash(value: Any) -> str:
    text = json.dumps(value, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MoveTarget:
    """Another connection (and base model) to see a model's pre-flight on, before moving it."""

    connection_id: int
    base_model: str | None = None


def model_inputs(session: Session, model: AIModel, target: MoveTarget | None = None) -> ModelInputs:
    nodes = model_nodes(session)
    usage = model_usage(session)[model.id]
    connection, base_model, price = usage.connection, usage.base_model, usage.training_price
    if target is not None:
        connection = connection_facts(session).get(target.connection_id)
        if connection is None:
            raise NotFound(f"Connection #{target.connection_id} was not found.")
        base_model = target.base_model or connection.default_base_model
    facts = base_model_facts(session, connection.provider_type, base_model) if connection else None
    if target is not None:
        price = effective_price(connection, facts)
    return ModelInputs(
        model_id=model.id,
        model_name=model.name,
        connection=connection,
        base_model=base_model,
        system_message=model.system_message,
        n_epochs=model.n_epochs,
        batch_size=model.batch_size,
        learning_rate_multiplier=model.learning_rate_multiplier,
        sources=[(mid, nodes[mid].name, rel) for mid, rel in training_sources(nodes, model.id)],
        base_model_facts=facts,
        training_price=price,
    )


@bulk
def load_training_set(session: Session, inputs: ModelInputs) -> TrainingSet:
    """Read the sources' training data and build the set. The rows are read through the
    Core connection as plain tuples: the ORM's per-row processing cost more than building
    the examples."""
    ids = [mid for mid, _, _ in inputs.sources]
    connection = session.connection()
    qas: dict[int, list[QARecord]] = {mid: [] for mid in ids}
    for mid in ids:
        qas[mid] = list(
            map(
                QARecord._make,
                connection.execute(
                    select(QA.id, QA.model_id, QA.question, QA.answer)
                    .where(
                        QA.model_id == mid,
                        QA.is_active.is_(True),
                        QA.qa_type == QAType.TRAINING,
                    )
                    .order_by(QA.id)
                ).fetchall(),  # in one call: iterating fetches row by row
            )
        )
    messages: dict[int, list[MessageRecord]] = defaultdict(list)
    owners: dict[int, int] = {}
    for conv_id, model_id, role, content, weight in connection.execute(
        select(
            TrainingConversation.id,
            TrainingConversation.model_id,
            TrainingMessage.role,
            TrainingMessage.content,
            TrainingMessage.weight,
        )
        .join(TrainingMessage, TrainingMessage.conversation_id == TrainingConversation.id)
        .where(
            TrainingConversation.model_id.in_(ids),
            TrainingConversation.status == ConversationStatus.READY,
        )
        .order_by(TrainingConversation.id, TrainingMessage.position)
    ):
        owners[conv_id] = model_id
        messages[conv_id].append(MessageRecord(role.value, content, weight))
    conversations: dict[int, list[ConversationRecord]] = defaultdict(list)
    for conv_id, items in messages.items():
        conversations[owners[conv_id]].append(
            ConversationRecord(conv_id, owners[conv_id], tuple(items))
        )
    return build_training_set(
        inputs.system_message,
        [
            SourceData(mid, name, relation, qas[mid], conversations[mid])
            for mid, name, relation in inputs.sources
        ],
    )


def validation_qas(session: Session, inputs: ModelInputs) -> list[QARecord]:
    """The validation Q&As of the training set's sources: asked to each new version."""
    ids = [mid for mid, _, _ in inputs.sources]
    return [
        QARecord(r.id, r.model_id, r.question, r.answer)
        for r in session.execute(
            select(QA.id, QA.model_id, QA.question, QA.answer)
            .where(QA.model_id.in_(ids), QA.is_active.is_(True), QA.qa_type == QAType.VALIDATION)
            .order_by(QA.id)
        )
    ]


def preference_pairs(session: Session, inputs: ModelInputs) -> list[PreferencePair]:
    """The corrections made with Train AI in the sources' ready conversations: the prompt up
    to the corrected answer (the system message first), the correction preferred over the
    answer the model gave."""
    ids = [mid for mid, _, _ in inputs.sources]
    pairs: list[PreferencePair] = []
    for conversation in session.scalars(
        select(TrainingConversation)
        .where(
            TrainingConversation.model_id.in_(ids),
            TrainingConversation.status == ConversationStatus.READY,
        )
        .order_by(TrainingConversation.id)
    ):
        rejected = (conversation.origin_ref or {}).get("rejected")
        turns = [(m.role.value, m.content) for m in conversation.messages]
        if not isinstance(rejected, str) or not turns or turns[-1][0] != "assistant":
            continue
        prompt = turns[:-1]
        if inputs.system_message:
            prompt.insert(0, ("system", inputs.system_message))
        pairs.append(PreferencePair(prompt, turns[-1][1], rejected))
    return pairs


def fingerprints(session: Session, model_ids: Iterable[int] | None = None) -> dict[int, str]:
    """A hash per model of what its next compilation depends on: its configuration, and per
    source model the count, id sum, row-version sum and last change of the training Q&As and
    of the ready conversations and their messages. Any insert, delete, edit (the ORM bumps
    row_version; bulk edits set changed_at), (de)activation or status change moves it."""
    nodes = model_nodes(session)
    usage = model_usage(session)
    per_model: dict[int, list[Any]] = defaultdict(list)
    qa_rows = session.execute(
        select(
            QA.model_id,
            func.count(),
            func.sum(QA.id),
            func.sum(QA.row_version),
            func.max(QA.changed_at),
        )
        .where(QA.is_active.is_(True), QA.qa_type == QAType.TRAINING)
        .group_by(QA.model_id)
    )
    for mid, *facts in qa_rows:
        per_model[mid].append(["qa", *map(str, facts)])
    conv_rows = session.execute(
        select(
            TrainingConversation.model_id,
            func.count(func.distinct(TrainingConversation.id)),
            func.sum(TrainingConversation.row_version),
            func.max(TrainingConversation.updated_at),
            func.count(TrainingMessage.id),
            func.sum(TrainingMessage.id),
            func.sum(func.length(TrainingMessage.content)),
        )
        .join(TrainingMessage, TrainingMessage.conversation_id == TrainingConversation.id)
        .where(TrainingConversation.status == ConversationStatus.READY)
        .group_by(TrainingConversation.model_id)
    )
    for mid, *facts in conv_rows:
        per_model[mid].append(["conversation", *map(str, facts)])
    models = session.execute(
        select(
            AIModel.id,
            AIModel.system_message,
            AIModel.n_epochs,
            AIModel.batch_size,
            AIModel.learning_rate_multiplier,
        )
    ).all()
    wanted = set(model_ids) if model_ids is not None else None
    result: dict[int, str] = {}
    for row in models:
        if wanted is not None and row.id not in wanted:
            continue
        used = usage[row.id]
        config = {
            "connection_id": used.connection.id if used.connection else None,
            "provider_type": used.connection.provider_type.value if used.connection else None,
            "base_model": used.base_model,
            "system_message": row.system_message,
            "n_epochs": row.n_epochs,
            "batch_size": row.batch_size,
            "learning_rate_multiplier": row.learning_rate_multiplier,
        }
        data = [
            [mid, relation.value, per_model.get(mid, [])]
            for mid, relation in training_sources(nodes, row.id)
        ]
        result[row.id] = _hash([config, data])
    return result


def sources_named(sources: Sequence[tuple[int, str, Relation]]) -> str:
    return ", ".join(f"{name} ({relation.value})" for _, name, relation in sources)


def pending_changes(session: Session) -> dict[int, bool]:
    """Per arbiter: has anything its training set or configuration depends on changed since
    its active version was built? Compares fingerprints, never builds a training set."""
    current = fingerprints(session)
    done = (CompilationStatus.SUCCEEDED, CompilationStatus.SKIPPED)
    latest_ids = (
        select(func.max(Compilation.id))
        .where(Compilation.status.in_(done))
        .group_by(Compilation.model_id)
        .scalar_subquery()
    )
    latest = {
        row.model_id: row
        for row in session.execute(
            select(
                Compilation.model_id,
                Compilation.dataset_hash,
                Compilation.config_hash,
                Compilation.dataset_stats,
            ).where(Compilation.id.in_(latest_ids))
        )
    }
    active = {
        row.model_id: row
        for row in session.execute(
            select(ModelVersion.model_id, ModelVersion.dataset_hash, ModelVersion.config_hash).join(
                AIModel, AIModel.active_version_id == ModelVersion.id
            )
        )
    }
    result: dict[int, bool] = {}
    for model_id, kind in session.execute(select(AIModel.id, AIModel.kind)):
        if kind != ModelKind.ARBITER:
            continue
        version, last = active.get(model_id), latest.get(model_id)
        built_from = (
            (last.dataset_stats or {}).get("fingerprint")
            if version is not None
            and last is not None
            and (last.dataset_hash, last.config_hash) == (version.dataset_hash, version.config_hash)
            else None
        )
        result[model_id] = built_from != current.get(model_id)
    return result


def per_source(
    sources: Sequence[tuple[int, str, Relation]], training_set: TrainingSet
) -> list[dict[str, Any]]:
    """Examples per source model (an example given by several models counts for each)."""
    counts: dict[int, dict[str, int]] = {
        mid: {"qas": 0, "conversations": 0} for mid, _, _ in sources
    }
    for example in training_set.examples:
        for ref in example.sources:
            if ref.model_id in counts:
                counts[ref.model_id]["qas" if ref.kind == "qa" else "conversations"] += 1
    return [
        {
            "model_id": mid,
            "model_name": name,
            "relation": relation.value,
            **counts[mid],
            "examples": counts[mid]["qas"] + counts[mid]["conversations"],
        }
        for mid, name, relation in sources
    ]


@dataclass(frozen=True)
class SourceCount:
    model_id: int
    model_name: str
    relation: Relation
    training_qas: int
    validation_qas: int
    ready_conversations: int


@requires(Permission.READ)
def training_set_preview(uow: UnitOfWork, actor: Actor, model_id: int) -> list[SourceCount]:
    """What the next compilation's training set holds, by source model and relation."""
    with uow:
        get_or_404(uow.session, AIModel, model_id, "Model")
        nodes = model_nodes(uow.session)
        sources = training_sources(nodes, model_id)
        ids = [sid for sid, _ in sources]
        qa_counts = {
            (mid, qtype): n
            for mid, qtype, n in uow.session.execute(
                select(QA.model_id, QA.qa_type, func.count())
                .where(QA.model_id.in_(ids), QA.is_active.is_(True))
                .group_by(QA.model_id, QA.qa_type)
            )
        }
        ready = {
            mid: n
            for mid, n in uow.session.execute(
                select(TrainingConversation.model_id, func.count())
                .where(
                    TrainingConversation.model_id.in_(ids),
                    TrainingConversation.status == ConversationStatus.READY,
                )
                .group_by(TrainingConversation.model_id)
            )
        }
        return [
            SourceCount(
                model_id=sid,
                model_name=nodes[sid].name,
                relation=relation,
                training_qas=qa_counts.get((sid, QAType.TRAINING), 0),
                validation_qas=qa_counts.get((sid, QAType.VALIDATION), 0),
                ready_conversations=ready.get(sid, 0),
            )
            for sid, relation in sources
        ]


@requires(Permission.READ)
def model_ancestry(uow: UnitOfWork, actor: Actor, model_id: int) -> list[str]:
    """Names from the root down to this model, for breadcrumbs."""
    with uow:
        nodes = model_nodes(uow.session)
        if model_id not in nodes:
            return []
        return [nodes[a].name for a in reversed(ancestors(nodes, model_id))] + [
            nodes[model_id].name
        ]
