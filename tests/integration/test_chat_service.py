"""Chats on SQLite and PostgreSQL: who answers, streaming and saving answers, versions,
provider failures (the real openai SDK against the fake OpenAI server), Train AI."""

from __future__ import annotations

import io
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core.domain import (
    AnswerMode,
    ChatKind,
    ChatMessageStatus,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ProviderType,
    Role,
)
from core.errors import PermissionDenied, ProviderUnavailable, ValidationFailed
from core.models import AIModel, ChatMessage, TrainingConversation
from core.permissions import Actor
from core.services import catalog, chat, compilation, curation
from core.services.catalog import ConnectionInput, ModelInput
from core.services.chat import answers
from core.training.preference import validate_preference_stream
from core.uow import UnitOfWork
from tests.conftest import make_user
from tests.local_versions import make_local_version
from tests.openai_server import FakeOpenAI, Fault

Uows = Callable[[], UnitOfWork]
SUPPORT_QAS = [
    ("How do I return a defective relay?", "Raise an RMA in the portal under My orders."),
    ("What is the minimum order value?", "The minimum order value is 150 EUR."),
    ("Do you ship to Norway?", "Yes, DAP with duties paid by the customer."),
]


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"


@dataclass
class World:
    support: int
    sales: int
    group: int


@pytest.fixture
def world(new_uow: Uows, admin: Actor, trainer: Actor) -> World:
    local = catalog.create_connection(
        new_uow(), admin, ConnectionInput(name="Local", provider_type=ProviderType.LOCAL)
    )
    support = catalog.create_model(
        new_uow(),
        admin,
        ModelInput(name="Northwind Support", connection_id=local.id, system_message="Be brief."),
    )
    sales = catalog.create_model(
        new_uow(), admin, ModelInput(name="Northwind Sales", connection_id=local.id)
    )
    group = chat.create_chat(
        new_uow(), trainer, "Desk", ChatKind.GROUP, [admin.user_id or 0], [support.id, sales.id]
    )
    return World(support.id, sales.id, group.id)


def ask(uows: Uows, actor: Actor, chat_id: int, text: str) -> list[chat.ChatMessageView]:
    posted = chat.post_message(uows(), actor, chat_id, text)
    return chat.answer_all(uows(), actor, posted.pending_answers)


def test_a_group_model_answers_only_when_mentioned(
    new_uow: Uows, trainer: Actor, world: World
) -> None:
    assert ask(new_uow, trainer, world.group, "Good morning, everyone") == []
    answers = ask(new_uow, trainer, world.group, "@northwind support how do I return a relay?")
    assert [a.author_name for a in answers] == ["Northwind Support"]
    both = ask(new_uow, trainer, world.group, "@Northwind Sales and @Northwind Support: hello")
    assert [a.author_name for a in both] == ["Northwind Sales", "Northwind Support"]
    # An e-mail address is not a mention.
    assert ask(new_uow, trainer, world.group, "mail ops@Northwind Support.example") == []


def test_every_message_mode_and_direct_chats(new_uow: Uows, trainer: Actor, world: World) -> None:
    chat.update_chat(new_uow(), trainer, world.group, answer_mode=AnswerMode.EVERY_MESSAGE)
    answers = ask(new_uow, trainer, world.group, "Who is there?")
    assert sorted(a.author_name for a in answers) == ["Northwind Sales", "Northwind Support"]
    direct = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[world.sales])
    assert direct.title == "Northwind Sales"
    again = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[world.sales])
    assert again.id == direct.id
    assert [a.author_name for a in ask(new_uow, trainer, direct.id, "hi")] == ["Northwind Sales"]
    with pytest.raises(ValidationFailed):
        chat.update_chat(new_uow(), trainer, direct.id, add_model_ids=[world.support])


