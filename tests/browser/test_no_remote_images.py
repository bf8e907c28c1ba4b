"""User and model text fetches nothing from elsewhere: a Markdown image in a chat message,
an imported transcript (the curation page) or a training conversation shows as the text that
wrote it, and the browser sends no request to the image's address.

The check is shown to be live first: the same image, rendered as Markdown by Streamlit on
a plain page of ours, is fetched and caught.
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from playwright.sync_api import BrowserContext, Page, Route, expect
from sqlalchemy import select

from core import db
from core.domain import ChatKind, MessageRole, Role
from core.models import User
from core.permissions import Actor
from core.services import catalog, chat, curation
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork
from tests.browser.conftest import AppServer
from tests.browser.helpers import session_cookie, sign_in, wait_idle

TRACKER = "http://tracker.example"
PIXEL = f"![]({TRACKER}/pixel-chat.png)"


@pytest.fixture(scope="module")
def seeded(app_server: AppServer) -> Iterator[dict[str, int]]:
    engine = db.make_engine(app_server.database_url)
    uow = UnitOfWork(db.session_factory(engine))
    with uow:
        user = uow.session.scalar(select(User).where(User.role == Role.TRAINER).limit(1))
        assert user is not None
        trainer = Actor(user.id, user.email, user.role, user.display_name)
    model = catalog.get_model_by_name(uow, trainer, "Northwind Support").id
    group = chat.create_chat(uow, trainer, "Image test", ChatKind.GROUP)
    chat.post_message(uow, trainer, group.id, f"Look {PIXEL} here")
    line = {
        "messages": [
            {"role": "user", "content": f"Where? ![x]({TRACKER}/pixel-transcript-1.png)"},
            {"role": "assistant", "content": f"There. ![y][ref]\n\n[ref]: {TRACKER}/pixel-2.png"},
        ]
    }
    # Into a model whose review queue is empty, so that this transcript is the one shown.
    sales = catalog.get_model_by_name(uow, trainer, "Northwind Sales").id
    curation.import_transcripts(uow, trainer, sales, "t.jsonl", json.dumps(line).encode())
    conversation = curation.create_conversation(
        uow,
        trainer,
        model,
        [
            MessageDraft(MessageRole.USER, f"Q ![q]({TRACKER}/pixel-conversation.png)"),
            MessageDraft(MessageRole.ASSISTANT, "A", weight=1),
        ],
        title="Image test",
    )
    yield {"model": model, "sales": sales, "chat": group.id, "conversation": conversation.id}
    engine.dispose()


@pytest.fixture
def fetched(context: BrowserContext) -> list[str]:
    """Every request for the tracker's address (answered here: there is no internet)."""
    seen: list[str] = []

    def record(route: Route) -> None:
        seen.append(route.request.url)
        route.fulfill(status=204)

    context.route(f"{TRACKER}/**", record)
    return seen


def _open(page: Page, app_server: AppServer, path: str) -> None:
    email, password = app_server.account("trainer")
    sign_in(page, app_server.url, email, password)
    session_cookie(page)
    page.goto(f"{app_server.url}/{path}")
    wait_idle(page)
    page.wait_for_timeout(1_000)  # images load after the page settles


def test_an_image_in_a_plain_page_is_fetched_and_caught(page: Page, fetched: list[str]) -> None:
    page.set_content(f'<img src="{TRACKER}/pixel-live.png">')
    page.wait_for_timeout(500)
    assert fetched == [f"{TRACKER}/pixel-live.png"]


def test_a_chat_shows_the_image_as_text(
    page: Page, app_server: AppServer, seeded: dict[str, int], fetched: list[str]
) -> None:
    _open(page, app_server, f"chats?chat={seeded['chat']}")
    expect(page.get_by_text(f"Look {PIXEL} here")).to_be_visible()
    assert fetched == []


def test_the_curation_page_shows_imported_images_as_text(
    page: Page, app_server: AppServer, seeded: dict[str, int], fetched: list[str]
) -> None:
    _open(page, app_server, f"transcripts?model={seeded['sales']}")
    # In the title and in the message.
    expect(page.get_by_text(f"![x]({TRACKER}/pixel-transcript-1.png)")).to_have_count(2)
    assert fetched == []


def test_a_conversation_shows_the_image_as_text(
    page: Page, app_server: AppServer, seeded: dict[str, int], fetched: list[str]
) -> None:
    _open(
        page,
        app_server,
        f"conversations?model={seeded['model']}&conversation={seeded['conversation']}",
    )
    previews = page.get_by_role("tab", name="Preview")
    expect(previews.first).to_be_visible(timeout=30_000)
    for index in range(previews.count()):
        previews.nth(index).click()
    wait_idle(page)
    page.wait_for_timeout(1_000)
    assert fetched == []
