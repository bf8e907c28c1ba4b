"""A trainer runs a pre-flight, compiles, and watches the compilation finish in place (the
status refreshes itself; the app's embedded worker does the work with the local provider)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle


def test_trainer_compiles_and_watches_it_finish(
    page: Page, app_server: AppServer, tmp_path: Path
) -> None:
    email, password = app_server.account("trainer")
    sign_in(page, app_server.url, email, password)
    open_page(page, "Models")
    page.get_by_test_id("stSelectbox").filter(has_text="Open a model").click()
    page.get_by_role("option", name="Northwind Support").click()
    wait_idle(page)
    page.get_by_role("tab", name="Compile").click()
    # seed-demo compiled the demo arbiters: v1 is there already.
    expect(page.get_by_text("Compilation #3: succeeded")).to_be_visible(timeout=20_000)

    page.get_by_role("button", name="Run pre-flight").click()
    wait_idle(page, 60_000)
    expect(page.get_by_text("would be skipped: nothing changed")).to_be_visible(timeout=30_000)

    page.get_by_text("Force (compile even if nothing changed)").click()
    wait_idle(page)
    page.get_by_role("button", name="Compile", exact=True).click()
    wait_idle(page)
    # No reload: the status fragment refreshes itself until the worker is done.
    expect(page.get_by_text("Compilation #4: succeeded")).to_be_visible(timeout=90_000)
    expect(page.get_by_text("Version v2 is active")).to_be_visible(timeout=30_000)
    page.screenshot(path=str(tmp_path / "compile.png"), full_page=True)

    page.get_by_role("tab", name="Versions").click()
    versions = page.get_by_test_id("stDataFrame").filter(has_text="Training set hash")
    expect(versions).to_contain_text("v2")
