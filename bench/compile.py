"""Compilation speed: pre-flight of 100,000 examples against the data-preparation guide's
straightforward loop, token counting against tiktoken, and 4 worker processes on PostgreSQL
draining 200 local compilation.

    python -m bench.compile

The examples look like a real arbiter's: the model's 5-sentence system message (~90
tokens) in every example, a question of ~20 tokens and an answer of ~80 tokens, all
distinct (part numbers), ~200 tokens per example with the chat format's overhead.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import (
    CATALOGUE_FACTS,
    Figure,
    at_least,
    at_most,
    postgres_database,
    stopwatch,
    table,
)
from core.services.catalog import training_data

EXAMPLES = 100_000
COMPILATIONS = 200
WORKERS = 4
ROOT = Path(__file__).resolve().parent.parent
NAME = "Compilation"

SYSTEM = (
    "You are Northwind Support, the support arbiter of Northwind Components Ltd., a European "
    "distributor of connectors, sensors, relays and power supplies. Answer customers' and "
    "colleagues' questions about orders, deliveries, returns, warranties and product data. "
    "Be brief, friendly and precise, and answer in the language of the question. Quote part "
    "numbers, dates and amounts exactly as they are written in our records. If you are not "
    "sure, say so and name the team that can help instead of guessing."
)
_PRODUCTS = ["relay", "connector", "pressure sensor", "power supply", "terminal block", "fuse"]
_TOPICS = ["return window", "warranty", "delivery time", "price break", "datasheet", "stock"]


def _records(count: int, seed: int = 7) -> list[tuple[int, str, str]]:
    rng = random.Random(seed)
    rows: list[tuple[int, str, str]] = []
    for n in range(count):
        part = f"NW-{n:06d}-{rng.choice('ABCDEFGH')}"
        question = (
            f"What is the {rng.choice(_TOPICS)} for the {rng.choice(_PRODUCTS)} {part} "
            f"ordered by customer {rng.randint(1000, 9999)}?"
        )
        answer = f"For {part}: " + " ".join(rng.sample(CATALOGUE_FACTS, 3)) + f" Reference {n}."
        if n % 500 == 7:  # a few findings, as in real data: personal data, contradictions
            answer += " Questions? Write to orders@northwind.example."
        if n % 1000 == 11 and rows:
            question = rows[-1][1]
        rows.append((n + 1, question, answer))
    return rows


def _preflight(records: list[tuple[int, str, str]]) -> dict[str, Any]:
    """Build, validate (with the token counts), hash: the pre-flight's own steps."""
    from core.training.builder import QARecord, SourceData, build_training_set
    from core.training.hierarchy import Relation
    from core.training.validator import validate

    qas = [QARecord(i, 1, q, a) for i, q, a in records]
    built = build_training_set(SYSTEM, [SourceData(1, "Bench", Relation.OWN, qas)])
    report = validate(built.examples, base_model="gpt-4o-mini-2024-07-18")
    return {
        "hash": built.sha256,
        "tokens": report.total_tokens,
        "errors": report.errors,
        "warnings": report.warnings,
    }


def _full_personal_data(text: str) -> int:
    """The personal-data check run straightforwardly: every pattern over every text."""
    from core.training import pii

    found = list(pii._EMAIL.finditer(text))
    rest = pii._EMAIL.sub(" ", text)
    ibans = [m.group() for m in pii._IBAN.finditer(rest) if pii._iban_valid(m.group())]
    for iban in ibans:
        rest = rest.replace(iban, " ")
    phones = [m for m in pii._PHONE.finditer(rest) if pii._looks_like_phone(m.group())]
    return len(found) + len(ibans) + len(phones)


