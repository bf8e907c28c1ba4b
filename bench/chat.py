"""Chat and curation speed: the local provider answering over a 100,000-example training set
(median and p95 per answer), and importing 10,000 transcripts into the review queue.

    python -m bench.chat
"""

from __future__ import annotations

import json
import os
import random
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Figure, at_most, stopwatch, studio, table

EXAMPLES = 100_000
QUESTIONS = 300
TRANSCRIPTS = 10_000
_PRODUCTS = ["relay", "connector", "sensor", "power supply", "cable", "terminal block", "fuse"]
_TOPICS = [
    "return", "warranty", "delivery time", "price", "datasheet", "certificate", "stock",
    "discount", "invoice", "replacement", "lead time", "minimum order", "derating", "wiring",
]  # fmt: skip
_ASKS = ["How do I", "Can we", "What is the", "Who handles the", "When does the", "Why is the"]


def _question(rng: random.Random, n: int) -> str:
    # Part numbers make most questions distinct, as in a real catalogue.
    return (
        f"{rng.choice(_ASKS)} {rng.choice(_TOPICS)} for the {rng.choice(_PRODUCTS)} "
        f"NW-{n % 9_000:04d}-{rng.choice('ABCDEFGH')} in {rng.choice(['EU', 'UK', 'CH', 'NO'])}?"
    )


def _local_answers(root: Path) -> list[Figure]:
    from core.providers.base import ChatTurn
    from core.providers.local import LocalProvider
    from core.providers.local_index import IndexEntry, build_index, load_index

    rng = random.Random(7)
    questions = [_question(rng, n) for n in range(EXAMPLES)]
    entries = [
        IndexEntry(q, f"Answer {n}: see rule {n % 500}.", n + 1) for n, q in enumerate(questions)
    ]
    with stopwatch() as built:
        build_index(root, "bench-100k", entries)
    with stopwatch() as loaded:
        load_index(root, "bench-100k")
    provider = LocalProvider(root)
    asked = [rng.choice(questions).replace("?", " please?") for _ in range(QUESTIONS)]
    samples = []
    for text in asked:
        started = time.perf_counter()
        answer = "".join(d.text for d in provider.chat("bench-100k", [ChatTurn("user", text)]))
        samples.append(time.perf_counter() - started)
        assert answer
    samples.sort()
    p95 = samples[int(len(samples) * 0.95) - 1]
    name = f"local provider, {EXAMPLES:,} examples"
    return [
        Figure(name, "build the retrieval index (compile)", built[0], "s"),
        Figure(name, "load the index (first answer of a process)", loaded[0], "s"),
        at_most(name, f"answer, median of {QUESTIONS}", statistics.median(samples), 0.050),
        Figure(name, f"answer, p95 of {QUESTIONS}", p95 * 1000, "ms"),
    ]


def _transcripts_file() -> bytes:
    rng = random.Random(11)
    lines = []
    for n in range(TRANSCRIPTS):
        turns = [
            ("user", _question(rng, n)),
            ("assistant", f"Thank you. For order SO-{n:06d} the rule {n % 300} applies."),
            ("user", "And if the customer is in a hurry?"),
            ("assistant", "Offer express delivery at cost; it ships the same day before 14:00."),
        ]
        lines.append(json.dumps({"messages": [{"role": r, "content": c} for r, c in turns]}))
    return ("\n".join(lines) + "\n").encode()


def _import(folder: Path) -> list[Figure]:
    from core.services import catalog, curation
    from core.services.catalog import ModelInput

    world = studio(f"sqlite:///{folder / 'bench.db'}")
    engine, uow, trainer, admin = world.engine, world.uow, world.trainer, world.admin
    conn = world.local_connection_id
    model = catalog.create_model(uow, admin, ModelInput(name="Support", connection_id=conn))
    content = _transcripts_file()
    with stopwatch() as imported:
        result = curation.import_transcripts(uow, trainer, model.id, "desk.jsonl", content)
    assert result.imported == TRANSCRIPTS
    with stopwatch() as last_page:
        page = curation.list_transcripts(uow, trainer, model.id, offset=TRANSCRIPTS - 100)
    assert len(page.rows) == 100
    with stopwatch() as next_one:
        curation.next_in_queue(uow, trainer, model.id, after_id=page.rows[-2].id)
    engine.dispose()
    name = f"transcript queue, {TRANSCRIPTS:,} transcripts, SQLite"
    return [
        at_most(name, f"import a {len(content) / 1e6:.1f} MB JSONL file", imported[0], 5.0),
        Figure(name, "last page of the queue (100 rows)", last_page[0] * 1000, "ms"),
        Figure(name, "next transcript to review", next_one[0] * 1000, "ms"),
    ]


def run() -> list[Figure]:
    with tempfile.TemporaryDirectory(prefix="arbiter-bench-chat-") as tmp:
        folder = Path(tmp)
        os.environ.setdefault("ARBITER_DATA_DIR", str(folder / "data"))
        # The import first: the 100,000-entry index held in memory slows the garbage
        # collector down for whatever runs after it.
        queue = _import(folder)
        return _local_answers(folder / "local") + queue


if __name__ == "__main__":
    print(table(run()))
