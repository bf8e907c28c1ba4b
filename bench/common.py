"""What every benchmark returns, and the one table `make bench` prints.

A benchmark module exposes ``run() -> list[Figure]`` and, when run on its own
(``python -m bench.NAME``), prints ``table(run())``. Figures are measured, never asserted.
"""

from __future__ import annotations

import os
import platform
import statistics
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.permissions import Actor
    from core.uow import UnitOfWork

# Sentences of a product catalogue's answers: benchmark Q&As are as wide as real ones.
CATALOGUE_FACTS = [
    "Orders placed before noon leave our Venlo warehouse on the same working day.",
    "Returns are accepted within thirty days when the goods are unused and in their packaging.",
    "The warranty runs for two years from the delivery date and covers manufacturing faults.",
    "Price breaks apply from one hundred pieces and again from one thousand pieces per order.",
    "Datasheets are on the product page under Downloads, in English and German.",
    "Stock levels on the website are updated every fifteen minutes from the warehouse system.",
    "Customers in Switzerland and Norway receive customs papers prepared by the Venlo team.",
    "Samples of up to three pieces per project are free when sales approves the request.",
]


@dataclass(frozen=True)
class Figure:
    benchmark: str  # e.g. "Q&As, SQLite"
    measure: str  # e.g. "first grid page (100,000 Q&As)"
    value: float
    unit: str  # "s", "ms", "×", "/s"
    target: str = ""  # e.g. "≤ 0.5 s"
    met: bool | None = None  # None when there is no target
    note: str = ""  # e.g. the baseline and the ratio against it

    def formatted(self) -> str:
        if self.unit == "ms":
            return f"{self.value:,.1f} ms"
        if self.unit == "s":
            return f"{self.value:,.3f} s"
        if self.unit == "×":
            return f"{self.value:,.1f}×"
        return f"{self.value:,.1f} {self.unit}"


def at_most(benchmark: str, measure: str, seconds: float, limit: float, note: str = "") -> Figure:
    """A time with an upper target, shown in ms below one second."""
    if limit < 1:
        return Figure(
            benchmark,
            measure,
            seconds * 1000,
            "ms",
            f"≤ {limit * 1000:g} ms",
            seconds <= limit,
            note,
        )
    return Figure(benchmark, measure, seconds, "s", f"≤ {limit:g} s", seconds <= limit, note)


def at_least(
    benchmark: str, measure: str, value: float, floor: float, unit: str = "×", note: str = ""
) -> Figure:
    return Figure(
        benchmark,
        measure,
        value,
        unit,
        f"≥ {floor:g}{unit if unit == '×' else ' ' + unit}",
        value >= floor,
        note,
    )


@contextmanager
def stopwatch() -> Iterator[list[float]]:
    """``with stopwatch() as t: ...`` then ``t[0]`` holds the seconds taken."""
    result: list[float] = []
    started = time.perf_counter()
    try:
        yield result
    finally:
        result.append(time.perf_counter() - started)


def timed(fn: Callable[[], object], repeat: int = 5) -> float:
    """The median of several runs, in seconds."""
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def machine() -> str:
    import os

    return f"{platform.node()} · {platform.machine()} · {os.cpu_count()} cores · Python {platform.python_version()}"


def table(figures: Sequence[Figure]) -> str:
    headers = ("benchmark", "measure", "value", "target", "met", "note")
    rows = [
        (
            f.benchmark,
            f.measure,
            f.formatted(),
            f.target,
            {True: "yes", False: "NO", None: ""}[f.met],
            f.note,
        )
        for f in figures
    ]
    widths = [max(len(str(r[i])) for r in [headers, *rows]) for i in range(len(headers))]
    lines = [
        "| " + " | ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)) + " |",
        "|" + "|".join("-" * (w + 2) for w in widths) + "|",
    ]
    lines += [
        "| " + " | ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)) + " |"
        for r in rows
    ]
    return "\n".join(lines)


def pg_admin_url() -> str:
    """The PostgreSQL server benchmarks create their throwaway databases on."""
    return (
        os.environ.get("ARBITER_BENCH_PG_URL")
        or os.environ.get("ARBITER_TEST_PG_URL")
        or "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
    )


@contextmanager
def postgres_database() -> Iterator[str | None]:
    """A throwaway database on the PostgreSQL server, or None without one."""
    from sqlalchemy import create_engine, text

    from core import db

    admin_url = pg_admin_url()
    name = f"arbiter_bench_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    try:
        admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception:
        yield None
        return
    try:
        yield admin_url.rsplit("/", 1)[0] + f"/{name}"
    finally:
        db.dispose_engines()
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@dataclass(frozen=True)
class Studio:
    """What the benchmarks start from: a migrated database, a trainer, the system actor and a
    local-provider connection."""

    engine: Any  # sqlalchemy Engine; dispose it when done
    uow: UnitOfWork
    trainer: Actor
    admin: Actor
    local_connection_id: int


def studio(url: str) -> Studio:
    from core import db
    from core.domain import ProviderType, Role
    from core.models import User
    from core.permissions import Actor
    from core.providers.local import LOCAL_BASE_MODEL
    from core.services import catalog
    from core.services.catalog import ConnectionInput
    from core.uow import UnitOfWork

    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = UnitOfWork(db.session_factory(engine))
    with uow:
        user = User(email="bench@example.com", display_name="Bench", role=Role.TRAINER)
        uow.session.add(user)
        uow.commit()
        trainer = Actor(user.id, user.email, user.role, user.display_name)
    admin = Actor.system("bench")
    local = catalog.create_connection(
        uow,
        admin,
        ConnectionInput(
            name="Local", provider_type=ProviderType.LOCAL, default_base_model=LOCAL_BASE_MODEL
        ),
    )
    return Studio(engine, uow, trainer, admin, local.id)
