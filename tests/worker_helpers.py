"""Real worker processes (``python -m core.worker``) for tests: started with short leases
and polls, each logging to its own file, stopped (or killed) by the test."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

import pytest

ROOT = Path(__file__).resolve().parent.parent


class Workers:
    def __init__(self, db_url: str, data_dir: Path, **env: str) -> None:
        self.env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "ARBITER_DATA_DIR": str(data_dir),
            "ARBITER_LEASE_SECONDS": "2",
            "ARBITER_POLL_SECONDS": "0.05",
            "ARBITER_RETRY_SECONDS": "0.1",
            "ARBITER_JOB_DOUBT_SECONDS": "6",
            **env,
        }
        self.log_dir = data_dir
        self.processes: list[subprocess.Popen[bytes]] = []
        self.logs: list[BinaryIO] = []

    def start(self, *args: str) -> subprocess.Popen[bytes]:
        log = (self.log_dir / f"worker-{len(self.processes)}.log").open("wb")
        self.logs.append(log)
        process = subprocess.Popen(
            [sys.executable, "-m", "core.worker", "--idle", "0.05", *args],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.processes.append(process)
        return process

    def log_text(self) -> str:
        """Everything the workers logged so far, one file after the other."""
        for log in self.logs:
            if not log.closed:
                log.flush()
        return "".join(
            (self.log_dir / f"worker-{n}.log").read_text(errors="replace")
            for n in range(len(self.processes))
        )

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for log in self.logs:
            log.close()


@pytest.fixture
def workers_for(tmp_path: Path) -> Iterator[Callable[..., Workers]]:
    made: list[Workers] = []

    def make(db_url: str, **env: str) -> Workers:
        made.append(Workers(db_url, tmp_path, **env))
        return made[-1]

    yield make
    for workers in made:
        workers.stop_all()


def wait_for(check: Callable[[], bool], what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
