"""Hostile files too big or too odd to keep in tests/data/hostile/, built here and given to
the commands in a child process that reports its peak resident size: each is refused with
one error naming its line, row or part, nothing is written, and memory stays bounded.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from core import db
from core.models import Base
from core.uow import UnitOfWork
from tests.hostile_archives import write_bomb
from tests.paths import ROOT
from tests.qa_seed import make_model

MODEL = "Hostile archives"

# The command in a fresh interpreter, reporting how it ended and the peak resident size of
# the whole process (the interpreter, the code, the file's bytes and whatever parsing cost).
_PROBE = """
import contextlib, io, json, resource, sys, time
from core.cli import main

out, err = io.StringIO(), io.StringIO()
start = time.perf_counter()
with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
    code = main(sys.argv[1:])
print(json.dumps({"code": code, "seconds": time.perf_counter() - start,
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "out": out.getvalue()[-4000:], "err": err.getvalue()[-4000:]}))
"""


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    folder = tmp_path_factory.mktemp("hostile-archives")
    url = f"sqlite:///{folder / 'cli.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    make_model(UnitOfWork(db.session_factory(engine)), MODEL)
    engine.dispose()
    yield url, folder


def _row_counts(url: str) -> dict[str, int]:
    engine = db.make_engine(url)
    try:
        with engine.connect() as connection:
            return {
                t.name: connection.scalar(select(func.count()).select_from(t)) or 0
                for t in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def run_command(database: tuple[str, Path], *args: str) -> dict[str, object]:
    url, folder = database
    env = {**os.environ, "DATABASE_URL": url, "ARBITER_DATA_DIR": str(folder)}
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    # Figures for the record (never asserted as times): pytest -s shows them.
    print(f"{args[0]} {Path(args[-1]).name}: {result['seconds']:.2f} s, {result['peak_mb']:.0f} MB")
    return result


def assert_refused(
    database: tuple[str, Path], command: str, path: Path, says: str, peak_mb: float
) -> dict[str, object]:
    before = _row_counts(database[0])
    result = run_command(database, command, MODEL, str(path))
    assert result["code"] == 1, result
    error = str(result["err"])
    assert says in error, error
    assert "Traceback" not in error
    assert float(str(result["peak_mb"])) < peak_mb, result
    assert _row_counts(database[0]) == before
    return result


@pytest.mark.xdist_group("hostile-big")
def test_a_workbook_that_unpacks_to_1_gb_is_refused_before_it_is_unpacked(
    database: tuple[str, Path], tmp_path: Path
) -> None:
    # 6 MB on disk; its shared-string table unpacks to 1 GB that no cell uses. Opened, it
    # was imported at a peak of 1.2 GB (its strings held whole); refused, about 165 MB.
    bomb = write_bomb(tmp_path / "bomb.xlsx")
    assert bomb.stat().st_size < 50 * 1024 * 1024
    assert_refused(
        database,
        "import-qas",
        bomb,
        "bomb.xlsx is not an Excel workbook (.xlsx) that can be read: part "
        "xl/sharedStrings.xml unpacks to 1,023 MB (at most 200 MB)",
        peak_mb=300,
    )
