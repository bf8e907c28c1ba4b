"""Browser journeys: a real `streamlit run` server on a free port with its own seeded
database, driven by Playwright in Debian's Chromium.

Each test module gets its own server (``app_server``); tests that change data should not
depend on each other's order. Without Chromium the tests skip, unless REQUIRE_BROWSER=1.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.conftest import skip_or_fail

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("ARBITER_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]

pytestmark = pytest.mark.browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/browser" in str(item.fspath):
            item.add_marker(pytest.mark.browser)
            # One server per module: keep a module's tests on one xdist worker.
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, driven by Playwright (which cannot download its own here)."""
    if not Path(CHROMIUM).exists():
        skip_or_fail("REQUIRE_BROWSER", f"Chromium is not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000})
    ctx.set_default_timeout(20_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class AppServer:
    url: str
    data_dir: Path
    database_url: str
    accounts: dict[str, str] = field(default_factory=dict)  # role -> e-mail
    passwords: dict[str, str] = field(default_factory=dict)  # e-mail -> password
    process: subprocess.Popen[bytes] | None = None
    log: IO[bytes] | None = None

    def account(self, role: str) -> tuple[str, str]:
        email = self.accounts[role]
        return email, self.passwords[email]


def _read_credentials(path: Path) -> tuple[dict[str, str], dict[str, str]]:
    roles: dict[str, str] = {}
    passwords: dict[str, str] = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) == 3 and "@" in parts[1]:
            roles.setdefault(parts[0], parts[1])
            passwords[parts[1]] = parts[2]
    return roles, passwords


def start_app(
    data_dir: Path, *, seed: bool = True, extra_env: dict[str, str] | None = None
) -> AppServer:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ARBITER_DATA_DIR": str(data_dir),
        "DATABASE_URL": f"sqlite:///{data_dir / 'arbiter.db'}",
        "ARBITER_EMBEDDED_WORKER": "1",
        "ARBITER_FAST_PASSWORD_HASH": "1",
        **(extra_env or {}),
    }
    python = sys.executable
    if seed:
        subprocess.run(
            [python, "-m", "core", "seed-demo"], cwd=ROOT, env=env, check=True, capture_output=True
        )
    port = free_port()
    log = (data_dir / "streamlit.log").open("wb")
    process = subprocess.Popen(
        [
            python, "-m", "streamlit", "run", "server.py",
            "--server.address", "127.0.0.1", "--server.port", str(port),
            "--server.headless", "true", "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none",
        ],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.close()
            raise RuntimeError(f"streamlit exited early; see {data_dir / 'streamlit.log'}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        log.close()
        raise RuntimeError("streamlit did not become healthy within 60 s")
    server = AppServer(
        url=url, data_dir=data_dir, database_url=env["DATABASE_URL"], process=process, log=log
    )
    if seed:
        server.accounts, server.passwords = _read_credentials(data_dir / "demo-credentials.txt")
    return server


def stop_app(server: AppServer) -> None:
    if server.process is not None:
        server.process.terminate()
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait()
    if server.log is not None:
        server.log.close()


@pytest.fixture(scope="module")
def app_server(tmp_path_factory: pytest.TempPathFactory, browser: Browser) -> Iterator[AppServer]:
    folder = tmp_path_factory.mktemp("app")
    server = start_app(folder)
    yield server
    stop_app(server)
    shutil.rmtree(folder, ignore_errors=True)
