"""The Azure OpenAI provider through the official SDKs (``openai``'s AzureOpenAI client and
``azure-mgmt-cognitiveservices``) against the fake Azure server: the lifecycle from upload
to chat through a deployment, with a key and with Microsoft Entra ID, and its faults."""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from decimal import Decimal

import pytest

from core.domain import ProviderType
from core.errors import (
    DeploymentFailed,
    ProviderAuthError,
    ProviderError,
    ProviderOutOfCredit,
    ProviderUnavailable,
    UnknownBaseModel,
)
from core.providers import registry
from core.providers.azure_deployments import deployment_name
from core.providers.azure_openai import AzureOpenAIProvider, AzureSettings, job_tag
from core.providers.base import ChatTurn, Hyperparameters, JobRequest
from tests.fakes.azure_openai import (
    AZURE_API_VERSION,
    FakeAzureOpenAI,
    arm_fault,
    azure_quota_exceeded,
)
from tests.fakes.entra import COGNITIVE_SCOPE, MANAGEMENT_SCOPE, StaticCredential, credential_for
from tests.openai_server import Fault

BASE = "gpt-4o-mini-2024-07-18"
JOBS = "/fine_tuning/jobs"
DEPLOYMENTS = r"/subscriptions/.*/deployments/[^/]+"
TRAINING = b"".join(
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"How long does delivery {i} take?"},
                {"role": "assistant", "content": f"{i} working days."},
            ]
        }
    ).encode()
    + b"\n"
    for i in range(12)
)


@pytest.fixture
def server() -> Iterator[FakeAzureOpenAI]:
    with FakeAzureOpenAI(auto_advance=False) as fake:
        yield fake


def _settings(server: FakeAzureOpenAI, **changes: object) -> AzureSettings:
    fields: dict[str, object] = {
        "endpoint": server.endpoint,
        "key_env": "AZURE_TEST_KEY",
        "subscription_id": server.arm.subscription,
        "resource_group": server.arm.resource_group,
        "account_name": server.arm.account,
        "management_url": server.management_url,
        "hosting_price_per_hour": Decimal("1.70"),
        **changes,
    }
    return AzureSettings(**fields)  # type: ignore[arg-type]


def _provider(
    server: FakeAzureOpenAI, timeout: float = 2, **changes: object
) -> AzureOpenAIProvider:
    settings = _settings(server, **changes)
    return AzureOpenAIProvider(
        settings,
        api_key=server.api_key if settings.key_env else None,
        credential=credential_for(server),
        timeout=timeout,
        sleep=lambda _: None,
        rng=random.Random(5),
    )


def _request(file_id: str, compilation: str = "17", base: str = BASE) -> JobRequest:
    return JobRequest(
        file_id,
        base,
        "northwind-support-" + "x" * 60,
        Hyperparameters(n_epochs=2),
        {"compilation_id": compilation},
    )


def _count(server: FakeAzureOpenAI, method: str, pattern: str) -> int:
    import re

    with server.lock:
        return sum(1 for m, p in server.requests if m == method and re.fullmatch(pattern, p))


