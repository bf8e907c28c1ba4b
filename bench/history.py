"""The compilation history and the managers' dashboard at 10,000 compilations and 1,000,000
events, on SQLite and on PostgreSQL: the server time of the Compilations page (its first
page with and without filters, and one long compilation in full) and of the history.

    python -m bench.history        (PostgreSQL from ARBITER_BENCH_PG_URL, default the local
                                    server; a throwaway database is created and dropped)

The history is two years of a team's work: 40 models (a few parents with children) on two
OpenAI connections and a local one, 25 people, 100,000 Q&As, mostly succeeded compilations
with the provider's step and metric events, and failed, cancelled, skipped, config-only and
running ones among them. One compilation trained for 20,000 events: the detail view's worst
case. Rows are written with SQLAlchemy Core in bulk (COPY for PostgreSQL's events).
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from bench.common import CATALOGUE_FACTS, Figure, at_most, postgres_database, table

COMPILATIONS = 10_000
EVENTS = 1_000_000
BIG_EVENTS = 20_000
QAS = 100_000
CONVERSATIONS = 5_000
MODELS = 40
PEOPLE = 25
WEEKS = 104
TARGET = 1.0
_NOW = datetime.now(UTC).replace(microsecond=0)


@dataclass(frozen=True)
class Seeded:
    manager_id: int
    busy_model_id: int
    busy_requester_id: int
    big_compilation_id: int
    seconds: float


# --- the history ---------------------------------------------------------------------------


def _people() -> list[dict[str, Any]]:
    from core.domain import Role

    roles = [Role.ADMIN] * 2 + [Role.MANAGER] * 5 + [Role.TRAINER] * (PEOPLE - 7)
    return [
        {
            "id": n + 1,
            "email": f"person{n + 1}@northwind.example",
            "display_name": f"Person {n + 1:02d}",
            "role": role,
            "password_hash": "x",
        }
        for n, role in enumerate(roles)
    ]


def _models() -> list[dict[str, Any]]:
    from core.domain import ModelKind

    rows = []
    for n in range(MODELS):
        model_id = n + 1
        # Models 1-5 are parents; 6-35 are their children; the last five run locally.
        parent = None if n < 5 or n >= 35 else (n % 5) + 1
        connection = 3 if n >= 35 else (2 if n % 8 == 7 else (1 if parent is None else None))
        rows.append(
            {
                "id": model_id,
                "name": f"Arbiter {model_id:02d}",
                "kind": ModelKind.ARBITER,
                "parent_id": parent,
                "connection_id": connection,
                "system_message": f"You answer for department {model_id}.",
                "inherit_parent_training": parent is not None,
                "aggregate_children_training": parent is None and n < 5,
            }
        )
    return rows


def _log(rng: random.Random, lines: int) -> str:
    words = ["validated", "uploaded", "polled", "training", "checkpoint", "tokens", "examples"]
    return "\n".join(
        f"{n:04d} {' '.join(rng.choice(words) for _ in range(8))}" for n in range(lines)
    )


def _findings(rng: random.Random, model_id: int, count: int, severity: str) -> list[Any]:
    return [
        {
            "severity": severity,
            "code": rng.choice(["personal_data", "too_long", "empty_content", "duplicate"]),
            "message": f"example {rng.randint(1, 5000)} needs a look",
            "line": rng.randint(1, 5000),
            "sources": [["qa", rng.randint(1, QAS), model_id, f"Arbiter {model_id:02d}", "own"]],
        }
        for _ in range(count)
    ]


def _money(tokens_at_one_dollar: int) -> Decimal:
    return (Decimal(tokens_at_one_dollar) / 1_000_000).quantize(Decimal("0.0001"))


def _compilations(rng: random.Random, model_ids: list[int], requesters: list[int]) -> Any:
    """Compilation rows (newest last), the versions the successful ones made, and the number
    of events each has."""
    from core.domain import CompilationStatus as S

    statuses = [S.SUCCEEDED, S.FAILED, S.CANCELLED, S.SKIPPED]
    weights = [70, 12, 5, 13]
    start = _NOW - timedelta(weeks=WEEKS)
    span = (_NOW - start).total_seconds()
    # Busier lately: the moments are drawn towards the present.
    moments = sorted(start + timedelta(seconds=span * rng.random() ** 0.7) for _ in range(10_000))
    moments = moments[: COMPILATIONS - 3]
    rows: list[dict[str, Any]] = []
    versions: list[dict[str, Any]] = []
    numbers: dict[int, int] = {}
    weight_of_events: list[float] = []
    for n, created in enumerate(moments):
        model_id = rng.choice(model_ids)
        local = model_id > 35
        status = rng.choices(statuses, weights)[0]
        config_only = status == S.SUCCEEDED and rng.random() < 0.04
        started = created + timedelta(seconds=rng.randint(1, 120))
        took = timedelta(
            seconds=rng.randint(5, 90) if local or config_only else rng.randint(600, 5400)
        )
        examples = rng.randint(200, 20_000)
        tokens = examples * rng.randint(150, 260)
        trained = status == S.SUCCEEDED and not config_only
        row: dict[str, Any] = {
            "id": n + 1,
            "model_id": model_id,
            "requested_by_id": rng.choice(requesters),
            "status": status,
            "forced": rng.random() < 0.05,
            "config_only": config_only,
            "dataset_hash": f"{rng.getrandbits(256):064x}",
            "config_hash": f"{rng.getrandbits(256):064x}",
            "example_count": examples,
            "token_count": tokens,
            "billed_tokens_estimate": tokens * 3,
            "cost_estimate": _money(tokens * 9),
            "trained_tokens": tokens * 3 if trained and not local else None,
            "actual_cost": _money(tokens * 9) if trained and rng.random() < 0.5 else None,
            "base_model": "local-retrieval-1" if local else "gpt-4o-mini-2024-07-18",
            "provider_job_id": f"ftjob-{n}" if trained else None,
            "provider_model": f"ft:gpt-4o-mini:northwind:a{model_id}:{n}" if trained else None,
            "provider_status": "succeeded" if trained else None,
            "error": None,
            "reason": None,
            "build_log": _log(rng, 40 if trained else 8),
            "validation_report": {
                "example_count": examples,
                "total_tokens": tokens,
                "errors": 0,
                "warnings": 2,
                "findings": _findings(rng, model_id, 2, "warning"),
            },
            "dataset_stats": {
                "examples": examples,
                "tokens": tokens,
                "per_source": [
                    {"model_id": model_id, "model_name": f"Arbiter {model_id:02d}", "qas": examples}
                ],
            },
            "diff_summary": {"added": rng.randint(0, 300), "removed": rng.randint(0, 30)},
            "validation_score": round(rng.uniform(0.6, 0.95), 3) if trained else None,
            "created_at": created,
            "started_at": started if status != S.SKIPPED else created,
            "finished_at": (started + took) if status != S.SKIPPED else created,
        }
        if status == S.FAILED:
            errors = rng.randint(1, 40)
            row["error"] = f"The training set has {errors} errors:\n" + _log(rng, 5)
            row["validation_report"] = {
                "example_count": examples,
                "total_tokens": tokens,
                "errors": errors,
                "warnings": 3,
                "findings": _findings(rng, model_id, min(errors, 20), "error"),
            }
            weight_of_events.append(rng.uniform(0.05, 0.4))
        elif status == S.CANCELLED:
            row["reason"] = "cancelled by a trainer"
            weight_of_events.append(rng.uniform(0.1, 0.6))
        elif status == S.SKIPPED:
            row["reason"] = "Nothing changed since the active version."
            weight_of_events.append(0.02)
        elif config_only:
            weight_of_events.append(0.04)
        else:
            weight_of_events.append(rng.uniform(0.3, 2.0))
        if status == S.SUCCEEDED:
            numbers[model_id] = numbers.get(model_id, 0) + 1
            versions.append(
                {
                    "model_id": model_id,
                    "compilation_id": row["id"],
                    "number": numbers[model_id],
                    "provider_model_id": row["provider_model"] or f"base:{row['base_model']}",
                    "base_model": row["base_model"],
                    "dataset_hash": row["dataset_hash"],
                    "config_only": config_only,
                    "validation_score": row["validation_score"],
                    "created_at": row["finished_at"],
                }
            )
        rows.append(row)
    # Three running now (one per model at most), the newest.
    for offset, status in enumerate((S.TRAINING, S.VALIDATING, S.QUEUED)):
        created = _NOW - timedelta(minutes=30 - offset * 10)
        rows.append(
            {
                "id": len(rows) + 1,
                "model_id": 1 + offset,
                "requested_by_id": requesters[offset],
                "status": status,
                "created_at": created,
                "started_at": created + timedelta(seconds=3) if status != S.QUEUED else None,
                "provider_status": "running" if status == S.TRAINING else None,
                "estimated_finish_at": _NOW + timedelta(minutes=25),
                "build_log": _log(rng, 5),
                "example_count": 1_000,
                "token_count": 200_000,
            }
        )
        weight_of_events.append(0.3)
    # The long run the detail view is measured on: the newest succeeded one of model 1.
    big = max(r["id"] for r in rows if r["model_id"] == 1 and r["status"] == S.SUCCEEDED)
    others = EVENTS - BIG_EVENTS
    total_weight = sum(w for i, w in enumerate(weight_of_events) if i + 1 != big)
    counts = [max(1, int(w * others / total_weight)) for w in weight_of_events]
    counts[big - 1] = 0
    # Rounding down left a few events over: they go to the longer runs, one each.
    longest = sorted(range(len(counts)), key=lambda i: -counts[i])
    for i in range(others - sum(counts)):
        counts[longest[i % len(longest)]] += 1
    counts[big - 1] = BIG_EVENTS
    return rows, versions, counts, big


def _events(rows: list[dict[str, Any]], counts: list[int], seed: int) -> Iterator[tuple[Any, ...]]:
    """(id, compilation_id, created_at, level, event_type, message, data, provider_event_id)."""
    rng = random.Random(seed)
    event_id = 0
    for row, count in zip(rows, counts, strict=True):
        start = row.get("started_at") or row["created_at"]
        end = row.get("finished_at") or _NOW
        gap = max((end - start).total_seconds(), 1.0) / count
        steps = max(1, count * 9 // 10)
        step = 0
        for k in range(count):
            event_id += 1
            at = start + timedelta(seconds=gap * k)
            if k < 4 or k % 10 == 9:
                kind, message, data, provider_id = "status", f"status {k}", None, None
            else:
                step += 1
                loss = 2.5 / (1 + step / 50) + rng.random() * 0.05
                data = {
                    "step": step,
                    "total_steps": steps,
                    "train_loss": round(loss, 4),
                    "train_mean_token_accuracy": round(1 - loss / 3, 4),
                }
                if step % 10 == 0:
                    data["valid_loss"] = round(loss * 1.1, 4)
                    data["valid_mean_token_accuracy"] = round(1 - loss / 2.8, 4)
                kind = "metrics"
                message = f"Step {step}/{steps}: training loss={data['train_loss']}"
                provider_id = f"ftevent-{event_id}"
            yield (event_id, row["id"], at, "info", kind, message, data, provider_id)


def _qas(rng: random.Random, model_ids: list[int]) -> Iterator[dict[str, Any]]:
    from core.domain import QAType

    start = _NOW - timedelta(weeks=WEEKS + 26)
    span = (_NOW - start).total_seconds()
    for n in range(QAS):
        added = start + timedelta(seconds=span * rng.random() ** 0.6)
        gone = rng.random() < 0.03
        question = f"What is the rule for part NW-{n:06d}?"
        yield {
            "id": n + 1,
            "model_id": rng.choice(model_ids),
            "section": f"Section {n % 30}",
            "question": question,
            "answer": " ".join(rng.sample(CATALOGUE_FACTS, rng.randint(1, 6))) + f" (NW-{n:06d})",
            "question_key": question.lower(),
            "qa_type": QAType.VALIDATION if n % 50 == 0 else QAType.TRAINING,
            "is_active": not gone,
            "deactivated_at": added + timedelta(days=30) if gone else None,
            "added_at": added,
            "changed_at": added,
        }


def _batches(rows: Iterator[Any], size: int) -> Iterator[list[Any]]:
    batch: list[Any] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def _copy_events(engine: Any, rows: Iterator[tuple[Any, ...]]) -> None:
    columns = "id, compilation_id, created_at, level, event_type, message, data, provider_event_id"
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        with cursor.copy(f"COPY compilation_events ({columns}) FROM STDIN") as copy:
            for row in rows:
                data = row[6]
                copy.write_row((*row[:6], json.dumps(data) if data is not None else None, row[7]))
        raw.commit()
    finally:
        raw.close()


def seed(url: str) -> Seeded:
    from sqlalchemy import func, insert, select, text, update

    from core import db
    from core.domain import ConversationStatus, ProviderType
    from core.models import (
        QA,
        AIModel,
        Compilation,
        CompilationAsset,
        CompilationEvent,
        ModelVersion,
        ProviderConnection,
        TrainingConversation,
        User,
    )

    started = time.perf_counter()
    rng = random.Random(7)
    engine = db.make_engine(url)
    db.upgrade(engine)
    people = _people()
    models = _models()
    model_ids = [m["id"] for m in models]
    requesters = [p["id"] for p in people if p["role"].value != "manager"]
    rows, versions, counts, big = _compilations(rng, model_ids, requesters)
    postgres = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        conn.execute(insert(User), people)
        conn.execute(
            insert(ProviderConnection),
            [
                {
                    "id": 1,
                    "name": "OpenAI production",
                    "provider_type": ProviderType.OPENAI,
                    "api_key_env": "OPENAI_API_KEY",
                    "default_base_model": "gpt-4o-mini-2024-07-18",
                    "price_per_million_tokens": Decimal("3.00"),
                    "monthly_budget": Decimal("500.00"),
                },
                {
                    "id": 2,
                    "name": "OpenAI research",
                    "provider_type": ProviderType.OPENAI,
                    "api_key_env": "OPENAI_RESEARCH_KEY",
                    "default_base_model": "gpt-4o-mini-2024-07-18",
                    "price_per_million_tokens": Decimal("3.00"),
                    "monthly_budget": Decimal("100.00"),
                },
                {
                    "id": 3,
                    "name": "Local (offline)",
                    "provider_type": ProviderType.LOCAL,
                    "api_key_env": None,
                    "default_base_model": "local-retrieval-1",
                    "price_per_million_tokens": Decimal(0),
                    "monthly_budget": None,
                },
            ],
        )
        for model in models:  # parents before children
            conn.execute(insert(AIModel), [model])
        finished = [r for r in rows if "error" in r]
        for batch in _batches(iter(finished), 2_000):
            conn.execute(insert(Compilation), batch)
        conn.execute(insert(Compilation), [r for r in rows if "error" not in r])
        conn.execute(insert(ModelVersion), versions)
        conn.execute(
            update(Compilation).values(
                version_id=select(ModelVersion.id)
                .where(ModelVersion.compilation_id == Compilation.id)
                .scalar_subquery()
            )
        )
        newest = (
            select(ModelVersion.id)
            .where(ModelVersion.model_id == AIModel.id)
            .order_by(ModelVersion.number.desc())
            .limit(1)
            .scalar_subquery()
        )
        conn.execute(update(AIModel).values(active_version_id=newest))
        for batch in _batches(_qas(rng, model_ids), 10_000):
            conn.execute(insert(QA), batch)
        conn.execute(
            insert(TrainingConversation),
            [
                {
                    "model_id": rng.choice(model_ids),
                    "title": f"Conversation {n}",
                    "status": ConversationStatus.READY if n % 3 else ConversationStatus.DRAFT,
                    "created_at": _NOW - timedelta(days=rng.randint(0, WEEKS * 7)),
                }
                for n in range(CONVERSATIONS)
            ],
        )
        checkpoints = json.dumps(
            [
                {
                    "step": s,
                    "metrics": {"train_loss": 2.5 / (1 + s / 50), "valid_loss": 2.8 / (1 + s / 50)},
                }
                for s in range(1000, 18_001, 1000)
            ]
        ).encode()
        conn.execute(
            insert(CompilationAsset),
            [
                {
                    "compilation_id": big,
                    "kind": kind,
                    "filename": name,
                    "media_type": media,
                    "size_bytes": len(content),
                    "sha256": "0" * 64,
                    "content": content,
                }
                for kind, name, media, content in (
                    ("training_file", "training.jsonl", "application/jsonl", b"{}\n" * 20_000),
                    ("checkpoints", "checkpoints.json", "application/json", checkpoints),
                )
            ],
        )
    events = _events(rows, counts, seed=11)
    if postgres:
        _copy_events(engine, events)
    else:
        keys = ("id", "compilation_id", "created_at", "level", "event_type", "message", "data",
                "provider_event_id")  # fmt: skip
        with engine.begin() as conn:
            for batch in _batches(events, 50_000):
                conn.execute(
                    insert(CompilationEvent), [dict(zip(keys, r, strict=True)) for r in batch]
                )
    with engine.begin() as conn:
        if postgres:
            # Explicit ids leave the sequences behind; ANALYZE as autovacuum would, soon after.
            for table_name in ("users", "provider_connections", "ai_models", "compilations",
                               "model_versions", "qas", "compilation_events"):  # fmt: skip
                conn.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table_name}', 'id'), "
                        f"(SELECT max(id) FROM {table_name}))"
                    )
                )
        else:
            conn.execute(text("ANALYZE"))
    if postgres:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    with engine.connect() as conn:
        assert conn.scalar(select(func.count(Compilation.id))) == COMPILATIONS
        assert conn.scalar(select(func.count(CompilationEvent.id))) == EVENTS
        # The filters a manager would try: the model and the person busiest this month.
        busy_model, busy_requester = conn.execute(
            select(Compilation.model_id, Compilation.requested_by_id)
            .where(Compilation.created_at >= _NOW - timedelta(days=30))
            .group_by(Compilation.model_id, Compilation.requested_by_id)
            .order_by(func.count().desc())
            .limit(1)
        ).one()
    engine.dispose()
    return Seeded(
        manager_id=next(p["id"] for p in people if p["role"].value == "manager"),
        busy_model_id=busy_model,
        busy_requester_id=busy_requester or 0,
        big_compilation_id=big,
        seconds=time.perf_counter() - started,
    )


# --- what the pages ask for ----------------------------------------------------------------


def history_page(uow: Any, actor: Any, filters: Any) -> int:
    """What the Compilations page asks the services for on its first page: the sidebar's
    count, the live panel, the filters' choices and the first 50 rows."""
    import pandas as pd

    from core.services import accounts, history

    accounts.unread_count(uow, actor)
    history.compilation_progress(uow, actor, [])
    history.history_facets(uow, actor)
    page = history.list_compilations(uow, actor, filters, offset=0, limit=50)
    pd.DataFrame([r.__dict__ for r in page.rows])
    return page.total


