"""Twenty people edit the Q&As of one model at the same time (threads, each use case in a
unit of work of its own, as the pages do), on SQLite and PostgreSQL.

Each editor reads the grid, waits a moment as a person does, then updates, adds or deletes
a row with the row version it saw, and notes what it was told: done, or refused with a
domain error. Afterwards the database holds exactly what the successful operations imply:
every row's versions were each made by one reported success (no write lost or unknown),
each field holds its last successful write, deleted rows are gone and were deleted as last
seen, and added rows are there once. No editor met an error that is not a domain error.
"""

from __future__ import annotations

import random
import sqlite3
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from sqlalchemy import event, select

from core import db
from core.domain import Role
from core.errors import ArbiterError, Conflict, DatabaseBusy, NotFound
from core.models import QA
from core.permissions import Actor
from core.services import qas
from core.services.qas import BulkAction, QAInput, QAQuery, QARow, Selection
from core.uow import UnitOfWork
from tests.conftest import make_user
from tests.qa_seed import add_qas, make_model

Uows = Callable[[], UnitOfWork]

EDITORS = 20
OPERATIONS = 12  # per editor
START_ROWS = 12  # few rows, so that editors often meet on the same one
FIELDS = ("answer", "section", "notes")


@dataclass(frozen=True)
class Done:
    """An operation its editor was told succeeded."""

    kind: str  # "update", "add" or "delete"
    qa_id: int
    # update: the version it made; delete: the version it saw and deleted; add: 1
    version: int
    field: str = ""
    value: str = ""
    initial: tuple[tuple[str, str], ...] = ()  # add: the fields as added


@dataclass
class Editor:
    number: int
    actor: Actor
    new_uow: Uows
    model_id: int
    done: list[Done] = field(default_factory=list)
    refused: list[tuple[str, ArbiterError]] = field(default_factory=list)
    unexpected: list[tuple[str, BaseException]] = field(default_factory=list)

    def run(self, start: threading.Barrier) -> None:
        rng = random.Random(self.number)
        start.wait()
        for step in range(OPERATIONS):
            kind = "?"
            try:
                rows = qas.list_qas(
                    self.new_uow(), self.actor, QAQuery(model_id=self.model_id), limit=500
                ).rows
                chance = rng.random()
                kind = "add" if chance < 0.2 or not rows else "delete" if chance < 0.3 else "update"
                time.sleep(rng.random() * 0.01)  # a person looks at the row first
                if kind == "add":
                    self.add(step)
                elif kind == "delete":
                    self.delete(rng.choice(rows))
                else:
                    self.update(rng.choice(rows), rng.choice(FIELDS), step)
            except ArbiterError as exc:
                self.refused.append((kind, exc))
            except Exception as exc:
                self.unexpected.append((kind, exc))

    def add(self, step: int) -> None:
        question = f"Question {step} of editor {self.number}?"
        row = qas.add_qa(
            self.new_uow(),
            self.actor,
            self.model_id,
            QAInput(question, f"Answer {step} of editor {self.number}.", "Added"),
        )
        initial = tuple((name, getattr(row, name)) for name in FIELDS)
        self.done.append(Done("add", row.id, row.row_version, "question", question, initial))

    def delete(self, row: QARow) -> None:
        selection = Selection(self.model_id, ids=(row.id,), versions={row.id: row.row_version})
        result = qas.bulk_update(self.new_uow(), self.actor, selection, BulkAction.DELETE)
        assert result.changed == 1
        self.done.append(Done("delete", row.id, row.row_version))

    def update(self, row: QARow, name: str, step: int) -> None:
        value = f"{name} {step} by editor {self.number}"
        saved = qas.update_qa(
            self.new_uow(),
            self.actor,
            row.id,
            {name: value},
            expected_version=row.row_version,
            seen={name: getattr(row, name)},
        )
        self.done.append(Done("update", row.id, saved.row_version, name, value))


