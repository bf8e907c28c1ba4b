"""The demo company reads like a real one and covers what the screens need."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import demo
from core.domain import CompilationStatus, ConversationStatus, ModelKind, ProviderType, QAType
from core.models import (
    QA,
    AIModel,
    Chat,
    ChatMember,
    Compilation,
    ProviderConnection,
    TrainingConversation,
)
from core.uow import UnitOfWork


def test_seed_creates_the_company(new_uow: Callable[[], UnitOfWork]) -> None:
    uow = new_uow()
    assert demo.is_empty(uow)
    accounts = demo.seed(uow)
    assert {a.role.value for a in accounts} == {"admin", "trainer", "manager"}
    assert len({a.password for a in accounts}) == len(accounts)
    assert not demo.is_empty(new_uow())
    with new_uow() as check:
        session = check.session
        models = {m.name: m for m in session.scalars(select(AIModel))}
        assert sum(m.kind == ModelKind.ARBITER for m in models.values()) >= 3
        assert any(m.kind == ModelKind.ASSISTANT for m in models.values())
        for model in models.values():
            if model.kind == ModelKind.ARBITER:
                count = session.scalar(
                    select(func.count()).where(
                        QA.model_id == model.id, QA.qa_type == QAType.TRAINING
                    )
                )
                assert (count or 0) >= 40, model.name
                ready = session.scalar(
                    select(func.count()).where(
                        TrainingConversation.model_id == model.id,
                        TrainingConversation.status == ConversationStatus.READY,
                    )
                )
                assert (ready or 0) >= 2
        chat = session.scalar(select(Chat))
        assert chat is not None
        members = session.scalars(select(ChatMember).where(ChatMember.chat_id == chat.id)).all()
        assert any(m.model_id for m in members) and any(m.user_id for m in members)


def test_the_fine_tuned_arbiter_is_queued_for_the_background_worker(
    new_uow: Callable[[], UnitOfWork], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_DEMO_FINE_TUNE", "1")
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    demo.seed(new_uow())
    lines = demo.compile_arbiters(new_uow())
    assert "Northwind Facilities: queued. Fine-tuning runs in the background worker" in "\n".join(
        lines
    )
    with new_uow() as check:
        session = check.session
        tuned = session.scalar(select(AIModel).where(AIModel.name == "Northwind Facilities"))
        assert tuned is not None and tuned.connection is not None
        assert tuned.connection.provider_type == ProviderType.OPEN_WEIGHTS
        assert tuned.connection.name == "Local fine-tune (SmolLM2-135M)"
        assert not tuned.is_default and tuned.active_version_id is None
        [queued] = session.scalars(select(Compilation).where(Compilation.model_id == tuned.id))
        assert queued.status == CompilationStatus.QUEUED and queued.attempts == 0
        others = session.scalars(
            select(AIModel).where(AIModel.kind == ModelKind.ARBITER, AIModel.id != tuned.id)
        ).all()
        assert others and all(m.active_version_id is not None for m in others)
        assert [m.name for m in session.scalars(select(AIModel).where(AIModel.is_default))] == [
            "Northwind Master"
        ]
    assert not (tmp_path / "open-weights").exists(), "nothing trained while seeding"


def test_without_it_the_demo_has_no_fine_tune_connection(new_uow: Callable[[], UnitOfWork]) -> None:
    demo.seed(new_uow())  # the tests' default: ARBITER_DEMO_FINE_TUNE=0
    with new_uow() as check:
        names = set(check.session.scalars(select(AIModel.name)))
        kinds = set(check.session.scalars(select(ProviderConnection.provider_type)))
    assert "Northwind Facilities" not in names and ProviderType.OPEN_WEIGHTS not in kinds
