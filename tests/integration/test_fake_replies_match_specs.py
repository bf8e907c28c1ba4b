"""The fake servers' replies, OpenAI's and Azure's, against the published API descriptions
in tests/data/api (see its README): every reply shape a test meets (files, jobs in every
state, job lists, events, checkpoints, models, chat completions and stream chunks, errors)
is fetched over HTTP and checked with jsonschema, properties the description does not
define included. A fake that drifts fails here; the last tests show that it would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import httpx2
import pytest

from tests.api_specs import (
    AZURE_AUTHORING_SPEC,
    AZURE_INFERENCE_SPEC,
    OPENAI_SPEC,
    ApiSpec,
)
from tests.fakes.azure_openai import (
    AZURE_API_VERSION,
    FakeAzureOpenAI,
    azure_quota_exceeded,
    azure_rate_limit,
)
from tests.openai_server import JSON, FakeOpenAI, Fault

TRAINING = b"".join(
    json.dumps(
        {
            "messages": [
                {"role": "user", "content": f"Question {i}?"},
                {"role": "assistant", "content": f"Answer {i}."},
            ]
        }
    ).encode()
    + b"\n"
    for i in range(12)
)
SCRIPT = ["validating_files", "queued", "running", "running", "succeeded"]


@cache
def spec(name: str) -> ApiSpec:
    path = {"openai": OPENAI_SPEC, "authoring": AZURE_AUTHORING_SPEC}.get(
        name, AZURE_INFERENCE_SPEC
    )
    return ApiSpec.from_file(path)


class Checker:
    """Sends requests and checks each JSON answer against the description."""

    def __init__(self, client: httpx2.Client, api: ApiSpec, prefix: str, errors: str) -> None:
        self.client = client
        self.api = api
        self.prefix = prefix
        self.errors = errors  # the error schema's name, for answers the operation omits
        self.checked: list[str] = []

    def __enter__(self) -> Checker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.client.close()

    def __call__(
        self, method: str, path: str, expect: int, api: ApiSpec | None = None, **kwargs: Any
    ) -> Any:
        response = self.client.request(method, self.prefix + path, **kwargs)
        assert response.status_code == expect, response.text
        body = response.json()
        self.verify(method, path.split("?")[0], response.status_code, body, api)
        return body

    def verify(
        self, method: str, path: str, status: int, body: Any, api: ApiSpec | None = None
    ) -> None:
        api = api or self.api
        if status >= 400:
            try:
                schema = api.response_schema(method, path, status)
            except AssertionError:  # the operation lists no error answer: the common shape
                schema = api.schema(self.errors)
        else:
            schema = api.response_schema(method, path, status)
        problems = api.problems(schema, body)
        assert problems == [], f"{method} {path} {status}: {problems}"
        self.checked.append(f"{method} {path} {status}")

    def stream(self, path: str, payload: JSON, api: ApiSpec | None = None) -> int:
        api = api or self.api
        if api is spec("inference"):  # Azure's file lists both shapes under application/json
            schema = api.schema("createChatCompletionStreamResponse")
        else:
            schema = api.response_schema("POST", path, 200, "text/event-stream")
        chunks = 0
        with self.client.stream("POST", self.prefix + path, json=payload) as response:
            assert response.status_code == 200
            for line in response.iter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                problems = api.problems(schema, json.loads(line[len("data: ") :]))
                assert problems == [], f"stream chunk: {problems}"
                chunks += 1
        return chunks


@pytest.fixture
def openai_fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI(auto_advance=False, job_script=SCRIPT) as fake:
        yield fake


@pytest.fixture
def azure_fake() -> Iterator[FakeAzureOpenAI]:
    with FakeAzureOpenAI(auto_advance=False, job_script=SCRIPT) as fake:
        yield fake


def _openai_checker(fake: FakeOpenAI) -> Checker:
    client = httpx2.Client(headers={"Authorization": f"Bearer {fake.api_key}"}, timeout=5)
    return Checker(client, spec("openai"), fake.base_url, "ErrorResponse")


def _files(check: Checker, created: int) -> str:
    upload = {"file": ("train.jsonl", TRAINING)}
    file = check("POST", "/files", created, data={"purpose": "fine-tune"}, files=upload)
    other = check("POST", "/files", created, data={"purpose": "fine-tune"}, files=upload)
    check("GET", "/files", 200)
    check("GET", f"/files/{file['id']}", 200)
    check("DELETE", f"/files/{other['id']}", 200)
    return str(file["id"])


def _job_lifecycle(check: Checker, fake: FakeOpenAI, body: JSON, created: int) -> JSON:
    job = check("POST", "/fine_tuning/jobs", created, json=body)
    for _ in SCRIPT[1:]:
        fake.advance(job["id"])
        job = check("GET", f"/fine_tuning/jobs/{job['id']}", 200)
    assert job["status"] == "succeeded"
    check("GET", "/fine_tuning/jobs?limit=2", 200)
    check("GET", f"/fine_tuning/jobs/{job['id']}/events?limit=3", 200)
    check("GET", f"/fine_tuning/jobs/{job['id']}/checkpoints", 200)
    # A failed and a cancelled job.
    fake.job_script = ["validating_files", "failed"]
    failed = check("POST", "/fine_tuning/jobs", created, json=body)
    fake.advance(failed["id"])
    assert check("GET", f"/fine_tuning/jobs/{failed['id']}", 200)["error"]
    fake.job_script = list(SCRIPT)
    running = check("POST", "/fine_tuning/jobs", created, json=body)
    check("POST", f"/fine_tuning/jobs/{running['id']}/cancel", 200)
    return dict(job)


PREFERENCE = b"".join(
    json.dumps(
        {
            "input": {"messages": [{"role": "user", "content": f"Question {n}?"}]},
            "preferred_output": [{"role": "assistant", "content": "The right answer."}],
            "non_preferred_output": [{"role": "assistant", "content": "A wrong answer."}],
        }
    ).encode()
    + b"\n"
    for n in range(10)
)


def _dpo_job(check: Checker, fake: FakeOpenAI, model: str) -> None:
    """A preference (DPO) job on the supervised result, as OpenAI's DPO example sends it."""
    upload = {"file": ("preference.jsonl", PREFERENCE)}
    file = check("POST", "/files", 200, data={"purpose": "fine-tune"}, files=upload)
    body = {
        "model": model,
        "training_file": file["id"],
        "metadata": {"compilation_id": "17", "stage": "dpo"},
        "method": {"type": "dpo", "dpo": {"hyperparameters": {"beta": 0.1, "n_epochs": 2}}},
    }
    job = check("POST", "/fine_tuning/jobs", 200, json=body)
    for _ in SCRIPT[1:]:
        fake.advance(job["id"])
        job = check("GET", f"/fine_tuning/jobs/{job['id']}", 200)
    assert job["status"] == "succeeded" and job["method"]["type"] == "dpo"
    assert job["method"]["dpo"]["hyperparameters"]["beta"] == 0.1
    check("POST", "/fine_tuning/jobs", 400, json={**body, "method": {"type": "reinforcement"}})


