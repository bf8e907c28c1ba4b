"""Issue 19's responsive check: at 1280 x 800 and 1920 x 1080 (as at 1440 x 900) every page
an admin can open fits the window's width: the page never scrolls sideways, and no button of
the page (its primary actions among them) is cut off at the edge of the window or of the
main area. (`make screenshots --sizes ...` draws the same pages for a person to look at; the
Q&A page's actions above the fold are checked at these sizes in test_qas_grid.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from core.domain import Role
from core.permissions import ROLE_PERMISSIONS
from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle
from ui.navigation import PAGES

ADMIN_PAGES = [p.title for p in PAGES if p.permission in ROLE_PERMISSIONS[Role.ADMIN]]

# The page's main area: stMain, or on a page with a chat input the container that keeps
# the input at the bottom.
MAIN = "[data-testid=stMain], [data-testid=stAppScrollToBottomContainer]"
MEASURE = """() => {
    const main = document.querySelector('MAIN');
    const area = main.getBoundingClientRect();
    const width = document.documentElement.clientWidth;
    const cut = [...main.querySelectorAll('button')]
        .filter((b) => b.checkVisibility() && b.getBoundingClientRect().width > 0)
        .map((b) => [b.innerText.trim() || b.getAttribute('aria-label') || '',
                     b.getAttribute('data-testid') || '', b.getBoundingClientRect()])
        .filter(([, , r]) => r.left < Math.max(0, area.left) - 1
                          || r.right > Math.min(width, area.right) + 1)
        .map(([text, kind, r]) => `${text} (${kind}) ${Math.round(r.left)}-${Math.round(r.right)}`);
    return {
        page: [document.documentElement.scrollWidth, width],
        main: [main.scrollWidth, main.clientWidth],
        cut,
        primary: [...main.querySelectorAll('[data-testid^=stBaseButton-primary]')]
            .filter((b) => b.checkVisibility()).length,
    };
}""".replace("MAIN", MAIN)


def _measure(page: Page) -> dict[str, Any]:
    page.locator(MAIN).evaluate("(main) => main.scrollTo(0, 0)")
    result: dict[str, Any] = page.evaluate(MEASURE)
    return result


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1920, 1080)])
def test_every_page_fits_the_window_width(
    browser: Browser, app_server: AppServer, width: int, height: int
) -> None:
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        sign_in(page, app_server.url, *app_server.account("admin"))
        problems: dict[str, object] = {}
        primaries = 0
        for title in ADMIN_PAGES:
            open_page(page, title)
            wait_idle(page, 60_000)
            page.wait_for_timeout(800)  # charts and grids draw after the script
            seen = _measure(page)
            primaries += seen["primary"]
            scroll_page, client = seen["page"]
            scroll_main, client_main = seen["main"]
            if scroll_page > client or scroll_main > client_main or seen["cut"]:
                problems[title] = seen
        assert not problems, problems
        assert primaries > 0, "no primary action was measured on any page"
    finally:
        context.close()


@pytest.mark.parametrize(("width", "height"), [(1280, 800), (1440, 900), (1920, 1080)])
def test_the_chat_opens_with_its_header_and_its_input_in_view(
    browser: Browser, app_server: AppServer, width: int, height: int
) -> None:
    """The messages scroll in a pane of their own: the page itself does not open scrolled
    down past the chat's header, at any of these sizes; the message box is in view too."""
    context = browser.new_context(viewport={"width": width, "height": height})
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        sign_in(page, app_server.url, *app_server.account("trainer"))
        open_page(page, "Chats")
        page.wait_for_timeout(800)  # the pane scrolls to the newest message after drawing
        expect(page.get_by_role("heading", name="Chats", exact=True)).to_be_in_viewport(ratio=1)
        expect(page.get_by_role("combobox", name="Chat", exact=True)).to_be_in_viewport(ratio=1)
        expect(page.get_by_test_id("stChatInputTextArea")).to_be_in_viewport(ratio=1)
    finally:
        context.close()
