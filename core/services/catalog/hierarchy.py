"""The model hierarchy as the database holds it (the pure rules are in core.training.hierarchy)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.models import AIModel
from core.training.hierarchy import ModelNode


def model_nodes(session: Session) -> dict[int, ModelNode]:
    """Every model as a hierarchy node (the pure functions of core.training.hierarchy)."""
    rows = session.execute(
        select(
            AIModel.id,
            AIModel.name,
            AIModel.parent_id,
            AIModel.inherit_parent_training,
            AIModel.aggregate_children_training,
        )
    )
    return {r.id: ModelNode(r.id, r.name, r.parent_id, r[3], r[4]) for r in rows}
