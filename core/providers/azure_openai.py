"""The Azure OpenAI provider: the official ``openai`` SDK's ``AzureOpenAI`` client for
files, fine-tuning jobs and chat (data-plane api-version 2024-10-21, the newest stable one
in Azure's own descriptions), and Azure Resource Manager for deployments
(``azure_deployments``).

Signing in: an API key read from the environment variable the connection names, or
Microsoft Entra ID (``DefaultAzureCredential`` from ``azure-identity``: environment,
workload or managed identity, Azure CLI, ...). Resource Manager accepts only Entra ID. A
credential object may be passed in (tests give one that hands out a fixed token).

What differs from OpenAI, as Azure's 2024-10-21 description says: a job takes no
``metadata`` and no ``method`` (hyperparameters go at the top level), its suffix is at most
40 characters of ``[A-Za-z0-9_-]``, and a trained model answers only through a deployment.
A job is found again by its suffix instead of its metadata: the suffix ends in a tag made
from the metadata (``job_tag``).
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import openai
from azure.core.credentials import TokenCredential
from azure.core.exceptions import ClientAuthenticationError
from openai import omit

from core.errors import ProviderAuthError, ProviderError
from core.providers.azure_deployments import (
    MANAGEMENT_URL,
    ArmDeployments,
    ManualDeployments,
    UnconfiguredDeployments,
)
from core.providers.base import BaseModel, Deployments, Job, JobRequest
from core.providers.openai_sdk import DEFAULT_TIMEOUT, SdkProvider, translate_errors

AZURE_API_VERSION = "2024-10-21"
COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"
SUFFIX_MAX = 40
_NOT_SUFFIX = re.compile(r"[^A-Za-z0-9_-]+")


@dataclass(frozen=True)
class AzureSettings:
    """What an Azure OpenAI connection says (never a key or a token)."""

    endpoint: str  # https://{resource}.openai.azure.com
    api_version: str = AZURE_API_VERSION
    key_env: str | None = None  # None: Microsoft Entra ID
    subscription_id: str | None = None
    resource_group: str | None = None
    account_name: str | None = None
    manual_deployments: bool = False
    management_url: str = MANAGEMENT_URL
    deployment_sku: str = "Standard"
    deployment_capacity: int = 1
    hosting_price_per_hour: Decimal | None = None

    @property
    def arm_complete(self) -> bool:
        return bool(self.subscription_id and self.resource_group and self.account_name)


def job_tag(metadata: Mapping[str, str]) -> str:
    """A short tag that stands for the job's metadata in its suffix."""
    digest = hashlib.sha256(json.dumps(dict(metadata), sort_keys=True).encode()).hexdigest()
    return "a" + digest[:8]


def azure_suffix(suffix: str, metadata: Mapping[str, str]) -> str:
    tag = job_tag(metadata)
    cleaned = _NOT_SUFFIX.sub("-", suffix).strip("-")[: SUFFIX_MAX - len(tag) - 1].rstrip("-")
    return f"{cleaned}-{tag}" if cleaned else tag


