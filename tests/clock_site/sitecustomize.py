"""Test runs at another date: when ARBITER_TEST_CLOCK is set (an ISO moment), every Python
process of the run starts its clock there and lets it tick on (``time-machine``): the test
process itself (imported by ``tests/conftest.py``) and the worker, CLI and app processes the
tests start (this folder is put on their PYTHONPATH). Only the wall clock moves; monotonic
clocks, sleeps and timeouts stay real, so timing-sensitive tests behave as on any day.

All processes of one run share one offset from the real clock: the first process records the
real moment the run began (ARBITER_TEST_CLOCK_ANCHOR, inherited by every child), and a process
started later begins that much after the test moment. Without it, each process would start at
the test moment whenever it was launched, and workers started seconds apart would disagree on
"now" by more than a lease -- a fault of the test clock, not of the product.
"""

from __future__ import annotations

import os

_moment = os.environ.get("ARBITER_TEST_CLOCK")
if _moment:
    import time
    from datetime import datetime, timedelta

    import time_machine

    _anchor = float(os.environ.setdefault("ARBITER_TEST_CLOCK_ANCHOR", repr(time.time())))
    _start = datetime.fromisoformat(_moment) + timedelta(seconds=time.time() - _anchor)
    _traveller = time_machine.travel(_start, tick=True)
    _traveller.start()
