"""User text never runs in the browser: `<script>` and `<img onerror>` posted in a chat, in
Q&As (imported, and typed into a grid cell) and in a training conversation (its Markdown
preview) are shown as the text they are, and nothing of them runs in the page or in any of
its frames (the grid lives in an iframe): no ``window.__pwned``, no dialog.

The payloads are first shown to be live: put into a plain page, they do run and the checks
catch it.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Dialog, FrameLocator, Page, expect
from sqlalchemy import select

from core import db
from core.domain import ChatKind, MessageRole, Role
from core.models import QA, User
from core.permissions import Actor
from core.services import catalog, chat, curation, qas
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork
from tests.browser.conftest import AppServer
from tests.browser.helpers import session_cookie, sign_in, wait_idle

SCRIPT = "<script>window.__pwned=1;alert('pwned by script')</script>"
IMG = "<img src=x onerror=\"window.__pwned=1;alert('pwned by img')\">"
GRID = "iframe[title='st_aggrid.AgGrid.agGrid']"


@dataclass(frozen=True)
class Seeded:
    model_id: int
    chat_id: int
    qa_id: int
    conversation_id: int


@pytest.fixture(scope="module")
def seeded(app_server: AppServer) -> Iterator[Seeded]:
    """Hostile text stored through the services, straight into the server's database."""
    engine = db.make_engine(app_server.database_url)
    uow = UnitOfWork(db.session_factory(engine))
    with uow:
        user = uow.session.scalar(select(User).where(User.role == Role.TRAINER).limit(1))
        assert user is not None
        trainer = Actor(user.id, user.email, user.role, user.display_name)
    model = catalog.get_model_by_name(uow, trainer, "Northwind Support").id

    group = chat.create_chat(uow, trainer, "Markup test", ChatKind.GROUP)
    chat.post_message(uow, trainer, group.id, f"{SCRIPT} chat one")
    chat.post_message(uow, trainer, group.id, f"{IMG} chat two")

    rows = [["question", "answer"], [f"{SCRIPT} Q&A question?", f"{IMG} Q&A answer."]]
    content = "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in rows)
    table = qas.read_upload("markup.csv", content.encode())
    qas.commit_import(uow, trainer, model, table, qas.suggest_mapping(table.headers))
    with uow:
        qa_id = uow.session.scalar(select(QA.id).where(QA.question.startswith(SCRIPT)))
        assert qa_id is not None

    conversation = curation.create_conversation(
        uow,
        trainer,
        model,
        [
            MessageDraft(MessageRole.USER, f"{SCRIPT} conversation question"),
            MessageDraft(MessageRole.ASSISTANT, f"{IMG} conversation answer"),
        ],
        title="Markup test",
    )
    yield Seeded(model, group.id, qa_id, conversation.id)
    engine.dispose()


@pytest.fixture
def dialogs(page: Page) -> list[str]:
    opened: list[str] = []

    def record(dialog: Dialog) -> None:
        opened.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", record)
    return opened


def _nothing_ran(page: Page, dialogs: list[str]) -> None:
    page.wait_for_timeout(500)  # an image error fires after the page settles
    for frame in page.frames:
        assert frame.evaluate("typeof window.__pwned") == "undefined", frame.url
    assert dialogs == []


def _open(page: Page, app_server: AppServer, path: str) -> None:
    page.goto(f"{app_server.url}/{path}")
    wait_idle(page)


def _sign_in_as_trainer(page: Page, app_server: AppServer) -> None:
    email, password = app_server.account("trainer")
    sign_in(page, app_server.url, email, password)
    # Pages are then opened by their address: a new run that signs in from the cookie.
    session_cookie(page)


def test_the_payloads_run_in_a_plain_page_and_are_caught(
    context: BrowserContext,
) -> None:
    plain = context.new_page()
    caught: list[str] = []

    def record(dialog: Dialog) -> None:
        caught.append(dialog.message)
        dialog.dismiss()

    plain.on("dialog", record)
    plain.set_content(f"<html><body><p>{IMG}</p></body></html>")
    plain.wait_for_function("window.__pwned === 1")
    assert caught == ["pwned by img"]
    with pytest.raises(AssertionError):
        _nothing_ran(plain, caught)


def test_chat_messages_show_markup_as_text(
    page: Page, app_server: AppServer, seeded: Seeded, dialogs: list[str]
) -> None:
    _sign_in_as_trainer(page, app_server)
    _open(page, app_server, f"chats?chat={seeded.chat_id}")
    expect(page.get_by_text(f"{SCRIPT} chat one")).to_be_visible()
    expect(page.get_by_text(f"{IMG} chat two")).to_be_visible()
    _nothing_ran(page, dialogs)


def _grid(page: Page) -> FrameLocator:
    return page.frame_locator(GRID)


def test_qas_show_markup_as_text_in_the_grid_also_when_typed(
    page: Page, app_server: AppServer, seeded: Seeded, dialogs: list[str]
) -> None:
    _sign_in_as_trainer(page, app_server)
    _open(page, app_server, f"qas?qa={seeded.qa_id}")
    expect(page.locator(GRID)).to_be_attached(timeout=60_000)
    expect(_grid(page).get_by_text(f"{SCRIPT} Q&A question?", exact=True)).to_be_visible(
        timeout=60_000
    )
    expect(_grid(page).get_by_text(f"{IMG} Q&A answer.", exact=True)).to_be_visible()
    _nothing_ran(page, dialogs)

    # Typed into a cell: saved as the text it is, and shown so after a reload. (The search
    # brings the row to the top of the grid, where its cells can be clicked.)
    search = page.get_by_label("Search questions and answers")
    search.fill('"pwned by script"')
    search.press("Enter")
    wait_idle(page)
    cell = _grid(page).locator(".ag-row[row-index='0'] .ag-cell[col-id='notes']")
    expect(_grid(page).locator(".ag-row")).to_have_count(1, timeout=60_000)
    cell.dblclick()
    editor = _grid(page).locator(".ag-popup-editor textarea, .ag-cell-inline-editing input")
    editor.first.fill(f"{IMG} typed note")
    editor.first.press("Enter")
    wait_idle(page)
    # The save says so twice (a toast and a line above the grid): either will do.
    expect(page.get_by_text(f"Saved Q&A #{seeded.qa_id}").first).to_be_visible()
    _nothing_ran(page, dialogs)
    page.reload()
    wait_idle(page)
    expect(_grid(page).get_by_text(f"{IMG} typed note", exact=True)).to_be_visible(timeout=60_000)
    _nothing_ran(page, dialogs)


def test_a_conversation_previews_markup_as_text(
    page: Page, app_server: AppServer, seeded: Seeded, dialogs: list[str]
) -> None:
    _sign_in_as_trainer(page, app_server)
    _open(
        page,
        app_server,
        f"conversations?model={seeded.model_id}&conversation={seeded.conversation_id}",
    )
    previews = page.get_by_role("tab", name="Preview")
    expect(previews.first).to_be_visible(timeout=30_000)
    for index in range(previews.count()):
        previews.nth(index).click()
    wait_idle(page)
    rendered = page.get_by_role("tabpanel").get_by_test_id("stMarkdownContainer")
    for text in (f"{SCRIPT} conversation question", f"{IMG} conversation answer"):
        expect(rendered.filter(has_text=text)).to_be_visible()
    _nothing_ran(page, dialogs)
