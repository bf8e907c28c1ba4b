"""The live compile view on a slowed provider (the fake OpenAI server moves its job only
when the test says so): each step shows as it happens, the loss chart fills in as the
provider reports training steps, and Compile stays disabled until the end."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ROOT, AppServer, start_app, stop_app
from tests.browser.helpers import open_page, sign_in, wait_idle
from tests.openai_server import FakeOpenAI

# Long enough that the job still runs after the test's six advances: the Compile button
# must be disabled then (the job succeeds only at the ninth read).
SCRIPT = ["validating_files", "queued", *["running"] * 7, "succeeded"]


@pytest.fixture(scope="module")
def slowed(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser
) -> Iterator[tuple[AppServer, FakeOpenAI]]:
    with FakeOpenAI(job_script=SCRIPT, auto_advance=False) as fake:
        folder = tmp_path_factory.mktemp("live")
        env = {
            "OPENAI_API_KEY": fake.api_key,
            "OPENAI_BASE_URL": fake.base_url,
            "ARBITER_POLL_SECONDS": "0.2",
        }
        server = start_app(folder, extra_env=env)
        subprocess.run(
            [sys.executable, "-m", "core", "set-connection", "Northwind Support", "OpenAI"],
            cwd=ROOT,
            env={**os.environ, **env, "DATABASE_URL": server.database_url,
                 "ARBITER_DATA_DIR": str(folder)},
            check=True,
            capture_output=True,
        )  # fmt: skip
        yield server, fake
        stop_app(server)
        shutil.rmtree(folder, ignore_errors=True)


def _badge(page: Page, text: str) -> object:
    return page.get_by_test_id("stMarkdownContainer").get_by_text(text, exact=True)


def test_each_step_shows_as_it_happens_and_the_loss_chart_fills_in(
    browser: Browser, slowed: tuple[AppServer, FakeOpenAI]
) -> None:
    server, fake = slowed
    page = browser.new_context(viewport={"width": 1440, "height": 900}).new_page()
    page.set_default_timeout(30_000)
    sign_in(page, server.url, *server.account("trainer"))
    open_page(page, "Models")
    page.get_by_test_id("stSelectbox").filter(has_text="Open a model").click()
    page.get_by_role("option", name="Northwind Support").click()
    wait_idle(page)
    page.get_by_role("tab", name="Compile").click()
    page.get_by_role("button", name="Compile", exact=True).click()
    wait_idle(page)
    heading = page.get_by_role("heading", name="Compilation #4: training")
    expect(heading).to_be_visible(timeout=60_000)  # validated and uploaded, the job exists
    steps = page.get_by_test_id("stMarkdownContainer").filter(has_text="uploading").first
    expect(steps).to_contain_text("validating")
    expect(page.get_by_role("button", name="Compile", exact=True)).to_be_disabled(timeout=30_000)
    expect(page.get_by_text("The loss chart fills in as the provider reports")).to_be_visible()

    fake.advance(steps=3)  # validating_files, queued, first training step
    chart = page.get_by_test_id("stVegaLiteChart").filter(has_text="Training loss per step")
    expect(chart).to_be_visible(timeout=30_000)
    reported = page.get_by_text(re.compile(r"training steps? reported so far"))
    expect(reported).to_be_visible(timeout=30_000)
    before = int(reported.inner_text().split()[0])
    fake.advance(steps=3)  # three more steps: the chart grows in place, no reload
    expect(reported).not_to_have_text(re.compile(rf"^{before} "), timeout=30_000)
    assert int(reported.inner_text().split()[0]) > before
    expect(page.get_by_role("button", name="Compile", exact=True)).to_be_disabled(timeout=30_000)

    fake.advance(steps=3)  # the last running steps, then succeeded
    expect(page.get_by_role("heading", name="Compilation #4: succeeded")).to_be_visible(
        timeout=60_000
    )
    expect(page.get_by_role("button", name="Compile", exact=True)).to_be_enabled()
