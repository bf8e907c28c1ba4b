"""The OpenAI provider, through the official ``openai`` SDK (the shared part is in
``openai_sdk``).

The key never passes through the database: a connection names the environment variable
(or Streamlit secret) that holds it, and it is read only in the registry, when a client is
built. SDK errors become domain errors with wording a trainer can act on.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from datetime import date
from typing import Any, cast

import openai
from openai import omit
from openai.types.fine_tuning import job_create_params

from core.errors import ProviderAuthError
from core.providers.base import BaseModel, Job, JobRequest
from core.providers.openai_sdk import (
    DEFAULT_TIMEOUT,
    SdkProvider,
    is_fine_tuning_unavailable,
    translate_errors,
)

__all__ = [
    "DEFAULT_TIMEOUT",
    "FINE_TUNABLE_PREFIXES",
    "OpenAIProvider",
    "is_fine_tuning_unavailable",
    "translate_errors",
]

# Models whose names start with these can be fine-tuned (the rest are listed for chat).
FINE_TUNABLE_PREFIXES = ("gpt-4o-mini", "gpt-4o-2024", "gpt-4.1", "gpt-3.5-turbo")
SUFFIX_MAX = 64
MAX_MODELS = 5_000


class OpenAIProvider(SdkProvider):
    kind = "openai"
    vendor = "OpenAI"
    poll_seconds = 10.0
    max_poll_seconds = 120.0

    def __init__(
        self,
        api_key: str | None,
        base_url: str | None = None,
        *,
        key_env: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        if not api_key:
            raise ProviderAuthError(
                f"No OpenAI API key: set the environment variable or secret "
                f"{key_env or 'OPENAI_API_KEY'}."
            )
        # max_retries=0: see openai_sdk (reads are retried there, job creation never).
        client = openai.OpenAI(
            api_key=api_key, base_url=base_url or None, timeout=timeout, max_retries=0
        )
        super().__init__(client, key_env=key_env, sleep=sleep, rng=rng)

    def list_base_models(self) -> list[BaseModel]:
        # OpenAI's model list is one unpaged answer; it is bounded all the same.
        # Not retried: an admin testing the connection wants the first answer.
        models = self._once("list the models", lambda: list(self.client.models.list().data))
        result = []
        for model in models[:MAX_MODELS]:
            shutdown = getattr(model, "shutdown_date", None)
            result.append(
                BaseModel(
                    id=model.id,
                    fine_tunable=model.id.startswith(FINE_TUNABLE_PREFIXES)
                    and not model.id.startswith("ft:"),
                    shutdown_date=date.fromisoformat(shutdown[:10]) if shutdown else None,
                    owned_by=getattr(model, "owned_by", "") or "",
                )
            )
        return sorted(result, key=lambda m: m.id)

    def _create_arguments(self, request: JobRequest) -> dict[str, Any]:
        hyper = request.hyperparameters
        hyperparameters: dict[str, Any] = {
            "n_epochs": hyper.n_epochs if hyper.n_epochs is not None else "auto",
            "batch_size": hyper.batch_size if hyper.batch_size is not None else "auto",
            "learning_rate_multiplier": hyper.learning_rate_multiplier
            if hyper.learning_rate_multiplier is not None
            else "auto",
        }
        if request.method == "dpo":
            hyperparameters["beta"] = request.beta if request.beta is not None else "auto"
        method = cast(
            "job_create_params.Method",
            {"type": request.method, request.method: {"hyperparameters": hyperparameters}},
        )
        return {
            "model": request.base_model,
            "training_file": request.training_file_id,
            "validation_file": request.validation_file_id or omit,
            "suffix": request.suffix[:SUFFIX_MAX] or omit,
            "metadata": dict(request.metadata),
            "method": method,
        }

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        wanted = dict(metadata)
        return self._matching_job(
            lambda job: all((job.metadata or {}).get(k) == v for k, v in wanted.items()),
            metadata=wanted,
        )
