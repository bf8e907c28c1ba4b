"""The Q&A grid in a real browser: a cell edit is saved and survives a reload; a refused
value shows the stored one again; two people editing one row see the conflict."""

from __future__ import annotations

import sqlite3

import pytest
from playwright.sync_api import Browser, FrameLocator, Locator, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle

GRID = "iframe[title='st_aggrid.AgGrid.agGrid']"


def _grid(page: Page) -> FrameLocator:
    return page.frame_locator(GRID)


def _cell(page: Page, row: int, column: str) -> Locator:
    return _grid(page).locator(f".ag-row[row-index='{row}'] .ag-cell[col-id='{column}']")


def _emails(server: AppServer, role: str) -> list[str]:
    text = (server.data_dir / "demo-credentials.txt").read_text(encoding="utf-8")
    rows = [line.split() for line in text.splitlines()]
    return [parts[1] for parts in rows if len(parts) == 3 and parts[0] == role]


def _open_qas(page: Page, server: AppServer, role: str, which: int = 0) -> None:
    email = _emails(server, role)[which]
    sign_in(page, server.url, email, server.passwords[email])
    open_page(page, "Q&As")
    _wait_for_grid(page)


def _wait_for_grid(page: Page) -> None:
    # The grid draws after the page script ends; on a busy machine that takes a while.
    grid = page.locator(GRID)
    expect(grid).to_be_attached(timeout=60_000)
    grid.scroll_into_view_if_needed(timeout=60_000)
    expect(_cell(page, 0, "answer")).to_be_visible(timeout=60_000)


def _edit(page: Page, row: int, column: str, text: str) -> None:
    _cell(page, row, column).dblclick()
    editor = _grid(page).locator(".ag-popup-editor textarea, .ag-cell-inline-editing input").first
    editor.fill(text)
    editor.press("Enter")
    wait_idle(page)


def _stored(server: AppServer, qa_id: int) -> tuple[str, str, int]:
    path = server.database_url.removeprefix("sqlite:///")
    with sqlite3.connect(path) as conn:
        row = conn.execute(
            "SELECT question, answer, row_version FROM qas WHERE id = ?", (qa_id,)
        ).fetchone()
    return str(row[0]), str(row[1]), int(row[2])


def test_an_edited_cell_is_kept_after_a_reload(page: Page, app_server: AppServer) -> None:
    _open_qas(page, app_server, "trainer")
    answer = "Founded in 2004; head office in Dublin (checked by the browser test)."
    _edit(page, 0, "answer", answer)
    expect(page.get_by_text("Saved Q&A #1 (version 2)")).to_be_visible()
    assert _stored(app_server, 1)[1:] == (answer, 2)

    page.reload()  # keeps the sign-in and the page
    wait_idle(page)
    _wait_for_grid(page)
    expect(_cell(page, 0, "answer")).to_have_text(answer)


def test_a_refused_value_shows_the_stored_one_again(page: Page, app_server: AppServer) -> None:
    _open_qas(page, app_server, "trainer")
    before = _cell(page, 1, "question").inner_text()
    _edit(page, 1, "question", "   ")
    expect(page.get_by_text("question is empty")).to_be_visible()
    expect(_cell(page, 1, "question")).to_have_text(before)
    assert _stored(app_server, 2)[0] == before and _stored(app_server, 2)[2] == 1


def test_two_people_editing_one_row_see_the_conflict(
    browser: Browser, app_server: AppServer
) -> None:
    first = browser.new_context(viewport={"width": 1400, "height": 1000})
    second = browser.new_context(viewport={"width": 1400, "height": 1000})
    try:
        maria, jonas = first.new_page(), second.new_page()
        for p in (maria, jonas):
            p.set_default_timeout(30_000)
        _open_qas(maria, app_server, "trainer")
        _open_qas(jonas, app_server, "trainer", which=1)

        _edit(maria, 2, "answer", "Maria's answer")
        expect(maria.get_by_text("Saved Q&A #3 (version 2)")).to_be_visible()
        # Jonas's grid still shows version 1 of the row: his save must not overwrite Maria's.
        _edit(jonas, 2, "answer", "Jonas's answer")
        expect(jonas.get_by_text("Someone else changed the answer of Q&A #3")).to_be_visible()
        expect(jonas.get_by_text("Your value")).to_be_visible()
        expect(jonas.get_by_test_id("stCode").filter(has_text="Jonas's answer")).to_be_visible()
        expect(jonas.get_by_test_id("stCode").filter(has_text="Maria's answer")).to_be_visible()
        assert _stored(app_server, 3)[1:] == ("Maria's answer", 2)
        expect(_cell(jonas, 2, "answer")).to_have_text("Maria's answer")

        jonas.get_by_role("button", name="Keep mine").click()
        wait_idle(jonas)
        expect(_cell(jonas, 2, "answer")).to_have_text("Jonas's answer")
        assert _stored(app_server, 3)[1:] == ("Jonas's answer", 3)
    finally:
        first.close()
        second.close()


@pytest.mark.parametrize(
    ("width", "height", "row"), [(1440, 900, 3), (1280, 800, 4), (1920, 1080, 5)]
)
def test_actions_sit_above_the_grid_and_a_save_is_confirmed(
    browser: Browser, app_server: AppServer, width: int, height: int, row: int
) -> None:
    """At 1440 x 900 (and 1280 x 800, 1920 x 1080) a trainer reaches every action without
    scrolling, a save says so in a toast, and the saved cell is not outlined in red (which
    reads as an error)."""
    ctx = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = ctx.new_page()
        page.set_default_timeout(30_000)
        _open_qas(page, app_server, "trainer")
        page.get_by_test_id("stMain").evaluate("(main) => main.scrollTo(0, 0)")
        page.evaluate("window.scrollTo(0, 0)")
        for action in ("Bulk actions", "Add", "Paste rows", "Import", "Export"):
            button = page.get_by_test_id("stPopover").filter(has_text=action).get_by_role("button")
            box = button.first.bounding_box()
            assert box is not None and box["y"] + box["height"] <= height, (action, box)
        _edit(page, row, "answer", f"Checked at {width} by {height}.")
        toast = page.get_by_test_id("stToast").filter(has_text=f"Saved Q&A #{row + 1}")
        expect(toast).to_be_visible()
        cell = _cell(page, row, "answer")
        colours = cell.evaluate(
            "(c) => { const s = getComputedStyle(c);"
            " return [s.borderTopColor, s.borderLeftColor, s.outlineColor, s.boxShadow]; }"
        )
        assert not any("255, 75, 75" in str(c) for c in colours), colours
    finally:
        ctx.close()