def test_every_openai_reply_matches_the_openai_description(openai_fake: FakeOpenAI) -> None:
    with _openai_checker(openai_fake) as check:
        _openai_session(openai_fake, check)
    assert len(check.checked) >= 25


def _openai_session(fake: FakeOpenAI, check: Checker) -> None:
    file_id = _files(check, 200)
    body = {
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": file_id,
        "validation_file": file_id,
        "suffix": "northwind",
        "metadata": {"compilation_id": "17"},
        "method": {"type": "supervised", "supervised": {"hyperparameters": {"n_epochs": 2}}},
    }
    job = _job_lifecycle(check, fake, body, 200)
    check("GET", "/fine_tuning/jobs?metadata[compilation_id]=17", 200)
    model = job["fine_tuned_model"]
    _dpo_job(check, fake, model)
    check("GET", "/models", 200)
    check("GET", f"/models/{model}", 200)
    chat = {"model": model, "messages": [{"role": "user", "content": "How long is delivery?"}]}
    answer = check("POST", "/chat/completions", 200, json=chat)
    assert answer["choices"][0]["message"]["content"] == f"[{model}] How long is delivery?"
    streamed = {**chat, "stream": True, "stream_options": {"include_usage": True}}
    assert check.stream("/chat/completions", streamed) >= 5
    check("DELETE", f"/models/{model}", 200)
    # Errors: the API's own and injected ones.
    check("GET", "/models/gpt-9", 404)
    check("POST", "/fine_tuning/jobs", 400, json={"model": "gpt-4o-mini"})
    check("GET", "/models", 401, headers={"Authorization": "Bearer sk-wrong"})
    for fault in (Fault.rate_limit(2), Fault.quota_exceeded(), Fault.server_error(503)):
        fake.add_fault("GET", "/models", fault)
        check("GET", "/models", fault.status)


