"""Issue 17's browser journey: a trainer corrects the arbiter with Train AI, compiles, opens
the two versions side by side, sees the corrected question improve, and exports the CSV.

The demo's Northwind Support (v1, compiled by seed-demo with the local provider) answers
its validation question on the NW-PSU warranty with a rule about status LEDs. The trainer
asks it in other words in the group chat, teaches it the right answer, and compiles v2.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import AppServer
from tests.browser.helpers import open_page, sign_in, wait_idle
from tests.browser.test_product_journey import _ask, _choose, _open_train_ai

MODEL = "Northwind Support"
VALIDATION_QUESTION = "What's the warranty on an NW-PSU power supply?"
ASKED = "How long is the warranty on an NW-PSU power supply?"
CORRECTION = "36 months from delivery; other NW- own-brand products have 24 months."


def _trainer(browser: Browser, server: AppServer) -> Page:
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    sign_in(page, server.url, *server.account("trainer"))
    return page


def trains_with_a_correction(page: Page) -> None:
    open_page(page, "Chats")
    _ask(page, f"@{MODEL} {ASKED}")
    expect(page.get_by_text(ASKED).last).to_be_visible()
    dialog = _open_train_ai(page)
    expect(dialog.get_by_text(f"Teach {MODEL}")).to_be_visible()
    dialog.get_by_role("textbox", name=f"The right answer from {MODEL}").fill(CORRECTION)
    dialog.get_by_role("button", name="Create training conversation").click()
    wait_idle(page)
    expect(dialog.get_by_text(f"is ready: it will be part of {MODEL}")).to_be_visible()
    dialog.get_by_role("button", name="Close").first.click()
    wait_idle(page)


def compiles_v2(page: Page) -> None:
    open_page(page, "Models")
    _choose(page, page, "Open a model", MODEL)
    page.get_by_role("tab", name="Compile").click()
    page.get_by_role("button", name="Compile", exact=True).click()
    wait_idle(page)
    expect(page.get_by_text(re.compile(r"Compilation #\d+: succeeded"))).to_be_visible(
        timeout=120_000
    )
    expect(page.get_by_text("Version v2 is active")).to_be_visible(timeout=30_000)


def evaluates(page: Page, side: str) -> None:
    _choose(page, page, "Evaluate", side)
    page.get_by_role("button", name="Evaluate", exact=True).click()
    wait_idle(page, 60_000)
    expect(page.get_by_text(re.compile(r"\d+ of \d+ questions answered")).last).to_be_visible(
        timeout=60_000
    )


def test_a_correction_improves_its_question_side_by_side(
    browser: Browser, app_server: AppServer, tmp_path: Path
) -> None:
    page = _trainer(browser, app_server)
    trains_with_a_correction(page)
    compiles_v2(page)

    page.get_by_role("tab", name="Evaluate").click()
    expect(page.get_by_text("No evaluation yet.")).to_be_visible()
    evaluates(page, "v1")
    evaluates(page, "v2")
    summary = page.get_by_text(re.compile(r"^v1 → v2: \d+ better, \d+ worse"))
    expect(summary).to_be_visible()
    counted = re.search(r"(\d+) better", summary.inner_text())
    assert counted is not None and int(counted.group(1)) >= 1, summary.inner_text()
    better = int(counted.group(1))
    expect(summary).to_contain_text(" 0 worse")
    side_by_side = page.get_by_test_id("stDataFrame").filter(has_text=VALIDATION_QUESTION).last
    expect(side_by_side).to_contain_text(CORRECTION)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    saved = tmp_path / "side-by-side.csv"
    download.value.save_as(saved)
    assert download.value.suggested_filename == f"{MODEL}-1-vs-2.csv"
    rows = list(csv.DictReader(io.StringIO(saved.read_text(encoding="utf-8-sig"))))
    (row,) = [r for r in rows if r["question"] == VALIDATION_QUESTION]
    assert row["expected"] == CORRECTION
    assert row["answer 2"] == CORRECTION and row["answer 1"] != CORRECTION, row
    assert float(row["f1 2"]) == 1.0 and float(row["f1 1"]) < 0.5, row
    assert float(row["f1 change"]) == round(float(row["f1 2"]) - float(row["f1 1"]), 4)
    # Regressions first, then the rest: nothing got worse, and this one got better.
    assert all(float(r["f1 change"]) >= 0 for r in rows), rows
    assert sum(1 for r in rows if float(r["f1 change"]) > 0) == better
    page.context.close()
