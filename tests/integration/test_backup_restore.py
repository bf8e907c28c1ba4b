"""``python -m core backup`` and ``restore``: the demo studio backed up and restored into an
empty database (SQLite and PostgreSQL) gives back every row of every table and every data
file; a non-empty database is refused unless forced; a backup of a schema this code does
not know, or of the other backend, is refused; a backup taken while another process writes
is a consistent database; one taken while a worker compiles restores a studio that finishes
those compilations, without what the worker was still writing."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from core.models import Base
from tests.conftest import PG_ADMIN_URL, _pg_available, skip_or_fail
from tests.paths import ROOT
from tests.worker_helpers import Workers, wait_for, workers_for

__all__ = ["workers_for"]


def _cli(url: str, data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    data.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "DATABASE_URL": url, "ARBITER_DATA_DIR": str(data)}
    return subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def _ok(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _tables(url: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row of every table, in primary-key order."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t.name: [tuple(r) for r in connection.execute(select(t).order_by(*t.primary_key))]
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def _files(data: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(data)): p.read_bytes()
        for p in sorted(data.rglob("*"))
        if p.is_file() and not p.name.startswith("arbiter.db") and "tiktoken-cache" not in p.parts
    }


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def two_databases(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    if request.param == "sqlite":
        yield (
            f"sqlite:///{tmp_path / 'a' / 'arbiter.db'}",
            f"sqlite:///{tmp_path / 'b' / 'arbiter.db'}",
        )
        return
    if not _pg_available():
        skip_or_fail("REQUIRE_POSTGRES", f"PostgreSQL is not reachable at {PG_ADMIN_URL}")
    names = [f"arbiter_backup_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with admin.connect() as connection:
        for name in names:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_a_backup_restores_every_row_and_file_into_an_empty_database(
    two_databases: tuple[str, str], tmp_path: Path
) -> None:
    source, target = two_databases
    a, b = tmp_path / "a", tmp_path / "b"
    _ok(_cli(source, a, "seed-demo"))  # with compiled versions and local-provider indexes
    backup = tmp_path / "studio.backup"
    assert "Backed up" in _ok(_cli(source, a, "backup", str(backup)))
    assert backup.stat().st_mode & 0o077 == 0

    _ok(_cli(target, b, "init-db"))  # an empty database at the newest schema
    assert "Restored" in _ok(_cli(target, b, "restore", str(backup)))
    restored = _tables(target)
    assert restored == _tables(source)
    assert restored["qas"] and restored["model_versions"]
    assert _files(b) == _files(a) and any("local-provider" in name for name in _files(b))
    # The restored studio works: a command reads it, a sign-in account is there.
    assert "Northwind Support" in _ok(_cli(target, b, "list-models"))

    refused = _cli(target, b, "restore", str(backup))
    assert refused.returncode == 1
    [line] = refused.stderr.strip().splitlines()
    assert line.startswith("error: The database already holds") and "--force" in line
    _ok(_cli(target, b, "restore", "--force", str(backup)))
    assert _tables(target) == restored


def _rewrite_manifest(backup: Path, target: Path, **changes: object) -> None:
    with tarfile.open(backup) as source, tarfile.open(target, "w") as out:
        for member in source.getmembers():
            data = source.extractfile(member)
            content = data.read() if data else b""
            if member.name == "manifest.json":
                content = json.dumps({**json.loads(content), **changes}).encode()
                member.size = len(content)
            out.addfile(member, io.BytesIO(content))


def test_backups_this_code_cannot_take_are_refused(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'a' / 'arbiter.db'}"
    _ok(_cli(url, tmp_path / "a", "init-db"))
    backup = tmp_path / "a.backup"
    _ok(_cli(url, tmp_path / "a", "backup", str(backup)))
    empty = f"sqlite:///{tmp_path / 'b' / 'arbiter.db'}"
    for changes, says in (
        ({"revision": "9999_from_the_future"}, "is newer than this version"),
        ({"backend": "postgresql"}, "is a backup of a postgresql database"),
        ({"format": 2}, "has backup format 2"),
    ):
        changed = tmp_path / "changed.backup"
        _rewrite_manifest(backup, changed, **changes)
        done = _cli(empty, tmp_path / "b", "restore", str(changed))
        assert done.returncode == 1 and says in done.stderr, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
    not_a_backup = tmp_path / "x.backup"
    not_a_backup.write_text("hello")
    done = _cli(empty, tmp_path / "b", "restore", str(not_a_backup))
    assert done.returncode == 1 and "cannot be read as a backup" in done.stderr


# Writes Q&A-sized rows as fast as it can until its standard input closes.
_WRITER = """
import sqlite3, sys, threading
connection = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
connection.execute("CREATE TABLE IF NOT EXISTS churn (id INTEGER PRIMARY KEY, text TEXT)")
stop = threading.Event()
threading.Thread(target=lambda: (sys.stdin.read(), stop.set()), daemon=True).start()
print("writing", flush=True)
while not stop.is_set():
    connection.execute("BEGIN IMMEDIATE")
    connection.executemany("INSERT INTO churn (text) VALUES (?)", [("x" * 500,)] * 200)
    connection.execute("COMMIT")