def test_an_empty_file_list_differs_from_the_description_only_in_its_null_ids(
    openai_fake: FakeOpenAI,
) -> None:
    """The description requires first_id and last_id as strings even for an empty list;
    the fake answers null there, as for an empty checkpoint list (whose description allows
    it). Exactly that, nothing else, differs."""
    with httpx2.Client(headers={"Authorization": f"Bearer {openai_fake.api_key}"}) as client:
        body = client.get(f"{openai_fake.base_url}/files").json()
    api = spec("openai")
    problems = api.problems(api.response_schema("GET", "/files", 200), body)
    assert problems == [
        "/first_id: None is not of type 'string'",
        "/last_id: None is not of type 'string'",
    ]


def _azure_checker(fake: FakeAzureOpenAI, headers: dict[str, str]) -> Checker:
    client = httpx2.Client(headers=headers, params={"api-version": AZURE_API_VERSION}, timeout=5)
    return Checker(client, spec("authoring"), fake.base_url, "ErrorResponse")


def test_every_azure_reply_matches_azures_descriptions(azure_fake: FakeAzureOpenAI) -> None:
    with _azure_checker(azure_fake, {"api-key": azure_fake.api_key}) as check:
        _azure_session(azure_fake, check)
    assert len(check.checked) >= 25


def _azure_session(fake: FakeAzureOpenAI, check: Checker) -> None:
    file_id = _files(check, 201)
    body = {
        "model": "gpt-4o-mini-2024-07-18",
        "training_file": file_id,
        "suffix": "northwind-a1b2c3d4e",
        "hyperparameters": {"n_epochs": 2},
    }
    job = _job_lifecycle(check, fake, body, 201)
    assert job["suffix"] == "northwind-a1b2c3d4e" and "metadata" not in job
    check("GET", "/models", 200)
    check("GET", f"/models/{job['fine_tuned_model']}", 200)
    check("GET", "/models/gpt-4o-mini-2024-07-18", 200)
    # Chat goes through a deployment (made here straight in the fake's Resource Manager).
    fake.arm.deployments.clear()
    _deploy(fake, "arbiter-northwind-c17", job["fine_tuned_model"])
    inference = spec("inference")
    chat = {"messages": [{"role": "user", "content": "How long is delivery?"}]}
    path = "/deployments/arbiter-northwind-c17/chat/completions"
    answer = check("POST", path, 200, api=inference, json=chat)
    assert answer["choices"][0]["message"]["content"].endswith("How long is delivery?")
    assert check.stream(path, {**chat, "stream": True}, api=inference) >= 5
    check.errors = "errorResponse"
    check("POST", "/deployments/nowhere/chat/completions", 404, api=inference, json=chat)
    check.errors = "ErrorResponse"
    # Errors of the authoring API, its own and injected ones, and Entra ID sign-in.
    check("GET", "/fine_tuning/jobs/ftjob-none", 404)
    check("POST", "/fine_tuning/jobs", 400, json={**body, "metadata": {"a": "b"}})
    check("POST", "/fine_tuning/jobs", 400, json={**body, "model": "gpt-4o-2024-11-20"})
    check("POST", f"/fine_tuning/jobs/{job['id']}/cancel", 400)
    check("GET", "/models", 401, headers={"api-key": "wrong"})
    with _azure_checker(fake, {"Authorization": "Bearer entra-test-token"}) as entra:
        entra("GET", "/models", 200)
    for fault in (azure_rate_limit(2), azure_quota_exceeded(), Fault.server_error(500)):
        fake.add_fault("GET", "/models", fault)
        check("GET", "/models", fault.status)


