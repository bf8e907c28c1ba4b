"""Scale-out on PostgreSQL: four ``python -m core.worker`` processes drain 200 queued
compilations, on the local provider and on the fake OpenAI server (the real SDK over HTTP).

Each compilation ends exactly once (one terminal status, one version, one end event), no
provider job is created twice, and a worker killed with SIGKILL while it holds a compilation
has that compilation taken over by another once its lease ends, and finished with one job.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import db
from core.domain import ACTIVE_COMPILATION_STATUSES, CompilationStatus, ModelKind, QAType, Role
from core.models import QA, AIModel, Compilation, CompilationEvent, ModelVersion
from core.permissions import Actor
from core.providers.local_index import load_index
from core.services import compilation
from core.training.text import question_key
from core.uow import UnitOfWork
from tests.compile_helpers import OPENAI_KEY_ENV, Uows, local_connection, openai_connection
from tests.conftest import make_user
from tests.openai_server import FakeOpenAI
from tests.worker_helpers import Workers, wait_for, workers_for

__all__ = ["workers_for"]
pytestmark = [pytest.mark.postgres, pytest.mark.xdist_group("scale_out")]

COMPILATIONS = 200
PROCESSES = 4
EXAMPLES = 10  # the fewest a training set may have
# Short enough that the killed worker's claim lapses soon; a lost job creation is retried
# after the same time (the fake server answers at once, so no request is still in flight).
SETTINGS = {"ARBITER_LEASE_SECONDS": "2", "ARBITER_JOB_DOUBT_SECONDS": "2"}


@dataclass(frozen=True)
class Company:
    new_uow: Uows
    admin: Actor
    trainer: Actor
    data_dir: Path
    url: str


@pytest.fixture
def company(pg_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Company]:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    engine = db.make_engine(pg_url)
    factory = db.session_factory(engine)

    def new_uow() -> UnitOfWork:
        return UnitOfWork(factory)

    admin = make_user(new_uow(), "admin@scale.example", Role.ADMIN)
    trainer = make_user(new_uow(), "trainer@scale.example", Role.TRAINER)
    yield Company(new_uow, admin, trainer, tmp_path, pg_url)
    engine.dispose()


def queue_compilations(company: Company, connection_id: int, n: int) -> list[int]:
    """n small arbiters, each with a training set of its own, and one compilation of each
    requested through the service, as a trainer does."""
    uow = company.new_uow()
    with uow:
        models = [
            AIModel(
                name=f"Department {d}",
                kind=ModelKind.ARBITER,
                connection_id=connection_id,
                system_message=f"You are department {d}'s arbiter.",
            )
            for d in range(n)
        ]
        uow.session.add_all(models)
        uow.session.flush()
        uow.session.add_all(
            QA(
                model_id=model.id,
                section="General",
                question=question,
                answer=f"Department {d} answers question {k} this way.",
                question_key=question_key(question),
                qa_type=QAType.TRAINING,
            )
            for d, model in enumerate(models)
            for k in range(EXAMPLES)
            for question in [f"What does department {d} say about topic {k}?"]
        )
        uow.commit()
        model_ids = [m.id for m in models]
    return [
        compilation.request_compilation(company.new_uow(), company.trainer, model_id).id
        for model_id in model_ids
    ]


def _claims(company: Company) -> dict[int, str]:
    uow = company.new_uow()
    with uow:
        rows = uow.session.execute(
            select(Compilation.id, Compilation.claimed_by).where(
                Compilation.claimed_by.is_not(None)
            )
        )
        return {cid: str(holder) for cid, holder in rows}


def _unfinished(company: Company) -> int:
    uow = company.new_uow()
    with uow:
        return int(
            uow.session.scalar(
                select(func.count()).where(Compilation.status.in_(ACTIVE_COMPILATION_STATUSES))
            )
            or 0
        )


def kill_one_holding_a_claim(workers: Workers, company: Company) -> tuple[set[int], list[int]]:
    """SIGKILL a worker process while it holds a compilation; a fresh process takes its
    place. Returns the killed pids and the compilations left claimed (read once the process
    is dead: one killed between two claims leaves none, and then another is killed)."""
    killed: set[int] = set()
    for _ in range(10):
        wait_for(lambda: bool(_claims(company)), "a worker to claim a compilation")
        holder = next(iter(_claims(company).values()))
        pid = int(holder.split(":")[1])  # worker names are host:pid:random
        process = next(p for p in workers.processes if p.pid == pid)
        os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)
        killed.add(pid)
        workers.start()
        orphans = [cid for cid, name in _claims(company).items() if name == holder]
        if orphans:
            return killed, orphans
    raise AssertionError("no worker was killed while it held a compilation")


def drain(workers: Workers, company: Company) -> tuple[float, list[int]]:
    """Four workers drain the queue while one of them is killed; returns the seconds it
    took and the compilations the killed worker held."""
    started = time.monotonic()
    for _ in range(PROCESSES):
        workers.start()
    killed, orphans = kill_one_holding_a_claim(workers, company)
    wait_for(lambda: _unfinished(company) == 0, "the queue to drain", timeout=480)
    seconds = time.monotonic() - started
    workers.stop_all()
    # The others stop cleanly when told to (SIGTERM).
    assert {p.pid: p.returncode for p in workers.processes} == {
        p.pid: -signal.SIGKILL if p.pid in killed else 0 for p in workers.processes
    }
    return seconds, orphans


def assert_each_ended_once(company: Company, ids: list[int]) -> dict[int, str]:
    """Every compilation succeeded once: one end in its build log and in its events, one
    version (the first of its model). Returns each compilation's provider model."""
    uow = company.new_uow()
    with uow:
        s = uow.session
        rows = s.execute(
            select(Compilation.id, Compilation.status, Compilation.error, Compilation.build_log)
            .where(Compilation.id.in_(ids))
            .order_by(Compilation.id)
        ).all()
        assert {r.id: r.error for r in rows if r.status != CompilationStatus.SUCCEEDED} == {}
        assert len(rows) == len(ids)
        assert {r.id: r.build_log.count("Compilation succeeded") for r in rows} == dict.fromkeys(
            ids, 1
        )
        ends = s.scalars(
            select(CompilationEvent.compilation_id).where(
                CompilationEvent.message.startswith("Compilation ")
                & CompilationEvent.message.contains(" succeeded")
            )
        )
        assert Counter(ends) == Counter(ids)
        versions = s.execute(
            select(ModelVersion.compilation_id, ModelVersion.number, ModelVersion.provider_model_id)
        ).all()
        assert Counter(v.compilation_id for v in versions) == Counter(ids)
        assert {v.number for v in versions} == {1}
        return {int(v.compilation_id or 0): v.provider_model_id for v in versions}


