"""Models and Q&As for the Q&A tests, written straight through the ORM (fast, no audit)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import insert

from core.domain import ModelKind, ProviderType, QAType, utcnow
from core.models import QA, AIModel, ProviderConnection
from core.training.text import question_key
from core.uow import UnitOfWork


@dataclass(frozen=True)
class Tree:
    """A company model whose children inherit from it; the company model aggregates them."""

    master: int
    sales: int
    support: int


def make_model(
    uow: UnitOfWork,
    name: str,
    *,
    parent_id: int | None = None,
    inherit: bool = False,
    aggregate: bool = False,
) -> int:
    with uow:
        connection_id = None
        if parent_id is None:
            conn = ProviderConnection(name=f"Local for {name}", provider_type=ProviderType.LOCAL)
            uow.session.add(conn)
            uow.session.flush()
            connection_id = conn.id
        model = AIModel(
            name=name,
            kind=ModelKind.ARBITER,
            connection_id=connection_id,
            parent_id=parent_id,
            inherit_parent_training=inherit,
            aggregate_children_training=aggregate,
        )
        uow.session.add(model)
        uow.commit()
        return model.id


def make_tree(uow: UnitOfWork) -> Tree:
    master = make_model(uow, "Master", aggregate=True)
    sales = make_model(uow, "Sales", parent_id=master, inherit=True)
    support = make_model(uow, "Support", parent_id=master, inherit=True)
    return Tree(master, sales, support)


def add_qas(
    uow: UnitOfWork,
    model_id: int,
    rows: Iterable[tuple[str, str] | tuple[str, str, str] | dict[str, object]],
    *,
    user_id: int | None = None,
) -> list[int]:
    """Rows as (question, answer[, section]) or dicts of QA columns; returns the new ids."""
    now = utcnow()
    values = []
    for row in rows:
        if isinstance(row, dict):
            data = dict(row)
        else:
            data = {"question": row[0], "answer": row[1], "section": row[2] if len(row) > 2 else ""}
        data.setdefault("section", "")
        data.setdefault("qa_type", QAType.TRAINING)
        data.setdefault("is_active", True)
        data.setdefault("notes", "")
        values.append(
            {
                **data,
                "model_id": model_id,
                "question_key": question_key(str(data["question"])),
                "added_by_id": user_id,
                "changed_by_id": user_id,
                "added_at": now,
                "changed_at": now,
                "row_version": 1,
            }
        )
    with uow:
        ids = list(uow.session.execute(insert(QA).returning(QA.id), values).scalars())
        uow.commit()
    return sorted(ids)
