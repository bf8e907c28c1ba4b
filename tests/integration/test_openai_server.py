"""The fake OpenAI server, driven by the real ``openai`` SDK over HTTP (nothing is patched)."""

from __future__ import annotations

import http.client
import json
import time
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from openai.types.fine_tuning import job_create_params

from tests.openai_server import (
    FINE_TUNING_UNAVAILABLE_CODE,
    FakeOpenAI,
    Fault,
    echo_answer,
)

EXAMPLE = {
    "messages": [
        {"role": "system", "content": "You are the arbiter."},
        {"role": "user", "content": "May I expense a taxi?"},
        {"role": "assistant", "content": "Yes, with a receipt."},
    ]
}
TRAINING = "\n".join(json.dumps(EXAMPLE) for _ in range(12)).encode() + b"\n"


@pytest.fixture
def server() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def make_client(server: FakeOpenAI, **options: object) -> openai.OpenAI:
    settings: dict[str, object] = {
        "api_key": server.api_key,
        "base_url": server.base_url,
        "max_retries": 0,
        "timeout": 5,
    }
    settings.update(options)
    return openai.OpenAI(**settings)  # type: ignore[arg-type]


@pytest.fixture
def client(server: FakeOpenAI) -> Iterator[openai.OpenAI]:
    with make_client(server) as sdk:
        yield sdk


def upload(client: openai.OpenAI, content: bytes = TRAINING) -> str:
    return client.files.create(file=("train.jsonl", content), purpose="fine-tune").id


def create_job(client: openai.OpenAI, compilation: str = "c-1", **extra: object) -> str:
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=upload(client),
        suffix="arbiter-hr",
        metadata={"compilation_id": compilation},
        **extra,  # type: ignore[arg-type]
    )
    return job.id


# --------------------------------------------------------------------------------------------
# Files
# --------------------------------------------------------------------------------------------


def test_upload_file_and_read_it_back(server: FakeOpenAI, client: openai.OpenAI) -> None:
    uploaded = client.files.create(file=("tränings.jsonl", TRAINING), purpose="fine-tune")

    assert uploaded.id.startswith("file-")
    assert uploaded.object == "file"
    assert uploaded.bytes == len(TRAINING)
    assert uploaded.filename == "tränings.jsonl"
    assert uploaded.purpose == "fine-tune"
    assert uploaded.status == "processed"
    assert client.files.retrieve(uploaded.id).bytes == len(TRAINING)
    assert client.files.content(uploaded.id).content == TRAINING
    assert server.file_contents[uploaded.id] == TRAINING
    assert [f.id for f in client.files.list(purpose="fine-tune")] == [uploaded.id]

    with pytest.raises(openai.BadRequestError) as bad_format:
        client.files.create(file=("train.csv", b"a,b\n"), purpose="fine-tune")
    assert bad_format.value.code == "invalid_file_format"
    with pytest.raises(openai.NotFoundError):
        client.files.retrieve("file-missing")


# --------------------------------------------------------------------------------------------
# Fine-tuning jobs
# --------------------------------------------------------------------------------------------


def test_create_job_resolves_hyperparameters_and_keeps_metadata(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    training_file = upload(client)
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini",  # alias: resolved to the dated snapshot like the real API
        training_file=training_file,
        suffix="arbiter-hr",
        seed=7,
        metadata={"compilation_id": "c-42", "model": "hr"},
        method={
            "type": "supervised",
            "supervised": {"hyperparameters": {"n_epochs": 2, "batch_size": "auto"}},
        },
    )

    assert job.id.startswith("ftjob-")
    assert job.object == "fine_tuning.job"
    assert job.status == "validating_files"
    assert job.model == "gpt-4o-mini-2024-07-18"
    assert job.training_file == training_file
    assert job.validation_file is None
    assert job.metadata == {"compilation_id": "c-42", "model": "hr"}
    assert job.seed == 7
    assert job.organization_id == "org-arbiter"
    assert (job.fine_tuned_model, job.trained_tokens, job.error, job.finished_at) == (
        None,
        None,
        None,
        None,
    )
    assert job.result_files == []
    assert job.integrations is None
    assert job.method is not None and job.method.supervised is not None
    resolved = job.method.supervised.hyperparameters
    assert resolved is not None
    assert (resolved.n_epochs, resolved.batch_size, resolved.learning_rate_multiplier) == (
        2,
        1,
        1.8,
    )
    assert job.hyperparameters.n_epochs == 2
    assert server.jobs[job.id]["status"] == "validating_files"

    legacy = client.fine_tuning.jobs.create(
        model="gpt-4.1-mini-2025-04-14",
        training_file=training_file,
        hyperparameters={"n_epochs": 5, "learning_rate_multiplier": 0.5},
    )
    assert legacy.hyperparameters.n_epochs == 5
    assert legacy.hyperparameters.learning_rate_multiplier == 0.5
    assert legacy.metadata is None


