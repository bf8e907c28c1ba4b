"""A trainer's cell save on SQLite while anonymous sign-in loops run in the same process, as
they do in the one Streamlit server process: each loop tries wrong passwords for real
accounts (argon2 at the product's settings), as a password-guessing script would.

    python -m bench.signin

The baseline is the same saves with no sign-in running, measured in the same run.
"""

from __future__ import annotations

import contextlib
import statistics
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from bench.common import Figure, at_most, table

if TYPE_CHECKING:
    from core.permissions import Actor
    from core.uow import UnitOfWork

LOOPS = 8
SAVES = 200
ACCOUNTS = 4


def _saves(uow: UnitOfWork, trainer: Actor, ids: list[int], pause: float) -> list[float]:
    from core.services import qas

    samples = []
    for i in range(SAVES):
        current = qas.get_qa(uow, trainer, ids[i % len(ids)])
        started = time.perf_counter()
        qas.update_qa(uow, trainer, current.id, {"answer": f"Edited {i}."}, current.row_version)
        samples.append(time.perf_counter() - started)
        time.sleep(pause)  # a person types between saves
    return samples


def _guesses(url: str, emails: list[str], stop: threading.Event, counts: list[int]) -> None:
    from core import db
    from core.errors import AuthenticationFailed
    from core.services import accounts
    from core.uow import UnitOfWork

    uow = UnitOfWork(db.session_factory(db.make_engine(url)))
    n = 0
    while not stop.is_set():
        with contextlib.suppress(AuthenticationFailed):
            accounts.log_in(uow, emails[n % len(emails)], f"guess-number-{n}")
        n += 1
    counts.append(n)


def _figures_for(label: str, samples: list[float], note: str = "") -> list[Figure]:
    name = f"cell save on SQLite, {label}"
    ordered = sorted(samples)
    p95 = ordered[int(len(ordered) * 0.95) - 1]
    return [
        Figure(name, f"median of {len(samples)}", statistics.median(samples) * 1000, "ms"),
        Figure(name, "95th percentile", p95 * 1000, "ms"),
        at_most(name, "slowest", max(samples), 0.1, note),
    ]


def run() -> list[Figure]:
    import os

    # The product's argon2 settings, not the tests' fast ones.
    os.environ.pop("ARBITER_FAST_PASSWORD_HASH", None)
    from core import db, security
    from core.domain import ProviderType, Role
    from core.permissions import Actor
    from core.services import accounts, catalog, qas
    from core.services.catalog import ConnectionInput, ModelInput
    from core.services.qas import QAInput
    from core.uow import UnitOfWork

    security._hasher.cache_clear()
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-signin-") as tmp:
        url = f"sqlite:///{Path(tmp) / 'signin.db'}"
        engine = db.make_engine(url)
        db.upgrade(engine)
        uow = UnitOfWork(db.session_factory(engine))
        admin = Actor.system("bench")
        emails = [f"person{n}@example.com" for n in range(ACCOUNTS)]
        for email in emails:
            accounts.create_user(uow, admin, email, email, Role.TRAINER, "the-right-password-1")
        new = accounts.create_user(uow, admin, "bench@example.com", "Bench", Role.TRAINER)
        trainer = Actor(new.user.id, new.user.email, new.user.role, new.user.display_name)
        local = catalog.create_connection(
            uow, admin, ConnectionInput(name="Local", provider_type=ProviderType.LOCAL)
        )
        model = catalog.create_model(uow, admin, ModelInput("Support", connection_id=local.id))
        ids = [
            qas.add_qa(uow, trainer, model.id, QAInput(f"Question {n}?", "Answer.", "Rules")).id
            for n in range(20)
        ]

        baseline = _saves(uow, trainer, ids, pause=0.02)
        stop = threading.Event()
        counts: list[int] = []
        loops = [
            threading.Thread(target=_guesses, args=(url, emails, stop, counts), daemon=True)
            for _ in range(LOOPS)
        ]
        started = time.perf_counter()
        for loop in loops:
            loop.start()
        time.sleep(1.0)  # every loop is guessing before the first save
        loaded = _saves(uow, trainer, ids, pause=0.02)
        stop.set()
        for loop in loops:
            loop.join()
        seconds = time.perf_counter() - started
        engine.dispose()
    guesses = sum(counts)
    ratio = statistics.median(loaded) / statistics.median(baseline)
    return [
        *_figures_for("no sign-in running (baseline)", baseline),
        *_figures_for(
            f"{LOOPS} sign-in loops running",
            loaded,
            f"median {ratio:.1f}× the baseline; {guesses:,} wrong passwords checked in "
            f"{seconds:.1f} s ({guesses / seconds:.1f}/s)",
        ),
    ]


if __name__ == "__main__":
    print(table(run()))
