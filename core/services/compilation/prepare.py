"""Step 1, prepare: build the training set, validate and price it, and decide: fail with
the findings, skip when nothing changed, a configuration-only version without training data,
refuse over the budget, or store the training file for the upload.
"""

from __future__ import annotations

import gzip
import json

from core.domain import CompilationStatus, Role, utcnow
from core.models import AIModel, Compilation
from core.services.accounts.notifications import notify_role
from core.services.catalog import training_data
from core.services.compilation import preference
from core.services.compilation.finish import complete
from core.services.compilation.records import (
    MANIFEST,
    TRAINING_FILE,
    Analysis,
    analyse,
    log,
    model_link,
    store_asset,
)
from core.services.compilation.step import Step


def prepare(step: Step) -> None:
    with step.uow:
        compilation = step.load()
        compilation.status = CompilationStatus.VALIDATING
        compilation.started_at = compilation.started_at or utcnow()
        log(
            step.uow.session,
            compilation,
            "Building and validating the training set",
            data_={"worker": step.worker},
        )
        step.uow.commit()
        model_id = compilation.model_id
        dpo = preference.requested(compilation)
    found = analyse(step.uow, model_id)
    checked = preference.check(found, preference.load_pairs(step.uow, model_id)) if dpo else None
    with step.uow:
        compilation = step.load()
        session = step.uow.session
        record_analysis(step, compilation, found)
        model = session.get(AIModel, model_id)
        # found.refusal also holds the provider's cut-off for new jobs: a compilation queued
        # the day before is refused here, before anything is uploaded.
        refused = found.refusal if model else "The model was deleted."
        report = found.report
        if refused:
            step.end_here(compilation, CompilationStatus.FAILED, error=refused)
        if report.errors:
            first = "; ".join(str(f) for f in report.findings if f.severity == "error")
            step.end_here(
                compilation,
                CompilationStatus.FAILED,
                error=f"The training set has {report.errors:,} error(s), listed with their "
                f"records in the findings. {first[:1500]}",
            )
        if checked is not None:
            preference.prepare_here(step, compilation, found, checked)
        elif found.unchanged and not compilation.forced:
            step.end_here(
                compilation,
                CompilationStatus.SKIPPED,
                reason="Nothing changed since the active version (same training file and "
                "configuration): compile only when there are meaningful changes, or force "
                "it.",
            )
        if found.training_set.size == 0:
            compilation.config_only = True
            log(
                session,
                compilation,
                "No training data: a configuration-only version (base model and system "
                "message, no fine-tuning job)",
            )
            step.uow.commit()
        elif found.budget.would_exceed and not compilation.budget_override and checked is None:
            message = (
                f"Refused: compiling would pass the connection's monthly budget "
                f"({found.budget.describe()}). An admin may override the budget."
            )
            notify_role(session, [Role.ADMIN.value], "budget", message, model_link(model_id))
            step.end_here(compilation, CompilationStatus.FAILED, error=message)
        else:
            store_asset(
                session,
                compilation.id,
                TRAINING_FILE,
                "training.jsonl.gz",
                "application/gzip",
                gzip.compress(found.training_set.content, compresslevel=6),
            )
            compilation.status = CompilationStatus.UPLOADING
            step.release_here(compilation)
    complete(step, found.inputs.base_model or "")


def record_analysis(step: Step, compilation: Compilation, found: Analysis) -> None:
    session = step.uow.session
    report, training_set, estimate = found.report, found.training_set, found.estimate
    connection = found.inputs.connection
    compilation.dataset_hash = training_set.sha256
    compilation.config_hash = found.inputs.config_hash
    compilation.example_count = training_set.size
    compilation.token_count = report.total_tokens
    compilation.billed_tokens_estimate = estimate.billed_tokens
    compilation.cost_estimate = estimate.cost
    compilation.base_model = found.inputs.base_model
    compilation.validation_report = report.as_json()
    compilation.diff_summary = found.diff.as_json() if found.diff else None
    step.stats(
        compilation,
        fingerprint=found.fingerprint,
        connection_id=connection.id if connection else None,
        provider_type=connection.provider_type.value if connection else None,
        duplicates_removed=training_set.duplicates_removed,
        epochs=estimate.epochs,
        epochs_auto=estimate.epochs_auto,
        tokens_per_epoch=estimate.tokens_per_epoch,
        sources=training_data.sources_named(found.inputs.sources),
        per_source=training_data.per_source(found.inputs.sources, training_set),
    )
    store_asset(
        session,
        compilation.id,
        MANIFEST,
        "manifest.json.gz",
        "application/gzip",
        gzip.compress(json.dumps(training_set.manifest()).encode("utf-8")),
    )
    diff = f"; against the active version: {found.diff.describe()}" if found.diff else ""
    log(
        session,
        compilation,
        f"Training set: {training_set.size:,} examples from "
        f"{training_data.sources_named(found.inputs.sources)}, {report.total_tokens:,} tokens, "
        f"{report.errors:,} errors, {report.warnings:,} warnings{diff}. Estimate: "
        f"{estimate.describe()}. Hash {training_set.sha256[:12]}.",
    )