def _deploy(fake: FakeAzureOpenAI, name: str, model: str) -> None:
    path = (
        f"{fake.management_url}/subscriptions/{fake.arm.subscription}/resourceGroups/"
        f"{fake.arm.resource_group}/providers/Microsoft.CognitiveServices/accounts/"
        f"{fake.arm.account}/deployments/{name}"
    )
    body = {
        "sku": {"name": "Standard", "capacity": 1},
        "properties": {"model": {"format": "OpenAI", "name": model, "version": "1"}},
    }
    with httpx2.Client(
        headers={"Authorization": "Bearer arm-test-token"}, params={"api-version": "2025-09-01"}
    ) as client:
        answer = client.put(path, json=body)
    assert answer.status_code == 201, answer.text
    fake.arm.advance(name, 5)


# ---- the check catches drift ------------------------------------------------------------


class _DriftedOpenAI(FakeOpenAI):
    """The fake as it was: nulls in file objects; and a misspelled optional job field."""

    def _store_file(
        self, filename: str, content: bytes, purpose: str, expires_at: int | None = None
    ) -> JSON:
        file = super()._store_file(filename, content, purpose, expires_at)
        file.update(expires_at=expires_at, status_details=None)
        return file

    @staticmethod
    def _public_job(job: JSON) -> JSON:
        return {**job, "estimated_finsh": job["estimated_finish"]}


def test_the_check_catches_nulls_and_a_misspelled_field() -> None:
    with _DriftedOpenAI(auto_advance=False) as fake, _openai_checker(fake) as check:
        with pytest.raises(AssertionError, match="expires_at: None is not of type 'integer'"):
            _files(check, 200)
        file_id = next(iter(fake.files))
        body = {"model": "gpt-4o-mini-2024-07-18", "training_file": file_id}
        with pytest.raises(AssertionError, match="'estimated_finsh' is not a property"):
            check("POST", "/fine_tuning/jobs", 200, json=body)


class _DriftedAzure(FakeAzureOpenAI):
    """OpenAI's job states and error shape leaking into the Azure dialect."""

    def _azure_job(self, job: JSON) -> JSON:
        return {**super()._azure_job(job), "status": job["status"]}


def test_the_check_catches_openai_words_in_azure_replies() -> None:
    with (
        _DriftedAzure(auto_advance=False) as fake,
        _azure_checker(fake, {"api-key": fake.api_key}) as check,
    ):
        file_id = _files(check, 201)
        body = {"model": "gpt-4o-mini-2024-07-18", "training_file": file_id}
        with pytest.raises(AssertionError, match="'validating_files' is not one of"):
            check("POST", "/fine_tuning/jobs", 201, json=body)
        api = spec("authoring")
        openai_error = {
            "error": {
                "message": "No.",
                "type": "invalid_request_error",
                "param": None,
                "code": "invalid_value",
            }
        }
        assert api.problems(api.schema("ErrorResponse"), openai_error)


def test_the_vllm_fake_s_chat_replies_match_the_openai_description() -> None:
    """vLLM answers chat in OpenAI's shapes, which the SDK parses: checked here. Its model
    cards (root, parent, max_model_len, permission) and errors (an integer ``code``) are
    vLLM's own, which OpenAI's description does not define, so they are not checked."""
    from tests.fakes.vllm import FakeVllm

    with FakeVllm(base_model="SmolLM2-135M-Instruct") as fake:
        client = httpx2.Client(timeout=5)
        with Checker(client, spec("openai"), fake.base_url, "ErrorResponse") as check:
            chat = {
                "model": "SmolLM2-135M-Instruct",
                "messages": [{"role": "user", "content": "Where is the spare key?"}],
            }
            answer = check("POST", "/chat/completions", 200, json=chat)
            assert answer["choices"][0]["message"]["content"].endswith("Where is the spare key?")
            assert check.stream("/chat/completions", {**chat, "stream": True}) >= 5