def test_twenty_editors_lose_no_update(new_uow: Uows) -> None:
    model_id = make_model(new_uow(), "Support")
    add_qas(
        new_uow(),
        model_id,
        [(f"Start question {i}?", f"Start answer {i}.", "Start") for i in range(START_ROWS)],
    )
    with new_uow() as uow:
        start = {qa.id: qa for qa in uow.session.scalars(select(QA))}
        initial = {i: {f: getattr(qa, f) for f in FIELDS} for i, qa in start.items()}
    editors = [
        Editor(
            n,
            make_user(new_uow(), f"editor{n}@corp.example", Role.TRAINER),
            new_uow,
            model_id,
        )
        for n in range(EDITORS)
    ]
    barrier = threading.Barrier(EDITORS)
    threads = [threading.Thread(target=e.run, args=(barrier,)) for e in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # Every failure was a domain error its editor was shown, and they were conflicts.
    assert [(e.number, kind, repr(exc)) for e in editors for kind, exc in e.unexpected] == []
    refused = [exc for e in editors for _, exc in e.refused]
    assert all(isinstance(exc, Conflict | NotFound) for exc in refused), refused
    assert any(isinstance(exc, Conflict) for exc in refused)  # the editors did meet

    done = [d for e in editors for d in e.done]
    with new_uow() as uow:
        final = {qa.id: qa for qa in uow.session.scalars(select(QA))}
        uow.session.expunge_all()
    added = [d for d in done if d.kind == "add"]
    initial.update({d.qa_id: dict(d.initial) for d in added})
    deleted = {d.qa_id: d for d in done if d.kind == "delete"}
    assert len(deleted) == sum(d.kind == "delete" for d in done)  # each deleted once
    assert set(final) == (set(start) | {d.qa_id for d in added}) - set(deleted)
    questions = Counter(qa.question for qa in final.values())
    assert all(questions[d.value] == 1 for d in added if d.qa_id in final)

    updates: dict[int, list[Done]] = defaultdict(list)
    for d in done:
        if d.kind == "update":
            updates[d.qa_id].append(d)
    for qa_id in set(start) | {d.qa_id for d in added}:
        made = sorted(d.version for d in updates[qa_id])
        # Each version after the first was made by one write its editor was told of: none
        # overwritten unnoticed, none unaccounted for; a delete removed the last one seen.
        last = final[qa_id].row_version if qa_id in final else deleted[qa_id].version
        assert made == list(range(2, last + 1)), qa_id
        if qa_id not in final:
            continue
        for name in FIELDS:
            writes = [d for d in updates[qa_id] if d.field == name]
            expected = (
                max(writes, key=lambda d: d.version).value if writes else initial[qa_id][name]
            )
            assert getattr(final[qa_id], name) == expected, (qa_id, name)


# --- what the editors above found, one at a time ---------------------------------------------


def _versions(new_uow: Uows, actor: Actor, model_id: int) -> dict[int, int]:
    rows = qas.list_qas(new_uow(), actor, QAQuery(model_id=model_id)).rows
    return {r.id: r.row_version for r in rows}


def test_deleting_rows_that_changed_since_they_were_chosen_is_refused(
    new_uow: Uows, trainer: Actor
) -> None:
    model_id = make_model(new_uow(), "Support")
    ids = add_qas(new_uow(), model_id, [(f"Question {i}?", f"Answer {i}.") for i in range(3)])
    chosen = {i: 1 for i in ids[:2]}
    qas.update_qa(new_uow(), trainer, ids[0], {"answer": "Changed meanwhile."}, 1)
    with pytest.raises(Conflict, match=rf"1 of the chosen Q&As were changed .*\(#{ids[0]}\)"):
        qas.bulk_update(
            new_uow(),
            trainer,
            Selection(model_id, tuple(ids[:2]), versions=chosen),
            BulkAction.DELETE,
        )
    assert _versions(new_uow, trainer, model_id) == {ids[0]: 2, ids[1]: 1, ids[2]: 1}
    # Chosen again with the change in view, the rows go.
    chosen = {ids[0]: 2, ids[1]: 1}
    deleted = qas.bulk_update(
        new_uow(), trainer, Selection(model_id, tuple(ids[:2]), versions=chosen), BulkAction.DELETE
    )
    assert deleted.changed == 2
    # A second person who chose them too is told they are gone, not that they deleted them.
    with pytest.raises(Conflict, match="2 of the chosen Q&As were changed or removed"):
        qas.bulk_update(
            new_uow(),
            trainer,
            Selection(model_id, tuple(ids[:2]), versions=chosen),
            BulkAction.DELETE,
        )


def test_a_new_qa_never_takes_the_id_of_a_deleted_one(new_uow: Uows, trainer: Actor) -> None:
    model_id = make_model(new_uow(), "Support")
    newest = qas.add_qa(new_uow(), trainer, model_id, QAInput("Old question?", "Old answer."))
    qas.bulk_update(
        new_uow(),
        trainer,
        Selection(model_id, (newest.id,), versions={newest.id: 1}),
        BulkAction.DELETE,
    )
    fresh = qas.add_qa(new_uow(), trainer, model_id, QAInput("New question?", "New answer."))
    assert fresh.id > newest.id
    # A page that still shows the deleted Q&A cannot save into the new one.
    with pytest.raises(NotFound):
        qas.update_qa(new_uow(), trainer, newest.id, {"answer": "For the old one."}, 1)
    assert qas.get_qa(new_uow(), trainer, fresh.id).answer == "New answer."


def test_a_save_that_cannot_get_the_database_in_time_is_a_domain_error(sqlite_url: str) -> None:
    """SQLite: a writer waits for another up to the busy timeout; past it, the person is told
    to try again (a domain error), and nothing is written."""
    engine = db.make_engine(sqlite_url)

    @event.listens_for(engine, "connect")
    def _short_wait(dbapi_connection: sqlite3.Connection, _record: object) -> None:
        dbapi_connection.execute("PRAGMA busy_timeout=200")

    factory = db.session_factory(engine)

    def new_uow() -> UnitOfWork:
        return UnitOfWork(factory)

    trainer = make_user(new_uow(), "trainer@corp.example", Role.TRAINER)
    model_id = make_model(new_uow(), "Support")
    (qa_id,) = add_qas(new_uow(), model_id, [("Question?", "Answer.")])
    other_writer = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"), isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(DatabaseBusy, match="try again"):
            qas.update_qa(new_uow(), trainer, qa_id, {"answer": "Mine."}, 1)
    finally:
        other_writer.execute("ROLLBACK")
        other_writer.close()
    try:
        assert qas.get_qa(new_uow(), trainer, qa_id).answer == "Answer."
    finally:
        engine.dispose()
