"""The chat, conversation and curation pages as trainers meet them (AppTest): ask the demo
arbiter, Train AI with a correction, edit the conversation, approve a transcript, and a
provider outage in the chat."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import db, demo
from core.domain import (
    ChatKind,
    ConversationOrigin,
    ConversationStatus,
    MessageRole,
    ProviderType,
    Role,
    TranscriptStatus,
)
from core.models import User
from core.permissions import Actor
from core.services import catalog, chat, curation
from core.services.catalog import ConnectionInput, ModelInput
from core.services.curation import ConversationFilter
from core.uow import UnitOfWork
from tests.conftest import make_user
from tests.local_versions import make_local_version
from tests.openai_server import FakeOpenAI, Fault
from tests.paths import ROOT
from ui.context import USER_KEY

QUESTION = "Who pays the return shipping for a defective relay?"


@dataclass
class Demo:
    url: str
    uow: UnitOfWork
    trainer: Actor
    manager: Actor
    support_id: int
    chat_id: int


@pytest.fixture
def demo_company(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Demo]:
    """The demo company with Northwind Support trained (a local version from its Q&As)."""
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path / "data"))
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = UnitOfWork(db.session_factory(engine))
    demo.seed(uow)
    with uow:
        people = {
            u.role: Actor(u.id, u.email, u.role, u.display_name)
            for u in uow.session.scalars(select(User).order_by(User.id.desc()))
        }
    trainer = people[Role.TRAINER]
    support = catalog.get_model_by_name(uow, trainer, "Northwind Support")
    make_local_version(uow, support.id)
    (group,) = chat.list_chats(uow, trainer)
    yield Demo(url, uow, trainer, people[Role.MANAGER], support.id, group.id)
    engine.dispose()


def open_page(
    url: str, actor: Actor, page: str, monkeypatch: pytest.MonkeyPatch, **query: str
) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.session_state[USER_KEY] = actor.user_id
    for name, value in query.items():
        at.query_params[name] = value
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def markdown_texts(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown]


def test_ask_the_demo_arbiter_then_train_it_with_a_correction(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    at = open_page(d.url, d.trainer, "pages/chats.py", monkeypatch)
    at.chat_input(key="chat_input").set_value(f"@Northwind Support {QUESTION}").run()
    assert not at.exception and not at.error, [e.value for e in at.error]

    *_, asked, answer = chat.list_messages(d.uow, d.trainer, d.chat_id)
    assert asked.content.endswith(QUESTION) and answer.author_name == "Northwind Support"
    assert answer.version_number == 1 and answer.meta["example_line"]
    # The page shows the answer, the version and where the answer came from.
    assert answer.content in markdown_texts(at)
    captions = [c.value for c in at.caption]
    assert any("Northwind Support" in c and "version 1" in c for c in captions)
    assert any(
        c.startswith("Local retrieval: answered from training example line") for c in captions
    )

    at.button(key=f"chat_train_{answer.id}").click().run()
    assert not at.exception
    correction = "Raise an RMA in the portal within **30 days**; we send a prepaid label."
    at.text_area(key=f"chat_train_answer_{answer.id}").input(correction)
    next(b for b in at.button if b.label == "Create training conversation").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    assert any("is ready" in s.value for s in at.success)

    ready = curation.list_conversations(
        d.uow,
        d.trainer,
        d.support_id,
        ConversationFilter(statuses=[ConversationStatus.READY], origins=[ConversationOrigin.CHAT]),
    )
    assert ready.total == 1
    detail = curation.get_conversation(d.uow, d.trainer, ready.rows[0].id)
    assert [(m.role, m.content, m.weight) for m in detail.messages] == [
        (MessageRole.USER, QUESTION, None),
        (MessageRole.ASSISTANT, correction, 1),
    ]
    assert detail.origin_ref == {
        "chat_id": d.chat_id,
        "message_ids": [asked.id, answer.id],
        "rejected": answer.content,  # kept beside the correction: a preference pair
    }

    # Training the same selection again warns and creates nothing.
    total = curation.list_conversations(d.uow, d.trainer, d.support_id).total
    at.button(key="chat_train_close").click().run()
    at.button(key=f"chat_train_{answer.id}").click().run()
    assert any("already trained" in w.value for w in at.warning)
    next(b for b in at.button if b.label == "Create training conversation").click().run()
    assert any("already trained" in w.value for w in at.warning)
    assert curation.list_conversations(d.uow, d.trainer, d.support_id).total == total


def test_the_conversation_editor_opens_from_a_link_and_saves(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    (row,) = curation.list_conversations(
        d.uow, d.trainer, d.support_id, ConversationFilter(statuses=[ConversationStatus.DRAFT])
    ).rows
    before = curation.get_conversation(d.uow, d.trainer, row.id)
    at = open_page(
        d.url,
        d.trainer,
        "pages/conversations.py",
        monkeypatch,
        model=str(d.support_id),
        conversation=str(row.id),
    )
    assert any(f"#{row.id}" in h.value for h in at.subheader)
    assert any("Origin:" in i.value and "entered by hand" in i.value for i in at.info)
    key = f"conv_{row.id}_{before.row_version}"
    # Empty the last answer: the live check says so and the status cannot become ready.
    last = len(before.messages) - 1
    at.text_area(key=f"{key}_m{last}_content").input("").run()
    assert any("is empty" in w.value for w in at.warning)
    at.text_area(key=f"{key}_m{last}_content").input("Please send a photo of the **label**.")
    at.button(key=f"{key}_add_user").click().run()
    at.text_area(key=f"{key}_n0_content").input("Here it is.")
    at.button(key=f"{key}_add_assistant").click().run()
    at.text_area(key=f"{key}_n1_content").input("Thanks, a replacement ships today.")
    at.selectbox(key=f"{key}_m{last}_weight").select(0)
    at.radio(key=f"{key}_status").set_value(ConversationStatus.READY)
    at.button(key=f"{key}_save").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = curation.get_conversation(d.uow, d.trainer, row.id)
    assert after.status == ConversationStatus.READY
    assert [(m.content, m.weight) for m in after.messages[-3:]] == [
        ("Please send a photo of the **label**.", 0),
        ("Here it is.", None),
        ("Thanks, a replacement ships today.", 1),
    ]
    assert any(f"Saved conversation #{row.id}" in s.value for s in at.success)


def test_approve_one_transcript_in_the_queue(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch, model=str(d.support_id))
    assert [m.value for m in at.metric][:1] == ["6"]
    first = curation.next_in_queue(d.uow, d.trainer, d.support_id)
    assert first is not None
    assert any(f"#{first.id}" in h.value for h in at.subheader)
    at.button(key="tx_approve").click().run()
    assert not at.exception and not at.error
    assert any("Approved: conversation" in s.value for s in at.success)
    decided = curation.get_transcript(d.uow, d.trainer, first.id)
    assert decided.status == TranscriptStatus.APPROVED and decided.conversation_id
    conv = curation.get_conversation(d.uow, d.trainer, decided.conversation_id)
    assert conv.status == ConversationStatus.READY
    assert conv.origin_label == "file support-desk-export.jsonl, line 1"

    # The next one: reject with a reason (Enter submits the form), then skip one.
    second = curation.next_in_queue(d.uow, d.trainer, d.support_id)
    assert second is not None and any(f"#{second.id}" in h.value for h in at.subheader)
    at.text_input[-1].input("promises a callback time we cannot keep")
    next(b for b in at.button if b.label == "Reject").click().run()
    assert curation.get_transcript(d.uow, d.trainer, second.id).status == "rejected"
    at.button(key="tx_skip").click().run()
    progress = curation.queue_progress(d.uow, d.trainer, d.support_id)
    assert (progress.approved, progress.rejected, progress.skipped) == (1, 1, 1)
    # The fourth carries a personal-data warning.
    assert any("jan.novak@example.com" in w.value for w in at.warning)


def test_managers_read_but_do_not_train(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    at = open_page(d.url, d.manager, "pages/chats.py", monkeypatch)
    at.chat_input(key="chat_input").set_value(f"@Northwind Support {QUESTION}").run()
    assert not at.exception
    assert not [b for b in at.button if b.label == "Train AI"]
    at = open_page(d.url, d.manager, "pages/transcripts.py", monkeypatch, model=str(d.support_id))
    assert not [b for b in at.button if b.label == "Approve"]


def test_a_provider_outage_shows_a_clear_message_and_keeps_the_question(
    sqlite_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path / "data"))
    uow = UnitOfWork(db.session_factory(db.make_engine(sqlite_url)))
    admin = make_user(uow, "admin@corp.example", Role.ADMIN)
    trainer = make_user(uow, "trainer@corp.example", Role.TRAINER)
    with FakeOpenAI() as server:
        monkeypatch.setenv("ARBITER_KEY_TEST_OPENAI", server.api_key)
        conn = catalog.create_connection(
            uow,
            admin,
            ConnectionInput(
                name="OpenAI",
                provider_type=ProviderType.OPENAI,
                base_url=server.base_url,
                api_key_env="ARBITER_KEY_TEST_OPENAI",
                default_base_model="gpt-4o-mini-2024-07-18",
            ),
        )
        model = catalog.create_model(uow, admin, ModelInput(name="Cloud", connection_id=conn.id))
        direct = chat.create_chat(uow, trainer, "", ChatKind.DIRECT, model_ids=[model.id])
        server.add_fault("POST", r"/chat/completions", Fault.server_error(500))
        at = open_page(sqlite_url, trainer, "pages/chats.py", monkeypatch)
        at.chat_input(key="chat_input").set_value("Is the warranty two years?").run()
        assert not at.exception
        errors = [e.value for e in at.error]
        assert any(
            e.startswith("Cloud could not answer: OpenAI had a server error (500)") for e in errors
        ), errors
        assert "Is the warranty two years?" in markdown_texts(at)
        question, failed = chat.list_messages(uow, trainer, direct.id)
        assert question.content == "Is the warranty two years?" and failed.failed

        # The provider is back: "Ask again" answers.
        at.button(key=f"chat_retry_{failed.id}").click().run()
        assert not at.exception and not at.error, [e.value for e in at.error]
        assert "[gpt-4o-mini-2024-07-18] Is the warranty two years?" in markdown_texts(at)


def test_edit_a_transcript_then_approve_it(
    demo_company: Demo, monkeypatch: pytest.MonkeyPatch
) -> None:
    d = demo_company
    item = curation.next_in_queue(d.uow, d.trainer, d.support_id)
    assert item is not None and len(item.messages) == 4
    at = open_page(d.url, d.trainer, "pages/transcripts.py", monkeypatch, model=str(d.support_id))
    at.button(key="tx_edit").click().run()
    key = f"tx_{item.id}_{item.row_version}"
    at.button(key=f"{key}_m3_remove").click().run()
    at.button(key=f"{key}_m2_remove").click().run()
    at.text_area(key=f"{key}_m0_content").input("A relay we bought has stopped switching.")
    assert at.button(key=f"{key}_m1_down").disabled  # already last
    at.button(key=f"{key}_m0_down").click().run()
    assert at.selectbox(key=f"{key}_m0_role").label == "Message 2"
    at.button(key=f"{key}_m0_up").click().run()  # and back where it was
    at.button(key="tx_approve_edited").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    decided = curation.get_transcript(d.uow, d.trainer, item.id)
    assert decided.status == TranscriptStatus.APPROVED and decided.conversation_id
    conv = curation.get_conversation(d.uow, d.trainer, decided.conversation_id)
    assert [(m.role, m.content) for m in conv.messages] == [
        (MessageRole.USER, "A relay we bought has stopped switching."),
        (MessageRole.ASSISTANT, item.messages[1].content),
    ]
    assert "edited before approval" in conv.notes
