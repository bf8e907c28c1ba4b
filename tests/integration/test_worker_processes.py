"""Real worker processes (``python -m core.worker``): one killed with SIGKILL mid-way is
taken over after its lease and the compilation finishes with one job at the provider.
Many processes draining a long queue: tests/integration/test_scale_out.py."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable, Iterator

import pytest

from core.domain import CompilationStatus
from core.models import Compilation, CompilationEvent
from core.permissions import Actor
from core.services import compilation
from tests.compile_helpers import (
    OPENAI_KEY_ENV,
    Uows,
    add_qas,
    count,
    make_model,
    openai_connection,
)
from tests.openai_server import FakeOpenAI, Fault
from tests.worker_helpers import Workers, wait_for, workers_for

__all__ = ["workers_for"]


def _state(new_uow: Uows, compilation_id: int) -> Compilation:
    uow = new_uow()
    with uow:
        found = uow.session.get(Compilation, compilation_id)
        assert found is not None
        uow.session.expunge(found)
        return found


def _jobs_of(server: FakeOpenAI, compilation_id: int) -> int:
    with server.lock:
        return sum(
            1
            for job in server.jobs.values()
            if (job["metadata"] or {}).get("compilation_id") == str(compilation_id)
        )


@pytest.fixture
def openai_model(
    new_uow: Uows, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[FakeOpenAI, int]]:
    with FakeOpenAI(auto_advance=False) as server:
        monkeypatch.setenv(OPENAI_KEY_ENV, server.api_key)
        conn = openai_connection(new_uow, admin, server.base_url)
        model_id = make_model(new_uow, admin, "Support", connection_id=conn)
        add_qas(new_uow, model_id)
        yield server, model_id


def test_a_worker_killed_while_training_is_taken_over_with_one_job(
    db_url: str,
    new_uow: Uows,
    trainer: Actor,
    openai_model: tuple[FakeOpenAI, int],
    workers_for: Callable[..., Workers],
) -> None:
    server, model_id = openai_model
    workers = workers_for(db_url, **{OPENAI_KEY_ENV: server.api_key})
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    first = workers.start()
    wait_for(
        lambda: _state(new_uow, requested.id).status == CompilationStatus.TRAINING,
        "the job to be started",
    )
    job_id = _state(new_uow, requested.id).provider_job_id
    assert job_id is not None
    server.advance(job_id, 3)  # running: the worker follows it, with events
    wait_for(
        lambda: count(new_uow, CompilationEvent, compilation_id=requested.id) > 8,
        "the worker to store the job's events",
    )
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    server.advance(job_id, 10)  # the provider finishes while no worker runs
    workers.start()
    wait_for(
        lambda: _state(new_uow, requested.id).status == CompilationStatus.SUCCEEDED,
        "the second worker to finish the compilation",
    )
    assert _jobs_of(server, requested.id) == 1
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.version_number == 1 and done.version_active
    assert done.provider_model and done.provider_model.startswith("ft:")


def test_a_worker_killed_while_creating_the_job_never_creates_a_second(
    db_url: str,
    new_uow: Uows,
    trainer: Actor,
    openai_model: tuple[FakeOpenAI, int],
    workers_for: Callable[..., Workers],
) -> None:
    server, model_id = openai_model
    server.auto_advance = True
    # The job creation hangs at the provider, which creates the job after 3 s anyway.
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.timeout(3.0, then_process=True))
    workers = workers_for(db_url, **{OPENAI_KEY_ENV: server.api_key})
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    first = workers.start()
    wait_for(
        lambda: _state(new_uow, requested.id).provider_status == "creating",
        "the job creation to start",
    )
    time.sleep(0.5)  # the request is in flight
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    workers.start()
    wait_for(
        lambda: _state(new_uow, requested.id).status == CompilationStatus.SUCCEEDED,
        "the second worker to finish the compilation",
    )
    assert _jobs_of(server, requested.id) == 1
    assert "Found the job created earlier" in _state(new_uow, requested.id).build_log