def assert_no_worker_error(workers: Workers) -> None:
    problems = [
        line for line in workers.log_text().splitlines() if " ERROR " in line or "Traceback" in line
    ]
    assert problems == []


def print_figure(provider: str, seconds: float, ids: list[int]) -> None:
    # Reported with -s; never asserted (the machine is shared).
    print(f"\n{provider}: {len(ids)} compilations in {seconds:.1f} s ({len(ids) / seconds:.1f}/s)")


def test_four_workers_drain_the_queue_on_the_local_provider(
    company: Company, workers_for: Callable[..., Workers]
) -> None:
    connection = local_connection(company.new_uow, company.admin)
    ids = queue_compilations(company, connection, COMPILATIONS)
    workers = workers_for(company.url, **SETTINGS)
    seconds, orphans = drain(workers, company)
    print_figure("local", seconds, ids)
    models = assert_each_ended_once(company, ids)
    root = company.data_dir / "local-provider"
    jobs = Counter(
        json.loads(path.read_text())["metadata"]["compilation_id"]
        for path in (root / "jobs").glob("*.json")
    )
    assert jobs == Counter(str(i) for i in ids)
    # One published index per compilation, each the one its version answers from (a killed
    # worker may leave its unpublished ".partial" folder behind).
    published = [p for p in (root / "models").iterdir() if ".partial" not in p.name]
    assert len(published) == len(ids)
    assert all(load_index(root, models[cid]) is not None for cid in orphans)
    assert_no_worker_error(workers)


def test_four_workers_drain_the_queue_on_the_openai_server(
    company: Company, workers_for: Callable[..., Workers]
) -> None:
    # Each job is read twice (running, then succeeded) at the shortest poll interval.
    with FakeOpenAI(job_script=["queued", "running", "succeeded"]) as server:
        connection = openai_connection(company.new_uow, company.admin, server.base_url)
        ids = queue_compilations(company, connection, COMPILATIONS)
        workers = workers_for(company.url, **SETTINGS, **{OPENAI_KEY_ENV: server.api_key})
        seconds, orphans = drain(workers, company)
        print_figure("openai", seconds, ids)
        models = assert_each_ended_once(company, ids)
        with server.lock:
            jobs = Counter(
                (j["metadata"] or {}).get("compilation_id") for j in server.jobs.values()
            )
            finished = {j["fine_tuned_model"] for j in server.jobs.values()}
            assert server.server_errors == []
    # Every compilation reached the provider: one job each, and its model is the version's.
    assert jobs == Counter(str(i) for i in ids)
    assert set(models.values()) == finished
    assert all(models[cid].startswith("ft:") for cid in orphans)
    assert_no_worker_error(workers)
