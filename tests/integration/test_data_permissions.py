"""The data folder is its owner's alone: the folder 0700, the SQLite database (with its WAL
and shared-memory files), the local provider's indexes and the credentials 0600, whether
the command created them or found them looser."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT


def _run(data: Path, *args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    env["ARBITER_DATA_DIR"] = str(data)
    done = subprocess.run(
        [sys.executable, "-m", "core", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]


def _loose(data: Path) -> dict[str, str]:
    """Every path under the data folder (and the folder) that its group or others may use."""
    found = {}
    for path in [data, *data.rglob("*")]:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            found[str(path.relative_to(data.parent))] = oct(mode)
    return found


def test_a_new_data_folder_and_everything_in_it_are_private(tmp_path: Path) -> None:
    data = tmp_path / "data"
    _run(data, "seed-demo")  # the database, the demo's local-provider indexes, credentials
    assert (data / "arbiter.db").is_file()
    assert any((data / "local-provider").rglob("*.json"))
    assert _loose(data) == {}
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    assert stat.S_IMODE((data / "arbiter.db").stat().st_mode) == 0o600


def test_a_data_folder_left_open_is_closed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    (data / "arbiter.db").touch()
    (data / "arbiter.db").chmod(0o644)
    _run(data, "init-db")
    assert _loose(data) == {}
