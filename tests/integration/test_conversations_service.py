"""Training conversations on SQLite and PostgreSQL: the editor's save, live rules, statuses
one by one and in bulk, filters and search, audit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select

from core.domain import (
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ProviderType,
    Role,
    utcnow,
)
from core.errors import AlreadyExists, EditConflict, ValidationFailed
from core.models import AuditEntry
from core.permissions import Actor
from core.services import catalog, curation
from core.services.catalog import ConnectionInput, ModelInput
from core.services.curation import ConversationFilter
from core.training import conversations as rules
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork
from tests.conftest import make_user

Uows = Callable[[], UnitOfWork]
U, A, S = MessageRole.USER, MessageRole.ASSISTANT, MessageRole.SYSTEM


def exchange(question: str, answer: str) -> list[MessageDraft]:
    return [MessageDraft(U, question, "Maria"), MessageDraft(A, answer)]


@pytest.fixture
def model_id(new_uow: Uows, admin: Actor) -> int:
    conn = catalog.create_connection(
        new_uow(), admin, ConnectionInput(name="Local", provider_type=ProviderType.LOCAL)
    )
    return catalog.create_model(
        new_uow(),
        admin,
        ModelInput(name="Support", connection_id=conn.id, system_message="Answer briefly."),
    ).id


def test_rules_name_each_problem_by_message() -> None:
    assert rules.problems(exchange("Q?", "A.")) == []
    found = {
        (p.where, p.message)
        for p in rules.problems(
            [
                MessageDraft(A, "Hello", weight=0),
                MessageDraft(S, "late system"),
                MessageDraft(U, " "),
                MessageDraft(A, "x", weight=0),
                MessageDraft(A, "y", weight=0),
                MessageDraft(U, "trailing"),
            ]
        )
    }
    assert ("message 1", "the conversation must start with a user message") in found
    assert ("message 2", "a system message may only come first") in found
    assert ("message 3", "is empty") in found
    assert ("message 5", "two assistant messages in a row: add the user turn") in found
    assert ("message 6", "the conversation must end with an answer") in found
    assert any("weight 1" in message for _, message in found)
    assert rules.problems([]) != []


def test_hash_and_tokens() -> None:
    one = exchange("What is  the MOV?", "150 EUR.")
    same = [
        MessageDraft(U, "What is the MOV? ", "someone else"),
        MessageDraft(A, "150 EUR.", "", 1),
    ]
    assert rules.content_hash(one) == rules.content_hash(same)
    context_only = [one[0], MessageDraft(A, "150 EUR.", weight=0)]
    assert rules.content_hash(one) != rules.content_hash(context_only)
    bare = rules.token_count(one)
    assert 5 < bare < rules.token_count(one, "You are the support arbiter of Northwind.")


def test_create_edit_and_audit(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    created = curation.create_conversation(
        new_uow(), trainer, model_id, exchange("Return window?", "30 days.")
    )
    assert created.status == ConversationStatus.DRAFT and created.origin_label == "entered by hand"
    assert created.title == "Return window?" and created.token_count > 0
    messages = [
        MessageDraft(S, "Reply in English."),
        MessageDraft(U, "What is the return window?", "Jonas (Sales)"),
        MessageDraft(A, "14 days.", "Support", 0),
        MessageDraft(U, "Are you sure?"),
        MessageDraft(A, "Sorry: **30 days** from delivery.", "Support", 1),
    ]
    saved = curation.save_conversation(
        new_uow(),
        trainer,
        created.id,
        messages,
        title="Return window",
        notes="from the handbook",
        expected_version=created.row_version,
    )
    assert [(m.position, m.role, m.participant_name, m.weight) for m in saved.messages] == [
        (0, S, "", None),
        (1, U, "Jonas (Sales)", None),
        (2, A, "Support", 0),
        (3, U, "", None),
        (4, A, "Support", 1),
    ]
    assert saved.problems == [] and saved.row_version > created.row_version
    # Reordered and shortened: the old positions go away.
    shorter = curation.save_conversation(
        new_uow(),
        trainer,
        created.id,
        [messages[1], messages[4]],
        title="Return window",
        notes="",
        expected_version=saved.row_version,
    )
    assert [m.content for m in shorter.messages] == [messages[1].content, messages[4].content]
    with pytest.raises(EditConflict):
        curation.save_conversation(
            new_uow(), trainer, created.id, messages, title="x", notes="", expected_version=1
        )
    with new_uow() as uow:
        audit = list(
            uow.session.scalars(
                select(AuditEntry)
                .where(AuditEntry.entity_type == "conversation")
                .order_by(AuditEntry.id)
            )
        )
        assert [a.action for a in audit] == ["create", "update", "update"]
        assert audit[1].before is not None and audit[1].after is not None
        assert len(audit[1].after["messages"]) == 5 and audit[1].actor_email == trainer.email


def test_empty_messages_are_never_stored(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    with pytest.raises(ValidationFailed) as exc:
        curation.create_conversation(
            new_uow(), trainer, model_id, [MessageDraft(U, "Q?"), MessageDraft(A, "  ")]
        )
    assert [str(p) for p in exc.value.problems] == ["message 2: is empty"]
    assert curation.list_conversations(new_uow(), trainer, model_id).total == 0


def test_ready_needs_a_trainable_conversation(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    draft = curation.create_conversation(
        new_uow(), trainer, model_id, [MessageDraft(U, "Only a question")]
    )
    assert draft.problems
    with pytest.raises(ValidationFailed) as exc:
        curation.set_status(new_uow(), trainer, draft.id, ConversationStatus.READY)
    assert "end with an answer" in str(exc.value)
    fixed = curation.save_conversation(
        new_uow(),
        trainer,
        draft.id,
        exchange("Only a question", "And an answer."),
        title="",
        notes="",
        expected_version=draft.row_version,
    )
    ready = curation.set_status(
        new_uow(), trainer, draft.id, ConversationStatus.READY, fixed.row_version
    )
    assert ready.status == ConversationStatus.READY
    with pytest.raises(ValidationFailed):
        curation.save_conversation(
            new_uow(),
            trainer,
            draft.id,
            [MessageDraft(U, "Only a question")],
            title="",
            notes="",
            expected_version=ready.row_version,
        )
    with pytest.raises(AlreadyExists) as dup:
        curation.create_conversation(
            new_uow(), trainer, model_id, exchange("Only a question", "And an answer.")
        )
    assert dup.value.existing_id == draft.id


def test_bulk_status_is_all_or_nothing(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    good = [
        curation.create_conversation(new_uow(), trainer, model_id, exchange(f"Q{i}?", "A."))
        for i in range(3)
    ]
    bad = curation.create_conversation(new_uow(), trainer, model_id, [MessageDraft(U, "no answer")])
    with pytest.raises(ValidationFailed) as exc:
        curation.set_status_bulk(
            new_uow(), trainer, [c.id for c in good] + [bad.id], ConversationStatus.READY
        )
    assert [p.where for p in exc.value.problems] == [f"conversation #{bad.id} “no answer”"]
    ready = ConversationFilter(statuses=[ConversationStatus.READY])
    assert curation.list_conversations(new_uow(), trainer, model_id, ready).total == 0
    changed = curation.set_status_bulk(
        new_uow(), trainer, [c.id for c in good], ConversationStatus.READY
    )
    assert changed == 3
    assert curation.list_conversations(new_uow(), trainer, model_id, ready).total == 3
    assert (
        curation.set_status_bulk(
            new_uow(), trainer, [c.id for c in good] + [bad.id], ConversationStatus.EXCLUDED
        )
        == 4
    )


def test_filters_search_and_paging(
    new_uow: Uows, trainer: Actor, model_id: int, admin: Actor
) -> None:
    other = make_user(new_uow(), "jonas@test.example", Role.TRAINER)
    curation.create_conversation(
        new_uow(), trainer, model_id, exchange("Incoterms for Norway?", "DAP, duties by buyer.")
    )
    curation.create_conversation(
        new_uow(),
        other,
        model_id,
        exchange("Warranty on relays?", "Two years; 100%_sure."),
        status=ConversationStatus.READY,
        origin=ConversationOrigin.IMPORT,
        origin_ref={"file": "desk.jsonl", "line": 7},
    )
    for i in range(5):
        curation.create_conversation(new_uow(), trainer, model_id, exchange(f"Q{i}", "A"))

    def find(**kwargs: object) -> list[str]:
        page = curation.list_conversations(
            new_uow(),
            admin,
            model_id,
            ConversationFilter(**kwargs),  # type: ignore[arg-type]
        )
        return [r.title for r in page.rows]

    assert find(search="norway") == ["Incoterms for Norway?"]
    assert find(search="BUYER") == ["Incoterms for Norway?"]  # in a message, any case
    assert find(search="100%_") == ["Warranty on relays?"]  # wildcards are literal
    assert find(search="Q_") == []  # would match "Q0".."Q4" if _ were a wildcard
    assert find(statuses=[ConversationStatus.READY]) == ["Warranty on relays?"]
    assert find(origins=[ConversationOrigin.IMPORT]) == ["Warranty on relays?"]
    assert find(changed_by_id=other.user_id) == ["Warranty on relays?"]
    assert len(find(changed_since=utcnow() - timedelta(minutes=5))) == 7
    assert find(changed_since=utcnow() + timedelta(minutes=5)) == []
    page = curation.list_conversations(new_uow(), admin, model_id, offset=5, limit=5)
    assert page.total == 7 and len(page.rows) == 2
    imported = next(
        r
        for r in curation.list_conversations(new_uow(), admin, model_id).rows
        if r.origin == ConversationOrigin.IMPORT
    )
    assert imported.origin_label == "file desk.jsonl, line 7" and imported.message_count == 2
    editors = curation.conversation_editors(new_uow(), admin, model_id)
    assert sorted(e.name for e in editors) == ["Jonas", "Trainer"]


def test_delete_is_audited(new_uow: Uows, trainer: Actor, model_id: int) -> None:
    created = curation.create_conversation(new_uow(), trainer, model_id, exchange("Q", "A"))
    curation.delete_conversation(new_uow(), trainer, created.id)
    assert curation.list_conversations(new_uow(), trainer, model_id).total == 0
    with new_uow() as uow:
        entry = uow.session.scalar(select(AuditEntry).where(AuditEntry.action == "delete"))
        assert entry is not None and entry.before is not None
        assert entry.before["messages"][1]["content"] == "A"