def test_create_job_validation_errors(client: openai.OpenAI) -> None:
    training_file = upload(client)

    with pytest.raises(openai.BadRequestError) as missing_file:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file="file-nope")
    assert missing_file.value.param == "training_file"

    with pytest.raises(openai.NotFoundError) as unknown_model:
        client.fine_tuning.jobs.create(model="gpt-99", training_file=training_file)
    assert unknown_model.value.code == "model_not_found"

    with pytest.raises(openai.BadRequestError) as long_suffix:
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini", training_file=training_file, suffix="x" * 65
        )
    assert long_suffix.value.param == "suffix"

    with pytest.raises(openai.BadRequestError) as big_metadata:
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini",
            training_file=training_file,
            metadata={f"k{i}": "v" for i in range(17)},
        )
    assert big_metadata.value.param == "metadata"


def test_list_jobs_filters_by_metadata_newest_first_and_pages(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    first = create_job(client, "c-1")
    second = create_job(client, "c-2")
    third = create_job(client, "c-1")

    found = list(client.fine_tuning.jobs.list(metadata={"compilation_id": "c-1"}))
    assert [job.id for job in found] == [third, first]
    # the SDK serialises the filter as deepObject `metadata[compilation_id]=c-1`
    assert server.request_log[-1].query == "metadata%5Bcompilation_id%5D=c-1"

    page = client.fine_tuning.jobs.list(limit=2)
    assert [job.id for job in page.data] == [third, second]
    assert page.has_more is True
    assert [job.id for job in client.fine_tuning.jobs.list(limit=1)] == [third, second, first]
    assert list(client.fine_tuning.jobs.list(metadata={"compilation_id": "none"})) == []


def test_job_follows_script_to_success_with_events_and_checkpoints(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    job_id = create_job(client)
    statuses = [client.fine_tuning.jobs.retrieve(job_id).status for _ in range(6)]
    assert statuses == ["queued", "running", "running", "running", "succeeded", "succeeded"]

    job = client.fine_tuning.jobs.retrieve(job_id)
    assert job.fine_tuned_model is not None
    assert job.fine_tuned_model.startswith("ft:gpt-4o-mini-2024-07-18:arbiter:arbiter-hr:")
    assert job.trained_tokens == (len(TRAINING) // 4) * 3
    assert job.finished_at is not None
    assert len(job.result_files) == 1
    assert client.files.retrieve(job.result_files[0]).purpose == "fine-tune-results"

    events = list(client.fine_tuning.jobs.list_events(job_id, limit=100))
    assert events[0].message == "The job has successfully completed"
    assert events[-1].message == f"Created fine-tuning job: {job_id}"
    metrics = [e for e in events if e.type == "metrics"]
    assert len(metrics) == 3
    data = metrics[0].data
    assert isinstance(data, dict)
    assert data["step"] == 36
    assert data["total_steps"] == 36  # 12 examples * 3 epochs / batch size 1
    assert {"train_loss", "train_mean_token_accuracy", "valid_loss"} <= set(data)
    assert any(e.message.startswith("Step 12/36: training loss=") for e in events)
    older = client.fine_tuning.jobs.list_events(job_id, limit=2, after=events[1].id)
    assert [e.id for e in older.data] == [events[2].id, events[3].id]

    checkpoints = list(client.fine_tuning.jobs.checkpoints.list(job_id))
    assert [c.step_number for c in checkpoints] == [36, 24, 12]
    assert checkpoints[0].fine_tuned_model_checkpoint == f"{job.fine_tuned_model}:ckpt-step-36"
    assert checkpoints[0].metrics.train_loss is not None
    assert checkpoints[0].metrics.full_valid_mean_token_accuracy is not None

    model_ids = [m.id for m in client.models.list()]
    assert job.fine_tuned_model in model_ids
    answer = client.chat.completions.create(
        model=job.fine_tuned_model, messages=[{"role": "user", "content": "Taxi?"}]
    )
    assert answer.choices[0].message.content == f"[{job.fine_tuned_model}] Taxi?"


def test_manual_advance_when_auto_advance_is_off() -> None:
    with (
        FakeOpenAI(auto_advance=False, job_script=["queued", "running", "succeeded"]) as fake,
        make_client(fake) as sdk,
    ):
        job_id = create_job(sdk)
        assert sdk.fine_tuning.jobs.retrieve(job_id).status == "queued"
        assert sdk.fine_tuning.jobs.retrieve(job_id).status == "queued"
        fake.advance(job_id)
        assert sdk.fine_tuning.jobs.retrieve(job_id).status == "running"
        fake.advance(steps=5)
        assert sdk.fine_tuning.jobs.retrieve(job_id).status == "succeeded"


def test_failing_and_cancelled_scripts() -> None:
    with FakeOpenAI(job_script=["validating_files", "failed"]) as fake, make_client(fake) as sdk:
        job = sdk.fine_tuning.jobs.retrieve(create_job(sdk))
        assert job.status == "failed"
        assert job.error is not None
        assert (job.error.code, job.error.param) == ("invalid_training_file", "training_file")
        assert job.fine_tuned_model is None
        assert sdk.fine_tuning.jobs.list_events(job.id).data[0].level == "error"
    with FakeOpenAI(job_script=["queued", "cancelled"]) as fake, make_client(fake) as sdk:
        assert sdk.fine_tuning.jobs.retrieve(create_job(sdk)).status == "cancelled"


def test_cancel_running_job_and_refuse_when_finished(client: openai.OpenAI) -> None:
    job_id = create_job(client)
    client.fine_tuning.jobs.retrieve(job_id)
    assert client.fine_tuning.jobs.retrieve(job_id).status == "running"

    cancelled = client.fine_tuning.jobs.cancel(job_id)
    assert cancelled.status == "cancelled"
    assert cancelled.finished_at is not None
    assert client.fine_tuning.jobs.retrieve(job_id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        client.fine_tuning.jobs.cancel(job_id)
    with pytest.raises(openai.NotFoundError):
        client.fine_tuning.jobs.cancel("ftjob-unknown")


# --------------------------------------------------------------------------------------------
# Models and chat
# --------------------------------------------------------------------------------------------


def test_models_list_and_retrieve(client: openai.OpenAI) -> None:
    models = {m.id: m for m in client.models.list()}
    assert list(models) == [
        "gpt-4o-mini-2024-07-18",
        "gpt-4.1-mini-2025-04-14",
        "gpt-4.1-2025-04-14",
    ]
    assert models["gpt-4o-mini-2024-07-18"].owned_by == "system"
    assert models["gpt-4o-mini-2024-07-18"].shutdown_date == "2027-03-31"
    assert client.models.retrieve("gpt-4.1-2025-04-14").object == "model"
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("gpt-0")
    assert missing.value.code == "model_not_found"


def test_chat_echoes_last_user_message(server: FakeOpenAI, client: openai.OpenAI) -> None:
    messages: list[dict[str, str]] = [
        {"role": "system", "content": "You are the arbiter."},
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "  May I\n expense   a taxi? "},
    ]
    completion = client.chat.completions.create(
        model="gpt-4.1-mini-2025-04-14",
        messages=messages,  # type: ignore[arg-type]
    )

    assert completion.object == "chat.completion"
    choice = completion.choices[0]
    assert choice.message.content == "[gpt-4.1-mini-2025-04-14] May I expense a taxi?"
    assert choice.message.content == echo_answer("gpt-4.1-mini-2025-04-14", messages)
    assert choice.finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 6  # words of the answer
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 6
    assert server.chat_requests[-1]["messages"] == messages

    with pytest.raises(openai.NotFoundError) as unknown:
        client.chat.completions.create(model="ft:nope", messages=[{"role": "user", "content": "x"}])
    assert unknown.value.code == "model_not_found"


def test_chat_streaming(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-4o-mini-2024-07-18",
        messages=[{"role": "user", "content": "stream this answer please"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert all(c.object == "chat.completion.chunk" for c in chunks)
    assert len({c.id for c in chunks}) == 1
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "[gpt-4o-mini-2024-07-18] stream this answer please"
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[-2].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert len(chunks) >= 6


# --------------------------------------------------------------------------------------------
# Auth and unknown paths
# --------------------------------------------------------------------------------------------


def raw_get(server: FakeOpenAI, path: str, headers: dict[str, str]) -> tuple[int, dict[str, Any]]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        return response.status, json.loads(response.read())
    finally:
        connection.close()


def test_auth_is_required(server: FakeOpenAI) -> None:
    with (
        make_client(server, api_key="sk-wrong-key-1234") as sdk,
        pytest.raises(openai.AuthenticationError) as wrong,
    ):
        sdk.models.list()
    assert wrong.value.code == "invalid_api_key"
    assert wrong.value.type == "invalid_request_error"

    status, body = raw_get(server, "/v1/models", {})
    assert status == 401
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == "invalid_api_key"

    status, body = raw_get(server, "/v1/nope", {"Authorization": f"Bearer {server.api_key}"})
    assert status == 404
    assert body["error"]["message"] == "Invalid URL (GET /v1/nope)"
    assert server.requests[-1] == ("GET", "/v1/nope")


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_error_faults(server: FakeOpenAI, client: openai.OpenAI, status: int) -> None:
    server.add_fault("GET", r"/models", Fault.server_error(status))
    with pytest.raises(openai.InternalServerError) as error:
        client.models.list()
    assert error.value.status_code == status
    assert error.value.type == "server_error"
    assert client.models.list().data  # consumed: the next call succeeds


def test_rate_limit_fault_has_retry_after(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add_fault("POST", r"/chat/completions", Fault.rate_limit(retry_after=7))
    with pytest.raises(openai.RateLimitError) as error:
        client.chat.completions.create(
            model="gpt-4o-mini", messages=[{"role": "user", "content": "x"}]
        )
    assert error.value.response.headers["retry-after"] == "7"
    assert error.value.code == "rate_limit_exceeded"


def test_auth_fault(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add_fault("*", r"/.*", Fault.invalid_api_key())
    with pytest.raises(openai.AuthenticationError) as error:
        client.models.list()
    assert error.value.code == "invalid_api_key"


def test_model_not_found_and_bad_request_faults(server: FakeOpenAI, client: openai.OpenAI) -> None:
    training_file = upload(client)
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.model_not_found())
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.bad_request("quota_x", "Nope.", "suffix"))

    with pytest.raises(openai.NotFoundError) as missing:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    assert missing.value.code == "model_not_found"
    assert "`gpt-4o-mini`" in missing.value.message

    with pytest.raises(openai.BadRequestError) as bad:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    assert (bad.value.code, bad.value.param) == ("quota_x", "suffix")
    assert server.jobs == {}


def test_fine_tuning_unavailable_fault(server: FakeOpenAI, client: openai.OpenAI) -> None:
    training_file = upload(client)
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.fine_tuning_unavailable())
    with pytest.raises(openai.BadRequestError) as error:
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    assert error.value.code == FINE_TUNING_UNAVAILABLE_CODE == "model_not_available"
    assert isinstance(error.value.body, dict)
    assert error.value.body["message"].startswith(
        "Fine-tuning is not available for this account or model: gpt-4o-mini."
    )
    assert server.jobs == {}

    server.add_fault("POST", r"/fine_tuning/jobs", Fault.fine_tuning_unavailable(status=403))
    with pytest.raises(openai.PermissionDeniedError):
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)


def test_timeout_fault(server: FakeOpenAI) -> None:
    server.add_fault("GET", r"/models", Fault.timeout(delay=2.0))
    started = time.monotonic()
    with make_client(server, timeout=0.2) as sdk, pytest.raises(openai.APITimeoutError):
        sdk.models.list()
    assert time.monotonic() - started < 1.5


def test_drop_before_processing_creates_nothing(server: FakeOpenAI, client: openai.OpenAI) -> None:
    training_file = upload(client)
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.drop_before())
    with pytest.raises(openai.APIConnectionError):
        client.fine_tuning.jobs.create(model="gpt-4o-mini", training_file=training_file)
    assert server.jobs == {}


def test_drop_after_create_leaves_exactly_one_findable_job(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    training_file = upload(client)
    server.add_fault("POST", r"/fine_tuning/jobs", Fault.drop_after())
    with pytest.raises(openai.APIConnectionError) as error:
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini",
            training_file=training_file,
            metadata={"compilation_id": "c-77"},
        )
    assert not isinstance(error.value, openai.APITimeoutError)

    assert len(server.jobs) == 1
    found = list(client.fine_tuning.jobs.list(metadata={"compilation_id": "c-77"}))
    assert [job.id for job in found] == list(server.jobs)


def test_fault_matching_and_times(server: FakeOpenAI, client: openai.OpenAI) -> None:
    server.add_fault("GET", r"/models/[^/]+", Fault.server_error(), times=2)
    assert client.models.list().data  # /models does not match /models/[^/]+
    for _ in range(2):
        with pytest.raises(openai.InternalServerError):
            client.models.retrieve("gpt-4.1-2025-04-14")
    assert client.models.retrieve("gpt-4.1-2025-04-14").id == "gpt-4.1-2025-04-14"
    assert server.pending_faults == 0
    assert ("GET", "/v1/models/gpt-4.1-2025-04-14") in server.requests


def test_a_dpo_job_trains_on_preference_lines_and_fails_on_chat_lines(
    server: FakeOpenAI, client: openai.OpenAI
) -> None:
    pair = {
        "input": {"messages": [{"role": "user", "content": "May I expense a taxi?"}]},
        "preferred_output": [{"role": "assistant", "content": "Yes, with a receipt."}],
        "non_preferred_output": [{"role": "assistant", "content": "No."}],
    }
    preference = upload(client, "\n".join(json.dumps(pair) for _ in range(10)).encode())
    dpo: job_create_params.Method = {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.2}}}
    job = client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=preference,
        method=dpo,
    )
    assert job.method is not None and job.method.type == "dpo"
    assert job.method.dpo is not None and job.method.dpo.hyperparameters is not None
    assert job.method.dpo.hyperparameters.beta == 0.2
    for _ in range(6):
        job = client.fine_tuning.jobs.retrieve(job.id)
    assert job.status == "succeeded" and job.fine_tuned_model
    # A chat file sent as preference data: the job fails validating it, naming the line.
    chat = client.fine_tuning.jobs.create(
        model="gpt-4o-mini-2024-07-18",
        training_file=upload(client),
        method=dpo,
    )
    failed = client.fine_tuning.jobs.retrieve(chat.id)
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.code == "invalid_training_file"
    assert "Line 1: 'input.messages' is missing" in failed.error.message
    with pytest.raises(openai.BadRequestError, match="beta"):
        client.fine_tuning.jobs.create(
            model="gpt-4o-mini-2024-07-18",
            training_file=preference,
            method={"type": "dpo", "dpo": {"hyperparameters": {"beta": 3}}},
        )
