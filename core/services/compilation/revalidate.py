"""Run a version's validation again: ask the model's validation Q&As of that version (its
fine-tuned model or deployment, its system message) and keep the new score. For a version
whose validation could not run when it was made (an outage after a paid job, a deployment
named by hand later), and to re-check a version after the validation Q&As changed."""

from __future__ import annotations

import json
from typing import Any

from core.errors import Conflict, ProviderError
from core.models import AIModel, Compilation, ModelVersion
from core.permissions import Actor, Permission, requires
from core.providers.registry import ConnectionSettings, provider_for
from core.services.accounts.audit import record_audit
from core.services.catalog import training_data
from core.services.catalog.usage import connection_facts
from core.services.compilation.finish import ask_validation_qas
from core.services.compilation.records import VALIDATION, log, store_asset
from core.services.compilation.versions import VersionView, list_versions
from core.services.shared import get_or_404
from core.training.builder import QARecord
from core.training.scoring import mean
from core.uow import UnitOfWork


def _target(
    uow: UnitOfWork, version_id: int
) -> tuple[ConnectionSettings, str, str, list[QARecord]]:
    with uow:
        session = uow.session
        version = get_or_404(session, ModelVersion, version_id, "Version")
        model = get_or_404(session, AIModel, version.model_id, "Model")
        if version.deployment_state == "manual":
            raise Conflict(
                f"v{version.number} answers only once its deployment is named: name it on the "
                "Versions tab first."
            )
        if version.deployment_state == "removed":
            raise Conflict(
                f"v{version.number}'s deployment was removed: roll back to it (which deploys it "
                "again) or compile anew."
            )
        found = connection_facts(session).get(version.connection_id or 0)
        if found is None:
            raise Conflict(
                f"The connection v{version.number} was trained on no longer exists, so it "
                "cannot be asked."
            )
        inputs = training_data.model_inputs(session, model)
        questions = training_data.validation_qas(session, inputs)
        target = version.deployment_name or version.provider_model_id
        return found.settings, target, version.system_message or "", questions


@requires(Permission.COMPILE)
def revalidate_version(uow: UnitOfWork, actor: Actor, version_id: int) -> VersionView:
    """Ask the validation Q&As again; the version keeps its new score (or why it has none)."""
    settings, target, system_message, questions = _target(uow, version_id)
    problem: str | None = None
    results: list[dict[str, Any]] = []
    if not questions:
        problem = "The model has no validation Q&As: mark some Q&As as validation first."
    else:
        try:
            results = ask_validation_qas(provider_for(settings), target, system_message, questions)
        except ProviderError as exc:
            problem = f"The validation Q&As could not be asked: {exc.message}"
    score = mean(r["f1"] for r in results)
    with uow:
        session = uow.session
        version = get_or_404(session, ModelVersion, version_id, "Version")
        version.validation_error = problem
        if problem is None:
            version.validation_score = score
        compilation = session.get(Compilation, version.compilation_id or 0)
        summary = problem or f"{len(results)} Q&As asked, mean token-overlap F1 {score or 0:.3f}"
        if compilation is not None and problem is None:
            raw = json.dumps(results, ensure_ascii=False).encode("utf-8")
            store_asset(
                session, compilation.id, VALIDATION, "validation.json", "application/json", raw
            )
            compilation.validation_score = score
            log(session, compilation, f"Validation run again for v{version.number}: {summary}")
        record_audit(
            session,
            actor,
            "revalidate",
            "version",
            version.id,
            f"validation of v{version.number}: {summary}",
        )
        model_id = version.model_id
        uow.commit()
    return next(v for v in list_versions(uow, actor, model_id) if v.id == version_id)
