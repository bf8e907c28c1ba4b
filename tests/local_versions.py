"""Test helper: give a model a trained version on the local provider without the compilation
engine, by building its retrieval index directly and recording the version."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select

from core.domain import QAType
from core.models import QA, AIModel, ModelVersion
from core.providers.local import LOCAL_BASE_MODEL, default_root
from core.providers.local_index import IndexEntry, build_index
from core.uow import UnitOfWork


def make_local_version(
    uow: UnitOfWork,
    model_id: int,
    examples: Sequence[tuple[str, str]] | None = None,
    *,
    activate: bool = True,
) -> int:
    """A new version answering from ``examples`` (default: the model's training Q&As)."""
    with uow:
        session = uow.session
        model = session.get(AIModel, model_id)
        assert model is not None
        if examples is None:
            examples = [
                (q.question, q.answer)
                for q in session.scalars(
                    select(QA).where(
                        QA.model_id == model_id,
                        QA.is_active.is_(True),
                        QA.qa_type == QAType.TRAINING,
                    )
                )
            ]
        number = (
            session.scalar(
                select(func.max(ModelVersion.number)).where(ModelVersion.model_id == model_id)
            )
            or 0
        ) + 1
        provider_model_id = f"local:{model_id}:v{number}:{uuid.uuid4().hex[:6]}"
        build_index(
            default_root(),
            provider_model_id,
            [IndexEntry(q, a, line) for line, (q, a) in enumerate(examples, start=1)],
        )
        version = ModelVersion(
            model_id=model_id,
            number=number,
            provider_model_id=provider_model_id,
            base_model=LOCAL_BASE_MODEL,
            system_message=model.system_message,
        )
        session.add(version)
        session.flush()
        if activate:
            model.active_version_id = version.id
        uow.commit()
        return version.id
