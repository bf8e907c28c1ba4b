"""Evaluate a version, or the base model without training, on the model's validation Q&As:
each question asked, its answer scored (token F1, exact match, similarity) and, with a judge
connection, graded 1-5 by an LLM with a one-line reason. The run is kept with its time,
connection and judge. A question that cannot be answered or judged is marked so; it never
fails the run, and an evaluation changes nothing else (not the version's score, not which
version is active)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.domain import as_utc
from core.errors import Conflict, ProviderError
from core.models import QA, AIModel, EvaluationResult, EvaluationRun, ModelVersion
from core.permissions import Actor, Permission, requires
from core.providers.base import ChatTurn, Provider
from core.providers.registry import provider_for
from core.services.accounts.audit import record_audit
from core.services.catalog import training_data
from core.services.catalog.usage import connection_facts, training_price
from core.services.shared import get_or_404
from core.training.builder import QARecord
from core.training.cost import cost_of
from core.training.judge import UnreadableVerdict, judge_messages, read_verdict
from core.training.scoring import exact_match, mean, similarity, token_f1
from core.training.tokens import count_text
from core.uow import UnitOfWork

BASE = "base"


@dataclass(frozen=True)
class EvaluationView:
    id: int
    model_id: int
    label: str
    version_number: int | None  # None: the base model
    created_at: datetime
    questions: int
    answered: int
    judged: int
    mean_f1: float | None
    mean_exact: float | None
    mean_similarity: float | None
    mean_judge: float | None
    judge_tokens: int
    error: str | None
    # What judging cost, counted against the judge connection's budget (None: no judge).
    judge_cost: Decimal | None = None

    def summary(self) -> str:
        if self.error:
            return f"{self.label}: {self.error}"
        parts = [f"{self.label}: {self.answered} of {self.questions} questions answered"]
        if self.mean_f1 is not None:
            parts.append(f"token F1 {self.mean_f1:.3f}")
        if self.mean_exact is not None:
            parts.append(f"exact {self.mean_exact:.0%}")
        if self.mean_similarity is not None:
            parts.append(f"similarity {self.mean_similarity:.3f}")
        if self.mean_judge is not None:
            parts.append(f"judge {self.mean_judge:.2f}/5 on {self.judged}")
        return ", ".join(parts)


@dataclass(frozen=True)
class _Target:
    model_id: int
    version_id: int | None
    label: str
    target: str
    system_message: str
    connection_id: int | None
    questions: list[QARecord]
    sections: dict[int, str]


def _version_target(session: Session, model: AIModel, number: int) -> tuple[Any, ...]:
    version = session.scalar(
        select(ModelVersion).where(ModelVersion.model_id == model.id, ModelVersion.number == number)
    )
    if version is None:
        raise Conflict(f"{model.name} has no version v{number}.")
    if version.deployment_state in ("manual", "removed"):
        raise Conflict(
            f"v{number} has no deployment to answer from: name or redeploy it on the Versions tab."
        )
    target = version.deployment_name or version.provider_model_id
    return version.id, f"v{number}", target, version.system_message, version.connection_id


def _resolve(uow: UnitOfWork, model_id: int, version: int | str) -> _Target:
    session = uow.session
    model = get_or_404(session, AIModel, model_id, "Model")
    inputs = training_data.model_inputs(session, model)
    if version == BASE:
        if inputs.connection is None or not inputs.base_model:
            raise Conflict(f"{model.name} has no connection and base model to ask.")
        found = (None, f"base {inputs.base_model}", inputs.base_model, inputs.system_message)
        resolved = (*found, inputs.connection.id)
    else:
        resolved = _version_target(session, model, int(version))
    questions = training_data.validation_qas(session, inputs)
    if not questions:
        raise Conflict(
            f"{model.name} has no validation Q&As: mark some Q&As as validation (or make a "
            "validation set) first."
        )
    sections: dict[int, str] = {
        qa_id: section
        for qa_id, section in session.execute(
            select(QA.id, QA.section).where(QA.id.in_([q.id for q in questions]))
        )
    }
    version_id, label, target, system_message, connection_id = resolved
    return _Target(
        model.id,
        version_id,
        label,
        target,
        system_message or "",
        connection_id,
        questions,
        sections,
    )


def _provider(uow: UnitOfWork, connection_id: int | None, what: str) -> Provider:
    with uow:
        found = connection_facts(uow.session).get(connection_id or 0)
    if found is None:
        raise Conflict(f"The connection {what} was on no longer exists.")
    return provider_for(found.settings)


def _ask(provider: Provider, target: str, system_message: str, question: str) -> str:
    turns = [ChatTurn("user", question)]
    if system_message:
        turns.insert(0, ChatTurn("system", system_message))
    return "".join(d.text for d in provider.chat(target, turns))


def _judge(provider: Provider, model: str, qa: QARecord, answer: str) -> tuple[str, int]:
    """The judge's reply and the tokens it used (billed whether or not the reply is read)."""
    turns = [ChatTurn(role, text) for role, text in judge_messages(qa.question, qa.answer, answer)]
    reply = "".join(d.text for d in provider.chat(model, turns))
    return reply, sum(count_text(t.content) for t in turns) + count_text(reply)


