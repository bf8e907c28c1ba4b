"""Issue 19 in a real browser at 1440 x 900, on a studio with a compilation history (the
history of the page tests, written as the engine leaves it, on a priced OpenAI connection,
and one more compilation run from the command line against the fake OpenAI server, which
trains one step and so leaves one checkpoint): the compilation summary does not mislead
(item 6), and users, connections, the compilation list, a build log and the deprecation
radar show words, names, singulars and currencies, never raw values (item 8).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from core import db
from core.uow import UnitOfWork
from tests.browser.conftest import ROOT, AppServer, start_app, stop_app
from tests.browser.helpers import click_row, open_page, sign_in, wait_idle
from tests.history_seed import SeededHistory, seed_history
from tests.openai_server import FakeOpenAI

WIDTH, HEIGHT = 1440, 900
PASSWORD = "correct horse battery"  # the history's accounts
RAW = ("None", "NaN", "nan", "NaT", "⚠", "✅", "❌", "🛑", "⏳")


@dataclass
class Studio:
    server: AppServer
    seeded: SeededHistory
    one_step: int  # the compilation that trained one step, from the command line


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[Studio]:
    folder = tmp_path_factory.mktemp("history")
    engine = db.make_engine(f"sqlite:///{folder / 'arbiter.db'}")
    db.upgrade(engine)
    seeded = seed_history(UnitOfWork(db.session_factory(engine)))
    engine.dispose()
    with FakeOpenAI(job_script=["validating_files", "queued", "running", "succeeded"]) as fake:
        env = {
            **os.environ,
            "ARBITER_DATA_DIR": str(folder),
            "DATABASE_URL": f"sqlite:///{folder / 'arbiter.db'}",
            "OPENAI_API_KEY": fake.api_key,
            "OPENAI_BASE_URL": fake.base_url,
            "ARBITER_POLL_SECONDS": "0.1",
        }
        done = subprocess.run(
            [sys.executable, "-m", "core", "compile", "Company", "--wait"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=300,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    one_step = max(seeded.v2_compilation, seeded.running, seeded.config_only) + 1
    server = start_app(folder, seed=False)
    for role in ("admin", "trainer", "manager"):
        server.accounts[role] = f"{role}@history.example"
        server.passwords[f"{role}@history.example"] = PASSWORD
    yield Studio(server, seeded, one_step)
    stop_app(server)
    shutil.rmtree(folder, ignore_errors=True)


def _signed_in(browser: Browser, server: AppServer, role: str) -> Page:
    page = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT}).new_page()
    page.set_default_timeout(30_000)
    sign_in(page, server.url, *server.account(role))
    return page


def _metric(page: Page, label: str) -> Locator:
    return page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )


def test_a_compilation_summary_does_not_mislead(browser: Browser, studio: Studio) -> None:
    """Item 6: 0.0378 USD against 0.0360 estimated is under a cent: no red arrow; the
    trained tokens (12,600 against 12,000 estimated) are explained by epochs, with no
    arrow; the base model is named in full; every fact of the table is shown."""
    page = _signed_in(browser, studio.server, "manager")
    open_page(page, "Compilations")
    page.goto(f"{page.url.split('?')[0]}?compilation={studio.seeded.v2_compilation}")
    wait_idle(page)
    heading = f"Compilation #{studio.seeded.v2_compilation} · Company · "
    shown = page.get_by_role("heading", name=re.compile("^" + re.escape(heading)))
    expect(shown).to_be_visible()
    expect(shown).to_contain_text("succeeded")  # the status as a word, not an emoji alone

    cost = _metric(page, "Actual cost")
    expect(cost.get_by_test_id("stMetricValue")).to_have_text("0.0378 USD")
    expect(cost.get_by_test_id("stMetricDelta")).to_have_count(0)
    expect(cost).not_to_contain_text("vs estimate")
    expect(_metric(page, "Estimated cost").get_by_test_id("stMetricValue")).to_have_text(
        "0.0360 USD"
    )
    trained = _metric(page, "Trained tokens")
    expect(trained.get_by_test_id("stMetricValue")).to_have_text("12,600")
    expect(trained.get_by_test_id("stMetricDelta")).to_have_count(0)
    note = page.get_by_text(re.compile(r"× the number of epochs \(passes over the file\)"))
    expect(note).to_be_visible()
    expect(note).to_contain_text("the provider trained 12,600 tokens, about 3.1 epochs")

    expect(_metric(page, "Base model")).to_have_count(0)
    expect(page.get_by_text("Base model: gpt-4o-mini-2024-07-18", exact=True)).to_be_visible()

    facts = page.get_by_test_id("stTable")
    expect(facts.locator("tbody tr")).to_have_count(12)
    # A static table: no box of its own to scroll, so no fact is cut mid-row.
    overflow = facts.evaluate(
        "(t) => [...t.querySelectorAll('*')].filter(e => e.scrollHeight > e.clientHeight + 1"
        " && getComputedStyle(e).overflowY !== 'visible').length"
    )
    assert overflow == 0
    last = facts.locator("tbody tr").filter(has_text="Provider model")
    last.scroll_into_view_if_needed()
    expect(last).to_contain_text("ft:gpt-4o-mini:arbiter:company:v2")
    expect(last).to_be_in_viewport(ratio=1)
    page.context.close()


def _table_text(page: Page, holding: str, index: int = 0) -> str:
    """Every cell of a table, as the grid's accessible table (what a screen reader reads)
    holds it, once the table holding that text is drawn."""
    grid = page.get_by_test_id("stDataFrame").nth(index)
    expect(grid.locator("[role=gridcell]").filter(has_text=holding).first).to_be_attached()
    return " | ".join(grid.locator("[role=gridcell]").all_text_contents())


def _no_raw_values(text: str) -> None:
    for raw in RAW:
        assert raw not in text, (raw, text)


def test_users_and_connections_show_words_and_currencies(browser: Browser, studio: Studio) -> None:
    """Item 8: no literal None in users (never signed in, not locked) nor connections
    (prices and budgets with their currency, "no budget", "none needed")."""
    page = _signed_in(browser, studio.server, "admin")
    open_page(page, "Users")
    users = _table_text(page, "history.example")
    _no_raw_values(users)
    assert "not locked" in users and "never" in users, users  # the manager never signed in

    open_page(page, "Connections")
    connections = _table_text(page, "Local (offline)")
    _no_raw_values(connections)
    for shown in ("3.00 USD", "10.00 USD", "0.00 USD", "no budget", "none needed"):
        assert shown in connections, (shown, connections)
    page.context.close()


def test_the_compilation_list_and_the_radar_show_no_raw_values(
    browser: Browser, studio: Studio
) -> None:
    """Item 8: "Requested by" names the person, costs carry the currency, statuses are
    words; the deprecation radar says "not announced" where there is no shutdown date."""
    page = _signed_in(browser, studio.server, "manager")
    open_page(page, "Compilations")
    # The history's seven, and the one compiled from the command line.
    expect(page.get_by_text(re.compile(r"^8 compilations match"))).to_be_visible()
    listed = _table_text(page, "Offline helper", -1)
    _no_raw_values(listed)
    assert "—" not in listed
    # No one asked for the command line's compilation: "the system" did, not "—".
    for shown in ("Trainer", "Admin", "the system", "0.0360 USD", "succeeded", "failed"):
        assert shown in listed, (shown, listed)
    # Item 7 here too: a click on a compilation's row (not only its checkbox) opens it.
    number = click_row(page, page.get_by_test_id("stDataFrame").last, 1)
    opened = page.get_by_role("heading", name=re.compile(rf"^Compilation #{number} · "))
    expect(opened).to_be_visible()

    open_page(page, "Dashboard")
    expect(page.get_by_role("heading", name="Deprecation radar")).to_be_visible()
    radar = _table_text(page, "local-retrieval-1", -1)
    _no_raw_values(radar)
    assert "gpt-4o-mini-2024-07-18" in radar and "not announced" in radar, radar
    page.context.close()


def test_a_build_log_counts_one_checkpoint_in_the_singular(
    browser: Browser, studio: Studio
) -> None:
    """Item 8: the job trained one step, so the log says "1 checkpoint", not "1
    checkpoints"; the compilation says who asked for it and what it cost, in USD."""
    page = _signed_in(browser, studio.server, "manager")
    open_page(page, "Compilations")
    page.goto(f"{page.url.split('?')[0]}?compilation={studio.one_step}")
    wait_idle(page)
    heading = f"Compilation #{studio.one_step} · Company"
    expect(page.get_by_role("heading", name=re.compile("^" + re.escape(heading)))).to_be_visible()
    expect(_metric(page, "Requested by").get_by_test_id("stMetricValue")).to_have_text("the system")
    actual = _metric(page, "Actual cost").get_by_test_id("stMetricValue")
    expect(actual).to_have_text(re.compile(r"^\d+\.\d{2,4} USD$"))
    page.get_by_role("tab", name="Events").click()
    # One page of events: no pager, and never a full-width number input for one.
    expect(
        page.get_by_text(re.compile(r"^\d+ events, newest first; page 1 of 1\.$"))
    ).to_be_visible()
    expect(page.get_by_role("spinbutton", name=re.compile("^Page"))).to_have_count(0)
    log = _table_text(page, "checkpoint", -1)
    assert re.search(r"\b1 checkpoint; last: ", log), log
    assert "1 checkpoints" not in log
    page.context.close()
