"""Signing in survives a reload and a new tab; the session cookie is set by the server,
HttpOnly, so page scripts never see it; signing out ends the session for good, even for a
copy of its cookie."""

from __future__ import annotations

from playwright.sync_api import BrowserContext, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import SESSION_COOKIE as COOKIE
from tests.browser.helpers import no_session_cookie, session_cookie, sign_in, wait_idle


def _signed_in(page: Page) -> None:
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=20_000)


def _signed_out(page: Page) -> None:
    expect(page.get_by_role("button", name="Sign in", exact=True)).to_be_visible(timeout=20_000)
    expect(page.get_by_text("Signed in as")).to_have_count(0)


def test_a_reload_keeps_the_sign_in_and_sign_out_ends_it(
    page: Page, context: BrowserContext, app_server: AppServer
) -> None:
    email, password = app_server.account("manager")
    sign_in(page, app_server.url, email, password)
    cookie = session_cookie(page)
    assert cookie["sameSite"] == "Strict" and len(cookie["value"]) >= 40
    assert COOKIE not in page.evaluate("document.cookie"), "a page script can read it"
    assert cookie["value"] not in page.content(), "the token is in the page"

    page.reload()
    wait_idle(page)
    _signed_in(page)
    # A cookie from before it was HttpOnly becomes so at the next visit.
    context.add_cookies([{"name": COOKIE, "value": cookie["value"], "url": app_server.url}])
    assert COOKIE in page.evaluate("document.cookie")
    page.reload()
    wait_idle(page)
    _signed_in(page)
    assert session_cookie(page)["value"] == cookie["value"]
    assert COOKIE not in page.evaluate("document.cookie")
    other_tab = context.new_page()
    other_tab.goto(app_server.url)
    wait_idle(other_tab)
    _signed_in(other_tab)

    page.get_by_role("button", name="Sign out").click()
    wait_idle(page)
    _signed_out(page)
    no_session_cookie(page)
    page.reload()
    wait_idle(page)
    _signed_out(page)

    # Someone who kept a copy of the cookie gets nowhere: the session ended on the server.
    context.add_cookies([{"name": COOKIE, "value": cookie["value"], "url": app_server.url}])
    page.reload()
    wait_idle(page)
    _signed_out(page)
    # The other tab, still open, is signed out at its next click.
    other_tab.get_by_test_id("stSidebarNav").get_by_text("Dashboard", exact=True).click()
    wait_idle(other_tab)
    _signed_out(other_tab)
    expect(other_tab.get_by_text("Your session has ended. Please sign in again.")).to_be_visible()


WATCH_FORM_AND_PAGE = """() => {
  window.__formUnderPage = false;
  const check = () => {
    const form = document.querySelector("input[type='password']");
    const signedIn = document.body.innerText.includes("Signed in as");
    if (form && signedIn) window.__formUnderPage = true;
  };
  new MutationObserver(check).observe(document.body, {childList: true, subtree: true});
}"""


def test_the_sign_in_form_goes_at_once_and_the_page_icon_is_local(
    page: Page, app_server: AppServer
) -> None:
    email, password = app_server.account("trainer")
    page.goto(app_server.url)
    wait_idle(page)
    icon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
    assert icon.startswith(app_server.url) and "gstatic" not in icon, icon
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.evaluate(WATCH_FORM_AND_PAGE)
    page.get_by_role("button", name="Sign in", exact=True).click()
    _signed_in(page)
    wait_idle(page)
    # Never the filled form under the first page, not even for the second the page runs.
    assert page.evaluate("window.__formUnderPage") is False
    icon = page.evaluate("document.querySelector(\"link[rel='shortcut icon']\").href")
    assert "gstatic" not in icon, icon
