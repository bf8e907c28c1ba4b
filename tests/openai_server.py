"""A local HTTP server that speaks the OpenAI REST wire protocol, for tests.

The real ``openai`` SDK (3.x, which sends through ``httpx2`` so respx cannot intercept it) is
pointed at this server with ``base_url=server.base_url``; nothing in the SDK is patched.
Standard library only: ``http.server.ThreadingHTTPServer`` in a background thread.

Response bodies follow the official OpenAPI description
(``/work/shared/reference/openai-openapi.yaml``): ``OpenAIFile``, ``ListFilesResponse``,
``FineTuningJob``, ``ListPaginatedFineTuningJobsResponse``, ``FineTuningJobEvent``,
``ListFineTuningJobEventsResponse``, ``FineTuningJobCheckpoint``,
``ListFineTuningJobCheckpointsResponse``, ``Model``, ``ListModelsResponse``,
``CreateChatCompletionResponse``, ``CreateChatCompletionStreamResponse`` and
``ErrorResponse`` (``{"error": {"message", "type", "param", "code"}}``).

Endpoints (all under ``/v1``, all need ``Authorization: Bearer <api_key>``, else 401
``invalid_api_key``)::

    POST   /files                                   multipart: purpose, file (+ expires_after[...])
    GET    /files                                   purpose, limit, order, after
    GET    /files/{id}          DELETE /files/{id}  GET /files/{id}/content
    POST   /fine_tuning/jobs                        JSON CreateFineTuningJobRequest
    GET    /fine_tuning/jobs                        limit, after, metadata[k]=v, metadata=null
    GET    /fine_tuning/jobs/{id}                   advances the job one script step (auto_advance)
    GET    /fine_tuning/jobs/{id}/events            limit, after (newest first)
    GET    /fine_tuning/jobs/{id}/checkpoints       limit, after (newest first)
    POST   /fine_tuning/jobs/{id}/cancel            400 if the job already finished
    GET    /models              GET /models/{id}    DELETE /models/{id} (fine-tuned only)
    POST   /chat/completions                        plain or ``stream: true`` (SSE)

Anything else answers 404 ``Invalid URL (METHOD /path)`` in the error shape.

Job progress is scripted. Every job copies ``job_script`` when it is created (default
``DEFAULT_JOB_SCRIPT``: validating_files, queued, running, running, running, succeeded) and
starts at its first entry. Each ``GET /fine_tuning/jobs/{id}`` (``jobs.retrieve``) first moves
the job one entry along, then answers, unless the server was made with ``auto_advance=False``;
``advance()`` moves jobs by hand either way. Listing jobs, events or checkpoints never
advances. A finished job (succeeded, failed, cancelled) stays put; a script that ends on a
non-final status leaves the job there. Any other status (e.g. "paused") is simply shown.

* each ``running`` entry is one training tick: a "Step N/T: training loss=X" message event, a
  ``metrics`` event (data: step, total_steps, train_loss, train_mean_token_accuracy,
  valid_loss, valid_mean_token_accuracy, full_valid_loss, full_valid_mean_token_accuracy)
  and a checkpoint ``{fine_tuned_model}:ckpt-step-N`` are added. T = ceil(training examples *
  n_epochs / batch_size); losses fall and accuracies rise deterministically.
* ``succeeded``: ``fine_tuned_model = "ft:{base}:arbiter:{suffix or ''}:{8-char id}"``,
  ``trained_tokens = (bytes of the training file // 4) * n_epochs``, ``finished_at``, one
  result file ``step_metrics.csv`` (purpose fine-tune-results); the model is listed by
  ``GET /models`` and can be used for chat, as can its checkpoints.
* ``failed``: ``error = job_error`` (default code ``invalid_training_file``, param
  ``training_file``), ``finished_at``.
* ``cancelled``: ``finished_at``.

Hyperparameters: ``method.supervised.hyperparameters`` or the legacy top-level
``hyperparameters``; ``"auto"`` resolves to n_epochs=3, batch_size=1,
learning_rate_multiplier=1.8. The job shows them both at ``hyperparameters`` and under
``method``. Models: a job's model must be a base model (or its alias without the date, such
as "gpt-4o-mini") or a fine-tuned model of this server, else 404 ``model_not_found``.

Methods: ``supervised`` and ``dpo`` (``method.dpo.hyperparameters`` with ``beta``, auto 0.1,
0 < beta <= 2); any other type is a 400. A DPO job's training file must be preference JSONL
(``preference_file_problem``): one that is not is created and then fails while validating
its files with ``invalid_training_file``, naming the line, as OpenAI's does.

Chat echo rule (deterministic): the answer is ``f"[{model}] {text}"`` where ``model`` is the
``model`` field exactly as sent and ``text`` is the last ``user`` message's text (content
parts of type text joined by a space), whitespace collapsed to single spaces and cut to
``ECHO_LIMIT`` (200) characters; ``"(no user message)"`` if there is none. ``usage`` counts
whitespace-separated words: prompt_tokens = words in all messages, completion_tokens = words
in the answer. Streaming sends a role chunk, one chunk per word of the answer (joined they
give the same text), a final chunk with ``finish_reason: "stop"``, a usage chunk if
``stream_options.include_usage``, then ``data: [DONE]``.

Faults (``Fault`` below) are queued with ``add_fault(method, path_pattern, fault, times)``
and fire before authentication, in the order they were added. ``repeating_lists`` makes a
list misbehave as a stateless mock does: the same first page, always ``has_more: true``.

Azure OpenAI's dialect of the same protocol (``/openai/...?api-version=``, ``api-key``,
deployments and the Resource Manager API) is ``tests.fakes.azure_openai.FakeAzureOpenAI``,
a subclass of this server.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
import socket
import string
import sys
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from email.message import Message
from email.utils import collapse_rfc2231_value
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qsl, unquote, urlsplit

__all__ = [
    "DEFAULT_BASE_MODELS",
    "DEFAULT_JOB_SCRIPT",
    "DEFAULT_SHUTDOWN_DATES",
    "ECHO_LIMIT",
    "FINE_TUNING_UNAVAILABLE_CODE",
    "FakeOpenAI",
    "Fault",
    "RecordedRequest",
    "echo_answer",
]

DEFAULT_BASE_MODELS: tuple[str, ...] = (
    "gpt-4o-mini-2024-07-18",
    "gpt-4.1-mini-2025-04-14",
    "gpt-4.1-2025-04-14",
)
DEFAULT_JOB_SCRIPT: tuple[str, ...] = (
    "validating_files",
    "queued",
    "running",
    "running",
    "running",
    "succeeded",
)
# Fictional shutdown date, so that the optional Model.shutdown_date field is exercised.
DEFAULT_SHUTDOWN_DATES: Mapping[str, str] = {"gpt-4o-mini-2024-07-18": "2027-03-31"}
FINISHED_STATUSES = frozenset({"succeeded", "failed", "cancelled"})
FILE_PURPOSES = frozenset(
    {
        "assistants",
        "assistants_output",
        "batch",
        "batch_output",
        "fine-tune",
        "fine-tune-results",
        "vision",
        "user_data",
    }
)
AUTO_HYPERPARAMETERS: Mapping[str, int | float] = {
    "n_epochs": 3,
    "batch_size": 1,
    "learning_rate_multiplier": 1.8,
}
ECHO_LIMIT = 200
DPO_AUTO_BETA = 0.1
FINE_TUNING_UNAVAILABLE_CODE = "model_not_available"
DEFAULT_JOB_ERROR: Mapping[str, Any] = {
    "code": "invalid_training_file",
    "message": (
        "The job failed due to an invalid training file. "
        "Check the format of the training examples and try again."
    ),
    "param": "training_file",
}
BASE_MODEL_CREATED = 1_700_000_000
_ALPHANUM = string.ascii_letters + string.digits
_LOWER_ALNUM = string.ascii_lowercase + string.digits
_DATE_SUFFIX = re.compile(r"-\d{4}-\d{2}-\d{2}")
_STREAM_PIECE = re.compile(r"\s*\S+")

JSON = dict[str, Any]


def _new_id(prefix: str, length: int = 24, alphabet: str = _ALPHANUM) -> str:
    return prefix + "".join(secrets.choice(alphabet) for _ in range(length))


def _error_body(
    message: str, *, type: str, param: str | None = None, code: str | None = None
) -> JSON:
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


def _default_error_type(status: int) -> str:
    if status == 429:
        return "requests"
    if status >= 500:
        return "server_error"
    return "invalid_request_error"


# --------------------------------------------------------------------------------------------
# Faults
# --------------------------------------------------------------------------------------------

FaultKind = Literal["error", "timeout", "drop_before", "drop_after"]


@dataclass(frozen=True)
class Fault:
    """One injected misbehaviour. Build it with the class methods; queue it with add_fault.

    kind "error": answer ``status`` with ``{"error": error}`` (or ``raw_body``) and
    ``headers``, without processing the request. A literal ``{model}`` in the message is
    replaced by the request's JSON ``model`` field.
    kind "timeout": sleep ``delay`` seconds first (make it longer than the client timeout);
    then, if ``then_process``, handle the request normally and answer late, else close the
    connection without processing.
    kind "drop_before": close the connection without processing and without an answer.
    kind "drop_after": process the request (state changes, e.g. the job IS created), then
    close the connection without an answer.
    """

    kind: FaultKind
    status: int = 500
    error: Mapping[str, Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    raw_body: bytes | None = None
    content_type: str = "application/json"
    delay: float = 0.0
    then_process: bool = False

    @classmethod
    def http_error(
        cls,
        status: int,
        message: str,
        *,
        type: str | None = None,
        code: str | None = None,
        param: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Fault:
        """Any status with an OpenAI error body; type defaults by status class."""
        error = {
            "message": message,
            "type": type or _default_error_type(status),
            "param": param,
            "code": code,
        }
        return cls("error", status=status, error=error, headers=dict(headers or {}))

    @classmethod
    def server_error(cls, status: int = 500) -> Fault:
        """500, 502, 503 or 504 with the usual OpenAI server-error wording."""
        messages = {
            500: "The server had an error while processing your request. Sorry about that!",
            502: "Bad gateway.",
            503: "The engine is currently overloaded, please try again later.",
            504: "Gateway timeout.",
        }
        message = messages.get(status, "The server had an error processing your request.")
        return cls.http_error(status, message, type="server_error")

    @classmethod
    def rate_limit(cls, retry_after: float = 1) -> Fault:
        """429 rate_limit_exceeded with ``Retry-After: <seconds>`` (and retry-after-ms)."""
        seconds = f"{retry_after:g}"
        return cls.http_error(
            429,
            f"Rate limit reached for requests. Please try again in {seconds}s.",
            type="requests",
            code="rate_limit_exceeded",
            headers={
                "Retry-After": seconds,
                "retry-after-ms": str(int(retry_after * 1000)),
                "x-ratelimit-remaining-requests": "0",
            },
        )

    @classmethod
    def quota_exceeded(cls) -> Fault:
        """429 insufficient_quota (no Retry-After: retrying does not help)."""
        return cls.http_error(
            429,
            "You exceeded your current quota, please check your plan and billing details.",
            type="insufficient_quota",
            code="insufficient_quota",
        )

    @classmethod
    def invalid_api_key(cls) -> Fault:
        """401 invalid_api_key, as for a revoked key."""
        return cls.http_error(
            401,
            "Incorrect API key provided. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            code="invalid_api_key",
        )

    @classmethod
    def model_not_found(cls, model: str | None = None) -> Fault:
        """404 model_not_found (param "model"); the request's model is named if None."""
        name = "{model}" if model is None else model
        return cls.http_error(
            404,
            f"The model `{name}` does not exist or you do not have access to it.",
            code="model_not_found",
            param="model",
        )

    @classmethod
    def model_not_fine_tunable(cls) -> Fault:
        """400 "model_not_available" with the real API's wording for a base model that
        cannot be fine-tuned or has a typo in its name: "Model {model} is not available for
        fine-tuning or does not exist." (param "model")."""
        return cls.http_error(
            400,
            "Model {model} is not available for fine-tuning or does not exist.",
            code=FINE_TUNING_UNAVAILABLE_CODE,
            param="model",
        )

    @classmethod
    def bad_request(cls, code: str, message: str, param: str | None = None) -> Fault:
        """400 invalid_request_error with your own code, message and param."""
        return cls.http_error(400, message, code=code, param=param)

    @classmethod
    def fine_tuning_unavailable(cls, status: int = 400) -> Fault:
        """Fine-tuning switched off for the account: code "model_not_available", param
        "model", message "Fine-tuning is not available for this account or model: {model}.
        New fine-tuning jobs cannot be created." (400 BadRequestError; 403 if asked)."""
        return cls.http_error(
            status,
            "Fine-tuning is not available for this account or model: {model}. "
            "New fine-tuning jobs cannot be created.",
            code=FINE_TUNING_UNAVAILABLE_CODE,
            param="model",
        )

    @classmethod
    def raw_response(
        cls, status: int, body: bytes, content_type: str = "text/html; charset=utf-8"
    ) -> Fault:
        """A non-JSON answer, e.g. a proxy's HTML 502 page."""
        return cls("error", status=status, raw_body=body, content_type=content_type)

    @classmethod
    def timeout(cls, delay: float = 2.0, *, then_process: bool = False) -> Fault:
        """Sleep ``delay`` seconds before answering; see the class docstring."""
        return cls("timeout", delay=delay, then_process=then_process)

    @classmethod
    def drop_before(cls) -> Fault:
        """Close the connection without processing the request."""
        return cls("drop_before")

    @classmethod
    def drop_after(cls) -> Fault:
        """Process the request, then close the connection without answering."""
        return cls("drop_after")


