"""A local server that speaks Azure OpenAI's dialect of the OpenAI protocol, for tests.

It is ``tests.openai_server.FakeOpenAI`` (same scripted jobs, events, checkpoints, echo chat
and fault injection) answering as Azure's own descriptions say (api-version 2024-10-21,
``/work/shared/reference/azure-openai/``), plus the Resource Manager deployments of
``tests.fakes.arm``. Point the real SDK at it with
``AzureOpenAI(azure_endpoint=server.endpoint, api_version=AZURE_API_VERSION, api_key=...)``
and the management SDK with ``base_url=server.management_url``.

Data plane, all under ``/openai`` and all with ``?api-version=`` (one of ``api_versions``,
else 404 ``notFound``)::

    POST   /files                         201 (not 200); file objects carry no nulls
    GET    /files (object and data only: FileList pages nothing), /files/{id},
           /files/{id}/content;  DELETE /files/{id}
    POST   /fine_tuning/jobs              201; only the fields of FineTuningJobCreation
                                          (model, training_file, validation_file,
                                          hyperparameters, suffix <= 40 of [A-Za-z0-9_-],
                                          seed), anything else 400 invalidPayload
    GET    /fine_tuning/jobs[/{id}[/events|/checkpoints]];  POST .../cancel
    DELETE /fine_tuning/jobs/{id}         204
    GET    /models, /models/{id}          capabilities, lifecycle_status, deprecation
    POST   /deployments/{name}/chat/completions   only a deployment whose provisioningState
                                          is Succeeded answers, as its model

Authentication: header ``api-key: <api_key>`` or ``Authorization: Bearer <token>`` with a
token of ``entra_tokens`` (Microsoft Entra ID, scope https://cognitiveservices.azure.com/
.default); else 401 ``unauthorized``.

Differences from the OpenAI server's answers: job states are Azure's (validating_files and
queued show as ``pending``); jobs carry ``suffix`` and no ``metadata``, ``method``,
``organization_id`` or nulls; event level ``warn`` is ``warning``; a fine-tuned model is
named ``{base}.ft-{32 hex}-{suffix}``; errors have the Microsoft shape
``{"error": {"code", "message", "target"?}}`` with codes of Azure's ``ErrorCode``
(invalidPayload, unauthorized, notFound, tooManyRequests, quotaExceeded, ...), faults
included. A base model in ``not_fine_tunable`` is refused at job creation with 400
invalidPayload "The specified base model does not support fine-tuning."
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any, Self
from urllib.parse import parse_qsl, unquote

from tests.fakes.arm import ArmDeployments
from tests.openai_server import (
    BASE_MODEL_CREATED,
    JSON,
    FakeOpenAI,
    Fault,
    RecordedRequest,
    _ApiError,
    _fail,
    _json_response,
    _Response,
)

__all__ = [
    "AZURE_API_VERSION",
    "DEFAULT_AZURE_BASE_MODELS",
    "FakeAzureOpenAI",
    "arm_fault",
    "azure_quota_exceeded",
    "azure_rate_limit",
    "serving_azure",
]

AZURE_API_VERSION = "2024-10-21"
DEFAULT_AZURE_BASE_MODELS: tuple[str, ...] = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-2025-04-14",
    "gpt-4o-2024-11-20",
)
DEFAULT_NOT_FINE_TUNABLE = frozenset({"gpt-4o-2024-11-20"})
# Fictional dates (unix seconds) so that Deprecation.fine_tune / .inference are exercised.
DEFAULT_DEPRECATION: Mapping[str, Mapping[str, int]] = {
    "gpt-4o-mini-2024-07-18": {"fine_tune": 1_799_193_600, "inference": 1_830_729_600},
    "gpt-4.1-mini-2025-04-14": {"fine_tune": 1_830_729_600, "inference": 1_862_265_600},
    "gpt-4.1-2025-04-14": {"fine_tune": 1_830_729_600, "inference": 1_862_265_600},
    "gpt-4o-2024-11-20": {"inference": 1_830_729_600},
}
JOB_CREATE_FIELDS = frozenset(
    {"model", "training_file", "validation_file", "hyperparameters", "suffix", "seed"}
)
AZURE_STATUS = {"validating_files": "pending", "queued": "pending"}
MS_ERROR_CODES = frozenset(
    {
        "conflict",
        "invalidPayload",
        "forbidden",
        "notFound",
        "unexpectedEntityState",
        "itemDoesAlreadyExist",
        "serviceUnavailable",
        "internalFailure",
        "quotaExceeded",
        "jsonlValidationFailed",
        "fileImportFailed",
        "tooManyRequests",
        "unauthorized",
        "contentFilter",
    }
)
_FROM_OPENAI_CODE = {
    "invalid_api_key": "unauthorized",
    "model_not_found": "notFound",
    "fine_tuning_job_not_found": "notFound",
    "rate_limit_exceeded": "tooManyRequests",
    "insufficient_quota": "quotaExceeded",
    "invalid_job_status": "unexpectedEntityState",
}
_BY_STATUS = {401: "unauthorized", 403: "forbidden", 404: "notFound", 409: "conflict"}
_SUFFIX = re.compile(r"[A-Za-z0-9_-]{1,40}")


def azure_rate_limit(retry_after: float = 1) -> Fault:
    """429 tooManyRequests with Retry-After (and retry-after-ms), in Azure's wording."""
    seconds = f"{retry_after:g}"
    return Fault.http_error(
        429,
        f"Requests to the Fine-tuning Operation under Azure OpenAI API version "
        f"{AZURE_API_VERSION} have exceeded call rate limit of your current OpenAI S0 pricing "
        f"tier. Please retry after {seconds} second.",
        code="tooManyRequests",
        headers={"Retry-After": seconds, "retry-after-ms": str(int(retry_after * 1000))},
    )