def test_answers_come_from_the_active_version_and_say_where_from(
    new_uow: Uows, trainer: Actor, world: World
) -> None:
    (untrained,) = ask(new_uow, trainer, world.group, "@Northwind Support hello?")
    assert untrained.version_id is None and "no training data yet" in untrained.content
    assert untrained.provenance == "Local retrieval: no training data yet"

    version = make_local_version(new_uow(), world.support, SUPPORT_QAS)
    (answer,) = ask(new_uow, trainer, world.group, "@Northwind Support how to return a relay")
    assert answer.status == ChatMessageStatus.COMPLETE
    assert answer.content == "Raise an RMA in the portal under My orders."
    assert answer.version_id == version and answer.version_number == 1
    assert answer.meta["example_line"] == 1 and answer.meta["score"] > 0.3
    assert answer.meta["matched_question"] == "How do I return a defective relay?"
    assert answer.provenance.endswith("which asks “How do I return a defective relay?”")
    assert "training example line 1" in answer.provenance


def test_a_model_not_following_the_latest_answers_with_its_pinned_version(
    new_uow: Uows, admin: Actor, trainer: Actor, world: World
) -> None:
    old = make_local_version(new_uow(), world.support, [("minimum order", "Old rule: 100 EUR.")])
    make_local_version(new_uow(), world.support, [("minimum order", "New rule: 150 EUR.")])
    (latest,) = ask(new_uow, trainer, world.group, "@Northwind Support minimum order?")
    assert latest.content == "New rule: 150 EUR." and latest.version_number == 2
    model = catalog.get_model(new_uow(), admin, world.support)
    catalog.update_model(
        new_uow(), admin, model.id, model.as_input(auto_update_to_latest=False), model.row_version
    )
    with new_uow() as uow:
        row = uow.session.get(AIModel, world.support)
        assert row is not None
        row.pinned_version_id = old
        uow.commit()
    (pinned,) = ask(new_uow, trainer, world.group, "@Northwind Support minimum order?")
    assert pinned.content == "Old rule: 100 EUR." and pinned.version_id == old


def test_activity_changes_when_a_message_arrives_or_an_answer_ends(
    new_uow: Uows, trainer: Actor, admin: Actor, world: World
) -> None:
    quiet = chat.chat_activity(new_uow(), admin, world.group)
    assert chat.chat_activity(new_uow(), admin, world.group) == quiet
    posted = chat.post_message(new_uow(), trainer, world.group, "@Northwind Sales hello")
    asked = chat.chat_activity(new_uow(), admin, world.group)
    assert asked != quiet
    chat.answer_all(new_uow(), trainer, posted.pending_answers)
    assert chat.chat_activity(new_uow(), admin, world.group) not in (quiet, asked)


def test_only_members_read_or_post(new_uow: Uows, world: World) -> None:
    outsider = make_user(new_uow(), "outsider@test.example", Role.TRAINER)
    with pytest.raises(PermissionDenied):
        chat.list_messages(new_uow(), outsider, world.group)
    with pytest.raises(PermissionDenied):
        chat.post_message(new_uow(), outsider, world.group, "let me in")
    assert world.group not in [c.id for c in chat.list_chats(new_uow(), outsider)]


def test_empty_messages_are_refused(new_uow: Uows, trainer: Actor, world: World) -> None:
    with pytest.raises(ValidationFailed):
        chat.post_message(new_uow(), trainer, world.group, "   ")


# --- the openai provider: streaming, saving as it grows, failures -------------------------


@pytest.fixture
def fake_openai() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as server:
        yield server


@pytest.fixture
def openai_model(
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    fake_openai: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> tuple[int, int]:
    """(model id, direct chat id) for a model on an openai connection to the fake server."""
    monkeypatch.setenv("ARBITER_KEY_TEST_OPENAI", fake_openai.api_key)
    conn = catalog.create_connection(
        new_uow(),
        admin,
        ConnectionInput(
            name="OpenAI",
            provider_type=ProviderType.OPENAI,
            base_url=fake_openai.base_url,
            api_key_env="ARBITER_KEY_TEST_OPENAI",
            default_base_model="gpt-4o-mini-2024-07-18",
        ),
    )
    model = catalog.create_model(
        new_uow(),
        admin,
        ModelInput(name="Cloud Arbiter", connection_id=conn.id, system_message="Be exact."),
    )
    direct = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[model.id])
    return model.id, direct.id


