"""Reading evaluations: a model's runs, one run's questions worst first, and two runs side
by side (regressions first) as a table to read and to download."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select

from core.errors import Conflict
from core.models import AIModel, EvaluationResult, EvaluationRun, ModelVersion
from core.permissions import Actor, Permission, requires
from core.services.evaluation.runs import BASE, EvaluationView, view
from core.services.shared import get_or_404
from core.uow import UnitOfWork

RESULT_COLUMNS = [
    "qa_id",
    "section",
    "question",
    "expected",
    "answer",
    "f1",
    "exact",
    "similarity",
    "judge_score",
    "judge_reason",
    "error",
]
SIDE_COLUMNS = ["answer", "f1", "exact", "similarity", "judge_score", "judge_reason", "error"]


@requires(Permission.READ)
def list_evaluations(uow: UnitOfWork, actor: Actor, model_id: int) -> list[EvaluationView]:
    """Newest first."""
    with uow:
        get_or_404(uow.session, AIModel, model_id, "Model")
        rows = uow.session.execute(
            select(EvaluationRun, ModelVersion.number)
            .outerjoin(ModelVersion, ModelVersion.id == EvaluationRun.version_id)
            .where(EvaluationRun.model_id == model_id)
            .order_by(EvaluationRun.created_at.desc(), EvaluationRun.id.desc())
        ).all()
        return [view(run, number) for run, number in rows]


@requires(Permission.READ)
def evaluation_results(uow: UnitOfWork, actor: Actor, run_id: int) -> pd.DataFrame:
    """Every question of a run, the worst first (unanswered, then by judge score and F1)."""
    with uow:
        get_or_404(uow.session, EvaluationRun, run_id, "Evaluation")
        rows = uow.session.scalars(
            select(EvaluationResult).where(EvaluationResult.run_id == run_id)
        ).all()
        frame = pd.DataFrame(
            [{c: getattr(r, c) for c in RESULT_COLUMNS} for r in rows], columns=RESULT_COLUMNS
        )
    order = frame.assign(
        _answered=frame["f1"].notna(),
        _judge=frame["judge_score"].fillna(6),
    ).sort_values(["_answered", "_judge", "f1"], kind="stable")
    return order.drop(columns=["_answered", "_judge"]).reset_index(drop=True)


def latest_run(uow: UnitOfWork, model_id: int, version: int | str) -> EvaluationRun | None:
    """The newest run of a version number or of ``"base"`` (inside the caller's unit of work)."""
    query = select(EvaluationRun).where(EvaluationRun.model_id == model_id)
    if version == BASE:
        query = query.where(EvaluationRun.version_id.is_(None))
    else:
        query = query.join(ModelVersion, ModelVersion.id == EvaluationRun.version_id).where(
            ModelVersion.number == int(version)
        )
    return uow.session.scalars(
        query.where(EvaluationRun.error.is_(None)).order_by(EvaluationRun.id.desc()).limit(1)
    ).first()


@requires(Permission.READ)
def compare_evaluations(
    uow: UnitOfWork, actor: Actor, model_id: int, a: int | str, b: int | str
) -> pd.DataFrame:
    """One row per validation question with both sides' answers and scores and the change in
    F1 (and judge score) from A to B; regressions first. Uses each side's newest run."""
    with uow:
        runs = {side: latest_run(uow, model_id, side) for side in (a, b)}
        missing = [str(side) for side, run in runs.items() if run is None]
        if missing:
            raise Conflict(
                f"Evaluate {', '.join(missing)} first: there is no evaluation of it yet."
            )
        frames = {}
        for name, side in (("a", a), ("b", b)):
            run = runs[side]
            assert run is not None
            frames[name] = pd.DataFrame(
                [{c: getattr(r, c) for c in RESULT_COLUMNS} for r in run.results],
                columns=RESULT_COLUMNS,
            )
    keys = ["qa_id", "section", "question", "expected"]
    merged = frames["a"].merge(frames["b"], on=keys, how="outer", suffixes=(f" {a}", f" {b}"))
    merged["f1 change"] = (merged[f"f1 {b}"] - merged[f"f1 {a}"]).round(4)
    merged["judge change"] = merged[f"judge_score {b}"] - merged[f"judge_score {a}"]
    ordered = merged.sort_values(["judge change", "f1 change"], kind="stable", na_position="last")
    columns = keys + [f"{c} {side}" for side in (a, b) for c in SIDE_COLUMNS]
    return ordered[[*columns, "f1 change", "judge change"]].reset_index(drop=True)
