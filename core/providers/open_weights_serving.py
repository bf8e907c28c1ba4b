"""Serving open-weights versions through an OpenAI-compatible server instead of in-process:
vLLM started with LoRA adapters enabled (``vllm serve BASE --enable-lora``), which loads an
adapter at run time through ``POST /v1/load_lora_adapter {"lora_name", "lora_path"}``.

The adapter of a version is published there under the version's adapter name (the trained
model id, ``ow-...``), and chat asks the server for that name as the ``model`` through the
official ``openai`` SDK. Publishing is a deployment (``Deployments``): idempotent (an adapter
already loaded is fine), done by the worker after training, and again before a rollback
activates a version (a restarted vLLM forgets the adapters loaded at run time).

The server reads the adapter from its own disk: ``lora_path`` is the adapter's folder under
the shared adapter directory as the server sees it (``ARBITER_SERVED_ADAPTER_DIR``, default
the studio's own path ``<data>/open-weights/adapters``). With a bucket as the adapter store,
that folder is the publishing instance's local copy, fetched from the bucket first.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import cast

import openai
from openai.types.chat import ChatCompletionMessageParam

from core.errors import DeploymentFailed, ProviderError
from core.providers.base import ChatDelta, Deployment
from core.providers.openai_sdk import translate_errors
from core.training.lora.errors import AdapterMissing
from core.training.lora.store import AdapterStore, DirectoryStore

SERVED_ADAPTER_DIR_ENV = "ARBITER_SERVED_ADAPTER_DIR"
# vLLM without --api-key takes any key; the SDK needs one to send.
NO_KEY = "EMPTY"
_READY = "Succeeded"


@dataclass(frozen=True)
class ServeSettings:
    """Where an open-weights connection serves its versions (never the key itself)."""

    base_url: str  # e.g. http://gpu-host:8000/v1
    key_env: str | None = None
    timeout: float = 30.0


_clients: dict[tuple[str, str, float], openai.OpenAI] = {}
_clients_lock = threading.Lock()


def client_for(settings: ServeSettings, api_key: str | None) -> openai.OpenAI:
    """One SDK client per server, key and timeout (building one costs ~70 ms of CPU)."""
    key = api_key or NO_KEY
    cache_key = (settings.base_url, hashlib.sha256(key.encode()).hexdigest(), settings.timeout)
    with _clients_lock:
        found = _clients.get(cache_key)
        if found is None:
            found = openai.OpenAI(
                base_url=settings.base_url, api_key=key, timeout=settings.timeout, max_retries=0
            )
            _clients[cache_key] = found
        return found


def served_path(local: Path) -> str:
    """The adapter folder's path as the server sees the shared adapter directory."""
    mapped = os.environ.get(SERVED_ADAPTER_DIR_ENV)
    return str(Path(mapped) / local.name) if mapped else str(local)


def _already_loaded(exc: openai.APIStatusError) -> bool:
    return exc.status_code == 400 and "already been loaded" in exc.message


class AdapterServer:
    """The adapters loaded at an OpenAI-compatible server (vLLM), as deployments: a
    deployment's name is the adapter's name, which chat sends as the model."""

    automatic = True
    # The deployment of a trained model is named after it (its adapter name).
    named_after_model = True

    def __init__(
        self,
        client: openai.OpenAI,
        adapters: Path | AdapterStore,
        key_env: str | None = None,
    ) -> None:
        self.client = client
        # The adapter store (a folder: <data>/open-weights/adapters, one folder per version).
        self.store = DirectoryStore(adapters) if isinstance(adapters, Path) else adapters
        self.key_env = key_env

    def adapter_dir(self, model: str) -> Path:
        return self.store.local(model)

    def has_adapter(self, model: str) -> bool:
        """The adapter is in the store (and now on this machine)."""
        try:
            return (self.store.fetch(model) / "adapter_config.json").exists()
        except AdapterMissing:
            return False

    @property
    def vendor(self) -> str:
        return f"OpenAI-compatible server {str(self.client.base_url).rstrip('/')}"

    def _translate(self, action: str) -> AbstractContextManager[None]:
        return translate_errors(action, self.vendor, self.key_env)

    def deploy(self, model: str, name: str, tags: Mapping[str, str] | None = None) -> Deployment:
        local = self.adapter_dir(model)
        if not self.has_adapter(model):
            raise DeploymentFailed(f"The adapter of {model} is missing ({local}).")
        if self.deployment_status(name) is not None:
            return Deployment(name=name, model=model, state=_READY)
        path = served_path(local)
        with self._translate(f"load the adapter {name}"):
            try:
                self.client.post(
                    "/load_lora_adapter", body={"lora_name": name, "lora_path": path}, cast_to=str
                )
            except openai.APIStatusError as exc:
                if _already_loaded(exc):
                    return Deployment(name=name, model=model, state=_READY)
                if exc.status_code in (400, 404, 422):
                    raise DeploymentFailed(
                        f"{self.vendor} did not load the adapter {name} from {path}: "
                        f"{exc.message}. The server must read the shared adapter directory "
                        f"(set {SERVED_ADAPTER_DIR_ENV} to its path there) and run with "
                        "--enable-lora and a --max-lora-rank of at least the connection's."
                    ) from exc
                raise
        return Deployment(name=name, model=model, state=_READY)

    def deployment_status(self, name: str) -> Deployment | None:
        found = next((d for d in self.list_deployments() if d.name == name), None)
        return found

    def remove_deployment(self, name: str) -> None:
        with self._translate(f"unload the adapter {name}"):
            try:
                self.client.post("/unload_lora_adapter", body={"lora_name": name}, cast_to=str)
            except (openai.NotFoundError, openai.BadRequestError) as exc:
                if "cannot be found" not in exc.message and exc.status_code != 404:
                    raise

    def list_deployments(self) -> list[Deployment]:
        with self._translate("list the loaded adapters"):
            models = list(self.client.models.list().data)
        return [
            Deployment(name=m.id, model=m.id, state=_READY)
            for m in models
            if (m.model_extra or {}).get("parent")  # a LoRA adapter, not a base model
        ]


def stream_chat(
    server: AdapterServer,
    model: str,
    conversation: Sequence[Mapping[str, str]],
    max_tokens: int,
) -> Iterator[ChatDelta]:
    """Stream the answer of ``model`` (an adapter name, or the server's base model). A
    restarted server forgot the adapters loaded at run time: an adapter it does not know
    is published again once, then asked again."""
    payload = cast("list[ChatCompletionMessageParam]", [dict(m) for m in conversation])
    for attempt in (1, 2):
        started = False
        with server._translate("answer in chat"):
            try:
                stream = server.client.chat.completions.create(
                    model=model, messages=payload, stream=True, max_completion_tokens=max_tokens
                )
                for chunk in stream:
                    if chunk.choices and chunk.choices[0].delta.content:
                        started = True
                        yield ChatDelta(chunk.choices[0].delta.content)
                break
            except openai.NotFoundError as exc:
                if attempt == 2 or started or not server.has_adapter(model):
                    raise ProviderError(
                        f"{server.vendor} does not serve {model} ({exc.message}): activate "
                        "the version again to publish its adapter, or check the server's "
                        "base model."
                    ) from exc
        server.deploy(model, model)
    yield ChatDelta("", meta={"provider": "open_weights", "model": model, "served": True})