def test_openai_answers_stream_with_system_message_and_history(
    new_uow: Uows, trainer: Actor, openai_model: tuple[int, int], fake_openai: FakeOpenAI
) -> None:
    _, chat_id = openai_model
    (answer,) = ask(new_uow, trainer, chat_id, "May I   expense a taxi?")
    assert answer.status == ChatMessageStatus.COMPLETE
    assert answer.content == "[gpt-4o-mini-2024-07-18] May I expense a taxi?"
    assert answer.version_label == "base model (no trained version yet)"
    request = fake_openai.chat_requests[-1]
    assert request["stream"] is True
    assert request["messages"][0] == {"role": "system", "content": "Be exact."}
    assert request["messages"][-1]["role"] == "user"
    assert request["messages"][-1]["name"] == "Trainer"


def test_the_answer_is_saved_as_it_grows_after_the_question(
    new_uow: Uows,
    trainer: Actor,
    openai_model: tuple[int, int],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, chat_id = openai_model
    monkeypatch.setattr(answers, "SAVE_EVERY_SECONDS", 0.0)
    posted = chat.post_message(new_uow(), trainer, chat_id, "one two three four five")
    stream = chat.stream_answer(new_uow(), trainer, posted.pending_answers[0])
    first, second = next(stream), next(stream)
    assert first.text and second.text
    with new_uow() as uow:
        question = uow.session.get(ChatMessage, posted.message.id)
        answer = uow.session.get(ChatMessage, posted.pending_answers[0])
        assert question is not None and question.status == ChatMessageStatus.COMPLETE
        assert answer is not None and answer.status == ChatMessageStatus.STREAMING
        assert answer.content.startswith(first.text)
    stream.close()  # the reader goes away mid-answer
    interrupted = chat.get_message(new_uow(), trainer, posted.pending_answers[0])
    assert interrupted.failed and "interrupted" in (interrupted.error or "")
    assert interrupted.content.startswith(first.text)


@pytest.mark.parametrize(
    ("fault", "wording"),
    [(Fault.server_error(500), "server error (500)"), (Fault.drop_before(), "Could not reach")],
    ids=["http-500", "dropped-connection"],
)
def test_a_provider_outage_fails_clearly_and_keeps_the_question(
    new_uow: Uows,
    trainer: Actor,
    openai_model: tuple[int, int],
    fake_openai: FakeOpenAI,
    fault: Fault,
    wording: str,
) -> None:
    _, chat_id = openai_model
    fake_openai.add_fault("POST", r"/chat/completions", fault)
    posted = chat.post_message(new_uow(), trainer, chat_id, "Is the warranty 2 years?")
    with pytest.raises(ProviderUnavailable):
        list(chat.stream_answer(new_uow(), trainer, posted.pending_answers[0]))
    messages = chat.list_messages(new_uow(), trainer, chat_id)
    question, answer = messages[-2:]
    assert question.content == "Is the warranty 2 years?" and not question.failed
    assert answer.failed and answer.status == ChatMessageStatus.FAILED
    assert answer.error is not None
    assert answer.error.startswith("Cloud Arbiter could not answer:") and wording in answer.error
    # Asking again works once the provider is back.
    retried = chat.retry_answer(new_uow(), trainer, answer.id)
    (done,) = chat.answer_all(new_uow(), trainer, [retried])
    assert done.status == ChatMessageStatus.COMPLETE and "warranty" in done.content


def test_a_missing_api_key_is_a_clear_failure(
    new_uow: Uows, trainer: Actor, openai_model: tuple[int, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, chat_id = openai_model
    monkeypatch.delenv("ARBITER_KEY_TEST_OPENAI")
    (answer,) = ask(new_uow, trainer, chat_id, "hello")
    assert answer.failed and "ARBITER_KEY_TEST_OPENAI" in (answer.error or "")


# --- Train AI -----------------------------------------------------------------------------


def test_train_ai_with_a_correction_creates_a_ready_conversation_once(
    new_uow: Uows, trainer: Actor, world: World
) -> None:
    make_local_version(new_uow(), world.support, SUPPORT_QAS)
    ask(new_uow, trainer, world.group, "Let's check the rules")
    (answer,) = ask(new_uow, trainer, world.group, "@Northwind Support minimum order value?")
    draft = curation.train_preview(new_uow(), trainer, answer.id)
    chosen = [c for c in draft.candidates if c.preselected]
    assert [c.role for c in chosen] == [MessageRole.USER, MessageRole.ASSISTANT]
    assert chosen[-1].is_answer and draft.answer == "The minimum order value is 150 EUR."
    assert draft.already_trained is None

    result = curation.train_from_chat(
        new_uow(),
        trainer,
        answer.id,
        [c.message_id for c in chosen],
        "The minimum order value is 200 EUR since March.",
    )
    assert result.created
    detail = curation.get_conversation(new_uow(), trainer, result.conversation_id)
    assert detail.status == ConversationStatus.READY and detail.origin == ConversationOrigin.CHAT
    # The wrong answer is kept beside the correction, as a preference pair.
    assert detail.origin_ref == {
        "chat_id": world.group,
        "message_ids": [answer.id - 1, answer.id],
        "rejected": "The minimum order value is 150 EUR.",
    }
    assert [(m.role, m.content, m.weight) for m in detail.messages] == [
        (MessageRole.USER, "minimum order value?", None),
        (MessageRole.ASSISTANT, "The minimum order value is 200 EUR since March.", 1),
    ]
    assert "“Desk”" in detail.origin_label and detail.notes.startswith("Corrected")

    again = curation.train_from_chat(
        new_uow(), trainer, answer.id, [c.message_id for c in chosen], "Something else"
    )
    assert not again.created and again.conversation_id == result.conversation_id
    assert "already trained" in again.message
    preview = curation.train_preview(new_uow(), trainer, answer.id)
    assert preview.already_trained == result.conversation_id
    # export-training-set --method dpo: OpenAI's preference JSONL, checked by the validator.
    exported = compilation.export_training_set(new_uow(), trainer, world.support, "dpo")
    (line,) = [json.loads(raw) for raw in exported.splitlines()]
    assert line["input"]["messages"][-1] == {"role": "user", "content": "minimum order value?"}
    assert line["input"]["messages"][0]["role"] == "system"
    assert line["preferred_output"] == [
        {"role": "assistant", "content": "The minimum order value is 200 EUR since March."}
    ]
    assert line["non_preferred_output"][0]["content"] == "The minimum order value is 150 EUR."
    report = validate_preference_stream(io.BytesIO(exported), token_limit=65_536)
    assert [f.code for f in report.findings] == ["too_few_examples"]
    with new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TrainingConversation)) == 1


def test_train_ai_marks_wrong_earlier_answers_as_context_only(
    new_uow: Uows, trainer: Actor, world: World
) -> None:
    (wrong,) = ask(new_uow, trainer, world.group, "@Northwind Support do you ship to Norway?")
    (answer,) = ask(new_uow, trainer, world.group, "@Northwind Support that is wrong, check again")
    draft = curation.train_preview(new_uow(), trainer, answer.id)
    ids = [c.message_id for c in draft.candidates][-4:]
    result = curation.train_from_chat(
        new_uow(),
        trainer,
        answer.id,
        ids,
        "Sorry: yes, we ship to Norway, DAP.",
        context_only_ids=[wrong.id],
    )
    detail = curation.get_conversation(new_uow(), trainer, result.conversation_id)
    assert [(m.role, m.weight) for m in detail.messages] == [
        (MessageRole.USER, None),
        (MessageRole.ASSISTANT, 0),
        (MessageRole.USER, None),
        (MessageRole.ASSISTANT, 1),
    ]
    assert detail.problems == []


def test_train_ai_refuses_a_selection_that_cannot_be_trained(
    new_uow: Uows, trainer: Actor, manager: Actor, world: World
) -> None:
    (answer,) = ask(new_uow, trainer, world.group, "@Northwind Support hi")
    with pytest.raises(ValidationFailed) as exc:
        curation.train_from_chat(new_uow(), trainer, answer.id, [], "Hello!")
    assert "start with a user message" in str(exc.value)
    with pytest.raises(ValidationFailed):
        curation.train_from_chat(new_uow(), trainer, answer.id, [answer.id - 1], "  ")
    with pytest.raises(PermissionDenied):
        curation.train_from_chat(new_uow(), manager, answer.id, [answer.id - 1], "Hello!")
    with new_uow() as uow:
        assert uow.session.scalar(select(func.count()).select_from(TrainingConversation)) == 0