@dataclass
class _QueuedFault:
    method: str
    pattern: re.Pattern[str]
    fault: Fault
    remaining: int  # negative: forever


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    query: str
    headers: Mapping[str, str]
    body: bytes


@dataclass
class _Response:
    status: int
    body: bytes = b""
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)
    chunks: list[bytes] | None = None  # streamed with chunked transfer encoding


def _json_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> _Response:
    return _Response(status, json.dumps(body).encode(), headers=dict(headers or {}))


def _error(
    status: int,
    message: str,
    *,
    type: str | None = None,
    param: str | None = None,
    code: str | None = None,
) -> _Response:
    body = _error_body(message, type=type or _default_error_type(status), param=param, code=code)
    return _json_response(status, body)


class _ApiError(Exception):
    def __init__(self, response: _Response) -> None:
        super().__init__(response.status)
        self.response = response


def _fail(
    status: int, message: str, *, param: str | None = None, code: str | None = None
) -> _ApiError:
    return _ApiError(_error(status, message, param=param, code=code))


@dataclass
class _JobState:
    script: list[str]
    position: int = 0
    running_ticks: int = 0
    total_ticks: int = 0
    total_steps: int = 1
    short_id: str = ""
    suffix: str | None = None
    metrics: list[JSON] = field(default_factory=list)
    error: JSON | None = None  # this job's own failure (a bad preference file), else job_error


