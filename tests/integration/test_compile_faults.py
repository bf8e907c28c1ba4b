"""Compilations against the fake OpenAI server through the real SDK: every injected fault
gives its expected outcome, the last good version stays active, and the server holds
exactly one job per compilation that reached it."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from core.domain import CompilationStatus, ProviderType, QAType
from core.permissions import Actor
from core.services import catalog, compilation
from core.services.compilation import EngineSettings
from tests.compile_helpers import (
    FAST,
    OPENAI_KEY_ENV,
    TOPICS,
    Uows,
    add_qas,
    drain,
    make_model,
    openai_connection,
)
from tests.openai_server import FakeOpenAI, Fault

JOBS = r"/fine_tuning/jobs"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[FakeOpenAI]:
    monkeypatch.setenv("ARBITER_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("ARBITER_OPENAI_TIMEOUT", "5")
    with FakeOpenAI() as fake:
        monkeypatch.setenv(OPENAI_KEY_ENV, fake.api_key)
        yield fake


@pytest.fixture
def model(new_uow: Uows, admin: Actor, trainer: Actor, server: FakeOpenAI) -> int:
    """An arbiter with a good first version (v1) at the fake OpenAI."""
    conn = openai_connection(new_uow, admin, server.base_url)
    model_id = make_model(new_uow, admin, "Northwind Support", connection_id=conn)
    add_qas(new_uow, model_id)
    first = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), trainer, first.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert done.provider_model and done.provider_model.startswith("ft:gpt-4o-mini-2024-07-18")
    assert done.trained_tokens and done.actual_cost is not None
    add_qas(new_uow, model_id, [("Is there a night shift?", "No: Venlo works two shifts.")])
    return model_id


def _jobs_of(server: FakeOpenAI, compilation_id: int) -> list[dict[str, object]]:
    with server.lock:
        return [
            job
            for job in server.jobs.values()
            if (job["metadata"] or {}).get("compilation_id") == str(compilation_id)
        ]


def _compile(
    new_uow: Uows, trainer: Actor, model_id: int, settings: EngineSettings = FAST
) -> compilation.CompilationView:
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow, settings)
    return compilation.get_compilation(new_uow(), trainer, requested.id)


def _active(new_uow: Uows, trainer: Actor, model_id: int) -> int | None:
    return catalog.get_model(new_uow(), trainer, model_id).active_version_number


def test_the_first_version_records_the_job(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.SUCCEEDED and done.version_number == 2
    job = _jobs_of(server, done.id)
    assert len(job) == 1 and ":northwind-support:" in str(job[0]["fine_tuned_model"])
    events = compilation.compilation_events(new_uow(), trainer, done.id)
    assert any(e.event_type == "metrics" and e.data for e in events)
    assert any(e.message.startswith("Step ") for e in events)
    assert "checkpoints; last:" in done.build_log
    listed = compilation.list_versions(new_uow(), trainer, model)
    assert listed[0].provider_model_id == done.provider_model


@pytest.mark.parametrize(
    ("fault", "logged"),
    [
        (Fault.server_error(500), "server error (500)"),
        (Fault.rate_limit(1), "rate-limiting"),
        (Fault.drop_after(), "Could not reach OpenAI"),
    ],
    ids=["500", "429-retry-after", "dropped-after-creation"],
)
def test_a_transient_fault_at_job_creation_still_gives_one_job(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI, fault: Fault, logged: str
) -> None:
    server.add_fault("POST", JOBS, fault)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert logged in done.build_log
    assert len(_jobs_of(server, done.id)) == 1
    assert _active(new_uow, trainer, model) == 2


def test_a_timeout_whose_request_is_processed_late_gives_one_job(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_OPENAI_TIMEOUT", "0.5")
    # The server answers after the client gave up, and creates the job then.
    server.add_fault("POST", JOBS, Fault.timeout(1.5, then_process=True))
    done = _compile(new_uow, trainer, model, dataclasses.replace(FAST, doubt_seconds=3.0))
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert "did not answer in time" in done.build_log
    assert "Found the job created earlier" in done.build_log
    assert len(_jobs_of(server, done.id)) == 1


def test_a_failing_job_fails_the_compilation_and_keeps_the_version(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    server.job_script = ["validating_files", "running", "failed"]
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "failed (invalid_training_file)" in (done.error or "")
    assert "invalid training file" in (done.error or "")
    assert len(_jobs_of(server, done.id)) == 1
    assert _active(new_uow, trainer, model) == 1


def test_fine_tuning_no_longer_available_is_an_ordinary_failure(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    server.add_fault("POST", JOBS, Fault.fine_tuning_unavailable(), times=-1)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "Fine-tuning is not available to this account or model" in (done.error or "")
    assert "export the training set" in (done.error or "")
    assert _jobs_of(server, done.id) == []
    assert _active(new_uow, trainer, model) == 1


def test_an_unknown_base_model_and_a_missing_key_fail_clearly(
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    model: int,
    server: FakeOpenAI,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # An admin added it to the catalogue by hand, but the provider has never heard of it.
    catalog.save_base_model(
        new_uow(),
        admin,
        catalog.BaseModelInput(provider_type=ProviderType.OPENAI, name="gpt-9-nano"),
    )
    detail = catalog.get_model(new_uow(), admin, model)
    catalog.update_model(new_uow(), admin, model, detail.as_input(base_model="gpt-9-nano"))
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "does not know the model" in (done.error or "")
    catalog.update_model(new_uow(), admin, model, detail.as_input(base_model=None))
    monkeypatch.delenv(OPENAI_KEY_ENV)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert f"No OpenAI API key: set the environment variable or secret {OPENAI_KEY_ENV}" in (
        done.error or ""
    )
    assert _active(new_uow, trainer, model) == 1


def test_reading_the_job_through_an_outage_retries_then_finishes(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    # More 503s than the SDK's own retries: the worker waits and reads again.
    server.add_fault("GET", JOBS + r"/[^/]+", Fault.server_error(503), times=4)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert "Trying again in" in done.build_log
    assert len(_jobs_of(server, done.id)) == 1


def test_a_provider_that_stays_down_fails_the_compilation(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    server.add_fault("*", r"/.*", Fault.drop_before(), times=-1)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "stayed unavailable (5 attempts)" in (done.error or "")
    assert _active(new_uow, trainer, model) == 1


def test_cancel_during_training_cancels_the_job_at_the_provider(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    server.auto_advance = False
    requested = compilation.request_compilation(new_uow(), trainer, model)
    drain(new_uow, timeout=0.3)
    running = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert running.status == CompilationStatus.TRAINING and running.provider_job_id
    compilation.cancel_compilation(new_uow(), trainer, requested.id)
    drain(new_uow, timeout=0.3)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.CANCELLED
    assert server.jobs[running.provider_job_id]["status"] == "cancelled"
    assert _active(new_uow, trainer, model) == 1


def test_the_monthly_budget_refuses_unless_an_admin_overrides(
    new_uow: Uows, admin: Actor, trainer: Actor, server: FakeOpenAI
) -> None:
    conn = openai_connection(
        new_uow, admin, server.base_url, price="1000000", budget="5", name="Costly"
    )
    model_id = make_model(new_uow, admin, "Costly Model", connection_id=conn, n_epochs=1)
    add_qas(new_uow, model_id)
    preflight = compilation.preflight(new_uow(), trainer, model_id)
    assert preflight.budget.would_exceed and "budget" in preflight.outcome
    assert preflight.estimate.billed_tokens == preflight.total_tokens
    from core.errors import BudgetExceeded

    with pytest.raises(BudgetExceeded, match="would pass the monthly budget"):
        compilation.request_compilation(new_uow(), trainer, model_id)
    assert compilation.latest_compilation(new_uow(), trainer, model_id) is None
    overridden = compilation.request_compilation(new_uow(), admin, model_id, override_budget=True)
    drain(new_uow)
    done = compilation.get_compilation(new_uow(), admin, overridden.id)
    assert done.status == CompilationStatus.SUCCEEDED and done.budget_override
    assert len(TOPICS) == done.example_count


def test_a_paid_job_whose_validation_cannot_run_still_becomes_a_version_run_again_later(
    new_uow: Uows, trainer: Actor, model: int, server: FakeOpenAI
) -> None:
    add_qas(
        new_uow,
        model,
        [("How long do returns take?", "Customers may return relays within 30 days.")],
        qa_type=QAType.VALIDATION,
    )
    server.add_fault("POST", r"/chat/completions", Fault.server_error(503), times=-1)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert _active(new_uow, trainer, model) == 2
    latest = compilation.list_versions(new_uow(), trainer, model)[0]
    assert latest.number == 2 and latest.validation_score is None
    assert latest.validation_error and "could not be asked" in latest.validation_error
    assert "run it again later" in done.build_log
    # The provider is back: the trainer runs the validation again and the version has a score.
    server.clear_faults()
    again = compilation.revalidate_version(new_uow(), trainer, latest.id)
    assert again.validation_error is None and again.validation_score is not None
    assert len(_jobs_of(server, done.id)) == 1
