"""Step 4, finish: ask the validation Q&As to the new model, create the next version and make
it active (unless the activation gate holds it back).
"""

from __future__ import annotations

import json
from typing import Any, NoReturn

from sqlalchemy import func, select

from core.domain import CompilationStatus, Role
from core.errors import ProviderError
from core.models import AIModel, Compilation, ModelVersion
from core.providers.base import ChatTurn
from core.services.accounts.notifications import notify_role
from core.services.catalog import training_data
from core.services.compilation.records import VALIDATION, activate, log, model_link, store_asset
from core.services.compilation.step import Step
from core.training.scoring import mean, token_f1


def complete(step: Step, provider_model: str) -> None:
    """Ask the validation Q&As, create the version and activate it (unless held back)."""
    with step.uow:
        compilation = step.load()
        provider = step.provider_here(compilation)
        model = step.uow.session.get(AIModel, compilation.model_id)
        assert model is not None
        inputs = training_data.model_inputs(step.uow.session, model)
        questions = training_data.validation_qas(step.uow.session, inputs)
    results: list[dict[str, Any]] = []
    try:
        for qa in questions:
            turns = [ChatTurn("user", qa.question)]
            if inputs.system_message:
                turns.insert(0, ChatTurn("system", inputs.system_message))
            answer = "".join(d.text for d in provider.chat(provider_model, turns))
            results.append(
                {
                    "qa_id": qa.id,
                    "model_id": qa.model_id,
                    "question": qa.question,
                    "expected": qa.answer,
                    "answer": answer,
                    "f1": round(token_f1(answer, qa.answer), 4),
                }
            )
    except ProviderError as exc:
        step.provider_trouble(exc)
    score = mean(r["f1"] for r in results)
    with step.uow:
        compilation = step.load()
        new_version(step, compilation, provider_model, inputs.system_message, results, score)


def new_version(
    step: Step,
    compilation: Compilation,
    provider_model: str,
    system_message: str,
    results: list[dict[str, Any]],
    score: float | None,
) -> NoReturn:
    session = step.uow.session
    model = session.get(AIModel, compilation.model_id)
    assert model is not None
    store_asset(
        session,
        step.id,
        VALIDATION,
        "validation.json",
        "application/json",
        json.dumps(results, ensure_ascii=False).encode("utf-8"),
    )
    if score is None:
        log(session, compilation, "No validation Q&As: the version has no score")
    else:
        log(
            session,
            compilation,
            f"Validation: {len(results)} Q&As asked, mean token-overlap F1 {score:.3f}",
            data_={"validation_score": score, "questions": len(results)},
        )
    previous = (
        session.get(ModelVersion, model.active_version_id) if model.active_version_id else None
    )
    highest = session.scalar(
        select(func.max(ModelVersion.number)).where(ModelVersion.model_id == model.id)
    )
    number = (highest or 0) + 1
    version = ModelVersion(
        model_id=model.id,
        compilation_id=compilation.id,
        number=number,
        provider_model_id=provider_model,
        base_model=compilation.base_model,
        system_message=system_message,
        dataset_hash=compilation.dataset_hash,
        config_hash=compilation.config_hash,
        config_only=compilation.config_only,
        validation_score=score,
    )
    session.add(version)
    session.flush()
    compilation.version_id = version.id
    compilation.validation_score = score
    compilation.provider_model = provider_model
    if (
        model.activation_gate
        and previous is not None
        and previous.validation_score is not None
        and score is not None
        and score < previous.validation_score
    ):
        reason = (
            f"Version v{number} is held back: its validation score {score:.3f} is lower "
            f"than the active v{previous.number}'s {previous.validation_score:.3f}. An "
            "admin can activate it on the Versions tab."
        )
        step.stats(compilation, held_back=True)
        notify_role(session, [Role.ADMIN.value], "compilation", reason, model_link(model.id))
    else:
        activate(session, model, version, previous)
        scored = f" (validation score {score:.3f})" if score is not None else ""
        reason = f"Version v{number} is active{scored}."
    step.end_here(compilation, CompilationStatus.SUCCEEDED, reason=reason)
