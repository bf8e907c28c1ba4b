"""The Azure Resource Manager part of the fake Azure OpenAI server: deployments of an
Azure OpenAI (Cognitive Services) account.

    PUT    /subscriptions/{s}/resourceGroups/{g}/providers/Microsoft.CognitiveServices/
           accounts/{a}/deployments/{d}?api-version=   body: sku, properties.model, tags
    GET    .../deployments/{d}      advances the deployment one script step (auto_advance)
    DELETE .../deployments/{d}      200 when it existed, 204 when it did not
    GET    .../deployments          {"value": [...]}

Every request needs ``Authorization: Bearer <token>`` with a token of ``tokens`` (what
``DefaultAzureCredential`` gives for https://management.azure.com/.default), else 401
``InvalidAuthenticationToken``, and an ``api-version``, else 400
``MissingApiVersionParameter``. Errors have ARM's shape ``{"error": {"code", "message"}}``.

A new deployment copies ``script`` (default Creating, Creating, Succeeded) and starts at its
first entry: ``properties.provisioningState`` moves one entry along on each GET of that
deployment (a list never advances). A PUT of an existing deployment with the same model
answers 200 and changes nothing (a worker killed while deploying asks again); with another
model it starts the script again. A model must be a base model or a fine-tuned model of the
server (``models``), else 400 ``DeploymentModelNotSupported``; ``quota`` deployments at most,
else 400 ``InsufficientQuota``.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, unquote

from tests.openai_server import JSON, RecordedRequest, _json_response, _new_id, _Response

DEFAULT_DEPLOYMENT_SCRIPT: tuple[str, ...] = ("Creating", "Creating", "Succeeded")
_API_VERSION = re.compile(r"\d{4}-\d{2}-\d{2}(-preview)?")
_PATH = re.compile(
    r"/subscriptions/(?P<s>[^/]+)/resourceGroups/(?P<g>[^/]+)/providers/"
    r"Microsoft\.CognitiveServices/accounts/(?P<a>[^/]+)/deployments(?:/(?P<d>[^/]+))?/?"
)
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")


def arm_error(status: int, code: str, message: str) -> _Response:
    return _json_response(status, {"error": {"code": code, "message": message}})


@dataclass
class ArmDeployments:
    """Deployments of one account; ``lock`` is the fake server's."""

    lock: threading.RLock
    models: Callable[[], set[str]]
    clock: Callable[[], int]
    subscription: str = "00000000-0000-0000-0000-00000000a0a1"
    resource_group: str = "rg-arbiter"
    account: str = "aoai-arbiter"
    tokens: set[str] = field(default_factory=lambda: {"arm-test-token"})
    script: list[str] = field(default_factory=lambda: list(DEFAULT_DEPLOYMENT_SCRIPT))
    auto_advance: bool = True
    quota: int = 10
    deployments: dict[str, JSON] = field(default_factory=dict)
    api_versions: list[str] = field(default_factory=list)  # as sent, for assertions
    _scripts: dict[str, tuple[list[str], int]] = field(default_factory=dict)

    def handles(self, path: str) -> bool:
        return path.startswith("/subscriptions/")

    # ---- state ------------------------------------------------------------------------

    def advance(self, name: str, steps: int = 1) -> None:
        with self.lock:
            for _ in range(steps):
                self._advance(name)

    def _advance(self, name: str) -> None:
        script, position = self._scripts[name]
        if position + 1 < len(script):
            position += 1
            self._scripts[name] = (script, position)
            self.deployments[name]["properties"]["provisioningState"] = script[position]

    def state(self, name: str) -> str | None:
        with self.lock:
            found = self.deployments.get(name)
            return found["properties"]["provisioningState"] if found else None

    def ready(self, name: str) -> bool:
        return self.state(name) == "Succeeded"

    # ---- requests -----------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> _Response:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or token.strip() not in self.tokens:
            return arm_error(
                401,
                "InvalidAuthenticationToken",
                "The access token is invalid or has expired.",
            )
        query = dict(parse_qsl(request.query, keep_blank_values=True))
        version = query.get("api-version", "")
        if not _API_VERSION.fullmatch(version):
            return arm_error(
                400,
                "MissingApiVersionParameter",
                "The api-version query parameter (?api-version=) is required for all requests.",
            )
        match = _PATH.fullmatch(request.path)
        if match is None:
            return arm_error(404, "InvalidResourceType", f"No route for {request.path}.")
        if (match["s"], match["g"]) != (self.subscription, self.resource_group):
            return arm_error(
                404, "ResourceGroupNotFound", f"Resource group '{match['g']}' could not be found."
            )
        if unquote(match["a"]) != self.account:
            return arm_error(
                404,
                "ResourceNotFound",
                f"The Resource 'Microsoft.CognitiveServices/accounts/{match['a']}' under "
                f"resource group '{match['g']}' was not found.",
            )
        name = unquote(match["d"]) if match["d"] else None
        with self.lock:
            self.api_versions.append(version)
            return self._route(request, name, query)

    def _route(
        self, request: RecordedRequest, name: str | None, query: Mapping[str, str]
    ) -> _Response:
        if name is None:
            if request.method == "GET":
                return self._list(query)
            return arm_error(405, "MethodNotAllowed", f"{request.method} is not supported here.")
        if request.method == "PUT":
            return self._put(request, name)
        if request.method == "GET":
            return self._get(name)
        if request.method == "DELETE":
            if self.deployments.pop(name, None) is None:
                return _Response(204)
            self._scripts.pop(name, None)
            return _Response(200)
        return arm_error(405, "MethodNotAllowed", f"{request.method} is not supported here.")

    def _resource_id(self, name: str) -> str:
        return (
            f"/subscriptions/{self.subscription}/resourceGroups/{self.resource_group}/providers/"
            f"Microsoft.CognitiveServices/accounts/{self.account}/deployments/{name}"
        )

    def _put(self, request: RecordedRequest, name: str) -> _Response:
        if not _NAME.fullmatch(name):
            return arm_error(
                400, "InvalidResourceName", f"The deployment name '{name}' is invalid."
            )
        try:
            body = json.loads(request.body or b"null")
        except ValueError:
            body = None
        model = (
            (((body or {}).get("properties") or {}).get("model") or {})
            if isinstance(body, dict)
            else {}
        )
        sku = (body or {}).get("sku") if isinstance(body, dict) else None
        if not isinstance(model, dict) or not model.get("name") or not isinstance(sku, dict):
            return arm_error(
                400,
                "InvalidResourceProperties",
                "The deployment needs sku.name and properties.model (format, name, version).",
            )
        if model.get("format") != "OpenAI" or model["name"] not in self.models():
            return arm_error(
                400,
                "DeploymentModelNotSupported",
                f"The model '{model.get('format')}/{model['name']}' is not supported by this "
                "account or does not exist.",
            )
        existing = self.deployments.get(name)
        if existing is not None and existing["properties"]["model"]["name"] == model["name"]:
            return _json_response(200, existing)
        if existing is None and len(self.deployments) >= self.quota:
            return arm_error(
                400,
                "InsufficientQuota",
                "This operation require 1 new capacity in quota Tokens Per Minute (thousands), "
                "which is bigger than the current available capacity 0.",
            )
        script = list(self.script)
        self._scripts[name] = (script, 0)
        now = self.clock()
        tags = body.get("tags") if isinstance(body.get("tags"), dict) else {}
        stamp = datetime.fromtimestamp(now, UTC).isoformat().replace("+00:00", "Z")
        resource: JSON = {
            "id": self._resource_id(name),
            "name": name,
            "type": "Microsoft.CognitiveServices/accounts/deployments",
            "etag": f'"{_new_id("", 16)}"',
            "sku": {
                "name": str(sku.get("name", "Standard")),
                "capacity": int(sku.get("capacity", 1)),
            },
            "tags": {str(k): str(v) for k, v in tags.items()},
            "systemData": {"createdAt": stamp, "lastModifiedAt": stamp},
            "properties": {
                "model": {
                    "format": "OpenAI",
                    "name": model["name"],
                    "version": str(model.get("version") or "1"),
                },
                "provisioningState": script[0],
                "capabilities": {"chatCompletion": "true"},
            },
        }
        self.deployments[name] = resource
        return _json_response(201 if existing is None else 200, resource)

    def _get(self, name: str) -> _Response:
        if name not in self.deployments:
            return arm_error(404, "DeploymentNotFound", f"Deployment '{name}' not found.")
        if self.auto_advance:
            self._advance(name)
        return _json_response(200, self.deployments[name])

    def _list(self, query: Mapping[str, str]) -> _Response:
        body: dict[str, Any] = {"value": [self.deployments[n] for n in sorted(self.deployments)]}
        return _json_response(200, body)
