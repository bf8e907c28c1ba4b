"""The background worker loop: ``python -m core.worker`` (any number of processes), or one
embedded thread per app process for the single-machine default.

All its state lives in the database, so a process that dies loses nothing: its claims
expire and another worker takes them over. Each round it runs the *tasks* it was given
(functions returning whether they found work). It knows no service: the composition root,
``core.bootstrap``, names the tasks.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from core.uow import UnitOfWork

log = logging.getLogger("arbiter.worker")

# A task gets a unit of work and the worker's id; it returns True if it did something.
Task = Callable[[UnitOfWork, str], bool]


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        tasks: Sequence[Task],
        *,
        idle_seconds: float = 1.0,
        name: str | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.tasks = tuple(tasks)
        self.idle_seconds = idle_seconds
        self.name = name or worker_id()
        self._stop = threading.Event()

    def run_once(self) -> bool:
        """One round over every task; True if any found work."""
        busy = False
        for task in self.tasks:
            try:
                busy = task(self.uow_factory(), self.name) or busy
            except Exception:
                # A task's failure is recorded by the task itself where it can be; this
                # only keeps the worker alive for the next round.
                log.exception("worker task %s failed", getattr(task, "__name__", task))
        return busy

    def run_forever(self, exit_when_idle: float | None = None) -> None:
        """Work until stopped (or, with ``exit_when_idle``, until idle that many seconds)."""
        log.info("worker %s started", self.name)
        last_busy = time.monotonic()
        while not self._stop.is_set():
            if self.run_once():
                last_busy = time.monotonic()
            elif exit_when_idle is not None and time.monotonic() - last_busy >= exit_when_idle:
                break
            else:
                self._stop.wait(self.idle_seconds)
        log.info("worker %s stopped", self.name)

    def stop(self) -> None:
        self._stop.set()

    def start_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.run_forever, name=f"worker-{self.name}", daemon=True)
        thread.start()
        return thread
