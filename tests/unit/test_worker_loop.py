"""The worker loop with fake tasks and a fake unit of work: every round runs each task once
with a fresh unit of work, a failing task does not stop the others, and idleness ends a
batch run. The composition root names the tasks once."""

from __future__ import annotations

import logging

import pytest

from core import bootstrap
from core.services import accounts, catalog, compilation
from core.uow import UnitOfWork
from core.worker import Worker
from tests.unit.fakes import CountingUnitOfWork


class Recorder:
    def __init__(self, busy: list[bool]) -> None:
        self.busy = busy
        self.calls: list[tuple[UnitOfWork, str]] = []

    def __call__(self, uow: UnitOfWork, worker: str) -> bool:
        self.calls.append((uow, worker))
        return self.busy.pop(0) if self.busy else False


def test_a_round_runs_every_task_with_its_own_unit_of_work() -> None:
    first, second = Recorder([False]), Recorder([True])
    made: list[CountingUnitOfWork] = []

    def new_uow() -> UnitOfWork:
        made.append(CountingUnitOfWork())
        return made[-1]

    worker = Worker(new_uow, (first, second), name="w1")
    assert worker.run_once() is True
    assert [c[1] for c in first.calls + second.calls] == ["w1", "w1"]
    assert first.calls[0][0] is not second.calls[0][0]
    assert len(made) == 2


def test_a_round_without_work_says_so() -> None:
    worker = Worker(CountingUnitOfWork, (Recorder([]), Recorder([])))
    assert worker.run_once() is False


def test_a_failing_task_is_logged_and_the_others_still_run(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(uow: UnitOfWork, worker: str) -> bool:
        raise RuntimeError("boom")

    after = Recorder([True])
    worker = Worker(CountingUnitOfWork, (broken, after))
    with caplog.at_level(logging.ERROR, logger="arbiter.worker"):
        assert worker.run_once() is True
    assert len(after.calls) == 1
    assert "worker task broken failed" in caplog.text


def test_a_batch_run_ends_once_idle_and_works_while_there_is_work() -> None:
    task = Recorder([True, True, True])
    worker = Worker(CountingUnitOfWork, (task,), idle_seconds=0.001)
    worker.run_forever(exit_when_idle=0.01)
    assert len(task.calls) >= 4  # three busy rounds, then idle ones until the limit


def test_a_stopped_worker_ends_its_loop() -> None:
    task = Recorder([])
    worker = Worker(CountingUnitOfWork, (task,), idle_seconds=0.001)
    worker.stop()
    worker.run_forever()
    assert task.calls == []


def test_the_composition_root_lists_the_tasks_once() -> None:
    assert (
        compilation.run_next,
        compilation.deployments_task,
        catalog.budget_check_task,
        catalog.refresh_shutdown_dates_task,
        accounts.notification_delivery_task,
    ) == bootstrap.WORKER_TASKS
    assert bootstrap.worker(CountingUnitOfWork).tasks == bootstrap.WORKER_TASKS