"""


def test_a_backup_taken_while_another_process_writes_is_consistent(tmp_path: Path) -> None:
    import sqlite3

    data = tmp_path / "a"
    url = f"sqlite:///{data / 'arbiter.db'}"
    _ok(_cli(url, data, "seed-demo", "--no-compile"))
    writer = subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(data / "arbiter.db")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "writing"
        _ok(_cli(url, data, "backup", str(tmp_path / "busy.backup")))
    finally:
        writer.communicate("")
    b = tmp_path / "b"
    _ok(_cli(f"sqlite:///{b / 'arbiter.db'}", b, "restore", str(tmp_path / "busy.backup")))
    with sqlite3.connect(b / "arbiter.db") as restored:
        assert restored.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        # Whole transactions only: every batch of 200 rows is in, or none of it.
        assert restored.execute("SELECT count(*) % 200 FROM churn").fetchone() == (0,)
    restored.close()


BUSY_MODELS = 40


def _queue_local_compilations(url: str) -> list[int]:
    """Arbiters of their own on a local connection, one compilation of each requested."""
    from core import db
    from core.domain import Role
    from core.permissions import Actor
    from core.services import compilation
    from core.uow import UnitOfWork
    from tests.compile_helpers import add_qas, local_connection, make_model
    from tests.conftest import make_user

    engine = db.make_engine(url)
    factory = db.session_factory(engine)

    def new_uow() -> UnitOfWork:
        return UnitOfWork(factory)

    admin = Actor.system("test")
    trainer = make_user(new_uow(), "trainer@example.com", Role.TRAINER)
    connection = local_connection(new_uow, admin)
    ids = []
    for n in range(BUSY_MODELS):
        model = make_model(new_uow, admin, f"Department {n}", connection_id=connection)
        add_qas(new_uow, model)
        ids.append(compilation.request_compilation(new_uow(), trainer, model).id)
    engine.dispose()
    return ids


def _statuses(url: str) -> dict[int, str]:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, status FROM compilations"))
        found = {int(i): str(s) for i, s in rows}
    engine.dispose()
    return found


def test_a_backup_taken_while_compilations_run_restores_a_studio_that_finishes_them(
    two_databases: tuple[str, str], tmp_path: Path, workers_for: Callable[..., Workers]
) -> None:
    source, target = two_databases
    a, b = tmp_path / "a", tmp_path / "b"
    _ok(_cli(source, a, "init-db"))
    ids = _queue_local_compilations(source)
    worker = workers_for(source, ARBITER_DATA_DIR=str(a))
    worker.start("--exit-when-idle", "2")
    wait_for(lambda: "succeeded" in _statuses(source).values(), "a first compilation", 120)
    backup = tmp_path / "busy.backup"
    _ok(_cli(source, a, "backup", str(backup)))
    assert worker.processes[0].wait(timeout=300) == 0, worker.log_text()[-3000:]

    _ok(_cli(target, b, "init-db"))
    _ok(_cli(target, b, "restore", str(backup)))
    restored = _statuses(target)
    at_backup_time_done = sorted(i for i, s in restored.items() if s == "succeeded")
    assert at_backup_time_done and len(at_backup_time_done) < len(ids), "taken mid-way"
    # Nothing half-written came along; every published index is the source's, byte for
    # byte (each is written once); job records are whole, if older than the source's now.
    restored_files = _files(b)
    assert not [name for name in restored_files if ".partial" in name]
    source_files = _files(a)
    indexes = {n: c for n, c in restored_files.items() if n.startswith("local-provider/models/")}
    assert indexes and all(source_files[n] == c for n, c in indexes.items())
    for name, content in restored_files.items():
        if name.endswith(".json"):
            json.loads(content)
    # The restored studio finishes what was queued or running when the backup was taken,
    # each compilation once, and the training data is the source's.
    again = workers_for(target, ARBITER_DATA_DIR=str(b))
    again.start("--exit-when-idle", "2")
    assert again.processes[0].wait(timeout=300) == 0, again.log_text()[-3000:]
    assert set(_statuses(target).values()) == {"succeeded"} == set(_statuses(source).values())
    finished_source, finished_target = _tables(source), _tables(target)
    for table in ("users", "provider_connections", "qas"):
        assert finished_target[table] == finished_source[table]
    # Each arbiter has one version, active (activated at another moment on each side).
    assert len(finished_target["model_versions"]) == len(ids)
    assert _active_versions(target) == _active_versions(source) == len(ids)


def _active_versions(url: str) -> int:
    engine = create_engine(url)
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT count(*) FROM ai_models WHERE active_version_id IS NOT NULL")
        ).scalar_one()
    engine.dispose()
    return int(found)


def test_what_a_running_worker_is_still_writing_is_left_out(tmp_path: Path) -> None:
    data = tmp_path / "a"
    url = f"sqlite:///{data / 'arbiter.db'}"
    _ok(_cli(url, data, "init-db"))
    models = data / "local-provider" / "models"
    for folder in ("m-7", "m-7.4242.ab12cd34.partial", "m-7.4242.ab12cd34.partial.old0"):
        (models / folder).mkdir(parents=True)
        (models / folder / "meta.json").write_text('{"entries": 1}', encoding="utf-8")
    jobs = data / "local-provider" / "jobs"
    jobs.mkdir()
    (jobs / "ftjob-1.json").write_text("{}", encoding="utf-8")
    (jobs / ".ftjob-1.json.4242.ab12.partial").write_text('{"stat', encoding="utf-8")
    backup = tmp_path / "studio.backup"
    assert "and 2 data files" in _ok(_cli(url, data, "backup", str(backup)))
    with tarfile.open(backup) as archive:
        files = sorted(n for n in archive.getnames() if n.startswith("files/"))
    assert files == [
        "files/local-provider/jobs/ftjob-1.json",
        "files/local-provider/models/m-7/meta.json",
    ]