class AzureOpenAIProvider(SdkProvider):
    kind = "azure_openai"
    vendor = "Azure OpenAI"
    poll_seconds = 15.0
    max_poll_seconds = 180.0

    def __init__(
        self,
        settings: AzureSettings,
        *,
        api_key: str | None = None,
        credential: TokenCredential | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.hosting_price_per_hour = settings.hosting_price_per_hour
        self._credential = credential
        self._timeout = timeout
        auth: dict[str, Any]
        if settings.key_env:
            if not api_key:
                raise ProviderAuthError(
                    "No Azure OpenAI key: set the environment variable or secret "
                    f"{settings.key_env}, or sign in with Microsoft Entra ID instead."
                )
            auth = {"api_key": api_key}
        else:
            from azure.identity import get_bearer_token_provider

            auth = {
                "azure_ad_token_provider": get_bearer_token_provider(self._entra(), COGNITIVE_SCOPE)
            }
        client = openai.AzureOpenAI(
            azure_endpoint=settings.endpoint,
            api_version=settings.api_version,
            timeout=timeout,
            max_retries=0,
            **auth,
        )
        super().__init__(client, key_env=settings.key_env, sleep=sleep, rng=rng)
        self._deployments: Deployments | None = None

    def __repr__(self) -> str:
        return f"AzureOpenAIProvider(endpoint={self.settings.endpoint!r})"

    def _entra(self) -> TokenCredential:
        if self._credential is None:
            from azure.identity import DefaultAzureCredential

            self._credential = DefaultAzureCredential()
        return self._credential

    @property
    def deployments(self) -> Deployments:
        """Built on first use: listing models or training needs no Resource Manager."""
        if self._deployments is None:
            settings = self.settings
            if settings.manual_deployments:
                self._deployments = ManualDeployments()
            elif not settings.arm_complete:
                self._deployments = UnconfiguredDeployments()
            else:
                self._deployments = ArmDeployments(
                    self._entra(),
                    subscription_id=str(settings.subscription_id),
                    resource_group=str(settings.resource_group),
                    account_name=str(settings.account_name),
                    base_url=settings.management_url,
                    sku=settings.deployment_sku,
                    capacity=settings.deployment_capacity,
                    timeout=self._timeout,
                    sleep=self._sleep,
                    rng=self._rng,
                )
        return self._deployments

    @contextmanager
    def _translate(self, action: str) -> Iterator[None]:
        with translate_errors(action, self.vendor, self.key_env):
            try:
                yield
            except ClientAuthenticationError as exc:
                raise ProviderAuthError(
                    f"Microsoft Entra ID gave no token for Azure OpenAI while trying to "
                    f"{action}: sign the service in (managed identity, workload identity, "
                    "environment or Azure CLI) or use an API key."
                ) from exc

    def list_base_models(self) -> list[BaseModel]:
        # Not retried: an admin testing the connection wants the first answer.
        models = self._once("list the models", lambda: list(self.client.models.list().data))
        result = []
        for model in models:
            extra = model.model_extra or {}
            if extra.get("fine_tune") or extra.get("model") or ".ft-" in model.id:
                continue  # a fine-tuned model, not a base model
            capabilities = extra.get("capabilities") or {}
            deprecation = extra.get("deprecation") or {}
            result.append(
                BaseModel(
                    id=model.id,
                    fine_tunable=bool(capabilities.get("fine_tune")),
                    shutdown_date=_date(deprecation.get("inference")),
                    fine_tuning_ends=_date(deprecation.get("fine_tune")),
                    owned_by="azure",
                )
            )
        return sorted(result, key=lambda m: m.id)

    def _create_arguments(self, request: JobRequest) -> dict[str, Any]:
        if request.method != "supervised":
            raise ProviderError(
                f"Azure OpenAI's API version {self.settings.api_version} takes no fine-tuning "
                "method: it cannot start a preference (DPO) job."
            )
        hyper = request.hyperparameters
        given = {
            "n_epochs": hyper.n_epochs,
            "batch_size": hyper.batch_size,
            "learning_rate_multiplier": hyper.learning_rate_multiplier,
        }
        hyperparameters = {k: v for k, v in given.items() if v is not None}
        return {
            "model": request.base_model,
            "training_file": request.training_file_id,
            "validation_file": request.validation_file_id or omit,
            "suffix": azure_suffix(request.suffix, request.metadata),
            "hyperparameters": hyperparameters or omit,
        }

    def find_job(self, metadata: Mapping[str, str]) -> Job | None:
        tag = "-" + job_tag(metadata)

        def matches(job: Any) -> bool:
            suffix = str(getattr(job, "suffix", None) or "")
            return suffix.endswith(tag) or suffix == tag[1:]

        return self._matching_job(matches)


def _date(seconds: object) -> date | None:
    if isinstance(seconds, int) and not isinstance(seconds, bool) and seconds > 0:
        return datetime.fromtimestamp(seconds, UTC).date()
    return None
