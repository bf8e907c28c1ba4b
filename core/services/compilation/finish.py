"""Step 4, finish: ask the validation Q&As to the new model, create the next version and make
it active (unless the activation gate holds it back).

A job the provider trained and billed always becomes a version: when the validation Q&As
cannot be asked (the provider stays down, or refuses), the version is created without a
score, says why, and its validation can be run again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, NoReturn

from sqlalchemy import func, select

from core.domain import CompilationStatus, Role, utcnow
from core.errors import ProviderError, ProviderUnavailable
from core.models import AIModel, Compilation, ModelVersion
from core.providers.base import ChatTurn, Provider
from core.services.accounts.notifications import notify_role
from core.services.catalog import training_data
from core.services.catalog.usage import model_usage
from core.services.compilation.records import VALIDATION, activate, log, model_link, store_asset
from core.services.compilation.step import Step
from core.training.builder import QARecord
from core.training.scoring import mean, token_f1


@dataclass(frozen=True)
class Trained:
    """What training produced: the provider's model, and where it answers (its deployment,
    where the provider needs one; ``manual``: an admin deploys it and names it)."""

    provider_model: str
    deployment: str | None = None
    manual: bool = False


def ask_validation_qas(
    provider: Provider, target: str, system_message: str, questions: list[QARecord]
) -> list[dict[str, Any]]:
    results: list[dict[str, Any]] = []
    for qa in questions:
        turns = [ChatTurn("user", qa.question)]
        if system_message:
            turns.insert(0, ChatTurn("system", system_message))
        answer = "".join(d.text for d in provider.chat(target, turns))
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
    return results


def complete(step: Step, trained: Trained | str) -> None:
    """Ask the validation Q&As, create the version and activate it (unless held back)."""
    if isinstance(trained, str):
        trained = Trained(trained)
    with step.uow:
        compilation = step.load()
        provider = step.provider_here(compilation)
        model = step.uow.session.get(AIModel, compilation.model_id)
        assert model is not None
        inputs = training_data.model_inputs(step.uow.session, model)
        questions = training_data.validation_qas(step.uow.session, inputs)
    results: list[dict[str, Any]] = []
    problem: str | None = None
    if trained.manual and questions:
        problem = "The validation Q&As are asked once the version's deployment is named."
    elif questions:
        target = trained.deployment or trained.provider_model
        try:
            results = ask_validation_qas(provider, target, inputs.system_message, questions)
        except ProviderError as exc:
            if isinstance(exc, ProviderUnavailable) and step.retries_left():
                step.provider_trouble(exc)
            # Trained and billed: never lost for want of a score.
            problem = f"The validation Q&As could not be asked: {exc.message}"
    with step.uow:
        compilation = step.load()
        new_version(step, compilation, trained, inputs.system_message, results, problem)


def _log_validation(
    step: Step, compilation: Compilation, results: list[dict[str, Any]], problem: str | None
) -> float | None:
    session = step.uow.session
    store_asset(
        session,
        step.id,
        VALIDATION,
        "validation.json",
        "application/json",
        json.dumps(results, ensure_ascii=False).encode("utf-8"),
    )
    score = mean(r["f1"] for r in results)
    if problem:
        log(session, compilation, f"{problem} The version has no score; run it again later.")
    elif score is None:
        log(session, compilation, "No validation Q&As: the version has no score")
    else:
        log(
            session,
            compilation,
            f"Validation: {len(results)} Q&As asked, mean token-overlap F1 {score:.3f}",
            data_={"validation_score": score, "questions": len(results)},
        )
    return score


def _held_back(model: AIModel, previous: ModelVersion | None, score: float | None) -> bool:
    return bool(
        model.activation_gate
        and previous is not None
        and previous.validation_score is not None
        and score is not None
        and score < previous.validation_score
    )


def new_version(
    step: Step,
    compilation: Compilation,
    trained: Trained,
    system_message: str,
    results: list[dict[str, Any]],
    problem: str | None = None,
) -> NoReturn:
    session = step.uow.session
    model = session.get(AIModel, compilation.model_id)
    assert model is not None
    score = _log_validation(step, compilation, results, problem)
    previous = (
        session.get(ModelVersion, model.active_version_id) if model.active_version_id else None
    )
    highest = session.scalar(
        select(func.max(ModelVersion.number)).where(ModelVersion.model_id == model.id)
    )
    number = (highest or 0) + 1
    usage = model_usage(session).get(model.id)
    version = ModelVersion(
        model_id=model.id,
        compilation_id=compilation.id,
        number=number,
        provider_model_id=trained.provider_model,
        base_model=compilation.base_model,
        system_message=system_message,
        dataset_hash=compilation.dataset_hash,
        config_hash=compilation.config_hash,
        config_only=compilation.config_only,
        validation_score=score,
        validation_error=problem,
        connection_id=usage.connection.id if usage and usage.connection else None,
        deployment_name=trained.deployment,
        deployment_state="manual" if trained.manual else ("ready" if trained.deployment else None),
        deployed_at=utcnow() if trained.deployment else None,
        hosting_price_per_hour=usage.hosting_price_per_hour
        if usage and (trained.deployment or trained.manual)
        else None,
    )
    session.add(version)
    session.flush()
    compilation.version_id = version.id
    compilation.validation_score = score
    compilation.provider_model = trained.provider_model
    if trained.manual:
        reason = (
            f"Version v{number} was trained as {trained.provider_model}. Deployments on this "
            "connection are made by hand: deploy it at the provider, then give v"
            f"{number} its deployment name on the Versions tab to activate it."
        )
        step.stats(compilation, held_back=True)
        notify_role(session, [Role.ADMIN.value], "compilation", reason, model_link(model.id))
    elif _held_back(model, previous, score):
        assert previous is not None and previous.validation_score is not None
        assert score is not None
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