def _trained(server: FakeAzureOpenAI, provider: AzureOpenAIProvider) -> str:
    job = provider.create_job(_request(provider.upload_training_file("t.jsonl", TRAINING)))
    server.advance(job.id, 10)
    done = provider.get_job(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model
    return done.fine_tuned_model


def test_upload_train_deploy_and_chat_through_the_deployment(server: FakeAzureOpenAI) -> None:
    provider = _provider(server)
    file_id = provider.upload_training_file("training.jsonl", TRAINING)
    job = provider.create_job(_request(file_id))
    sent = json.loads(next(r.body for r in server.request_log if r.path == "/openai" + JOBS))
    assert set(sent) == {"model", "training_file", "suffix", "hyperparameters"}
    assert sent["hyperparameters"] == {"n_epochs": 2}
    assert len(sent["suffix"]) <= 40 and sent["suffix"].endswith(
        "-" + job_tag({"compilation_id": "17"})
    )
    assert all("api-version=" + AZURE_API_VERSION in r.query for r in server.request_log)
    assert job.status == "pending" and not job.finished
    assert provider.find_job({"compilation_id": "17"}) == job
    assert provider.find_job({"compilation_id": "18"}) is None
    first = provider.list_events(job.id)
    server.advance(job.id, 3)
    newer = provider.list_events(job.id, since_id=first[-1].id)
    assert newer and any(e.event_type == "metrics" for e in newer)
    server.advance(job.id, 10)
    done = provider.get_job(job.id)
    assert done.status == "succeeded" and done.fine_tuned_model and done.n_epochs == 2
    assert ".ft-" in done.fine_tuned_model
    checkpoints = provider.list_checkpoints(job.id)
    assert checkpoints and "train_loss" in checkpoints[-1].metrics

    name = deployment_name("Northwind Support", 17)
    assert name == "arbiter-northwind-support-c17"
    deployments = provider.deployments
    assert deployments.automatic
    started = deployments.deploy(done.fine_tuned_model, name, {"managed-by": "arbiter-studio"})
    assert started.state == "Creating" and not started.ready
    states = []
    for _ in range(5):
        status = deployments.deployment_status(name)
        assert status is not None
        states.append(status.state)
        if status.ready:
            break
        server.arm.advance(name)
    assert states[-1] == "Succeeded" and "Creating" in states
    answer = "".join(d.text for d in provider.chat(name, [ChatTurn("user", "How long?")]))
    assert answer == f"[{done.fine_tuned_model}] How long?"
    assert server.chat_deployments == [name]
    listed = deployments.list_deployments()
    assert [(d.name, d.model, d.tags["managed-by"]) for d in listed] == [
        (name, done.fine_tuned_model, "arbiter-studio")
    ]
    deployments.remove_deployment(name)
    deployments.remove_deployment(name)  # gone already: no error
    assert deployments.deployment_status(name) is None and server.arm.deployments == {}
    assert provider.hosting_price_per_hour == Decimal("1.70")


def test_base_models_say_which_can_be_fine_tuned_and_until_when(server: FakeAzureOpenAI) -> None:
    provider = _provider(server)
    _trained(server, provider)  # a fine-tuned model in the list is no base model
    models = {m.id: m for m in provider.list_base_models()}
    assert sorted(models) == sorted(server.base_models)
    assert models[BASE].fine_tunable and models[BASE].fine_tuning_ends is not None
    assert models[BASE].shutdown_date is not None
    assert not models["gpt-4o-2024-11-20"].fine_tunable
    file_id = provider.upload_training_file("t.jsonl", TRAINING)
    with pytest.raises(UnknownBaseModel, match="does not support fine-tuning"):
        provider.create_job(_request(file_id, base="gpt-4o-2024-11-20"))
    with pytest.raises(UnknownBaseModel, match="does not know the model"):
        provider.create_job(_request(file_id, base="gpt-9-nano"))


def test_microsoft_entra_id_signs_in_both_apis_without_a_key(server: FakeAzureOpenAI) -> None:
    credential = credential_for(server)
    provider = AzureOpenAIProvider(_settings(server, key_env=None), credential=credential)
    model = _trained(server, provider)
    provider.deployments.deploy(model, "arbiter-entra-c1")
    data_plane = [r for r in server.request_log if r.path.startswith("/openai/")]
    assert data_plane and all("api-key" not in r.headers for r in data_plane)
    assert {r.headers["authorization"] for r in data_plane} == {"Bearer entra-test-token"}
    arm = [r for r in server.request_log if r.path.startswith("/subscriptions/")]
    assert {r.headers["authorization"] for r in arm} == {"Bearer arm-test-token"}
    assert set(credential.scopes) == {COGNITIVE_SCOPE, MANAGEMENT_SCOPE}


def test_a_credential_that_gives_no_token_is_a_clear_error(server: FakeAzureOpenAI) -> None:
    provider = AzureOpenAIProvider(_settings(server, key_env=None), credential=StaticCredential({}))
    with pytest.raises(ProviderAuthError, match="Microsoft Entra ID gave no token"):
        provider.upload_training_file("t.jsonl", TRAINING)
    with pytest.raises(ProviderAuthError, match="refused the Microsoft Entra ID sign-in"):
        provider.deployments.list_deployments()
    with pytest.raises(ProviderAuthError, match="AZURE_TEST_KEY"):
        AzureOpenAIProvider(_settings(server), api_key=None)


def test_a_timeout_after_creation_finds_the_one_job_again(server: FakeAzureOpenAI) -> None:
    provider = _provider(server, timeout=0.4)
    file_id = provider.upload_training_file("t.jsonl", TRAINING)
    server.add_fault("POST", JOBS, Fault.timeout(1.0, then_process=True))
    with pytest.raises(ProviderUnavailable, match="did not answer in time"):
        provider.create_job(_request(file_id))
    assert _count(server, "POST", "/openai" + JOBS) == 1  # never retried
    found = None
    for _ in range(30):  # the server creates the job once its delay is over
        found = provider.find_job({"compilation_id": "17"})
        if found is not None:
            break
        server._stopping.wait(0.1)
    assert found is not None and len(server.jobs) == 1
    assert provider.find_job({"compilation_id": "18"}) is None


def test_out_of_quota_fails_at_the_first_answer(server: FakeAzureOpenAI) -> None:
    provider = _provider(server)
    file_id = provider.upload_training_file("t.jsonl", TRAINING)
    server.add_fault("*", "/fine_tuning/jobs.*", azure_quota_exceeded(), times=-1)
    with pytest.raises(ProviderOutOfCredit, match="quotaExceeded"):
        provider.create_job(_request(file_id))
    with pytest.raises(ProviderOutOfCredit):
        provider.get_job("ftjob-any")
    assert _count(server, "POST", "/openai" + JOBS) == 1
    assert _count(server, "GET", "/openai" + JOBS + "/ftjob-any") == 1
    server.clear_faults()
    server.arm.quota = 0
    model = _trained(server, provider)
    with pytest.raises(ProviderOutOfCredit, match="remove deployments that are not in use"):
        provider.deployments.deploy(model, "arbiter-quota-c2")
    assert _count(server, "PUT", DEPLOYMENTS) == 1 and server.arm.deployments == {}


def test_a_deployment_that_fails_says_so(server: FakeAzureOpenAI) -> None:
    provider = _provider(server)
    model = _trained(server, provider)
    server.arm.script = ["Creating", "Failed"]
    provider.deployments.deploy(model, "arbiter-failing-c3")
    server.arm.advance("arbiter-failing-c3")
    status = provider.deployments.deployment_status("arbiter-failing-c3")
    assert status is not None and status.failed and not status.ready
    with pytest.raises(DeploymentFailed, match="DeploymentModelNotSupported"):
        provider.deployments.deploy("gpt-9-nano.ft-nothing", "arbiter-nothing-c4")


def test_deploying_again_after_a_crash_or_a_lost_answer_makes_one_deployment(
    server: FakeAzureOpenAI,
) -> None:
    provider = _provider(server)
    model = _trained(server, provider)
    name = deployment_name("Northwind", 5)
    # The answer to the PUT is lost after the deployment was made: the retry finds it.
    server.add_fault("PUT", DEPLOYMENTS, Fault.drop_after())
    assert provider.deployments.deploy(model, name).model == model
    # A worker that took over from one killed while deploying asks again.
    again = _provider(server).deployments.deploy(model, name)
    assert again.name == name and list(server.arm.deployments) == [name]
    assert _count(server, "PUT", DEPLOYMENTS) == 2  # the lost one and its retry; none since
    # Another model under that name is never overwritten.
    with pytest.raises(DeploymentFailed, match="exists already for another model"):
        provider.deployments.deploy(BASE, name)
    assert server.arm.deployments[name]["properties"]["model"]["name"] == model


def test_resource_manager_outages_are_retried_a_bounded_number_of_times(
    server: FakeAzureOpenAI,
) -> None:
    provider = _provider(server)
    server.add_fault("GET", DEPLOYMENTS, arm_fault(503, "ServiceUnavailable", "Busy."), times=-1)
    with pytest.raises(ProviderUnavailable, match="try again later"):
        provider.deployments.deployment_status("arbiter-any-c1")
    assert _count(server, "GET", DEPLOYMENTS) == 3


def test_manual_and_unconfigured_deployments(server: FakeAzureOpenAI) -> None:
    manual = _provider(server, manual_deployments=True).deployments
    assert not manual.automatic
    status = manual.deployment_status("made-by-hand")
    assert status is not None and status.ready
    with pytest.raises(ProviderError, match="made by hand"):
        manual.deploy("some-model", "made-by-hand")
    unconfigured = _provider(server, subscription_id=None).deployments
    with pytest.raises(ProviderError, match="names no subscription"):
        unconfigured.deploy("some-model", "x")


def test_the_key_and_the_tokens_never_reach_logs_reprs_or_errors(
    server: FakeAzureOpenAI, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    caplog.set_level(logging.DEBUG)
    secrets = [server.api_key, *server.entra_tokens, *server.arm.tokens]
    monkeypatch.setenv("AZURE_TEST_KEY", server.api_key)
    registry.use_entra_credential(credential_for(server))
    try:
        settings = registry.ConnectionSettings(
            ProviderType.AZURE_OPENAI,
            server.endpoint,
            "AZURE_TEST_KEY",
            azure_subscription_id=server.arm.subscription,
            azure_resource_group=server.arm.resource_group,
            azure_account_name=server.arm.account,
        )
        monkeypatch.setenv(registry.ARM_URL_ENV, server.management_url)
        keyed = registry.provider_for(settings)
        assert registry.provider_for(settings) is keyed
        entra = registry.provider_for(
            registry.ConnectionSettings(
                ProviderType.AZURE_OPENAI,
                server.endpoint,
                None,
                entra_id=True,
                azure_subscription_id=server.arm.subscription,
                azure_resource_group=server.arm.resource_group,
                azure_account_name=server.arm.account,
            )
        )
        errors: list[str] = []
        for provider in (keyed, entra):
            assert isinstance(provider, AzureOpenAIProvider)
            model = _trained(server, provider)
            name = f"arbiter-secret-c{len(errors)}"
            assert provider.deployments.deploy(model, name).name == name
            server.arm.advance(name, 3)
            answer = "".join(d.text for d in provider.chat(name, [ChatTurn("user", "Hi")]))
            assert answer == f"[{model}] Hi"
            server.add_fault("GET", "/models", Fault.invalid_api_key())
            with pytest.raises(ProviderError) as caught:
                provider.list_base_models()
            errors += [caught.value.message, repr(provider), repr(provider.deployments)]
        text = caplog.text + "\n".join(errors) + repr(settings)
        assert "api-version" in caplog.text  # the SDKs did log their requests
        for secret in secrets:
            assert secret not in text
    finally:
        registry.use_entra_credential(None)
