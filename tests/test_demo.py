"""The demo company reads like a real one and covers what the screens need."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import func, select

from core import demo
from core.demo import content
from core.domain import ConversationStatus, ModelKind, QAType
from core.models import QA, AIModel, Chat, ChatMember, TrainingConversation
from core.training.pii import find_personal_data
from core.training.text import question_key
from core.uow import UnitOfWork


def test_demo_content_shape() -> None:
    arbiters = [m for m in content.load().models if m.kind == "arbiter"]
    master, *departments = arbiters
    assert master.parent is None and master.aggregate_children_training
    assert len(departments) >= 2 and all(
        d.parent == master.name and d.inherit_parent_training for d in departments
    )
    for model in arbiters:
        assert len(model.qas) >= 50, model.name
        assert len({qa.section for qa in model.qas}) >= 3, model.name
        assert 3 <= model.system_message.count(".") <= 8
        assert any(qa.qa_type == "validation" for qa in model.qas)
        assert model.conversations
        for conv in model.conversations:
            assert any(t.role == "assistant" and t.weight == 1 for t in conv.turns), conv.title
    # The planted clean-up findings exist: a conflict with the master and personal data.
    support = next(m for m in departments if "Support" in m.name)
    master_keys = {question_key(q.question): q.answer for q in master.qas}
    assert any(
        question_key(q.question) in master_keys
        and master_keys[question_key(q.question)] != q.answer
        for q in support.qas
    )
    assert any(find_personal_data(q.answer) for q in support.qas)


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