def _score(
    target: _Target, provider: Provider, judge: tuple[Provider, str] | None
) -> dict[str, Any]:
    results: list[dict[str, Any]] = []
    tokens = 0
    for qa in target.questions:
        row: dict[str, Any] = {
            "qa_id": qa.id,
            "section": target.sections.get(qa.id, ""),
            "question": qa.question,
            "expected": qa.answer,
        }
        try:
            answer = _ask(provider, target.target, target.system_message, qa.question)
        except ProviderError as exc:
            results.append({**row, "answer": "", "error": f"not answered: {exc.message}"})
            continue
        row |= {
            "answer": answer,
            "f1": round(token_f1(answer, qa.answer), 4),
            "exact": exact_match(answer, qa.answer),
            "similarity": similarity(answer, qa.answer),
        }
        if judge is not None:
            try:
                reply, used = _judge(judge[0], judge[1], qa, answer)
                tokens += used  # an unreadable verdict was paid for all the same
                verdict = read_verdict(reply)
                row |= {"judge_score": verdict.score, "judge_reason": verdict.reason}
            except (ProviderError, UnreadableVerdict) as exc:
                message = exc.message if isinstance(exc, ProviderError) else str(exc)
                row["error"] = f"not judged: {message}"
        results.append(row)
    return {"results": results, "judge_tokens": tokens}


def view(run: EvaluationRun, version_number: int | None) -> EvaluationView:
    return EvaluationView(
        id=run.id,
        model_id=run.model_id,
        label=run.label,
        version_number=version_number,
        created_at=as_utc(run.created_at),
        questions=run.questions,
        answered=run.answered,
        judged=run.judged,
        mean_f1=run.mean_f1,
        mean_exact=run.mean_exact,
        mean_similarity=run.mean_similarity,
        mean_judge=run.mean_judge,
        judge_tokens=run.judge_tokens,
        error=run.error,
        judge_cost=run.judge_cost,
    )


def _judge_price(uow: UnitOfWork, judge_connection_id: int | None) -> Decimal | None:
    """The judge connection's price per 1M tokens (its own, else the catalogue's for its
    default base model): what its tokens cost against its budget."""
    if judge_connection_id is None:
        return None
    with uow:
        found = connection_facts(uow.session).get(judge_connection_id)
        if found is None:
            return None
        return training_price(uow.session, found, found.default_base_model)


def _judge_for(uow: UnitOfWork, judge_connection_id: int | None) -> tuple[Provider, str] | None:
    if judge_connection_id is None:
        return None
    with uow:
        found = connection_facts(uow.session).get(judge_connection_id)
    if found is None or not found.default_base_model:
        raise Conflict("The judge connection needs a default base model to judge with.")
    return provider_for(found.settings), found.default_base_model


@requires(Permission.COMPILE)
def evaluate(
    uow: UnitOfWork,
    actor: Actor,
    model_id: int,
    version: int | str,
    judge_connection_id: int | None = None,
) -> EvaluationView:
    """Ask the validation Q&As of ``version`` (a number, or ``"base"``) and keep the run."""
    with uow:
        target = _resolve(uow, model_id, version)
    error: str | None = None
    scored: dict[str, Any] = {"results": [], "judge_tokens": 0}
    try:
        judge = _judge_for(uow, judge_connection_id)
        scored = _score(target, _provider(uow, target.connection_id, target.label), judge)
    except ProviderError as exc:
        error = f"{target.label} cannot be asked: {exc.message}"
    results = scored["results"]
    price = _judge_price(uow, judge_connection_id)
    answered = [r for r in results if "f1" in r]
    if results and not answered:
        error = f"{target.label} answered none of the questions: {results[0]['error']}"
    with uow:
        run = EvaluationRun(
            model_id=target.model_id,
            version_id=target.version_id,
            label=target.label,
            target=target.target[:300],
            connection_id=target.connection_id,
            judge_connection_id=judge_connection_id,
            requested_by_id=actor.user_id,
            questions=len(target.questions),
            answered=len(answered),
            judged=sum(1 for r in results if r.get("judge_score") is not None),
            mean_f1=mean(r["f1"] for r in answered),
            mean_exact=mean(float(r["exact"]) for r in answered),
            mean_similarity=mean(r["similarity"] for r in answered),
            mean_judge=mean(r["judge_score"] for r in results if r.get("judge_score") is not None),
            judge_tokens=scored["judge_tokens"],
            judge_cost=cost_of(scored["judge_tokens"], price) if price is not None else None,
            error=error,
            results=[EvaluationResult(**r) for r in results],
        )
        uow.session.add(run)
        uow.session.flush()
        record_audit(
            uow.session, actor, "evaluate", "model", target.model_id, view(run, None).summary()
        )
        uow.commit()
        number = int(version) if version != BASE else None
        return view(run, number)
