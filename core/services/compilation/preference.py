"""Supervised then preference (DPO) compilation: after the supervised job, a second job
trains the supervised result on the preference pairs of the model's Train AI corrections
(the correction preferred over the answer the model gave).

A compilation asks for it when it is requested (``dataset_stats["preference"]``). The
pre-flight and the prepare step check the pairs as OpenAI's preference JSONL and say how
many there are; without any, or on a provider that cannot train on them, the compilation is
refused with a message that says so. The engine then runs its usual steps twice: once the
supervised job succeeds, its figures (tokens, cost) are kept, the stage becomes ``dpo`` and
the compilation goes back to ``uploading`` with the preference file, whose job is created
exactly once as any other (its metadata says ``stage: dpo``). Trained tokens and cost are
those of both jobs; a failed DPO job fails the compilation, so the last good version stays
active.
"""

from __future__ import annotations

import gzip
import io
from dataclasses import dataclass
from decimal import Decimal

from core.domain import CompilationStatus
from core.models import AIModel, Compilation
from core.providers.base import Job
from core.providers.registry import preference_refusal
from core.services.catalog import training_data
from core.services.catalog.budgets import Budget
from core.services.compilation.records import Analysis, log, store_asset
from core.services.compilation.step import Step
from core.training.cost import Estimate, estimate
from core.training.findings import Finding
from core.training.preference import (
    PreferencePair,
    preference_jsonl,
    validate_preference_stream,
)
from core.training.validator import example_token_limit
from core.uow import UnitOfWork

PREFERENCE_FILE = "preference_file"
DPO = "dpo"


@dataclass(frozen=True)
class PreferenceCheck:
    """The preference pairs a supervised-then-DPO compilation would train on."""

    pairs: int
    tokens: int
    estimate: Estimate
    findings: list[Finding]
    errors: int
    refusal: str | None  # why the DPO stage cannot run (no pairs, the provider, errors)
    content: bytes

    def describe(self) -> str:
        if self.refusal:
            return self.refusal
        return (
            f"{self.pairs:,} preference pairs, {self.tokens:,} tokens; DPO job "
            f"{self.estimate.describe()}"
        )


def requested(compilation: Compilation) -> bool:
    return bool((compilation.dataset_stats or {}).get("preference"))


def in_dpo_stage(compilation: Compilation) -> bool:
    return (compilation.dataset_stats or {}).get("stage") == DPO


def dpo_base(compilation: Compilation) -> str:
    """The base model of the next job: the supervised result in the DPO stage."""
    stats = compilation.dataset_stats or {}
    if in_dpo_stage(compilation):
        return str(stats.get("dpo_base") or "")
    return compilation.base_model or ""


def load_pairs(uow: UnitOfWork, model_id: int) -> list[PreferencePair]:
    with uow:
        model = uow.session.get(AIModel, model_id)
        if model is None:
            return []
        inputs = training_data.model_inputs(uow.session, model)
        return training_data.preference_pairs(uow.session, inputs)


def check(found: Analysis, pairs: list[PreferencePair]) -> PreferenceCheck:
    """The pairs checked line by line as the provider reads them, and priced."""
    inputs = found.inputs
    facts = inputs.base_model_facts
    limit = (facts.example_token_limit if facts else None) or example_token_limit(inputs.base_model)
    content = preference_jsonl(pairs)
    report = validate_preference_stream(io.BytesIO(content), token_limit=limit)
    priced = estimate(
        report.example_tokens,
        n_epochs=inputs.n_epochs,
        token_limit=limit,
        price_per_million=inputs.training_price,
    )
    refusal = preference_refusal(inputs.connection.provider_type if inputs.connection else None)
    if refusal is None and found.training_set.size == 0:
        refusal = (
            f"{inputs.model_name} has no supervised training data: the DPO stage trains the "
            "supervised result, so add Q&As or conversations first (or compile supervised "
            "only)."
        )
    if refusal is None and not pairs:
        refusal = (
            f"{inputs.model_name} has no preference pairs: correct its answers in chat with "
            "Train AI (the wrong answer is kept beside the correction), or compile "
            "supervised only."
        )
    if refusal is None and report.errors:
        first = "; ".join(str(f) for f in report.findings if f.severity == "error")
        refusal = f"The preference pairs have {report.errors:,} error(s): {first[:1500]}"
    return PreferenceCheck(
        pairs=len(pairs),
        tokens=report.total_tokens,
        estimate=priced,
        findings=report.findings,
        errors=report.errors,
        refusal=refusal,
        content=content,
    )


def prepare_here(
    step: Step, compilation: Compilation, found: Analysis, checked: PreferenceCheck
) -> None:
    """In the prepare step's transaction: end the compilation when the DPO stage cannot run
    or would pass the budget; else keep the preference file and add its cost."""
    if checked.refusal:
        step.end_here(compilation, CompilationStatus.FAILED, error=checked.refusal)
    sft = found.estimate
    budget = Budget(
        found.budget.monthly_budget, found.budget.spent_this_month, sft.cost + checked.estimate.cost
    )
    if budget.would_exceed and not compilation.budget_override:
        step.end_here(
            compilation,
            CompilationStatus.FAILED,
            error=f"Refused: the supervised and the DPO job would pass the connection's "
            f"monthly budget ({budget.describe()}). An admin may override the budget.",
        )
    store_asset(
        step.uow.session,
        compilation.id,
        PREFERENCE_FILE,
        "preference.jsonl.gz",
        "application/gzip",
        gzip.compress(checked.content, compresslevel=6),
    )
    compilation.billed_tokens_estimate = sft.billed_tokens + checked.estimate.billed_tokens
    compilation.cost_estimate = sft.cost + checked.estimate.cost
    step.stats(compilation, preference_pairs=checked.pairs, preference_tokens=checked.tokens)
    log(
        step.uow.session,
        compilation,
        f"Then preference training (DPO): {checked.describe()}",
    )


def after_job(step: Step, compilation: Compilation, job: Job) -> None:
    """In the follow step's transaction, once a job succeeded (its tokens and cost already
    on the compilation): after the supervised job of a supervised-then-DPO compilation,
    start the DPO stage (and stop the step); after the DPO job, add the supervised job's
    figures to its own."""
    stats = compilation.dataset_stats or {}
    if in_dpo_stage(compilation):
        sft_tokens = int(stats.get("sft_trained_tokens") or 0)
        sft_cost = Decimal(str(stats.get("sft_cost") or 0))
        compilation.trained_tokens = (compilation.trained_tokens or 0) + sft_tokens
        if compilation.actual_cost is not None or sft_cost:
            compilation.actual_cost = (compilation.actual_cost or Decimal(0)) + sft_cost
        return
    if not requested(compilation):
        return
    step.stats(
        compilation,
        stage=DPO,
        sft_job_id=job.id,
        sft_model=job.fine_tuned_model,
        dpo_base=job.fine_tuned_model,
        sft_trained_tokens=compilation.trained_tokens or 0,
        sft_cost=str(compilation.actual_cost or 0),
        poll_delay=0,
        provider_errors=0,
    )
    compilation.provider_job_id = None
    compilation.provider_file_id = None
    compilation.provider_status = None
    compilation.status = CompilationStatus.UPLOADING
    log(
        step.uow.session,
        compilation,
        f"The supervised job {job.id} finished: {job.fine_tuned_model}. Next, preference "
        f"training (DPO) on it with {int(stats.get('preference_pairs') or 0):,} pairs",
    )
    step.release_here(compilation)
