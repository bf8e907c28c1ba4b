"""``python -m core backup`` and ``restore``: the demo studio backed up and restored into an
empty database (SQLite and PostgreSQL) gives back every row of every table and every data
file; a non-empty database is refused unless forced; a backup of a schema this code does
not know, or of the other backend, is refused; a backup taken while another process writes
is a consistent database."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from core.models import Base
from tests.conftest import PG_ADMIN_URL, _pg_available, skip_or_fail
from tests.paths import ROOT


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
