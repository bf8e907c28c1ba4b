"""An admin signs in, creates a model under a parent, and sees it in the tree."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle


def test_admin_creates_a_child_model_and_sees_it_in_the_tree(
    page: Page, app_server: AppServer
) -> None:
    email, password = app_server.account("admin")
    sign_in(page, app_server.url, email, password)
    open_page(page, "Models")
    expect(page.get_by_role("heading", name="Models", exact=True)).to_be_visible()

    page.get_by_role("button", name="New model").click()
    wait_idle(page)
    form = page.get_by_test_id("stForm").filter(has_text="Create model")
    form.get_by_label("Name").fill("Northwind Marketing")
    form.get_by_test_id("stSelectbox").filter(has_text="Parent").click()
    page.get_by_role("option", name="Northwind Master").click()
    form.get_by_test_id("stSelectbox").filter(has_text="Provider connection").click()
    page.get_by_role("option", name="— use the parent's —").click()
    form.get_by_text("Inherit the parent's training").click()
    form.get_by_label("System message").fill("You help the marketing team. Answer briefly.")
    form.get_by_role("button", name="Create model").click()
    wait_idle(page)

    expect(page.get_by_role("heading", name="Northwind Marketing")).to_be_visible(timeout=20_000)
    # The breadcrumb shows where it sits, and the tree lists it under its parent.
    expect(page.get_by_text("Northwind Master › Northwind Marketing")).to_be_visible()
    tree = page.get_by_test_id("stDataFrame").first
    expect(tree).to_contain_text("Northwind Marketing")


def test_a_wrong_password_is_refused(page: Page, app_server: AppServer) -> None:
    page.goto(app_server.url)
    wait_idle(page)
    page.get_by_label("E-mail").fill(app_server.accounts["manager"])
    page.get_by_label("Password", exact=True).fill("not the password")
    page.get_by_role("button", name="Sign in", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text("The e-mail or the password is not right.")).to_be_visible()
