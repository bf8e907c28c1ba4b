"""The Q&A workbench at 100,000 Q&As in one model, on SQLite and on PostgreSQL:
import a 100,000-row CSV, the first grid page, search over all rows, save one cell,
bulk-update 10,000 rows, export 100,000 rows.

    python -m bench.qas            (PostgreSQL from ARBITER_BENCH_PG_URL, default the local
                                    server; a throwaway database is created and dropped)
"""

from __future__ import annotations

import csv
import io
import random
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.common import Figure, at_most, postgres_database, studio, table

ROWS = 100_000
BULK = 10_000
_PRODUCTS = ["relay", "connector", "sensor", "power supply", "cable", "terminal block", "fuse"]
_TOPICS = [
    "return", "warranty", "delivery time", "price", "datasheet", "certificate", "stock",
    "discount", "invoice", "replacement", "lead time", "minimum order", "derating", "wiring",
]  # fmt: skip
_SENTENCE = (
    "please check the order in the portal before you confirm it to the customer and note the "
    "reference on the invoice so that accounting can match the payment within three days"
)
_WORDS = _SENTENCE.split()


def _csv_file() -> bytes:
    """100,000 distinct questions with answers of one to six sentences, like a catalogue's."""
    rng = random.Random(4)
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer)
    writer.writerow(["section", "question", "answer", "type", "active", "notes"])
    for n in range(ROWS):
        topic = rng.choice(_TOPICS)
        question = f"What is the {topic} rule for the {rng.choice(_PRODUCTS)} NW-{n:06d}?"
        sentences = [
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 18))).capitalize() + "."
            for _ in range(rng.randint(1, 6))
        ]
        writer.writerow(
            [
                f"{topic.capitalize()} rules",
                question,
                " ".join(sentences),
                "validation" if n % 50 == 0 else "training",
                "no" if n % 97 == 0 else "yes",
                "",
            ]
        )
    return buffer.getvalue().encode("utf-8")


def _median(fn: Callable[[], object], repeat: int = 5) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def _measure(url: str, label: str, content: bytes) -> list[Figure]:
    from core.services import catalog, qas
    from core.services.catalog import ModelInput
    from core.services.qas import BulkAction, QAQuery, Selection
    from ui import qa_grid

    world = studio(url)
    engine, uow, trainer, admin = world.engine, world.uow, world.trainer, world.admin
    local = world.local_connection_id
    model = catalog.create_model(uow, admin, ModelInput("Catalogue", connection_id=local)).id
    name = f"Q&As, {ROWS:,} in one model, {label}"
    figures: list[Figure] = []

    started = time.perf_counter()
    table_ = qas.read_upload("catalogue.csv", content)
    result = qas.commit_import(uow, trainer, model, table_, qas.suggest_mapping(table_.headers))
    imported = time.perf_counter() - started
    assert result.created == ROWS, result.message
    figures.append(
        at_most(name, f"import a {ROWS:,}-row CSV ({len(content) / 1e6:.0f} MB)", imported, 5.0)
    )

    query = QAQuery(model_id=model)

    def first_page(search: str = "") -> int:
        wanted = QAQuery(model_id=model, search=search)
        qas.qa_facets(uow, trainer, model)
        listing = qas.list_qas(uow, trainer, wanted, offset=0, limit=100)
        qa_grid.grid_frame(listing.rows)
        qa_grid.grid_options(can_edit=True, show_source=False)
        return listing.total

    figures.append(
        at_most(name, "first grid page (100 rows, counts, filters)", _median(first_page), 0.5)
    )
    for term, what in (
        ("NW-042042", "a part number"),
        ("derating", "a word"),
        ('"lead time"', "a phrase"),
    ):
        found = first_page(term)
        seconds = _median(lambda: first_page(term))  # noqa: B023 - called before the loop moves on
        measure = f"search all rows for {what} ({found:,} match), first page"
        figures.append(at_most(name, measure, seconds, 0.3))

    rows = qas.list_qas(uow, trainer, query, offset=50_000, limit=20).rows
    samples = []
    for i, row in enumerate(rows):
        started = time.perf_counter()
        qas.update_qa(uow, trainer, row.id, {"answer": f"Edited {i}."}, row.row_version)
        samples.append(time.perf_counter() - started)
    figures.append(at_most(name, "save one cell (median of 20)", statistics.median(samples), 0.050))

    # One import writes consecutive ids: 10,000 of them from the middle of the model.
    first = qas.list_qas(uow, trainer, query, offset=20_000, limit=1).rows[0].id
    selection = Selection(model, ids=tuple(range(first, first + BULK)))
    started = time.perf_counter()
    bulk = qas.bulk_update(uow, trainer, selection, BulkAction.SET_SECTION, "Reviewed")
    bulk_seconds = time.perf_counter() - started
    assert bulk.changed == BULK, bulk.message
    figures.append(at_most(name, f"bulk update {BULK:,} rows (set section)", bulk_seconds, 1.0))
    assert bulk.journal_id is not None
    started = time.perf_counter()
    qas.undo_bulk(uow, trainer, bulk.journal_id)
    figures.append(
        Figure(name, f"undo that bulk update ({BULK:,} rows)", time.perf_counter() - started, "s")
    )

    for kind in ("csv", "xlsx", "jsonl"):
        started = time.perf_counter()
        exported = qas.export_qas(uow, trainer, query, kind)
        seconds = time.perf_counter() - started
        assert exported.rows == ROWS
        measure = f"export {ROWS:,} rows as {kind.upper()} ({len(exported.data) / 1e6:.0f} MB)"
        if kind == "csv":
            figures.append(at_most(name, measure, seconds, 2.0))
        else:
            figures.append(Figure(name, measure, seconds, "s"))
    engine.dispose()
    return figures


def run() -> list[Figure]:
    content = _csv_file()
    figures: list[Figure] = []
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-qas-") as tmp:
        figures += _measure(f"sqlite:///{Path(tmp) / 'bench-qas.db'}", "SQLite", content)
    with postgres_database() as pg_url:
        if pg_url is None:
            figures.append(
                Figure(f"Q&As, {ROWS:,}, PostgreSQL", "not measured", 0, "", note="no server")
            )
        else:
            figures += _measure(pg_url, "PostgreSQL", content)
    return figures


if __name__ == "__main__":
    print(table(run()))
