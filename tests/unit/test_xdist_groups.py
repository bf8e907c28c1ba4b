"""The suite's ``--dist loadgroup`` really keeps a group on one worker (tests/xdist_groups.py):
two modules of one group, four tests each, run by two workers, all on the same one."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from tests.paths import ROOT

GROUPED = """
import pytest
pytestmark = pytest.mark.xdist_group("together")

@pytest.mark.parametrize("n", range(4))
def test_grouped(n):
    pass
"""


def test_a_group_runs_on_one_worker(tmp_path: Path) -> None:
    for name in ("test_one.py", "test_two.py"):
        (tmp_path / name).write_text(GROUPED)
    (tmp_path / "test_free.py").write_text("def test_free():\n    pass\n")
    options = ["-n", "2", "--dist", "loadgroup", "-v", "-p", "no:cacheprovider", str(tmp_path)]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "tests.xdist_groups", *options],
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    passed = re.findall(r"\[(gw\d)\] .*PASSED (\S+)", done.stdout)
    grouped = {worker for worker, test in passed if test.endswith("@together")}
    assert len([t for _, t in passed if t.endswith("@together")]) == 8
    assert len(grouped) == 1, passed