def _baseline(records: list[tuple[int, str, str]]) -> dict[str, Any]:
    """The same work the straightforward way of OpenAI's data-preparation guide: build
    each example as a dict and dump it, read the file back line by line, run the format
    checks and the same content checks (special tokens, personal data, answer length,
    repeated questions) message by message, and count tokens encoding each message value on
    its own."""
    import re
    from collections import defaultdict

    from core.training import tokens
    from core.training.text import question_key

    encoding = tokens.get_encoding("o200k_base")
    special = re.compile(r"<\|[A-Za-z0-9_]+\|>")
    lines = []
    for _, question, answer in records:
        example = {
            "messages": [
                {"role": "system", "content": SYSTEM},
                {"role": "user", "content": question},
                {"role": "assistant", "content": answer},
            ]
        }
        lines.append(json.dumps(example, ensure_ascii=False, separators=(",", ":")))
    lines = sorted(set(lines))
    content = ("\n".join(lines) + "\n").encode("utf-8")
    dataset = [json.loads(line) for line in content.decode("utf-8").splitlines()]
    errors: dict[str, int] = defaultdict(int)
    warnings: dict[str, int] = defaultdict(int)
    answers: dict[str, set[str]] = defaultdict(set)
    for ex in dataset:
        if not isinstance(ex, dict):
            errors["data_type"] += 1
            continue
        messages = ex.get("messages", None)
        if not messages:
            errors["missing_messages_list"] += 1
            continue
        for message in messages:
            if "role" not in message or "content" not in message:
                errors["message_missing_key"] += 1
            if any(
                k not in ("role", "content", "name", "function_call", "weight") for k in message
            ):
                errors["message_unrecognized_key"] += 1
            if message.get("role", None) not in ("system", "user", "assistant", "function"):
                errors["unrecognized_role"] += 1
            content_ = message.get("content", None)
            if not content_ or not isinstance(content_, str):
                errors["missing_content"] += 1
                continue
            if special.search(content_):
                errors["special_token"] += 1
            if _full_personal_data(content_):
                warnings["personal_data"] += 1
            if message["role"] == "assistant" and len(content_.split()) < 3:
                warnings["short_answer"] += 1
        if not any(m.get("role", None) == "assistant" for m in messages):
            errors["example_missing_assistant_message"] += 1
        users = [m["content"] for m in messages if m.get("role") == "user"]
        if len(users) == 1:
            answers[question_key(users[0])].add(messages[-1]["content"])
    warnings["contradiction"] = sum(1 for a in answers.values() if len(a) > 1)
    total = 0
    for ex in dataset:
        count = 0
        for message in ex["messages"]:
            count += 3
            for key, value in message.items():
                count += len(encoding.encode(value))
                if key == "name":
                    count += 1
        total += count + 3
    return {
        "hash": hashlib.sha256(content).hexdigest(),
        "tokens": total,
        "errors": sum(errors.values()),
        "warnings": sum(v for v in warnings.values()),
    }


def _counting(records: list[tuple[int, str, str]]) -> list[Figure]:
    from core.training import tokens

    texts = [t for _, q, a in records for t in (q, a)]
    encoding = tokens.get_encoding("o200k_base")
    with stopwatch() as reference:
        expected = [len(t) for t in encoding.encode_ordinary_batch(texts)]
    tokens._chunk_counts.cache_clear()
    with stopwatch() as cold:
        counted = tokens.count_text_batch(texts)
    with stopwatch() as warm:
        tokens.count_text_batch(texts)
    assert counted == expected, "token counts differ from tiktoken"
    ratio = cold[0] / reference[0]
    return [
        Figure(
            NAME,
            f"token counting, {len(texts):,} texts, cold cache",
            ratio,
            "×",
            "≤ 1.5× tiktoken",
            ratio <= 1.5,
            f"{cold[0]:.2f} s vs encode_ordinary_batch {reference[0]:.2f} s; same counts; "
            f"warm cache {warm[0]:.2f} s",
        )
    ]


def _preflight_figures(records: list[tuple[int, str, str]]) -> list[Figure]:
    from core.training import tokens

    tokens.get_encoding("o200k_base")  # load the encoding outside the timings
    tokens._chunk_counts.cache_clear()
    with stopwatch() as ours:
        result = _preflight(records)
    with stopwatch() as straightforward:
        baseline = _baseline(records)
    assert result["tokens"] == baseline["tokens"], (result["tokens"], baseline["tokens"])
    assert result["hash"] == baseline["hash"], "the two ways wrote different files"
    assert (result["errors"], result["warnings"]) == (baseline["errors"], baseline["warnings"])
    average = result["tokens"] / len(records)
    ratio = straightforward[0] / ours[0]
    return [
        at_most(
            NAME,
            f"pre-flight of {len(records):,} examples (build, validate, count, hash)",
            ours[0],
            10.0,
            f"{average:.0f} tokens per example on average, {result['tokens']:,} in all",
        ),
        at_least(
            NAME,
            "pre-flight vs the guide's per-message loop",
            ratio,
            3.0,
            note=f"baseline {straightforward[0]:.1f} s; same bytes, hash and token total",
        ),
    ]


