"""A model compiles at Azure OpenAI end to end through the services and the worker: upload,
fine-tuning job, deployment through Resource Manager, activation, chat through the
deployment; and the faults of a cloud that bills per hour while a deployment exists
(a failed or slow deployment, quota, a timeout after creation, a worker killed while
deploying) never make a second job or a second deployment, nor leave a bad version active."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal

import pytest

from core.domain import ChatKind, CompilationStatus, ProviderType
from core.permissions import Actor
from core.services import catalog, chat, compilation
from core.services.compilation import EngineSettings
from tests.compile_helpers import FAST, Uows, add_qas, drain, make_model
from tests.fakes.azure_openai import FakeAzureOpenAI, arm_fault, azure_quota_exceeded, serving_azure
from tests.openai_server import Fault

KEY_ENV = "AZURE_OPENAI_API_KEY_TEST"
BASE = "gpt-4o-mini-2024-07-18"
JOBS = r"/fine_tuning/jobs"
DEPLOYMENT = r"/subscriptions/.*/deployments/[^/]+"


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> Iterator[FakeAzureOpenAI]:
    monkeypatch.setenv("ARBITER_OPENAI_TIMEOUT", "5")
    with serving_azure(monkeypatch, tmp_path, KEY_ENV) as fake:
        yield fake


def _connection(new_uow: Uows, admin: Actor, server: FakeAzureOpenAI, **changes: object) -> int:
    fields: dict[str, object] = {
        "name": "Azure Sweden",
        "provider_type": ProviderType.AZURE_OPENAI,
        "base_url": server.endpoint,
        "api_key_env": KEY_ENV,
        "default_base_model": BASE,
        "azure_subscription_id": server.arm.subscription,
        "azure_resource_group": server.arm.resource_group,
        "azure_account_name": server.arm.account,
        "hosting_price_per_hour": "1.70",
        **changes,
    }
    return catalog.create_connection(new_uow(), admin, catalog.ConnectionInput(**fields)).id  # type: ignore[arg-type]


@pytest.fixture
def model(new_uow: Uows, admin: Actor, server: FakeAzureOpenAI) -> int:
    model_id = make_model(
        new_uow, admin, "Northwind Support", connection_id=_connection(new_uow, admin, server)
    )
    add_qas(new_uow, model_id)
    return model_id


def _compile(
    new_uow: Uows, trainer: Actor, model_id: int, settings: EngineSettings = FAST
) -> compilation.CompilationView:
    requested = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow, settings)
    return compilation.get_compilation(new_uow(), trainer, requested.id)


def _jobs(server: FakeAzureOpenAI) -> list[dict[str, object]]:
    with server.lock:
        return list(server.jobs.values())


def _deployments(server: FakeAzureOpenAI) -> dict[str, str]:
    with server.lock:
        return {
            name: d["properties"]["provisioningState"] for name, d in server.arm.deployments.items()
        }


def _active(new_uow: Uows, trainer: Actor, model_id: int) -> int | None:
    return catalog.get_model(new_uow(), trainer, model_id).active_version_number


def test_a_model_compiles_deploys_activates_and_answers_through_its_deployment(
    new_uow: Uows, admin: Actor, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert done.provider_model and done.provider_model.startswith(f"{BASE}.ft-")
    assert "Deploying" in done.build_log and "billed per hour" in done.build_log
    assert len(_jobs(server)) == 1
    (name, state), *others = _deployments(server).items()
    assert others == [] and state == "Succeeded"
    assert _active(new_uow, trainer, model) == 1
    (version,) = compilation.list_versions(new_uow(), trainer, model)
    assert version.deployment_name == name
    # The hourly charge is shown with what the deployment cost so far.
    (row,) = compilation.list_deployments(new_uow(), admin)
    assert row.deployment_name == name and row.in_use
    assert row.hosting_price_per_hour == Decimal("1.70")
    # Chat answers through that deployment, not through the base model.
    direct = chat.create_chat(new_uow(), trainer, "", ChatKind.DIRECT, model_ids=[model])
    posted = chat.post_message(new_uow(), trainer, direct.id, "How long do returns take?")
    (answer,) = chat.answer_all(new_uow(), trainer, posted.pending_answers)
    assert answer.content and not answer.error
    assert server.chat_deployments == [name]


def test_a_second_version_replaces_the_first_and_the_unused_deployment_can_be_removed(
    new_uow: Uows, admin: Actor, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    first = _compile(new_uow, trainer, model)
    add_qas(new_uow, model, [("Is there a night shift?", "No: Venlo works two shifts.")])
    second = _compile(new_uow, trainer, model)
    assert second.status == CompilationStatus.SUCCEEDED, second.error
    assert _active(new_uow, trainer, model) == 2 and len(_deployments(server)) == 2
    report = compilation.remove_unused_deployments(new_uow(), admin)
    v1, v2 = sorted(compilation.list_versions(new_uow(), trainer, model), key=lambda v: v.number)
    assert report.removed == [v1.deployment_name] and report.problems == []
    assert list(_deployments(server)) == [v2.deployment_name]
    # A rollback deploys the removed version again; v2 answers until that deployment is ready,
    # then the worker's deployments task makes v1 active.
    compilation.rollback(new_uow(), admin, v1.id, "v2 answers worse")
    assert _active(new_uow, trainer, model) == 2
    assert _deployments(server).get(str(v1.deployment_name)) is not None
    for _ in range(10):
        if compilation.deployments_task(new_uow(), "test-worker"):
            break
    assert _active(new_uow, trainer, model) == 1
    assert _deployments(server)[str(v1.deployment_name)] == "Succeeded"
    assert first.id != second.id


def test_a_failed_deployment_fails_the_compilation_and_keeps_the_last_good_version(
    new_uow: Uows, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    assert _compile(new_uow, trainer, model).status == CompilationStatus.SUCCEEDED
    server.arm.script = ["Creating", "Failed"]
    add_qas(new_uow, model, [("Is there a night shift?", "No: Venlo works two shifts.")])
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "deploy" in (done.error or "").lower()
    assert _active(new_uow, trainer, model) == 1
    assert len(_jobs(server)) == 2


def test_no_quota_for_a_deployment_is_a_clear_failure(
    new_uow: Uows, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    server.add_fault(
        "PUT",
        DEPLOYMENT,
        arm_fault(409, "InsufficientQuota", "This operation exceeds the quota."),
        times=-1,
    )
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "quota" in (done.error or "").lower()
    assert _active(new_uow, trainer, model) is None
    assert _deployments(server) == {}


def test_no_training_quota_fails_before_anything_is_billed(
    new_uow: Uows, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    server.add_fault("POST", JOBS, azure_quota_exceeded(), times=-1)
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.FAILED
    assert "quota" in (done.error or "").lower()
    assert _jobs(server) == [] and _deployments(server) == {}


def test_a_timeout_after_the_deployment_was_asked_for_gives_one_deployment(
    new_uow: Uows, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    server.add_fault("PUT", DEPLOYMENT, Fault.drop_after())
    done = _compile(new_uow, trainer, model)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert len(_deployments(server)) == 1 and len(_jobs(server)) == 1


def test_a_worker_that_leaves_while_deploying_leaves_one_job_and_one_deployment(
    new_uow: Uows, trainer: Actor, model: int, server: FakeAzureOpenAI
) -> None:
    # The first worker leaves while the deployment is still "Creating"; a second worker
    # takes the compilation over and follows the same deployment instead of asking again.
    server.arm.auto_advance = False
    requested = compilation.request_compilation(new_uow(), trainer, model)
    short = dataclasses.replace(FAST, lease_seconds=1)
    compilation.drain(new_uow(), "first-worker", settings=short, idle_timeout=1.5)
    left = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert left.status == CompilationStatus.TRAINING and left.provider_status == "deploying"
    (name,) = _deployments(server)
    server.arm.auto_advance = True
    compilation.drain(new_uow(), "second-worker", settings=FAST, idle_timeout=10)
    done = compilation.get_compilation(new_uow(), trainer, requested.id)
    assert done.status == CompilationStatus.SUCCEEDED, done.error
    assert list(_deployments(server)) == [name] and len(_jobs(server)) == 1
