"""A studio restored from a backup into an empty database and data folder works in a
browser: the demo trainer signs in with the password from before the backup and finds the
Q&As and a chat answered by an arbiter whose local index came back with the files."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import AppServer, _read_credentials, start_app, stop_app
from tests.browser.helpers import open_page, sign_in, wait_idle
from tests.paths import ROOT


def _cli(data: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env.update(ARBITER_DATA_DIR=str(data), ARBITER_FAST_PASSWORD_HASH="1")
    done = subprocess.run(
        [sys.executable, "-m", "core", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.fixture(scope="module")
def restored(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("restore")
    original, copy = folder / "original", folder / "restored"
    _cli(original, "seed-demo")
    _cli(original, "backup", str(folder / "studio.backup"))
    shutil.rmtree(original)  # nothing of the original is left but the backup
    _cli(copy, "restore", str(folder / "studio.backup"))
    server = start_app(copy, seed=False)
    server.accounts, server.passwords = _read_credentials(copy / "demo-credentials.txt")
    yield server
    stop_app(server)


def test_the_restored_studio_signs_in_and_shows_its_data(page: Page, restored: AppServer) -> None:
    email, password = restored.account("trainer")
    sign_in(page, restored.url, email, password)
    open_page(page, "Chats")
    wait_idle(page)
    answered = page.get_by_text("Local retrieval: answered from training example")
    expect(answered).to_have_count(1, timeout=20_000)  # from before the backup
    # A new question is answered from the restored local index.
    box = page.get_by_role("textbox", name="Write a message")
    box.fill("@Northwind Sales what is our minimum order value?")
    box.press("Enter")
    wait_idle(page, timeout=60_000)
    expect(answered).to_have_count(2, timeout=60_000)
