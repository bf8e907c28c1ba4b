"""Small Playwright helpers for Streamlit pages."""

from __future__ import annotations

import re
from typing import Any

from playwright.sync_api import Locator, Page, expect

IDLE = "[data-test-script-state='notRunning']"
ROW = 35  # the height of a row of st.dataframe, and of its header, in pixels


SESSION_COOKIE = "arbiter_session"


def session_cookie(page: Page) -> dict[str, Any]:
    """The sign-in cookie once the server has set it (HttpOnly: the page posts a ticket as
    it renders, and the answer sets it), so that pages opened by address sign in from it."""
    for _ in range(200):
        found = [c for c in page.context.cookies() if c["name"] == SESSION_COOKIE and c["httpOnly"]]
        if found:
            return dict(found[0])
        page.wait_for_timeout(100)
    raise AssertionError(f"no HttpOnly {SESSION_COOKIE} cookie: {page.context.cookies()}")


def no_session_cookie(page: Page) -> None:
    """Wait until the server has removed the sign-in cookie (sign-out posts a ticket as the
    page renders, and the answer deletes the cookie)."""
    for _ in range(200):
        if SESSION_COOKIE not in {c["name"] for c in page.context.cookies()}:
            return
        page.wait_for_timeout(100)
    raise AssertionError(f"the {SESSION_COOKIE} cookie stayed: {page.context.cookies()}")


def wait_idle(page: Page, timeout: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script after an action."""
    page.wait_for_timeout(150)
    page.wait_for_selector(IDLE, timeout=timeout, state="attached")


def sign_in(page: Page, base_url: str, email: str, password: str) -> None:
    page.goto(base_url)
    wait_idle(page)
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=20_000)
    # The cookie arrives a moment after the page shows the sign-in: a page opened by address
    # before then would show the sign-in form.
    session_cookie(page)


def open_page(page: Page, title: str) -> None:
    """Click a page in the sidebar navigation, and make sure it opened: a click that lands
    while a fragment of the current page refreshes itself can be dropped on a busy machine,
    where a person would click again."""
    link = page.get_by_test_id("stSidebarNavLink").filter(has=page.get_by_text(title, exact=True))
    target = re.compile("^" + re.escape(str(link.get_attribute("href"))) + r"(\?.*)?$")
    for attempt in range(3):
        link.click()
        wait_idle(page)
        try:
            expect(page).to_have_url(target, timeout=10_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def click_row(page: Page, grid: Locator, row: int) -> str:
    """Click the title of a row (0-based) of a table, as a person does; the row's "#" (the
    first column after the row markers of a table whose rows can be selected)."""
    cell = grid.locator(f"#glide-cell-1-{row}")
    expect(cell).to_have_text(re.compile(r"^\d+$"))
    number = (cell.text_content() or "").strip()
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] * 0.25, box["y"] + ROW * (row + 1.5))
    wait_idle(page)
    return number
