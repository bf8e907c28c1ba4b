"""The demo company reads like a real one and covers what the screens need."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from core import demo
from core.domain import ConversationStatus, ModelKind, QAType
from core.models import QA, AIModel, Chat, ChatMember, TrainingConversation
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
