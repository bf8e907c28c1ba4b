"""ARBITER_TEST_CLOCK moves the wall clock of every Python process a test run starts (the
suite's date-independence runs rely on it: ``make test-clock``); sleeps stay real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from typing import Any

from time_machine import escape_hatch

from tests.paths import ROOT

PROBE = (
    "import datetime, json, time; t0 = time.monotonic(); time.sleep(0.2); "
    "print(json.dumps({'now': datetime.datetime.now(datetime.UTC).isoformat(), "
    "'slept': time.monotonic() - t0}))"
)


def test_a_started_process_runs_at_the_test_clock_and_ticks() -> None:
    env = {
        **_without_test_clock(),
        "ARBITER_TEST_CLOCK": "2031-05-01T23:59:59+00:00",
        "PYTHONPATH": str(ROOT / "tests" / "clock_site"),
    }
    seen = _probe(env)
    assert seen["now"].startswith(("2031-05-01T23:59:59", "2031-05-02T00:00:00"))
    assert seen["slept"] >= 0.2


def test_processes_started_later_in_a_run_agree_with_the_first_on_the_time() -> None:
    # A run that began 30 real seconds ago: a process started now is 30 s past the moment,
    # as the processes started at the beginning are by now (workers compare leases).
    env = {
        **_without_test_clock(),
        "ARBITER_TEST_CLOCK": "2031-05-01T12:00:00+00:00",
        "ARBITER_TEST_CLOCK_ANCHOR": repr(_real_time() - 30),
        "PYTHONPATH": str(ROOT / "tests" / "clock_site"),
    }
    seen = datetime.fromisoformat(_probe(env)["now"])
    assert datetime(2031, 5, 1, 12, 0, 30, tzinfo=UTC) <= seen
    assert seen < datetime(2031, 5, 1, 12, 1, 0, tzinfo=UTC)


def test_without_it_the_clock_is_left_alone() -> None:
    env = _without_test_clock()
    env["PYTHONPATH"] = str(ROOT / "tests" / "clock_site")
    # The real time, also when this suite itself runs at a test clock.
    real_now = escape_hatch.datetime.datetime.now if escape_hatch.is_travelling() else datetime.now
    before = real_now(UTC)
    child = datetime.fromisoformat(_probe(env)["now"])
    assert before <= child <= real_now(UTC)


def _without_test_clock() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_TEST_CLOCK")}


def _real_time() -> float:
    return escape_hatch.time.time() if escape_hatch.is_travelling() else time.time()


def _probe(env: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    result: dict[str, Any] = json.loads(done.stdout)
    return result
