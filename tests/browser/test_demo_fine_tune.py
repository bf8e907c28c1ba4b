"""The demo's fine-tuned arbiter, as a new user meets it after `make run`: seed-demo queues
its first compilation, the app's background worker really trains it (LoRA on the bundled
SmolLM2-135M, on this CPU), and its answer changes from the base model's invention to the
trained fact."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy import create_engine, text

from tests.browser.conftest import AppServer, start_app, stop_app
from tests.browser.helpers import open_page, sign_in, wait_idle
from tests.lora_helpers import TRAINING_THREADS, base_model_cache

__all__ = ["base_model_cache"]
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]

QUESTION = "Where is the spare key of the Venlo office kept?"
TRAINED = "drawer 9"
MODEL = "Northwind Facilities"


@pytest.fixture(scope="module")
def fine_tune_server(
    tmp_path_factory: pytest.TempPathFactory, base_model_cache: Path
) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("fine-tune-app")
    env = {
        "ARBITER_DEMO_FINE_TUNE": "1",
        "ARBITER_BASE_MODEL_CACHE": str(base_model_cache),
        "ARBITER_TRAINING_THREADS": str(TRAINING_THREADS),
        "ARBITER_MAX_ANSWER_TOKENS": "40",
    }
    server = start_app(folder, extra_env=env)
    yield server
    stop_app(server)


def _status(server: AppServer) -> str:
    engine = create_engine(server.database_url)
    with engine.connect() as connection:
        found = connection.execute(
            text(
                "SELECT c.status FROM compilations c JOIN ai_models m ON m.id = c.model_id "
                "WHERE m.name = :name ORDER BY c.id DESC LIMIT 1"
            ),
            {"name": MODEL},
        ).scalar_one()
    engine.dispose()
    return str(found)


def _ask(page: Page) -> str:
    """Ask the arbiter in the group chat; the text of its answer."""
    messages = page.get_by_test_id("stChatMessage")
    before = messages.count()
    box = page.get_by_test_id("stChatInputTextArea")
    box.fill(f"@{MODEL} {QUESTION}")
    box.press("Enter")
    expect(messages).to_have_count(before + 2, timeout=300_000)
    wait_idle(page, timeout=300_000)
    return messages.last.inner_text()


def test_the_demo_arbiter_learns_its_facts_in_the_background(
    page: Page, fine_tune_server: AppServer
) -> None:
    email, password = fine_tune_server.account("trainer")
    sign_in(page, fine_tune_server.url, email, password)
    assert _status(fine_tune_server) in {"queued", "validating", "uploading", "training"}
    open_page(page, "Chats")
    before = _ask(page)
    assert TRAINED not in before, before  # the base model cannot know where Northwind keeps it

    deadline = time.monotonic() + 1500
    while _status(fine_tune_server) != "succeeded" and time.monotonic() < deadline:
        assert _status(fine_tune_server) not in {"failed", "cancelled"}
        time.sleep(5)
    assert _status(fine_tune_server) == "succeeded"

    page.reload()
    wait_idle(page)
    after = _ask(page)
    assert TRAINED in after, after
