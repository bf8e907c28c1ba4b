"""ARBITER_TEST_CLOCK moves the wall clock of every Python process a test run starts (the
suite's date-independence runs rely on it: ``make test-clock``); sleeps stay real."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

from time_machine import escape_hatch

from tests.paths import ROOT

PROBE = (
    "import datetime, json, time; t0 = time.monotonic(); time.sleep(0.2); "
    "print(json.dumps({'now': datetime.datetime.now(datetime.UTC).isoformat(), "
    "'slept': time.monotonic() - t0}))"
)


def test_a_started_process_runs_at_the_test_clock_and_ticks() -> None:
    env = {
        **os.environ,
        "ARBITER_TEST_CLOCK": "2031-05-01T23:59:59+00:00",
        "PYTHONPATH": str(ROOT / "tests" / "clock_site"),
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    seen = json.loads(done.stdout)
    assert seen["now"].startswith(("2031-05-01T23:59:59", "2031-05-02T00:00:00"))
    assert seen["slept"] >= 0.2


def test_without_it_the_clock_is_left_alone() -> None:
    env = {k: v for k, v in os.environ.items() if k != "ARBITER_TEST_CLOCK"}
    env["PYTHONPATH"] = str(ROOT / "tests" / "clock_site")
    # The real time, also when this suite itself runs at a test clock.
    real_now = escape_hatch.datetime.datetime.now if escape_hatch.is_travelling() else datetime.now
    before = real_now(UTC)
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    child = datetime.fromisoformat(json.loads(done.stdout)["now"])
    assert before <= child <= real_now(UTC)