def azure_quota_exceeded() -> Fault:
    """429 quotaExceeded, no Retry-After: waiting does not help."""
    return Fault.http_error(
        429,
        "Quota exceeded for this resource: no new fine-tuning jobs can be created until the "
        "quota is raised.",
        code="quotaExceeded",
    )


def arm_fault(status: int, code: str, message: str) -> Fault:
    """A Resource Manager error answer, e.g. 500 InternalServerError."""
    return Fault("error", status=status, error={"code": code, "message": message})


def _no_nulls(value: JSON) -> JSON:
    return {k: v for k, v in value.items() if v is not None}


class FakeAzureOpenAI(FakeOpenAI):
    """``with FakeAzureOpenAI() as server:``; state is guarded by ``server.lock``;
    ``server.arm`` holds the deployments (``arm.script``, ``arm.deployments``, ...)."""

    def __init__(
        self,
        *,
        api_key: str = "azure-test-key",
        entra_tokens: set[str] | None = None,
        management_tokens: set[str] | None = None,
        api_versions: tuple[str, ...] = (AZURE_API_VERSION,),
        base_models: list[str] | None = None,
        not_fine_tunable: frozenset[str] = DEFAULT_NOT_FINE_TUNABLE,
        deprecation: Mapping[str, Mapping[str, int]] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            api_key=api_key, base_models=list(base_models or DEFAULT_AZURE_BASE_MODELS), **kwargs
        )
        self.entra_tokens = set(entra_tokens or {"entra-test-token"})
        self.api_versions = set(api_versions)
        self.not_fine_tunable = set(not_fine_tunable)
        self.deprecation = dict(DEFAULT_DEPRECATION if deprecation is None else deprecation)
        self.arm = ArmDeployments(
            lock=self.lock,
            models=self._deployable_models,
            clock=self._now,
            tokens=set(management_tokens or {"arm-test-token"}),
        )
        self.chat_deployments: list[str] = []  # deployment of each chat request, in order
        self.endpoint = ""
        self.management_url = ""

    def start(self) -> Self:
        super().start()
        self.endpoint = self.url
        self.base_url = f"{self.url}/openai"
        self.management_url = self.url
        return self

    # ---- what differs from OpenAI -------------------------------------------------------

    def _deployable_models(self) -> set[str]:
        return set(self.base_models) | set(self.fine_tuned_models) | self.checkpoint_models

    def _fine_tuned_name(self, job: JSON) -> str:
        base = str(job["model"]).split(".ft-")[0]
        digest = hashlib.sha256(str(job["id"]).encode()).hexdigest()[:32]
        suffix = self._job_states[job["id"]].suffix
        return f"{base}.ft-{digest}" + (f"-{suffix}" if suffix else "")

    def _model_objects(self) -> list[JSON]:
        def capabilities(fine_tune: bool) -> JSON:
            return {
                "fine_tune": fine_tune,
                "inference": True,
                "completion": False,
                "chat_completion": True,
                "embeddings": False,
            }

        models: list[JSON] = []
        for base in self.base_models:
            dates = dict(self.deprecation.get(base) or {"inference": BASE_MODEL_CREATED * 2})
            models.append(
                {
                    "object": "model",
                    "id": base,
                    "created_at": BASE_MODEL_CREATED,
                    "status": "succeeded",
                    "capabilities": capabilities(base not in self.not_fine_tunable),
                    "lifecycle_status": "generally-available",
                    "deprecation": dates,
                }
            )
        jobs_by_model = {j["fine_tuned_model"]: j for j in self.jobs.values()}
        for name, model in self.fine_tuned_models.items():
            job = jobs_by_model.get(name)
            models.append(
                {
                    "object": "model",
                    "id": name,
                    "created_at": model["created"],
                    "status": "succeeded",
                    "model": job["model"] if job else name.split(".ft-")[0],
                    "fine_tune": job["id"] if job else None,
                    "capabilities": capabilities(False),
                    "lifecycle_status": "generally-available",
                    "deprecation": {"inference": model["created"] + 365 * 86_400},
                }
            )
        return [_no_nulls(m) for m in models]

    def _azure_job(self, job: JSON) -> JSON:
        view = {
            k: v
            for k, v in job.items()
            if v is not None and k not in ("organization_id", "method", "metadata", "integrations")
        }
        view["status"] = AZURE_STATUS.get(job["status"], job["status"])
        if job.get("error"):
            view["error"] = _no_nulls(dict(job["error"]))
        state = self._job_states.get(job["id"])
        if state is not None and state.suffix:
            view["suffix"] = state.suffix
        return view

    def _azure_body(self, body: Any) -> Any:
        if not isinstance(body, dict):
            return body
        kind = body.get("object")
        if kind == "list":
            # Azure's lists carry object, data and has_more; no first_id or last_id.
            data = [self._azure_body(item) for item in body["data"]]
            return _no_nulls({"object": "list", "data": data, "has_more": body.get("has_more")})
        if kind == "fine_tuning.job":
            return self._azure_job(body)
        if kind == "fine_tuning.job.event":
            level = {"warn": "warning"}.get(body.get("level", ""), body.get("level"))
            return _no_nulls({**body, "level": level})
        if kind in ("file", "fine_tuning.job.checkpoint", "model"):
            return _no_nulls(body)
        return body

    # ---- errors ---------------------------------------------------------------------------

    @staticmethod
    def _ms_error(status: int, error: Mapping[str, Any]) -> JSON:
        code = error.get("code")
        if code not in MS_ERROR_CODES:
            code = _FROM_OPENAI_CODE.get(str(code)) or _BY_STATUS.get(status)
        if code is None:
            code = (
                "tooManyRequests"
                if status == 429
                else "serviceUnavailable"
                if status in (502, 503, 504)
                else "internalFailure"
                if status >= 500
                else "invalidPayload"
            )
        out: JSON = {"code": code, "message": str(error.get("message") or "Error.")}
        if error.get("param"):
            out["target"] = str(error["param"])
        return {"error": out}

    def _azure_response(
        self, response: _Response, created: bool, file_list: bool = False
    ) -> _Response:
        if response.chunks is not None or not response.content_type.startswith("application/json"):
            return response
        try:
            body = json.loads(response.body or b"null")
        except ValueError:
            return response
        if response.status >= 400:
            error = body.get("error") if isinstance(body, dict) else None
            new = self._ms_error(response.status, error if isinstance(error, dict) else {})
        else:
            new = self._azure_body(body)
            if file_list and isinstance(new, dict):
                new = {"object": "list", "data": new.get("data", [])}  # FileList: no paging
        status = 201 if created and response.status == 200 else response.status
        return _json_response(status, new, response.headers)

    def _fault_reply(self, fault: Fault, request: RecordedRequest) -> _Response:
        reply = super()._fault_reply(fault, request)
        if self.arm.handles(request.path):
            if fault.error is None:
                return reply
            return _json_response(
                reply.status, {"error": _no_nulls(dict(fault.error))}, reply.headers
            )
        return self._azure_response(reply, created=False)

    def _fault_paths(self, path: str) -> tuple[str, ...]:
        short = path.removeprefix("/openai")
        forms = [path, short]
        parts = short.strip("/").split("/")
        if len(parts) == 4 and parts[0] == "deployments":
            forms.append("/" + "/".join(parts[2:]))  # "/chat/completions"
        return tuple(forms)

    # ---- requests -------------------------------------------------------------------------

    def _check_azure_auth(self, headers: Mapping[str, str]) -> _Response | None:
        key = headers.get("api-key")
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if key is not None and key == self.api_key:
            return None
        if key is None and scheme.lower() == "bearer" and token.strip() in self.entra_tokens:
            return None
        return _json_response(
            401,
            self._ms_error(
                401,
                {
                    "message": "Access denied due to invalid subscription key or wrong API "
                    "endpoint. Make sure to provide a valid key for an active subscription and "
                    "use a correct regional API endpoint for your resource.",
                },
            ),
        )

    def _dispatch(self, request: RecordedRequest) -> _Response:
        if self.arm.handles(request.path):
            return self.arm.handle(request)
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        if (
            not request.path.startswith("/openai/")
            or query.get("api-version") not in self.api_versions
        ):
            return _json_response(
                404, {"error": {"code": "notFound", "message": "Resource not found"}}
            )
        unauthorized = self._check_azure_auth(request.headers)
        if unauthorized is not None:
            return unauthorized
        segments = [unquote(s) for s in request.path[len("/openai/") :].strip("/").split("/")]
        handler, args = self._azure_route(request.method, segments)
        created = request.method == "POST" and segments in (["files"], ["fine_tuning", "jobs"])
        try:
            with self.lock:
                response = handler(request, query, *args)
        except _ApiError as error:
            response = error.response
        file_list = request.method == "GET" and segments == ["files"]
        return self._azure_response(response, created, file_list)

    def _azure_route(self, method: str, segments: list[str]) -> tuple[Any, list[str]]:
        chat = len(segments) == 4 and segments[0] == "deployments" and segments[1]
        if method == "POST" and chat and segments[2:] == ["chat", "completions"]:
            return self._deployment_chat, [segments[1]]
        if method == "DELETE" and len(segments) == 3 and segments[:2] == ["fine_tuning", "jobs"]:
            return self._delete_job, [segments[2]]
        route = None
        if not (method == "DELETE" and segments[:1] == ["models"]) and segments[:1] != ["chat"]:
            route = self._route(method, segments)
        if route is None:
            return self._not_found, []
        return route

    def _not_found(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        raise _fail(404, "Resource not found")

    def _create_job(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        body = self._json_body(request)
        unknown = sorted(set(body) - JOB_CREATE_FIELDS)
        if unknown:
            raise _fail(
                400,
                f"The request has fields that api-version {AZURE_API_VERSION} does not define: "
                f"{', '.join(unknown)}.",
                code="invalidPayload",
                param=unknown[0],
            )
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or not _SUFFIX.fullmatch(suffix)):
            raise _fail(
                400,
                "The suffix can contain up to 40 characters (a-z, A-Z, 0-9, - and _).",
                code="invalidPayload",
                param="suffix",
            )
        if body.get("model") in self.not_fine_tunable:
            raise _fail(
                400,
                "The specified base model does not support fine-tuning.",
                code="invalidPayload",
                param="model",
            )
        return super()._create_job(request, query)

    def _delete_job(
        self, request: RecordedRequest, query: Mapping[str, str], job_id: str
    ) -> _Response:
        self._job_or_404(job_id)
        del self.jobs[job_id]
        return _Response(204)

    def _deployment_chat(
        self, request: RecordedRequest, query: Mapping[str, str], name: str
    ) -> _Response:
        deployment = self.arm.deployments.get(name)
        if deployment is None or deployment["properties"]["provisioningState"] != "Succeeded":
            raise _fail(
                404,
                "The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.",
                code="DeploymentNotFound",
            )
        body = self._json_body(request)
        body["model"] = deployment["properties"]["model"]["name"]
        self.chat_deployments.append(name)
        answer = self._chat(dataclasses.replace(request, body=json.dumps(body).encode()), query)
        if answer.chunks is None:
            return _json_response(answer.status, _azure_completion(json.loads(answer.body)))
        chunks = []
        for chunk in answer.chunks:
            text = chunk.decode().removeprefix("data: ").strip()
            if text == "[DONE]":
                chunks.append(chunk)
            else:
                chunks.append(
                    f"data: {json.dumps(_azure_completion(json.loads(text)))}\n\n".encode()
                )
        return dataclasses.replace(answer, chunks=chunks)


def _azure_completion(completion: JSON) -> JSON:
    """A chat completion (or chunk) as api-version 2024-10-21 describes it: no service_tier,
    annotations or token details beyond reasoning_tokens."""
    completion = {k: v for k, v in completion.items() if k != "service_tier"}
    completion["choices"] = [
        {**c, "message": {k: v for k, v in c["message"].items() if k != "annotations"}}
        if "message" in c
        else c
        for c in completion["choices"]
    ]
    usage = completion.get("usage")
    if isinstance(usage, dict):
        details = usage.get("completion_tokens_details") or {}
        completion["usage"] = {
            **{k: v for k, v in usage.items() if not k.endswith("_details")},
            "completion_tokens_details": {"reasoning_tokens": details.get("reasoning_tokens", 0)},
        }
    return completion


@contextlib.contextmanager
def serving_azure(
    monkeypatch: Any, data_dir: object, key_env: str, **kwargs: Any
) -> Iterator[FakeAzureOpenAI]:
    """A started server the studio reaches as it would reach Azure: its key in ``key_env``,
    Resource Manager at the server (``ARBITER_AZURE_MANAGEMENT_URL``) and an Entra ID
    credential that the server accepts; put back afterwards."""
    from core.providers import registry
    from tests.fakes.entra import credential_for

    monkeypatch.setenv("ARBITER_DATA_DIR", str(data_dir))
    with FakeAzureOpenAI(**kwargs) as server:
        monkeypatch.setenv(key_env, server.api_key)
        monkeypatch.setenv(registry.ARM_URL_ENV, server.management_url)
        registry.use_entra_credential(credential_for(server))
        try:
            yield server
        finally:
            registry.use_entra_credential(None)
