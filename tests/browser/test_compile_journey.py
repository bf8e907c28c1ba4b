"""A trainer runs a pre-flight, compiles, and watches the compilation finish in place (the
status refreshes itself; the app's embedded worker does the work with the local provider);
a manager then finds that compilation in the history, on the dashboard's chart and in its
figures."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle


def test_trainer_compiles_and_watches_it_finish_then_a_manager_follows_it(
    page: Page, browser: Browser, app_server: AppServer, tmp_path: Path
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

    manager_finds_it(browser, app_server, tmp_path)


def manager_finds_it(browser: Browser, app_server: AppServer, tmp_path: Path) -> None:
    manager = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
    sign_in(manager, app_server.url, *app_server.account("manager"))
    open_page(manager, "Compilations")
    expect(manager.get_by_text("4 compilations match; newest first")).to_be_visible()
    # The table is drawn on a canvas: select its first row (the newest) by its checkbox,
    # and the compilation opens below it.
    grid = manager.get_by_test_id("stDataFrame").first.get_by_test_id("data-grid-canvas")
    box = grid.bounding_box()
    assert box is not None
    manager.mouse.click(box["x"] + 15, box["y"] + 36 + 17)
    wait_idle(manager)
    heading = manager.get_by_role("heading", name="Compilation #4 · Northwind Support")
    expect(heading).to_be_visible(timeout=20_000)
    expect(heading).to_contain_text("succeeded")
    summary = manager.get_by_test_id("stMetric")
    expect(summary.filter(has_text="Requested by")).to_contain_text("Maria Keller")
    expect(summary.filter(has_text=re.compile(r"^Version"))).to_contain_text("v2")
    manager.screenshot(path=str(tmp_path / "history.png"), full_page=True)

    open_page(manager, "Dashboard")
    expect(
        manager.get_by_test_id("stMetric").filter(has_text="Compilations").first
    ).to_contain_text("4")
    expect(manager.get_by_test_id("stMetric").filter(has_text="Success rate")).to_contain_text(
        "100%"
    )
    chart = manager.locator(".st-key-csv_compilations-per-week")
    expect(manager.get_by_test_id("stVegaLiteChart").first).to_be_visible(timeout=30_000)
    with manager.expect_download() as download:
        chart.get_by_role("button").click()
    saved = tmp_path / "per-week.csv"
    download.value.save_as(saved)
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    # The chart's figures: this week, seed-demo's three compilations and the trainer's one.
    assert [(r["status"], int(r["compilations"])) for r in rows] == [("succeeded", 4)]
    manager.screenshot(path=str(tmp_path / "dashboard.png"), full_page=True)
    manager.context.close()
