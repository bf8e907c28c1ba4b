"""Issue 19 in a real browser at 1440 x 900, on a fresh studio (the demo company, nothing
compiled yet): curation opens where the work is (item 1), the models list shows what to do
next without scrolling inside the table (item 2), the dashboard says what will appear
instead of drawing empty plots (item 5), and rows open on a click, with compact pagers
(item 7)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Locator, Page, expect
from sqlalchemy import select

from core import db
from core.domain import MessageRole, Role
from core.models import User
from core.permissions import Actor
from core.services import catalog, curation
from core.training.conversations import MessageDraft
from core.uow import UnitOfWork
from tests.browser.conftest import ROOT, AppServer, _read_credentials, start_app, stop_app
from tests.browser.helpers import click_row, open_page, sign_in, wait_idle

WIDTH, HEIGHT = 1440, 900
EXTRA_CONVERSATIONS = 101  # three pages of conversations (50 a page), three of audit (100)


@pytest.fixture(scope="module")
def fresh(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    """The demo company before its first compilation, with enough conversations that the
    conversations list and the audit trail have more than one page."""
    folder = tmp_path_factory.mktemp("fresh")
    env = {
        **os.environ,
        "ARBITER_DATA_DIR": str(folder),
        "DATABASE_URL": f"sqlite:///{folder / 'arbiter.db'}",
        "ARBITER_FAST_PASSWORD_HASH": "1",
    }
    subprocess.run(
        [sys.executable, "-m", "core", "seed-demo", "--no-compile"],
        cwd=ROOT, env=env, check=True, capture_output=True,
    )  # fmt: skip
    engine = db.make_engine(env["DATABASE_URL"])
    uow = UnitOfWork(db.session_factory(engine))
    trainer = _actor(uow, Role.TRAINER)
    master = catalog.get_model_by_name(uow, trainer, "Northwind Master")
    for n in range(1, EXTRA_CONVERSATIONS + 1):
        curation.create_conversation(
            uow,
            trainer,
            master.id,
            [
                MessageDraft(MessageRole.USER, f"Which dock takes delivery number {n}?"),
                MessageDraft(MessageRole.ASSISTANT, f"Dock {n % 4 + 1}, before noon."),
            ],
            title=f"Delivery dock {n}",
        )
    engine.dispose()
    server = start_app(folder, seed=False)
    server.accounts, server.passwords = _read_credentials(folder / "demo-credentials.txt")
    yield server
    stop_app(server)
    shutil.rmtree(folder, ignore_errors=True)


def _actor(uow: UnitOfWork, role: Role) -> Actor:
    with uow:
        user = uow.session.scalar(select(User).where(User.role == role).limit(1))
        assert user is not None
        return Actor(user.id, user.email, user.role, user.display_name)


def _signed_in(browser: Browser, server: AppServer, role: str) -> Page:
    page = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
    page.set_default_timeout(30_000)
    sign_in(page, server.url, *server.account(role))
    return page


def _waiting(server: AppServer) -> dict[str, int]:
    engine = db.make_engine(server.database_url)
    try:
        uow = UnitOfWork(db.session_factory(engine))
        trainer = _actor(uow, Role.TRAINER)
        names = {m.id: m.name for m in catalog.list_models(uow, trainer)}
        counts = curation.waiting_by_model(uow, trainer)
        return {name: counts.get(i, 0) for i, name in names.items()}
    finally:
        engine.dispose()


def test_curation_opens_on_the_model_with_work_waiting_and_counts_it(
    browser: Browser, fresh: AppServer
) -> None:
    """Item 1: the demo's transcripts wait under Northwind Support, not under the default
    model (Northwind Master): the page opens there, and the picker counts per model."""
    waiting = _waiting(fresh)
    assert waiting["Northwind Master"] == 0 and waiting["Northwind Support"] > 0
    page = _signed_in(browser, fresh, "trainer")
    open_page(page, "Transcript curation")
    total = sum(waiting.values())
    picker = page.get_by_role("combobox", name="Model", exact=True)
    # (indented under its parent in the tree)
    chosen = f"Northwind Support · {waiting['Northwind Support']} waiting"
    expect(picker).to_have_value(re.compile(r"^\s*" + re.escape(chosen) + "$"))
    busy = sum(1 for n in waiting.values() if n)
    expect(page.get_by_text(f"{total} waiting in all, under {busy} of 4 models.")).to_be_visible()
    # The first transcript waiting is open for review, with its actions.
    expect(page.get_by_role("heading", name=re.compile(r"^#\d+ · "))).to_be_visible()
    expect(page.get_by_role("button", name=re.compile("^Approve"))).to_be_visible()

    picker.click()
    options = page.get_by_role("option")
    for name, count in waiting.items():
        expect(options.filter(has_text=f"{name} · {count} waiting")).to_have_count(1)
    page.keyboard.press("Escape")
    page.context.close()


def _header_column(grid: Locator, title: str) -> int:
    """The 1-based column index of a header, from the accessible table the grid keeps
    beside its canvas (the one a screen reader reads)."""
    headers = grid.locator("[role=columnheader]").all_text_contents()
    return [h.strip() for h in headers].index(title) + 1


def test_the_models_list_shows_what_to_do_next_without_scrolling(
    browser: Browser, fresh: AppServer
) -> None:
    """Item 2: "Last compilation" and "Changes pending" are in view at 1440 x 900: walking to
    them cell by cell with the keyboard never scrolls the table sideways (the grid scrolls
    exactly when a cell it moves to is not wholly visible)."""
    page = _signed_in(browser, fresh, "admin")
    open_page(page, "Models")
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid).to_contain_text("Northwind Master")
    box = grid.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, box
    scroller = grid.locator(".dvn-scroller")
    first = grid.locator("#glide-cell-0-0")
    cell = page.locator("[data-testid=stDataFrame] [aria-selected=true]")
    page.mouse.click(box["x"] + 40, box["y"] + box["height"] * 0.35)
    expect(cell).to_have_attribute("aria-colindex", "1")
    expect(first).to_have_text("Northwind Master")
    wanted = {
        _header_column(grid, "Last compilation"): "never",
        _header_column(grid, "Changes pending"): "yes",
    }
    for column in range(2, max(wanted) + 1):
        page.keyboard.press("ArrowRight")
        expect(cell).to_have_attribute("aria-colindex", str(column))
        if column in wanted:
            expect(cell).to_have_text(wanted[column])
        assert scroller.evaluate("(s) => s.scrollLeft") == 0, column
    page.context.close()


def test_an_empty_dashboard_says_what_will_appear_instead_of_empty_plots(
    browser: Browser, fresh: AppServer
) -> None:
    """Item 5: nothing compiled yet, so the four compilation charts are one sentence each
    of what will appear and how to get there; only the training-data chart draws."""
    page = _signed_in(browser, fresh, "manager")
    open_page(page, "Dashboard")
    main = page.get_by_test_id("stMain")
    for sentence in (
        "Each week's compilations by outcome appear here once a trainer compiles a model "
        "(Models page, Compile tab).",
        "appear here once a compilation has succeeded or failed.",
        "appears here once a model compiles on a priced connection such as OpenAI",
        "appears here once a model with validation Q&As compiles",
    ):
        expect(main.get_by_text(sentence)).to_be_visible()
    for label in ("Success rate", "Median duration"):
        metric = page.get_by_test_id("stMetric").filter(has_text=label)
        expect(metric.get_by_test_id("stMetricValue")).to_have_text("none yet")
    # The demo's Q&As make the training-data chart: that one chart, and no empty ones.
    expect(page.get_by_test_id("stVegaLiteChart")).to_have_count(1)
    expect(main).not_to_contain_text("0.000000")
    page.context.close()


def test_a_row_click_opens_a_conversation_and_the_pager_is_compact(
    browser: Browser, fresh: AppServer
) -> None:
    """Item 7: no second dropdown to open a conversation; a click on its row opens it in
    the editor. The list pages with Previous and Next, not a full-width number input."""
    page = _signed_in(browser, fresh, "trainer")
    open_page(page, "Training conversations")
    expect(page.get_by_role("combobox", name="Open a conversation")).to_have_count(0)
    total = 4 + EXTRA_CONVERSATIONS
    expect(page.get_by_text(f"{total} conversations match. Click a row")).to_be_visible()
    grid = page.get_by_test_id("stDataFrame").first
    expect(grid.locator("#glide-cell-2-1")).to_have_text(re.compile(r"\S"))
    title = grid.locator("#glide-cell-2-1").text_content() or ""
    number = click_row(page, grid, 1)
    heading = page.get_by_role("heading", name=f"#{number} · {title}", exact=True)
    expect(heading).to_be_visible()
    expect(page.get_by_role("textbox", name="Title", exact=True)).to_have_value(title)
    _compact_pager(page, "Page 1 of 3")
    page.get_by_role("button", name="Next").click()
    wait_idle(page)
    expect(page.get_by_text("Page 2 of 3", exact=True)).to_be_visible()
    page.context.close()


def _compact_pager(page: Page, text: str) -> None:
    """Previous · page N of M · Next in a line of its own width, and no number input."""
    expect(page.get_by_role("spinbutton", name=re.compile("^Page"))).to_have_count(0)
    expect(page.get_by_text(text, exact=True)).to_be_visible()
    nxt = page.get_by_role("button", name="Next")
    prev = page.get_by_role("button", name="Previous")
    expect(prev).to_be_disabled()
    main = page.get_by_test_id("stMain").bounding_box()
    first, last = prev.bounding_box(), nxt.bounding_box()
    assert main is not None and first is not None and last is not None
    assert last["x"] + last["width"] - first["x"] < main["width"] / 2, (first, last, main)


def test_a_row_click_opens_a_transcript_and_the_table_shows_the_reject_reason(
    browser: Browser, fresh: AppServer
) -> None:
    """Item 7: a trainer rejects a transcript with a reason; the all-transcripts table shows
    the reason, and a click on its row opens the transcript with its decision."""
    page = _signed_in(browser, fresh, "trainer")
    open_page(page, "Transcript curation")
    heading = page.get_by_role("heading", name=re.compile(r"^#\d+ · "))
    expect(heading).to_be_visible()
    rejected = (heading.text_content() or "").strip()
    reason = "promises a refund we do not give"
    page.get_by_role("textbox", name="Reason for rejecting").fill(reason)
    page.get_by_role("button", name=re.compile("^Reject")).click()
    wait_idle(page)
    expect(page.get_by_text("Rejected.", exact=True)).to_be_visible()
    expect(page.get_by_role("heading", name=rejected, exact=True)).to_have_count(0)
    # The picker counts the decision at once, as the caption under it does.
    left = _waiting(fresh)["Northwind Support"]
    picker = page.get_by_role("combobox", name="Model", exact=True)
    expect(picker).to_have_value(re.compile(rf"Northwind Support · {left} waiting$"))
    expect(page.get_by_text(re.compile(rf"^{left} waiting in all"))).to_be_visible()

    page.get_by_role("tab", name="All transcripts").click()
    grid = page.get_by_test_id("stDataFrame").filter(has_text=reason)
    expect(grid).to_have_count(1)  # the reason is a column of the table
    row = next(
        int(cell.get_attribute("id").rsplit("-", 1)[1])  # type: ignore[union-attr]
        for cell in grid.locator("[role=gridcell]").all()
        if cell.text_content() == reason
    )
    number = click_row(page, grid, row)
    assert rejected.startswith(f"#{number} · "), (rejected, number)
    expect(page.get_by_role("heading", name=rejected, exact=True)).to_be_visible()
    expect(page.get_by_text(f"Reject reason: {reason}", exact=True)).to_be_visible()
    expect(page.get_by_text(re.compile(r"^Status: rejected by "))).to_be_visible()
    page.context.close()


def test_the_audit_trail_pages_with_previous_and_next(browser: Browser, fresh: AppServer) -> None:
    """Item 7: the audit trail (100 entries a page) has a compact pager, not a number input."""
    page = _signed_in(browser, fresh, "admin")
    open_page(page, "Audit")
    expect(page.get_by_text(re.compile(r"^\d+ entries match\.$"))).to_be_visible()
    _compact_pager(page, "Page 1 of 2")
    page.get_by_role("button", name="Next").click()
    wait_idle(page)
    expect(page.get_by_text("Page 2 of 2", exact=True)).to_be_visible()
    expect(page.get_by_role("button", name="Next")).to_be_disabled()
    page.context.close()