CHANGED = 1_000


def _service_preflight(records: list[tuple[int, str, str]], url: str, label: str) -> list[Figure]:
    """The pre-flight as a page runs it, from a database with 100,000 Q&As whose model has
    an active version built from them, after 1,000 answers were edited: reading the Q&As,
    building, validating, the diff against the active version's manifest."""
    import gzip
    import json

    from sqlalchemy import insert, select, update

    from core import db
    from core.domain import CompilationStatus, ProviderType, Role
    from core.models import QA, AIModel, Compilation, ModelVersion, ProviderConnection, User
    from core.permissions import Actor
    from core.services import catalog, compilation
    from core.services.compilation.records import MANIFEST, store_asset
    from core.uow import UnitOfWork

    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = UnitOfWork(db.session_factory(engine))
    with uow:
        session = uow.session
        user = User(email="bench@corp.example", display_name="Bench", role=Role.ADMIN)
        conn = ProviderConnection(name="Local", provider_type=ProviderType.LOCAL)
        session.add_all([user, conn])
        session.flush()
        model = AIModel(name="Bench", kind="arbiter", connection_id=conn.id, system_message=SYSTEM)
        session.add(model)
        session.flush()
        session.execute(
            insert(QA),
            [
                {"model_id": model.id, "question": q, "answer": a, "question_key": q.lower()}
                for _, q, a in records
            ],
        )
        # The active version, as the worker leaves it: its manifest names every record.
        inputs = training_data.model_inputs(session, model)
        built = training_data.load_training_set(session, inputs)
        built_by = Compilation(
            model_id=model.id,
            status=CompilationStatus.SUCCEEDED,
            dataset_hash=built.sha256,
            config_hash=inputs.config_hash,
        )
        session.add(built_by)
        session.flush()
        store_asset(
            session,
            built_by.id,
            MANIFEST,
            "manifest.json.gz",
            "application/gzip",
            gzip.compress(json.dumps(built.manifest()).encode("utf-8")),
        )
        version = ModelVersion(
            model_id=model.id,
            compilation_id=built_by.id,
            number=1,
            provider_model_id="local:bench",
            dataset_hash=built.sha256,
            config_hash=inputs.config_hash,
        )
        session.add(version)
        session.flush()
        model.active_version_id = version.id
        first = session.scalar(select(QA.id).where(QA.model_id == model.id).order_by(QA.id))
        assert first is not None
        session.execute(
            update(QA)
            .where(QA.id < first + CHANGED)
            .values(answer=QA.answer + " Updated.", row_version=QA.row_version + 1)
        )
        uow.commit()
        actor = Actor(user.id, user.email, Role.ADMIN)
        model_id = model.id
    started = time.process_time()
    with stopwatch() as took:
        found = compilation.preflight(uow, actor, model_id)
    cpu = time.process_time() - started
    with stopwatch() as listing:
        catalog.list_models(uow, actor)
    engine.dispose()
    assert found.diff is not None and found.diff.changed == CHANGED, found.diff
    return [
        at_most(
            NAME,
            f"pre-flight service from {label} ({found.example_count:,} Q&As)",
            took[0],
            10.0,
            f"{cpu:.1f} s CPU in this process; reads the Q&As, builds, validates and diffs "
            f"against the active version ({found.diff.describe()})",
        ),
        at_most(
            NAME,
            f"models list with 'changes pending', {label} (100,000 Q&As)",
            listing[0],
            0.5,
            "fingerprints from grouped counts, no training set built",
        ),
    ]