def detail_view(uow: Any, actor: Any, compilation_id: int) -> int:
    """One compilation in full: every tab renders on the first run (Streamlit's tabs are not
    lazy), so the summary, the first page of events, the metrics and the dataset parts."""
    from core.services import history

    detail = history.get_compilation(uow, actor, compilation_id)
    history.list_events(uow, actor, compilation_id, offset=0, limit=200)
    metrics = history.training_metrics(uow, actor, compilation_id)
    history.examples_per_source(detail.dataset_stats)
    history.diff_records(detail.diff_summary)
    return len(metrics)


def dashboard_page(uow: Any, actor: Any, weeks: int) -> int:
    """Every aggregate the dashboard shows, with the deprecation radar."""
    from core.services import accounts, catalog, history

    accounts.unread_count(uow, actor)
    catalog.base_models_in_use(uow, actor)
    history.dashboard_summary(uow, actor, weeks)
    history.compilations_per_week(uow, actor, weeks)
    history.weekly_outcomes(uow, actor, weeks)
    history.cost_per_month(uow, actor)
    history.validation_scores(uow, actor)
    return len(history.training_data_growth(uow, actor, weeks))


def _timed(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """Median wall-clock and median CPU seconds of this process: the machine is shared,
    and the CPU time shows what a run costs here when others' work stretches the wall clock
    (the database server's share of PostgreSQL's work is not in it)."""
    walls, cpus = [], []
    for _ in range(repeat):
        wall, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def _load_note(cpu: float) -> str:
    return (
        f"process CPU {cpu:.3f} s; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"
    )


def _measure(url: str, label: str) -> list[Figure]:
    from core import db
    from core.domain import CompilationStatus, Role
    from core.permissions import Actor
    from core.services.history import HistoryFilter
    from core.uow import UnitOfWork

    seeded = seed(url)
    name = f"History, {COMPILATIONS:,} compilations · {EVENTS:,} events, {label}"
    engine = db.make_engine(url)
    uow = UnitOfWork(db.session_factory(engine))
    manager = Actor(seeded.manager_id, "manager@northwind.example", Role.MANAGER)
    figures = [Figure(name, "seed the database (bulk inserts)", seeded.seconds, "s")]

    def page(filters: HistoryFilter) -> Callable[[], object]:
        return lambda: history_page(uow, manager, filters)

    month_ago = _NOW - timedelta(days=30)
    cases = [
        ("first page, no filter", HistoryFilter()),
        ("filtered by model", HistoryFilter(model_id=seeded.busy_model_id)),
        ("filtered by status (failed)", HistoryFilter(statuses=(CompilationStatus.FAILED,))),
        (
            "model + requester + last 30 days",
            HistoryFilter(
                model_id=seeded.busy_model_id,
                requested_by_id=seeded.busy_requester_id,
                since=month_ago,
            ),
        ),
    ]

    def measured(measure: str, fn: Callable[[], object]) -> Figure:
        wall, cpu = _timed(fn)
        return at_most(name, measure, wall, TARGET, _load_note(cpu))

    for what, filters in cases:
        total = history_page(uow, manager, filters)
        figures.append(measured(f"history page: {what} ({total:,} match)", page(filters)))
    points = detail_view(uow, manager, seeded.big_compilation_id)
    figures.append(
        measured(
            f"one compilation in full ({BIG_EVENTS:,} events, {points:,} metric points)",
            lambda: detail_view(uow, manager, seeded.big_compilation_id),
        )
    )
    for weeks in (26, WEEKS):
        figures.append(
            measured(
                f"dashboard, last {weeks} weeks",
                lambda: dashboard_page(uow, manager, weeks),  # noqa: B023
            )
        )
    engine.dispose()
    db.dispose_engines()
    return figures


def run() -> list[Figure]:
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-history-") as tmp:
        figures += _measure(f"sqlite:///{Path(tmp) / 'bench-history.db'}", "SQLite")
    with postgres_database() as pg_url:
        if pg_url is None:
            figures.append(
                Figure(
                    f"History, {COMPILATIONS:,}, PostgreSQL",
                    "not measured",
                    0,
                    "",
                    note="no server",
                )
            )
        else:
            figures += _measure(pg_url, "PostgreSQL")
    return figures


if __name__ == "__main__":
    print(table(run()))
