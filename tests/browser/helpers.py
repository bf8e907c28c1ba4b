"""Small Playwright helpers for Streamlit pages."""

from __future__ import annotations

from playwright.sync_api import Page, expect

IDLE = "[data-test-script-state='notRunning']"


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


def open_page(page: Page, title: str) -> None:
    """Click a page in the sidebar navigation."""
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    wait_idle(page)