# --------------------------------------------------------------------------------------------
# Helpers for bodies
# --------------------------------------------------------------------------------------------


def _parse_multipart(content_type: str, body: bytes) -> dict[str, tuple[str | None, bytes]]:
    """Parse multipart/form-data into {field name: (filename or None, bytes)}."""
    header = Message()
    header["content-type"] = content_type
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise ValueError("multipart body without a boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    fields: dict[str, tuple[str | None, bytes]] = {}
    for part in body.split(delimiter)[1:]:
        if part.startswith(b"--"):
            break
        part = part.removeprefix(b"\r\n")
        head, sep, content = part.partition(b"\r\n\r\n")
        if not sep:
            continue
        content = content.removesuffix(b"\r\n")
        name: str | None = None
        filename: str | None = None
        for line in head.split(b"\r\n"):
            key, _, value = line.decode("utf-8", "replace").partition(":")
            if key.strip().lower() != "content-disposition":
                continue
            disposition = Message()
            disposition["content-disposition"] = value.strip()
            raw_name = disposition.get_param("name", header="content-disposition")
            if raw_name is not None and not isinstance(raw_name, str):
                raw_name = collapse_rfc2231_value(raw_name)
            name = raw_name
            filename = disposition.get_filename()
        if name is not None:
            fields[name] = (filename, content)
    return fields


def _message_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [
            str(part.get("text", ""))
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", "input_text")
        ]
        return " ".join(texts)
    return ""


def echo_answer(model: str, messages: list[Any]) -> str:
    """The deterministic chat answer: f"[{model}] " + the last user message (see module doc)."""
    text = "(no user message)"
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = " ".join(_message_text(message.get("content")).split())[:ECHO_LIMIT]
            break
    return f"[{model}] {text}"


def _words(text: str) -> int:
    return len(text.split())


def _one_assistant_message(value: Any) -> bool:
    return (
        isinstance(value, list)
        and len(value) == 1
        and isinstance(value[0], dict)
        and value[0].get("role") == "assistant"
        and isinstance(value[0].get("content"), str)
        and bool(value[0]["content"].strip())
    )


def preference_file_problem(content: bytes) -> str | None:
    """What is wrong with a preference (DPO) training file, as OpenAI's file validation
    words it, or None: every line ``{"input": {"messages": [...]}, "preferred_output":
    [assistant], "non_preferred_output": [assistant]}``, the prompt ending with a user turn."""
    lines = [raw for raw in content.splitlines() if raw.strip()]
    if not lines:
        return "The training file is empty."
    for number, raw in enumerate(lines, start=1):
        try:
            line = json.loads(raw)
        except ValueError:
            return f"Invalid file format. Line {number} is not valid JSON."
        messages = line.get("input", {}).get("messages") if isinstance(line, dict) else None
        if not isinstance(messages, list) or not messages:
            return f"Invalid file format. Line {number}: 'input.messages' is missing."
        if not all(
            isinstance(m, dict)
            and m.get("role") in ("system", "user", "assistant")
            and isinstance(m.get("content"), str)
            for m in messages
        ):
            return f"Invalid file format. Line {number}: a message of 'input' is invalid."
        if messages[-1].get("role") != "user":
            return f"Invalid file format. Line {number}: 'input' must end with a user message."
        for key in ("preferred_output", "non_preferred_output"):
            if not _one_assistant_message(line.get(key)):
                return (
                    f"Invalid file format. Line {number}: '{key}' must hold one assistant "
                    "message with content."
                )
    return None


def _page(items: list[JSON], after: str | None, limit: int) -> tuple[list[JSON], bool]:
    """Cursor page over ``items`` (already in answer order): items after the ``after`` id."""
    if after:
        ids = [item["id"] for item in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    return items[:limit], len(items) > limit


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeOpenAI:
    """A local server that speaks the OpenAI wire protocol, with scripted job progress and
    injected faults.

    Use ``with FakeOpenAI() as server:`` (or ``start()``/``stop()``) and give the SDK
    ``base_url=server.base_url, api_key=server.api_key``. All state below is guarded by
    ``server.lock`` (an RLock); take it when reading state while requests may be in flight.
    """

    def __init__(
        self,
        *,
        api_key: str = "sk-test-key",
        job_script: list[str] | None = None,
        auto_advance: bool = True,
        base_models: list[str] | None = None,
        shutdown_dates: Mapping[str, str] | None = None,
        job_error: Mapping[str, Any] | None = None,
        organization_id: str = "org-arbiter",
        org_slug: str = "arbiter",
        clock: Callable[[], float] = time.time,
    ) -> None:
        script = list(job_script if job_script is not None else DEFAULT_JOB_SCRIPT)
        if not script:
            raise ValueError("job_script must not be empty")
        self.api_key = api_key
        self.job_script: list[str] = script  # copied into each job when it is created
        self.auto_advance = auto_advance
        self.base_models: list[str] = list(base_models or DEFAULT_BASE_MODELS)
        self.shutdown_dates: dict[str, str] = dict(
            DEFAULT_SHUTDOWN_DATES if shutdown_dates is None else shutdown_dates
        )
        self.job_error: dict[str, Any] = dict(job_error or DEFAULT_JOB_ERROR)
        self.organization_id = organization_id
        self.org_slug = org_slug
        self.clock = clock

        self.lock = threading.RLock()
        self.files: dict[str, JSON] = {}
        self.file_contents: dict[str, bytes] = {}
        self.jobs: dict[str, JSON] = {}
        self.events: dict[str, list[JSON]] = {}  # job id -> events, oldest first
        self.checkpoints: dict[str, list[JSON]] = {}  # job id -> checkpoints, oldest first
        self.fine_tuned_models: dict[str, JSON] = {}  # model id -> Model object
        self.checkpoint_models: set[str] = set()
        self.requests: list[tuple[str, str]] = []  # (method, path without query)
        self.request_log: list[RecordedRequest] = []
        self.chat_requests: list[JSON] = []
        # Instead of the echo rule, a test may answer chats itself (e.g. as a judge would).
        self.chat_answer: Callable[[str, list[Any]], str] | None = None
        self.server_errors: list[str] = []  # tracebacks of bugs in this server
        # Lists ("files", "jobs", "events", "checkpoints") that repeat their first page with
        # has_more: true and ignore metadata filters, as a stateless mock does.
        self.repeating_lists: set[str] = set()

        self._job_states: dict[str, _JobState] = {}
        self._faults: list[_QueuedFault] = []
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self.port = 0
        self.url = ""
        self.base_url = ""

    # ---- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind 127.0.0.1 on a free port and serve in a daemon thread."""
        if self._httpd is not None:
            return self
        self._stopping.clear()
        httpd = _HTTPServer(("127.0.0.1", 0), self)
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.base_url = f"{self.url}/v1"
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, wake sleeping faults and close open connections."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self._stopping.set()
        httpd.shutdown()
        with self.lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ---- faults ----------------------------------------------------------------------------

    def add_fault(self, method: str, path_pattern: str, fault: Fault, times: int = 1) -> None:
        """Queue ``fault`` for requests whose method matches (``"*"`` = any) and whose path
        (without query string) ``re.fullmatch``-es ``path_pattern``, with or without the
        leading ``/v1`` (e.g. ``r"/fine_tuning/jobs"``, ``r"/fine_tuning/jobs/[^/]+"``).
        It fires on the next ``times`` matching requests (negative: every time)."""
        if times == 0:
            return
        queued = _QueuedFault(method.upper(), re.compile(path_pattern), fault, times)
        with self.lock:
            self._faults.append(queued)

    def _fault_reply(self, fault: Fault, request: RecordedRequest) -> _Response:
        """The answer of an "error" fault (a subclass may translate the body)."""
        return _Handler.fault_response(fault, request)

    def clear_faults(self) -> None:
        with self.lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many queued faults still have uses left."""
        with self.lock:
            return len(self._faults)

    def _fault_paths(self, path: str) -> tuple[str, ...]:
        """The forms of a request path that a fault pattern may match."""
        return (path, path.removeprefix("/v1"))

    def _take_fault(self, method: str, path: str) -> Fault | None:
        paths = self._fault_paths(path)
        with self.lock:
            for queued in self._faults:
                if queued.method not in ("*", method):
                    continue
                if not any(queued.pattern.fullmatch(one) for one in paths):
                    continue
                if queued.remaining > 0:
                    queued.remaining -= 1
                    if queued.remaining == 0:
                        self._faults.remove(queued)
                return queued.fault
        return None

    # ---- job progress ----------------------------------------------------------------------

    def advance(self, job_id: str | None = None, steps: int = 1) -> None:
        """Move one job (or every unfinished job) ``steps`` entries along its script."""
        with self.lock:
            ids = [job_id] if job_id is not None else list(self.jobs)
            for one in ids:
                if one not in self.jobs:
                    raise KeyError(one)
                for _ in range(steps):
                    self._advance_job(one)

    def _now(self) -> int:
        return int(self.clock())

    def _add_event(
        self,
        job_id: str,
        message: str,
        *,
        level: str = "info",
        type: str = "message",
        data: JSON | None = None,
    ) -> None:
        self.events[job_id].append(
            {
                "object": "fine_tuning.job.event",
                "id": _new_id("ftevent-"),
                "created_at": self._now(),
                "level": level,
                "message": message,
                "data": data if data is not None else {},
                "type": type,
            }
        )

    def _advance_job(self, job_id: str) -> None:
        job = self.jobs[job_id]
        state = self._job_states[job_id]
        if job["status"] in FINISHED_STATUSES or state.position + 1 >= len(state.script):
            return
        state.position += 1
        self._enter_status(job_id, state.script[state.position])

    def _fine_tuned_name(self, job: JSON) -> str:
        base = job["model"]
        if base.startswith("ft:"):
            base = base.split(":")[1]
        state = self._job_states[job["id"]]
        return f"ft:{base}:{self.org_slug}:{state.suffix or ''}:{state.short_id}"

    def _enter_status(self, job_id: str, status: str) -> None:
        job = self.jobs[job_id]
        state = self._job_states[job_id]
        now = self._now()
        job["status"] = status
        if status == "validating_files":
            self._add_event(job_id, f"Validating training file: {job['training_file']}")
            if job["validation_file"]:
                self._add_event(job_id, f"Validating validation file: {job['validation_file']}")
        elif status == "queued":
            self._add_event(job_id, "Files validated, moving job to queued state")
        elif status == "running":
            self._running_tick(job_id, job, state, now)
        elif status == "succeeded":
            self._succeed(job_id, job, state, now)
        elif status == "failed":
            error = dict(state.error or self.job_error)
            job["error"] = error
            job["finished_at"] = now
            job["estimated_finish"] = None
            self._add_event(job_id, str(error.get("message", "")), level="error")
        elif status == "cancelled":
            job["finished_at"] = now
            job["estimated_finish"] = None
            state.position = len(state.script)
            self._add_event(job_id, "Fine-tuning job cancelled")
        else:
            self._add_event(job_id, f"Job status changed to {status}")

    def _running_tick(self, job_id: str, job: JSON, state: _JobState, now: int) -> None:
        if state.running_ticks == 0:
            self._add_event(job_id, "Fine-tuning job started")
        state.running_ticks += 1
        tick, ticks = state.running_ticks, max(state.total_ticks, state.running_ticks)
        fraction = tick / ticks
        step = max(1, round(state.total_steps * fraction))
        train_loss = round(2.4 * (1 - 0.75 * fraction), 4)
        train_acc = round(0.5 + 0.45 * fraction, 4)
        metrics = {
            "step": step,
            "train_loss": train_loss,
            "train_mean_token_accuracy": train_acc,
            "valid_loss": round(train_loss + 0.1, 4),
            "valid_mean_token_accuracy": round(train_acc - 0.02, 4),
            "full_valid_loss": round(train_loss + 0.15, 4),
            "full_valid_mean_token_accuracy": round(train_acc - 0.03, 4),
        }
        state.metrics.append(metrics)
        job["estimated_finish"] = now + 60 * (ticks - tick + 1)
        self._add_event(job_id, f"Step {step}/{state.total_steps}: training loss={train_loss:.4f}")
        self._add_event(
            job_id,
            f"Step {step}/{state.total_steps}: training loss={train_loss:.4f}, "
            f"validation loss={metrics['valid_loss']:.4f}",
            type="metrics",
            data={**metrics, "total_steps": state.total_steps},
        )
        checkpoint_model = f"{self._fine_tuned_name(job)}:ckpt-step-{step}"
        self.checkpoint_models.add(checkpoint_model)
        self.checkpoints[job_id].append(
            {
                "object": "fine_tuning.job.checkpoint",
                "id": _new_id("ftckpt_"),
                "created_at": now,
                "fine_tuned_model_checkpoint": checkpoint_model,
                "fine_tuning_job_id": job_id,
                "metrics": metrics,
                "step_number": step,
            }
        )

    def _succeed(self, job_id: str, job: JSON, state: _JobState, now: int) -> None:
        name = self._fine_tuned_name(job)
        n_epochs = int(job["hyperparameters"]["n_epochs"])
        training_bytes = len(self.file_contents.get(job["training_file"], b""))
        rows = ["step,train_loss,train_accuracy,valid_loss,valid_mean_token_accuracy"]
        rows += [
            f"{m['step']},{m['train_loss']},{m['train_mean_token_accuracy']},"
            f"{m['valid_loss']},{m['valid_mean_token_accuracy']}"
            for m in state.metrics
        ]
        result = self._store_file("step_metrics.csv", "\n".join(rows).encode(), "fine-tune-results")
        job.update(
            fine_tuned_model=name,
            trained_tokens=(training_bytes // 4) * n_epochs,
            finished_at=now,
            estimated_finish=None,
            result_files=[result["id"]],
        )
        self.fine_tuned_models[name] = {
            "id": name,
            "object": "model",
            "created": now,
            "owned_by": self.organization_id,
        }
        self._add_event(job_id, f"New fine-tuned model created: {name}")
        self._add_event(job_id, "The job has successfully completed")

    # ---- models ----------------------------------------------------------------------------

    def _resolve_model(self, model: str) -> str | None:
        """Canonical id of a known model (base, alias of a base, fine-tuned, checkpoint)."""
        if model in self.base_models or model in self.fine_tuned_models:
            return model
        if model in self.checkpoint_models:
            return model
        for base in self.base_models:
            if base.startswith(model) and _DATE_SUFFIX.fullmatch(base[len(model) :]):
                return base
        return None

    def _model_objects(self) -> list[JSON]:
        bases = [
            {
                "id": base,
                "object": "model",
                "created": BASE_MODEL_CREATED,
                "owned_by": "system",
                "shutdown_date": self.shutdown_dates.get(base),
            }
            for base in self.base_models
        ]
        return bases + list(self.fine_tuned_models.values())

    # ---- files -----------------------------------------------------------------------------

    def _store_file(
        self, filename: str, content: bytes, purpose: str, expires_at: int | None = None
    ) -> JSON:
        # expires_at and status_details are left out when there is nothing to say: the
        # description types them as integer and string, never null.
        file: JSON = {
            "id": _new_id("file-", 22),
            "object": "file",
            "bytes": len(content),
            "created_at": self._now(),
            "filename": filename,
            "purpose": purpose,
            "status": "processed",
        }
        if expires_at is not None:
            file["expires_at"] = expires_at
        self.files[file["id"]] = file
        self.file_contents[file["id"]] = content
        return file

    # ---- request handling ------------------------------------------------------------------

    def _record(self, request: RecordedRequest) -> None:
        with self.lock:
            self.requests.append((request.method, request.path))
            self.request_log.append(request)

    def _check_auth(self, headers: Mapping[str, str]) -> _Response | None:
        authorization = headers.get("authorization", "")
        scheme, _, key = authorization.partition(" ")
        if not authorization or scheme.lower() != "bearer" or not key.strip():
            return _error(
                401,
                "You didn't provide an API key. You need to provide your API key in an "
                "Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), "
                "or as the password field (with blank username) if you're accessing the API "
                "from your browser and are prompted for a username and password. You can "
                "obtain an API key from https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        key = key.strip()
        if key != self.api_key:
            masked = key[:3] + "*" * max(0, len(key) - 7) + key[-4:] if len(key) > 7 else "***"
            return _error(
                401,
                f"Incorrect API key provided: {masked}. You can find your API key at "
                "https://platform.openai.com/account/api-keys.",
                code="invalid_api_key",
            )
        return None

    def _dispatch(self, request: RecordedRequest) -> _Response:
        unauthorized = self._check_auth(request.headers)
        if unauthorized is not None:
            return unauthorized
        path = request.path
        invalid = _error(404, f"Invalid URL ({request.method} {path})")
        if not path.startswith("/v1/"):
            return invalid
        segments = [unquote(s) for s in path[len("/v1/") :].strip("/").split("/")]
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        route = self._route(request.method, segments)
        if route is None:
            return invalid
        handler, args = route
        try:
            with self.lock:
                return handler(request, query, *args)
        except _ApiError as error:
            return error.response

    def _route(
        self, method: str, segments: list[str]
    ) -> tuple[Callable[..., _Response], list[str]] | None:
        table: list[tuple[str, tuple[str, ...], Callable[..., _Response]]] = [
            ("POST", ("files",), self._create_file),
            ("GET", ("files",), self._list_files),
            ("GET", ("files", "*"), self._retrieve_file),
            ("DELETE", ("files", "*"), self._delete_file),
            ("GET", ("files", "*", "content"), self._file_content),
            ("POST", ("fine_tuning", "jobs"), self._create_job),
            ("GET", ("fine_tuning", "jobs"), self._list_jobs),
            ("GET", ("fine_tuning", "jobs", "*"), self._retrieve_job),
            ("GET", ("fine_tuning", "jobs", "*", "events"), self._list_events),
            ("GET", ("fine_tuning", "jobs", "*", "checkpoints"), self._list_checkpoints),
            ("POST", ("fine_tuning", "jobs", "*", "cancel"), self._cancel_job),
            ("GET", ("models",), self._list_models),
            ("GET", ("models", "*"), self._retrieve_model),
            ("DELETE", ("models", "*"), self._delete_model),
            ("POST", ("chat", "completions"), self._chat),
        ]
        for route_method, pattern, handler in table:
            if route_method != method or len(pattern) != len(segments):
                continue
            args: list[str] = []
            for expected, actual in zip(pattern, segments, strict=True):
                if expected == "*":
                    if not actual:
                        break
                    args.append(actual)
                elif expected != actual:
                    break
            else:
                return handler, args
        return None

    @staticmethod
    def _json_body(request: RecordedRequest) -> JSON:
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _fail(
                400,
                "We could not parse the JSON body of your request. (HINT: This likely means "
                "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
                "payload, but what was sent was not valid JSON.)",
            )
        return body

    def _list_page(
        self, kind: str, items: list[JSON], query: Mapping[str, str], limit: int
    ) -> tuple[list[JSON], bool]:
        """One page of a list; a list named in ``repeating_lists`` misbehaves: it answers its
        first page whatever ``after`` says, and always says ``has_more: true``."""
        if kind in self.repeating_lists:
            return items[:limit], True
        return _page(items, query.get("after"), limit)

    @staticmethod
    def _limit(query: Mapping[str, str], default: int, maximum: int = 10_000) -> int:
        raw = query.get("limit")
        if raw is None or raw == "":
            return default
        try:
            limit = int(raw)
        except ValueError:
            limit = 0
        if not 1 <= limit <= maximum:
            raise _fail(
                400,
                f"Invalid 'limit': expected an integer between 1 and {maximum}, got {raw!r}.",
                param="limit",
                code="integer_out_of_range",
            )
        return limit

    # files

    def _file_or_404(self, file_id: str, param: str = "id") -> JSON:
        file = self.files.get(file_id)
        if file is None:
            raise _fail(404, f"No such File object: {file_id}", param=param)
        return file

    def _create_file(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        content_type = request.headers.get("content-type", "")
        if not content_type.lower().startswith("multipart/form-data"):
            return _error(400, "Expected a multipart/form-data request body.")
        try:
            fields = _parse_multipart(content_type, request.body)
        except ValueError as error:
            return _error(400, f"Could not parse multipart form: {error}")
        if "purpose" not in fields:
            return _error(
                400,
                "Missing required parameter: 'purpose'.",
                param="purpose",
                code="missing_required_parameter",
            )
        purpose = fields["purpose"][1].decode("utf-8", "replace")
        if purpose not in FILE_PURPOSES:
            return _error(
                400,
                f"Invalid value for 'purpose': {purpose!r}. "
                f"Supported values are: {', '.join(sorted(FILE_PURPOSES))}.",
                param="purpose",
                code="invalid_value",
            )
        if "file" not in fields or fields["file"][0] is None:
            return _error(
                400,
                "Missing required parameter: 'file'.",
                param="file",
                code="missing_required_parameter",
            )
        filename, content = fields["file"]
        filename = filename or "upload"
        if purpose == "fine-tune" and not filename.endswith(".jsonl"):
            return _error(
                400,
                "Invalid file format for Fine-Tuning API. Must be .jsonl",
                param="file",
                code="invalid_file_format",
            )
        expires_at = None
        if "expires_after[seconds]" in fields:
            try:
                seconds = int(fields["expires_after[seconds]"][1])
            except ValueError:
                return _error(400, "Invalid 'expires_after[seconds]'.", param="expires_after")
            expires_at = self._now() + seconds
        file = self._store_file(filename, content, purpose, expires_at)
        return _json_response(200, file)

    def _list_files(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        limit = self._limit(query, 10_000)
        files = list(self.files.values())
        if query.get("purpose"):
            files = [f for f in files if f["purpose"] == query["purpose"]]
        if query.get("order", "desc") == "desc":
            files.reverse()
        page, has_more = self._list_page("files", files, query, limit)
        return _json_response(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": has_more,
            },
        )

    def _retrieve_file(
        self, request: RecordedRequest, query: Mapping[str, str], file_id: str
    ) -> _Response:
        return _json_response(200, self._file_or_404(file_id))

    def _delete_file(
        self, request: RecordedRequest, query: Mapping[str, str], file_id: str
    ) -> _Response:
        self._file_or_404(file_id)
        del self.files[file_id]
        self.file_contents.pop(file_id, None)
        return _json_response(200, {"id": file_id, "object": "file", "deleted": True})

    def _file_content(
        self, request: RecordedRequest, query: Mapping[str, str], file_id: str
    ) -> _Response:
        self._file_or_404(file_id)
        return _Response(200, self.file_contents[file_id], "application/octet-stream")

    # fine-tuning jobs

    def _job_or_404(self, job_id: str) -> JSON:
        job = self.jobs.get(job_id)
        if job is None:
            raise _fail(
                404,
                f"Could not find fine-tuning job {job_id}.",
                param="fine_tuning_job_id",
                code="fine_tuning_job_not_found",
            )
        return job

    @staticmethod
    def _public_job(job: JSON) -> JSON:
        return dict(job)

    @staticmethod
    def _method_type(body: JSON) -> str:
        method = body.get("method")
        if method is None:
            return "supervised"
        kind = method.get("type") if isinstance(method, dict) else method
        if kind not in ("supervised", "dpo"):
            raise _fail(
                400,
                f"Unsupported fine-tuning method type: {kind!r}. "
                "This server supports 'supervised' and 'dpo'.",
                param="method.type",
                code="invalid_value",
            )
        return str(kind)

    def _resolve_hyperparameters(self, body: JSON) -> dict[str, int | float]:
        kind = self._method_type(body)
        method = body.get("method")
        raw: Any = None
        if isinstance(method, dict):
            section = method.get(kind) or {}
            raw = section.get("hyperparameters") if isinstance(section, dict) else None
        if raw is None:
            raw = body.get("hyperparameters")
        raw = raw or {}
        if not isinstance(raw, dict):
            raise _fail(
                400, "Invalid 'hyperparameters': expected an object.", param="hyperparameters"
            )
        limits: Mapping[str, tuple[float, float]] = {
            "n_epochs": (1, 50),
            "batch_size": (1, 256),
            "learning_rate_multiplier": (0, math.inf),
        }
        resolved: dict[str, int | float] = {}
        for name, default in AUTO_HYPERPARAMETERS.items():
            value = raw.get(name, "auto")
            if value is None or value == "auto":
                resolved[name] = default
                continue
            low, high = limits[name]
            integer = name != "learning_rate_multiplier"
            valid_type = isinstance(value, int) if integer else isinstance(value, (int, float))
            if isinstance(value, bool) or not valid_type or not low <= value <= high:
                raise _fail(
                    400,
                    f"Invalid value for '{name}': {value!r}.",
                    param=f"hyperparameters.{name}",
                    code="invalid_value",
                )
            if name == "learning_rate_multiplier" and value <= 0:
                raise _fail(
                    400,
                    f"Invalid value for '{name}': must be greater than 0.",
                    param=f"hyperparameters.{name}",
                    code="invalid_value",
                )
            resolved[name] = value
        if kind == "dpo":
            beta = raw.get("beta", "auto")
            if beta is None or beta == "auto":
                beta = DPO_AUTO_BETA
            elif isinstance(beta, bool) or not isinstance(beta, int | float) or not 0 < beta <= 2:
                raise _fail(
                    400,
                    f"Invalid value for 'beta': {beta!r}.",
                    param="hyperparameters.beta",
                    code="invalid_value",
                )
            resolved["beta"] = beta
        return resolved

    def _create_job(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        body = self._json_body(request)
        for required in ("model", "training_file"):
            if not isinstance(body.get(required), str) or not body[required]:
                raise _fail(
                    400,
                    f"Missing required parameter: '{required}'.",
                    param=required,
                    code="missing_required_parameter",
                )
        model = self._resolve_model(body["model"])
        if model is None or model in self.checkpoint_models:
            raise _fail(
                404,
                f"The model `{body['model']}` does not exist or you do not have access to it.",
                param="model",
                code="model_not_found",
            )
        training = self.files.get(body["training_file"])
        if training is None:
            raise _fail(
                400,
                f"Invalid training_file: {body['training_file']}. No such file.",
                param="training_file",
                code="invalid_file_id",
            )
        if training["purpose"] != "fine-tune":
            raise _fail(
                400,
                f"File {training['id']} has purpose '{training['purpose']}'; "
                "the training file must have purpose 'fine-tune'.",
                param="training_file",
                code="invalid_file_purpose",
            )
        validation_file = body.get("validation_file")
        if validation_file is not None and validation_file not in self.files:
            raise _fail(
                400,
                f"Invalid validation_file: {validation_file}. No such file.",
                param="validation_file",
                code="invalid_file_id",
            )
        suffix = body.get("suffix")
        if suffix is not None and (not isinstance(suffix, str) or not 1 <= len(suffix) <= 64):
            length = len(suffix) if isinstance(suffix, str) else 0
            raise _fail(
                400,
                "Invalid 'suffix': string too long. Expected a string with maximum length "
                f"64, but got a string with length {length} instead.",
                param="suffix",
                code="string_above_max_length",
            )
        metadata = body.get("metadata")
        self._validate_metadata(metadata)
        seed = body.get("seed")
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
            raise _fail(400, f"Invalid 'seed': {seed!r}.", param="seed", code="invalid_type")
        hyperparameters = self._resolve_hyperparameters(body)
        kind = self._method_type(body)
        beta = hyperparameters.pop("beta", None)

        job_id = _new_id("ftjob-")
        examples = sum(
            1 for line in self.file_contents[training["id"]].splitlines() if line.strip()
        )
        total_steps = max(
            1,
            math.ceil(
                max(examples, 1)
                * int(hyperparameters["n_epochs"])
                / int(hyperparameters["batch_size"])
            ),
        )
        script = list(self.job_script)
        bad_line = (
            preference_file_problem(self.file_contents[training["id"]]) if kind == "dpo" else None
        )
        if bad_line is not None:
            # As OpenAI does: the job is created and fails while validating its files.
            script = ["validating_files", "failed"]
        self._job_states[job_id] = _JobState(
            script=script,
            total_ticks=script.count("running"),
            total_steps=total_steps,
            short_id=_new_id("", 8, _LOWER_ALNUM),
            suffix=suffix,
            error=None
            if bad_line is None
            else {"code": "invalid_training_file", "message": bad_line, "param": "training_file"},
        )
        method_hyperparameters: JSON = dict(hyperparameters)
        if kind == "dpo":
            method_hyperparameters["beta"] = beta
        job: JSON = {
            "object": "fine_tuning.job",
            "id": job_id,
            "model": model,
            "created_at": self._now(),
            "finished_at": None,
            "fine_tuned_model": None,
            "organization_id": self.organization_id,
            "result_files": [],
            "status": script[0],
            "validation_file": validation_file,
            "training_file": training["id"],
            "hyperparameters": dict(hyperparameters),
            "trained_tokens": None,
            "error": None,
            "seed": seed if seed is not None else zlib.crc32(job_id.encode()) % 2**31,
            "estimated_finish": None,
            "integrations": body.get("integrations") or None,
            "method": {"type": kind, kind: {"hyperparameters": method_hyperparameters}},
            "metadata": dict(metadata) if metadata else None,
        }
        self.jobs[job_id] = job
        self.events[job_id] = []
        self.checkpoints[job_id] = []
        self._add_event(job_id, f"Created fine-tuning job: {job_id}")
        self._enter_status(job_id, script[0])
        return _json_response(200, self._public_job(job))

    @staticmethod
    def _validate_metadata(metadata: Any) -> None:
        if metadata is None:
            return
        if not isinstance(metadata, dict):
            raise _fail(
                400,
                "Invalid 'metadata': expected an object.",
                param="metadata",
                code="invalid_type",
            )
        if len(metadata) > 16:
            raise _fail(
                400,
                "Invalid 'metadata': too many properties. Expected an object with at most 16 "
                f"properties, but got an object with {len(metadata)} properties instead.",
                param="metadata",
                code="object_above_max_properties",
            )
        for key, value in metadata.items():
            if len(key) > 64:
                raise _fail(
                    400,
                    f"Invalid 'metadata': key {key[:20]!r}... is longer than 64 characters.",
                    param=f"metadata.{key}",
                    code="string_above_max_length",
                )
            if not isinstance(value, str) or len(value) > 512:
                raise _fail(
                    400,
                    f"Invalid 'metadata.{key}': expected a string of at most 512 characters.",
                    param=f"metadata.{key}",
                    code="invalid_value",
                )

    def _list_jobs(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        limit = self._limit(query, 20)
        filters = {
            key[len("metadata[") : -1]: value
            for key, value in query.items()
            if key.startswith("metadata[") and key.endswith("]")
        }
        jobs = list(reversed(self.jobs.values()))  # newest first
        if query.get("metadata") == "null":
            jobs = [job for job in jobs if not job["metadata"]]
        if filters and "jobs" not in self.repeating_lists:  # a stateless mock filters nothing
            jobs = [
                job
                for job in jobs
                if all((job["metadata"] or {}).get(k) == v for k, v in filters.items())
            ]
        page, has_more = self._list_page("jobs", jobs, query, limit)
        return _json_response(
            200,
            {"object": "list", "data": [self._public_job(j) for j in page], "has_more": has_more},
        )

    def _retrieve_job(
        self, request: RecordedRequest, query: Mapping[str, str], job_id: str
    ) -> _Response:
        job = self._job_or_404(job_id)
        if self.auto_advance:
            self._advance_job(job_id)
        return _json_response(200, self._public_job(job))

    def _list_events(
        self, request: RecordedRequest, query: Mapping[str, str], job_id: str
    ) -> _Response:
        self._job_or_404(job_id)
        limit = self._limit(query, 20)
        page, has_more = self._list_page(
            "events", list(reversed(self.events[job_id])), query, limit
        )
        return _json_response(200, {"object": "list", "data": page, "has_more": has_more})

    def _list_checkpoints(
        self, request: RecordedRequest, query: Mapping[str, str], job_id: str
    ) -> _Response:
        self._job_or_404(job_id)
        limit = self._limit(query, 10)
        items = list(reversed(self.checkpoints[job_id]))
        page, has_more = self._list_page("checkpoints", items, query, limit)
        return _json_response(
            200,
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": has_more,
            },
        )

    def _cancel_job(
        self, request: RecordedRequest, query: Mapping[str, str], job_id: str
    ) -> _Response:
        job = self._job_or_404(job_id)
        if job["status"] in FINISHED_STATUSES:
            raise _fail(
                400,
                f"Job {job_id} cannot be cancelled because it has already finished "
                f"(status: {job['status']}).",
                param="fine_tuning_job_id",
                code="invalid_job_status",
            )
        self._enter_status(job_id, "cancelled")
        return _json_response(200, self._public_job(job))

    # models

    def _list_models(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        return _json_response(200, {"object": "list", "data": self._model_objects()})

    def _model_not_found(self, model: str) -> _ApiError:
        return _fail(
            404,
            f"The model `{model}` does not exist or you do not have access to it.",
            code="model_not_found",
        )

    def _retrieve_model(
        self, request: RecordedRequest, query: Mapping[str, str], model: str
    ) -> _Response:
        for item in self._model_objects():
            if item["id"] == model:
                return _json_response(200, item)
        raise self._model_not_found(model)

    def _delete_model(
        self, request: RecordedRequest, query: Mapping[str, str], model: str
    ) -> _Response:
        if model in self.base_models:
            raise _fail(
                403, "You have insufficient permissions to delete this model.", param="model"
            )
        if model not in self.fine_tuned_models:
            raise self._model_not_found(model)
        del self.fine_tuned_models[model]
        return _json_response(200, {"id": model, "object": "model", "deleted": True})

    # chat

    def _chat(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        body = self._json_body(request)
        self.chat_requests.append(body)
        requested = body.get("model")
        if not isinstance(requested, str) or not requested:
            raise _fail(
                400,
                "Missing required parameter: 'model'.",
                param="model",
                code="missing_required_parameter",
            )
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise _fail(
                400,
                "Missing required parameter: 'messages'.",
                param="messages",
                code="missing_required_parameter",
            )
        model = self._resolve_model(requested)
        if model is None:
            raise self._model_not_found(requested)
        answer = (self.chat_answer or echo_answer)(requested, messages)
        prompt_tokens = sum(
            _words(_message_text(m.get("content"))) for m in messages if isinstance(m, dict)
        )
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": _words(answer),
            "total_tokens": prompt_tokens + _words(answer),
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        common = {
            "id": _new_id("chatcmpl-", 29),
            "created": self._now(),
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_fakeopenai",
        }
        if not body.get("stream"):
            completion = {
                **common,
                "object": "chat.completion",
                "choices": [
                    {
                        "index": 0,
                        "message": {
                            "role": "assistant",
                            "content": answer,
                            "refusal": None,
                            "annotations": [],
                        },
                        "logprobs": None,
                        "finish_reason": "stop",
                    }
                ],
                "usage": usage,
            }
            return _json_response(200, completion)

        def chunk(delta: JSON, finish_reason: str | None = None) -> JSON:
            return {
                **common,
                "object": "chat.completion.chunk",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
                ],
            }

        chunks = [chunk({"role": "assistant", "content": "", "refusal": None})]
        chunks += [chunk({"content": piece}) for piece in _STREAM_PIECE.findall(answer)]
        chunks.append(chunk({}, "stop"))
        stream_options = body.get("stream_options") or {}
        if isinstance(stream_options, dict) and stream_options.get("include_usage"):
            chunks.append(
                {**common, "object": "chat.completion.chunk", "choices": [], "usage": usage}
            )
        events = [f"data: {json.dumps(c)}\n\n".encode() for c in chunks]
        events.append(b"data: [DONE]\n\n")
        return _Response(200, content_type="text/event-stream; charset=utf-8", chunks=events)


# --------------------------------------------------------------------------------------------
# HTTP plumbing
# --------------------------------------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False

    def __init__(self, address: tuple[str, int], fake: FakeOpenAI) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, OSError):  # the client went away; nothing to report
            return
        with self.fake.lock:
            self.fake.server_errors.append(traceback.format_exc())


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "FakeOpenAI/1.0"

    def setup(self) -> None:
        super().setup()
        # Headers and body go out in separate writes; without this, Nagle's algorithm and
        # delayed ACKs add ~40 ms to every answer.
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fake = cast(_HTTPServer, self.server).fake
        with fake.lock:
            fake._connections.add(self.connection)

    def finish(self) -> None:
        fake = cast(_HTTPServer, self.server).fake
        with fake.lock:
            fake._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        length = self.headers.get("Content-Length")
        if length:
            return self.rfile.read(int(length))
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline().strip():
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        return b""

    def _handle(self) -> None:
        fake = cast(_HTTPServer, self.server).fake
        split = urlsplit(self.path)
        request = RecordedRequest(
            method=self.command,
            path=split.path,
            query=split.query,
            headers={key.lower(): value for key, value in self.headers.items()},
            body=self._read_body(),
        )
        fake._record(request)
        fault = fake._take_fault(request.method, request.path)
        if fault is not None:
            if fault.kind == "drop_before":
                self._drop()
                return
            if fault.kind == "timeout":
                fake._stopping.wait(fault.delay)
                if not fault.then_process or fake._stopping.is_set():
                    self._drop()
                    return
            if fault.kind == "error":
                self._send(fake._fault_reply(fault, request))
                return
        try:
            response = fake._dispatch(request)
        except Exception:
            with fake.lock:
                fake.server_errors.append(traceback.format_exc())
            response = _error(500, "The server had an error while processing your request.")
        if fault is not None and fault.kind == "drop_after":
            self._drop()
            return
        self._send(response)

    @staticmethod
    def fault_response(fault: Fault, request: RecordedRequest) -> _Response:
        if fault.raw_body is not None:
            return _Response(fault.status, fault.raw_body, fault.content_type, dict(fault.headers))
        error = dict(fault.error or {})
        message = str(error.get("message", ""))
        if "{model}" in message:
            try:
                model = json.loads(request.body or b"{}").get("model")
            except (ValueError, AttributeError):
                model = None
            error["message"] = message.replace("{model}", str(model or "unknown"))
        return _json_response(fault.status, {"error": error}, fault.headers)

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)

    def _send(self, response: _Response) -> None:
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("x-request-id", _new_id("req_", 32, string.hexdigits[:16]))
            self.send_header("openai-organization", cast(_HTTPServer, self.server).fake.org_slug)
            self.send_header("openai-processing-ms", "1")
            self.send_header("openai-version", "2020-10-01")
            for name, value in response.headers.items():
                self.send_header(name, value)
            if response.chunks is None:
                self.send_header("Content-Length", str(len(response.body)))
                self.end_headers()
                self.wfile.write(response.body)
                return
            self.send_header("Transfer-Encoding", "chunked")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            for piece in _iter_chunked(response.chunks):
                self.wfile.write(piece)
                self.wfile.flush()
        except OSError:
            self.close_connection = True


def _iter_chunked(chunks: list[bytes]) -> Iterator[bytes]:
    for chunk in chunks:
        yield f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    yield b"0\r\n\r\n"