def _workers_figures(folder: Path) -> list[Figure]:
    from sqlalchemy import func, select

    from core import db
    from core.domain import CompilationStatus, ProviderType, Role
    from core.models import QA, AIModel, Compilation, CompilationEvent, ProviderConnection, User
    from core.permissions import Actor
    from core.providers.local import LOCAL_BASE_MODEL
    from core.services import compilation
    from core.uow import UnitOfWork

    with postgres_database() as url:
        if url is None:
            note = "skipped: no PostgreSQL server answers"
            return [Figure(NAME, "4 workers on PostgreSQL", 0, "/s", note=note)]
        engine = db.make_engine(url)
        db.upgrade(engine)
        uow = UnitOfWork(db.session_factory(engine))
        with uow:
            user = User(email="bench@corp.example", display_name="Bench", role=Role.TRAINER)
            conn_row = ProviderConnection(
                name="Local", provider_type=ProviderType.LOCAL, default_base_model=LOCAL_BASE_MODEL
            )
            uow.session.add_all([user, conn_row])
            uow.session.flush()
            models = [
                AIModel(name=f"Department {n}", kind="arbiter", connection_id=conn_row.id)
                for n in range(COMPILATIONS)
            ]
            uow.session.add_all(models)
            uow.session.flush()
            for model in models:
                uow.session.add_all(
                    QA(
                        model_id=model.id,
                        question=f"Question {k} of {model.name}?",
                        answer=f"Answer {k} for {model.name}: see the handbook.",
                    )
                    for k in range(12)
                )
            uow.commit()
            actor = Actor(user.id, user.email, Role.TRAINER)
            ids = [m.id for m in models]
        queued = [compilation.request_compilation(uow, actor, i).id for i in ids]
        env = {
            **os.environ,
            "DATABASE_URL": url,
            "ARBITER_DATA_DIR": str(folder / "workers"),
            "ARBITER_POLL_SECONDS": "0.05",
        }
        started = time.perf_counter()
        processes = [
            subprocess.Popen(
                [sys.executable, "-m", "core.worker", "--idle", "0.05", "--exit-when-idle", "3"],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(WORKERS)
        ]
        for process in processes:
            process.wait(timeout=1800)
        with uow:
            finished = uow.session.scalar(
                select(func.max(Compilation.finished_at)).where(Compilation.id.in_(queued))
            )
            first = uow.session.scalar(
                select(func.min(Compilation.started_at)).where(Compilation.id.in_(queued))
            )
            statuses = list(
                uow.session.scalars(select(Compilation.status).where(Compilation.id.in_(queued)))
            )
            prepared = list(
                uow.session.scalars(
                    select(CompilationEvent.compilation_id).where(
                        CompilationEvent.message == "Building and validating the training set"
                    )
                )
            )
            workers_used = {
                (e or {}).get("worker")
                for e in uow.session.scalars(
                    select(CompilationEvent.data).where(
                        CompilationEvent.message == "Building and validating the training set"
                    )
                )
            }
        wall = time.perf_counter() - started
        engine.dispose()
        jobs = len(list((folder / "workers" / "local-provider" / "jobs").glob("*.json")))
        succeeded = sum(1 for s in statuses if s == CompilationStatus.SUCCEEDED)
        once = sorted(prepared) == sorted(queued) and jobs == len(queued)
        busy = (finished - first).total_seconds() if finished and first else wall
        return [
            Figure(
                NAME,
                f"{WORKERS} worker processes on PostgreSQL, {len(queued)} local compilations",
                len(queued) / busy,
                "/s",
                "each exactly once",
                once and succeeded == len(queued),
                f"{succeeded} succeeded in {busy:.1f} s of work ({wall:.1f} s with start-up); "
                f"{len(set(prepared))} prepared once each, {jobs} provider jobs, "
                f"{len(workers_used)} workers took part",
            )
        ]


def run() -> list[Figure]:
    os.environ.setdefault("ARBITER_FAST_PASSWORD_HASH", "1")
    records = _records(EXAMPLES)
    figures: list[Figure] = []
    previous = os.environ.get("ARBITER_DATA_DIR")
    with tempfile.TemporaryDirectory(prefix="bench-compile-") as tmp:
        folder = Path(tmp)
        os.environ["ARBITER_DATA_DIR"] = str(folder)
        try:
            figures += _preflight_figures(records)
            figures += _counting(records)
            figures += _service_preflight(records, f"sqlite:///{folder / 'preflight.db'}", "SQLite")
            with postgres_database() as url:
                if url is None:
                    figures.append(
                        Figure(
                            NAME,
                            "pre-flight service from PostgreSQL",
                            0,
                            "s",
                            note="skipped: no PostgreSQL server",
                        )
                    )
                else:
                    figures += _service_preflight(records, url, "PostgreSQL")
            figures += _workers_figures(folder)
        finally:
            if previous is None:
                os.environ.pop("ARBITER_DATA_DIR", None)
            else:
                os.environ["ARBITER_DATA_DIR"] = previous
    return figures


if __name__ == "__main__":
    print(table(run()))
