"""Test runs at another date: when ARBITER_TEST_CLOCK is set (an ISO moment), every Python
process of the run starts its clock there and lets it tick on (``time-machine``): the test
process itself (imported by ``tests/conftest.py``) and the worker, CLI and app processes the
tests start (this folder is put on their PYTHONPATH). Only the wall clock moves; monotonic
clocks, sleeps and timeouts stay real, so timing-sensitive tests behave as on any day.
"""

from __future__ import annotations

import os

_moment = os.environ.get("ARBITER_TEST_CLOCK")
if _moment:
    import time_machine

    _traveller = time_machine.travel(_moment, tick=True)
    _traveller.start()
