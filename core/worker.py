"""The background worker: ``python -m core.worker`` (any number of processes), or one
embedded thread per app process for the single-machine default.

All its state lives in the database, so a process that dies loses nothing: its claims
expire and another worker takes them over. What it does each round is a list of *tasks*
(functions returning whether they found work); the compilation engine registers its own.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from core import db
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.worker")

# A task gets a unit of work and the worker's id; it returns True if it did something.
Task = Callable[[UnitOfWork, str], bool]
TASKS: list[Task] = []


def register_task(task: Task) -> Task:
    if task not in TASKS:
        TASKS.append(task)
    return task


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class Worker:
    def __init__(
        self,
        uow_factory: Callable[[], UnitOfWork],
        *,
        idle_seconds: float = 1.0,
        name: str | None = None,
        tasks: Sequence[Task] | None = None,
    ) -> None:
        self.uow_factory = uow_factory
        self.idle_seconds = idle_seconds
        self.name = name or worker_id()
        self._tasks = tasks
        self._stop = threading.Event()

    @property
    def tasks(self) -> Sequence[Task]:
        return self._tasks if self._tasks is not None else _load_tasks()

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


def _load_tasks() -> list[Task]:
    # Importing the engines registers their tasks; imported lazily to keep start-up light.
    import core.services.worker_tasks  # noqa: F401

    return list(TASKS)


def start_embedded(uow_factory: Callable[[], UnitOfWork]) -> Worker:
    worker = Worker(uow_factory, name=f"embedded:{worker_id()}")
    worker.start_thread()
    return worker


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m core.worker", description=__doc__)
    parser.add_argument("--once", action="store_true", help="do one round of work, then exit")
    parser.add_argument("--idle", type=float, default=1.0, help="seconds to wait when idle")
    parser.add_argument(
        "--exit-when-idle",
        type=float,
        metavar="SECONDS",
        help="exit once no work was found for this long (batch runs, benchmarks)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    engine = db.get_engine()
    db.upgrade(engine)
    factory = db.session_factory(engine)
    worker = Worker(lambda: UnitOfWork(factory), idle_seconds=args.idle)
    signal.signal(signal.SIGTERM, lambda *_: worker.stop())
    signal.signal(signal.SIGINT, lambda *_: worker.stop())
    if args.once:
        worker.run_once()
        return 0
    worker.run_forever(args.exit_when_idle)
    return 0


if __name__ == "__main__":
    # Run the canonical module, not this ``__main__`` copy: tasks register themselves in
    # ``core.worker.TASKS``, which would otherwise be a different list from this one.
    from core import worker as canonical

    raise SystemExit(canonical.main())
