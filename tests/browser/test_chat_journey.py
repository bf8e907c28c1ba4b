"""A trainer asks the demo arbiter in the group chat, corrects it with Train AI and finds the
ready training conversation; then approves one transcript in the curation queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import select

from core import db
from core.domain import ConversationOrigin, ConversationStatus, MessageRole, Role
from core.models import User
from core.permissions import Actor
from core.services import catalog, curation
from core.services.curation import ConversationFilter
from core.uow import UnitOfWork
from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle
from tests.local_versions import make_local_version

QUESTION = "What load can an NW-REL plug-in relay switch?"
CORRECTION = "10 A at 250 V AC (resistive); for DC or motors check the **derating curve**."


@pytest.fixture(scope="module")
def trained(app_server: AppServer) -> Iterator[tuple[UnitOfWork, Actor, int]]:
    """The server's demo database, with Northwind Support trained on its Q&As."""
    engine = db.make_engine(app_server.database_url)
    uow = UnitOfWork(db.session_factory(engine))
    with uow:
        user = uow.session.scalar(select(User).where(User.role == Role.TRAINER).limit(1))
        assert user is not None
        trainer = Actor(user.id, user.email, user.role, user.display_name)
    support = catalog.get_model_by_name(uow, trainer, "Northwind Support")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ARBITER_DATA_DIR", str(app_server.data_dir))
        make_local_version(uow, support.id)
    yield uow, trainer, support.id
    engine.dispose()


def sign_in_as_trainer(page: Page, app_server: AppServer) -> None:
    email, password = app_server.account("trainer")
    sign_in(page, app_server.url, email, password)


def test_ask_the_arbiter_and_train_it_with_a_correction(
    page: Page, app_server: AppServer, trained: tuple[UnitOfWork, Actor, int]
) -> None:
    uow, trainer, support_id = trained
    sign_in_as_trainer(page, app_server)
    open_page(page, "Chats")
    expect(page.get_by_role("heading", name="Chats", exact=True)).to_be_visible()
    # The messages scroll in their own pane: the page opens with its header in view.
    expect(page.get_by_role("heading", name="Chats", exact=True)).to_be_in_viewport()

    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(f"@Northwind Support {QUESTION}")
    box.press("Enter")
    wait_idle(page)
    expect(page.get_by_text("10 A at 250 V AC for resistive loads.", exact=False)).to_be_visible()
    # The new answer is scrolled to.
    expect(
        page.get_by_text("10 A at 250 V AC for resistive loads.", exact=False).last
    ).to_be_in_viewport()
    # The demo arbiters are compiled by seed-demo, so earlier answers carry this note too.
    expect(
        page.get_by_text("Local retrieval: answered from training example line").last
    ).to_be_visible()

    page.get_by_role("button", name="Train AI").last.click()
    wait_idle(page)
    dialog = page.get_by_role("dialog")
    expect(dialog.get_by_text("Teach Northwind Support")).to_be_visible()
    dialog.get_by_role("textbox", name="The right answer from Northwind Support").fill(CORRECTION)
    dialog.get_by_role("button", name="Create training conversation").click()
    wait_idle(page)
    expect(dialog.get_by_text("is ready: it will be part of Northwind Support")).to_be_visible()

    dialog.get_by_role("link", name="Open conversation").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name="Training conversations", exact=True)).to_be_visible()
    expect(page.get_by_text("Origin: chat")).to_be_visible()

    ready = curation.list_conversations(
        uow,
        trainer,
        support_id,
        ConversationFilter(statuses=[ConversationStatus.READY], origins=[ConversationOrigin.CHAT]),
    )
    assert ready.total == 1
    detail = curation.get_conversation(uow, trainer, ready.rows[0].id)
    assert [(m.role, m.content, m.weight) for m in detail.messages] == [
        (MessageRole.USER, QUESTION, None),
        (MessageRole.ASSISTANT, CORRECTION, 1),
    ]


def test_approve_one_transcript_in_the_queue(
    page: Page, app_server: AppServer, trained: tuple[UnitOfWork, Actor, int]
) -> None:
    uow, trainer, support_id = trained
    first = curation.next_in_queue(uow, trainer, support_id)
    assert first is not None
    sign_in_as_trainer(page, app_server)
    open_page(page, "Transcript curation")
    page.get_by_test_id("stSelectbox").filter(has_text="Model").click()
    page.get_by_role("option", name="Northwind Support").click()
    wait_idle(page)
    expect(page.get_by_role("heading", name=f"#{first.id} ·")).to_be_visible()
    approve = page.get_by_role("button", name="Approve Shortcut Alt + A")
    expect(approve).to_be_visible()
    # Keyboard-friendly: the queue's actions have shortcuts.
    page.keyboard.press("Alt+A")
    wait_idle(page)
    expect(page.get_by_text("Approved: conversation")).to_be_visible()

    decided = curation.get_transcript(uow, trainer, first.id)
    assert decided.status == "approved" and decided.conversation_id is not None
    conv = curation.get_conversation(uow, trainer, decided.conversation_id)
    assert conv.status == ConversationStatus.READY and conv.origin == ConversationOrigin.IMPORT
    assert [m.content for m in conv.messages] == [m.content for m in first.messages]
