"""With the SQLite file locked by another process, a command ends with one line, not a
traceback: the schema check every command starts with is inside the error handling too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from core import db
from tests.paths import ROOT

# Another program holds the write lock (as a long write or a copy tool would) until its
# standard input closes.
_HOLDER = """
import sqlite3, sys
connection = sqlite3.connect(sys.argv[1], isolation_level=None)
connection.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("command", [["list-models"], ["init-db"], ["seed-demo", "--if-empty"]])
def test_a_command_on_a_locked_database_prints_one_line(tmp_path: Path, command: list[str]) -> None:
    path = tmp_path / "arbiter.db"
    engine = db.make_engine(f"sqlite:///{path}")
    db.upgrade(engine)
    engine.dispose()
    holder = subprocess.Popen(
        [sys.executable, "-c", _HOLDER, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{path}",
            "ARBITER_DATA_DIR": str(tmp_path),
            "ARBITER_SQLITE_BUSY_SECONDS": "1",
        }
        done = subprocess.run(
            [sys.executable, "-m", "core", *command],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        holder.communicate("")
    assert done.returncode == 1, done
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("error: The database is locked by another process"), lines
