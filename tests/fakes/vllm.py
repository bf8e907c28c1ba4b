"""A local server that answers as vLLM's OpenAI-compatible server does when started with
LoRA adapters enabled (``vllm serve BASE --enable-lora [--api-key KEY]``), for tests.

It is ``tests.openai_server.FakeOpenAI`` (same chat replies, streaming and fault injection:
``add_fault(method, path, Fault.server_error() | Fault.timeout(...) | ...)``) with vLLM's
adapter endpoints; it runs no model. Point the real SDK at ``server.base_url``::

    POST /v1/load_lora_adapter    {"lora_name", "lora_path"}: 200 text "Success: LoRA adapter
                                  '<name>' added successfully."; a name already loaded 400
                                  "The lora adapter '<name>' has already been loaded."; a
                                  path without adapter_config.json 404 NotFoundError
                                  "Loading lora <name> failed: No adapter found for <path>"
    POST /v1/unload_lora_adapter  {"lora_name"}: 200 text; an unknown name 404
    GET  /v1/models               the base model, then each loaded adapter (``parent``: the
                                  base model, ``root``: its path)
    POST /v1/chat/completions     only the base model or a loaded adapter's name answers
                                  (the echo rule of ``FakeOpenAI``); anything else 404
                                  "The model `<name>` does not exist."

Errors have vLLM's shape ``{"error": {"message", "type", "param", "code": <status>}}``. With
``api_key=None`` (vLLM without ``--api-key``) every request is let in; else
``Authorization: Bearer <api_key>`` is needed (401). ``loads`` lists every load request's
body in order (successful or not); ``restart()`` forgets every adapter, as a restarted vLLM
does (adapters loaded at run time are not kept).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tests.openai_server import (
    BASE_MODEL_CREATED,
    JSON,
    FakeOpenAI,
    RecordedRequest,
    _ApiError,
    _json_response,
    _Response,
)

__all__ = ["FakeVllm"]


def _vllm_error(status: int, message: str, type: str, param: str | None = None) -> _ApiError:
    body = {"error": {"message": message, "type": type, "param": param, "code": status}}
    return _ApiError(_json_response(status, body))


def _text(status: int, text: str) -> _Response:
    return _Response(status, text.encode(), content_type="text/plain; charset=utf-8")


class FakeVllm(FakeOpenAI):
    def __init__(self, *, base_model: str = "SmolLM2-135M-Instruct", api_key: str | None = None):
        super().__init__(api_key=api_key or "unused", base_models=[base_model])
        self.requires_key = api_key is not None
        self.base_model = base_model
        self.adapters: dict[str, str] = {}  # loaded: lora_name -> lora_path
        self.loads: list[JSON] = []

    def restart(self) -> None:
        """What a restarted vLLM knows: its base model, no adapter loaded at run time."""
        with self.lock:
            self.adapters.clear()

    def _check_auth(self, headers: Mapping[str, str]) -> _Response | None:
        if not self.requires_key:
            return None
        if headers.get("authorization", "") != f"Bearer {self.api_key}":
            return _json_response(
                401, {"error": {"message": "Unauthorized", "type": "Unauthorized", "code": 401}}
            )
        return None

    def _route(self, method: str, segments: list[str]) -> Any:
        if method == "POST" and segments == ["load_lora_adapter"]:
            return self._load, []
        if method == "POST" and segments == ["unload_lora_adapter"]:
            return self._unload, []
        if method == "GET" and segments == ["models"]:
            return self._list_models, []
        if method == "POST" and segments == ["chat", "completions"]:
            return self._chat, []
        return None

    def _body(self, request: RecordedRequest) -> JSON:
        try:
            body = json.loads(request.body or b"{}")
        except ValueError as exc:
            raise _vllm_error(400, "Invalid JSON body", "BadRequestError") from exc
        if not isinstance(body, dict):
            raise _vllm_error(400, "The body must be a JSON object", "BadRequestError")
        return body

    def _load(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        body = self._body(request)
        self.loads.append(body)
        name, path = body.get("lora_name"), body.get("lora_path")
        if not name or not path:
            raise _vllm_error(
                400, "Both 'lora_name' and 'lora_path' must be provided.", "InvalidUserInput"
            )
        if name in self.adapters:
            raise _vllm_error(
                400, f"The lora adapter '{name}' has already been loaded.", "InvalidUserInput"
            )
        if not (Path(str(path)) / "adapter_config.json").is_file():
            raise _vllm_error(
                404, f"Loading lora {name} failed: No adapter found for {path}", "NotFoundError"
            )
        self.adapters[str(name)] = str(path)
        return _text(200, f"Success: LoRA adapter '{name}' added successfully.")

    def _unload(self, request: RecordedRequest, query: Mapping[str, str]) -> _Response:
        name = self._body(request).get("lora_name")
        if name not in self.adapters:
            raise _vllm_error(404, f"The lora adapter '{name}' cannot be found.", "NotFoundError")
        del self.adapters[str(name)]
        return _text(200, f"Success: LoRA adapter '{name}' removed successfully.")

    def _model_objects(self) -> list[JSON]:
        def card(name: str, root: str, parent: str | None) -> JSON:
            return {
                "id": name,
                "object": "model",
                "created": BASE_MODEL_CREATED,
                "owned_by": "vllm",
                "root": root,
                "parent": parent,
                "max_model_len": 8192 if parent is None else None,
                "permission": [],
            }

        base = card(self.base_model, self.base_model, None)
        return [base] + [card(n, p, self.base_model) for n, p in self.adapters.items()]

    def _resolve_model(self, model: str) -> str | None:
        return model if model == self.base_model or model in self.adapters else None

    def _model_not_found(self, model: str) -> _ApiError:
        return _vllm_error(404, f"The model `{model}` does not exist.", "NotFoundError", "model")
