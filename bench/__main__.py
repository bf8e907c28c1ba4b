"""`make bench`: run every benchmark in bench/ and print one table of figures.

Usage: python -m bench [NAME ...]   (default: all of them)
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from bench.common import Figure, machine, table

HERE = Path(__file__).resolve().parent


def available() -> list[str]:
    return sorted(
        info.name
        for info in pkgutil.iter_modules([str(HERE)])
        if info.name not in {"common", "__main__"}
    )


def main(argv: list[str]) -> int:
    names = argv or available()
    figures: list[Figure] = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.perf_counter()
        print(f"running bench.{name} …", file=sys.stderr, flush=True)
        figures += module.run()
        print(f"  done in {time.perf_counter() - started:,.0f} s", file=sys.stderr, flush=True)
    report = "\n".join(
        [
            f"Arbiter Studio benchmarks, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, on {machine()}",
            "",
            table(figures),
        ]
    )
    print(report)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / "latest.md").write_text(report + "\n", encoding="utf-8")
    # Figures are reported, not judged here: a missed target shows as "NO" in the table.
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
