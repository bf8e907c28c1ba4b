"""Evaluation: whether a version is better. A version or the base model asked the model's
validation Q&As, scored per question (token F1, exact match, similarity, an LLM judge's 1-5),
kept as runs; one run's questions worst first; two runs side by side, regressions first.

Every use case is ``fn(uow, actor, ...)``: one transaction, the caller's permission checked
first, plain data back. Other packages and the pages use only the names below."""

from __future__ import annotations

from core.services.evaluation.results import (
    compare_evaluations,
    evaluation_results,
    list_evaluations,
)
from core.services.evaluation.runs import BASE, EvaluationView, evaluate

__all__ = [
    "BASE",
    "EvaluationView",
    "compare_evaluations",
    "evaluate",
    "evaluation_results",
    "list_evaluations",
]
