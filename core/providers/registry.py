"""Build the provider for a connection. The only place that reads API keys."""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from core import config
from core.domain import ProviderType
from core.providers.base import Provider

if TYPE_CHECKING:
    from azure.core.credentials import TokenCredential

DEFAULT_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_AZURE_KEY_ENV = "AZURE_OPENAI_API_KEY"
# Azure OpenAI's newest stable data-plane API (core.providers.azure_openai.AZURE_API_VERSION).
DEFAULT_AZURE_API_VERSION = "2024-10-21"
# Only variables meant for keys are ever read as one: a connection cannot name another secret
# of the server (a database password, say) and send it to a URL as a bearer token.
KEY_VARIABLE = re.compile(r"^(OPENAI|AZURE|ARBITER_KEY)_[A-Z0-9_]{1,100}$")
# Where Resource Manager is; a test server's address in tests.
ARM_URL_ENV = "ARBITER_AZURE_MANAGEMENT_URL"


@dataclass(frozen=True)
class ConnectionSettings:
    """What a provider needs from a connection (never the key itself). The fields after
    ``api_key_env`` are Azure OpenAI's: ``base_url`` is then the resource's endpoint."""

    provider_type: ProviderType
    base_url: str | None
    api_key_env: str | None
    api_version: str | None = None
    entra_id: bool = False  # Microsoft Entra ID instead of a key
    azure_subscription_id: str | None = None
    azure_resource_group: str | None = None
    azure_account_name: str | None = None
    manual_deployments: bool = False
    hosting_price_per_hour: Decimal | None = None
    lora_rank: int | None = None  # open-weights: the LoRA rank its trainings use

    @classmethod
    def of(cls, connection: object) -> ConnectionSettings:
        """The settings of a stored connection (anything with its attributes: the ORM row,
        or a view of it). The one place that knows which fields a provider needs."""

        def value(name: str) -> Any:
            return getattr(connection, name, None)

        return cls(
            provider_type=ProviderType(value("provider_type")),
            base_url=value("base_url"),
            api_key_env=value("api_key_env"),
            api_version=value("api_version"),
            entra_id=bool(value("entra_id")),
            azure_subscription_id=value("azure_subscription_id"),
            azure_resource_group=value("azure_resource_group"),
            azure_account_name=value("azure_account_name"),
            manual_deployments=bool(value("manual_deployments")),
            hosting_price_per_hour=value("hosting_price_per_hour"),
            lora_rank=value("lora_rank"),
        )


def _key_env(settings: ConnectionSettings) -> str:
    if settings.api_key_env:
        if not KEY_VARIABLE.match(settings.api_key_env):
            from core.errors import ProviderAuthError

            raise ProviderAuthError(
                f"The connection names {settings.api_key_env!r} as its key variable, which is "
                "not a variable meant for keys (OPENAI_*, AZURE_* or ARBITER_KEY_*): it is not "
                "read. An admin can name the right variable on the Connections page."
            )
        return settings.api_key_env
    if settings.provider_type == ProviderType.AZURE_OPENAI:
        return DEFAULT_AZURE_KEY_ENV
    return DEFAULT_KEY_ENV


def key_is_present(settings: ConnectionSettings) -> bool:
    if settings.provider_type == ProviderType.LOCAL:
        return True
    if settings.provider_type == ProviderType.OPEN_WEIGHTS and not settings.api_key_env:
        return True  # in-process, or a server that takes no key
    if settings.provider_type == ProviderType.AZURE_OPENAI and settings.entra_id:
        return True  # whether Entra ID signs in shows at the first request
    if settings.api_key_env and not KEY_VARIABLE.match(settings.api_key_env):
        return False
    return bool(config.secret(_key_env(settings)))


_entra_lock = threading.Lock()
_entra: TokenCredential | None = None


def use_entra_credential(credential: TokenCredential | None) -> None:
    """The Microsoft Entra ID credential for every Azure connection of this process (None:
    ``DefaultAzureCredential``, built on first use). Tests give one that hands out fixed
    tokens; an application may give its own."""
    global _entra
    with _entra_lock:
        _entra = credential
        _clients.clear()


def _entra_credential() -> TokenCredential:
    global _entra
    with _entra_lock:
        if _entra is None:
            from azure.identity import DefaultAzureCredential

            _entra = DefaultAzureCredential()
        return _entra


# Building an SDK client loads the system's CA certificates (about 70 ms of CPU): a worker
# that built one per step spent most of its time there. A client is thread-safe and keeps
# its connections alive, so one is kept per endpoint, key and timeout.
_CACHE_SIZE = 16
_clients: OrderedDict[Hashable, Provider] = OrderedDict()
_clients_lock = threading.Lock()


def _cached(cache_key: Hashable) -> Provider | None:
    with _clients_lock:
        found = _clients.get(cache_key)
        if found is not None:
            _clients.move_to_end(cache_key)
        return found


def _keep(cache_key: Hashable, built: Provider) -> Provider:
    with _clients_lock:
        _clients[cache_key] = built
        while len(_clients) > _CACHE_SIZE:
            _clients.popitem(last=False)
    return built


def _timeout() -> float:
    from core.providers.openai_sdk import DEFAULT_TIMEOUT

    return float(os.environ.get("ARBITER_OPENAI_TIMEOUT") or DEFAULT_TIMEOUT)


# Providers that train on preference pairs (DPO) after the supervised job.
PREFERENCE_PROVIDERS = frozenset({ProviderType.OPENAI, ProviderType.OPEN_WEIGHTS})


def preference_refusal(provider_type: ProviderType | None) -> str | None:
    """Why a connection of this type cannot train on preference pairs (None: it can)."""
    if provider_type in PREFERENCE_PROVIDERS:
        return None
    if provider_type == ProviderType.LOCAL:
        return (
            "The local provider is a retrieval index that learns nothing: it cannot train on "
            "preference pairs (DPO). Compile supervised only, or use an OpenAI or "
            "open-weights connection."
        )
    if provider_type == ProviderType.AZURE_OPENAI:
        return (
            "Azure OpenAI's API version 2024-10-21, which this connection speaks, takes no "
            "fine-tuning method, so it cannot start a preference (DPO) job. Compile "
            "supervised only, or use an OpenAI or open-weights connection."
        )
    return "This model has no provider connection that can train on preference pairs (DPO)."


def provider_for(settings: ConnectionSettings) -> Provider:
    # Imported here: the SDKs and scikit-learn are slow to import and often not needed.
    if settings.provider_type == ProviderType.LOCAL:
        from core.providers.local import LocalProvider

        return LocalProvider()
    if settings.provider_type == ProviderType.AZURE_OPENAI:
        return _azure(settings)
    if settings.provider_type == ProviderType.OPEN_WEIGHTS:
        return _open_weights(settings)
    from core.providers.openai_provider import OpenAIProvider

    key_env = _key_env(settings)
    base_url = settings.base_url or config.secret("OPENAI_BASE_URL")
    timeout = _timeout()
    api_key = config.secret(key_env)
    if not api_key:
        return OpenAIProvider(api_key, base_url, key_env=key_env, timeout=timeout)  # raises
    # Keyed by a digest: a changed key (or a key removed) is never served an old client.
    cache_key = (base_url, key_env, hashlib.sha256(api_key.encode()).hexdigest(), timeout)
    found = _cached(cache_key)
    if found is not None:
        return found
    return _keep(cache_key, OpenAIProvider(api_key, base_url, key_env=key_env, timeout=timeout))


def _azure(settings: ConnectionSettings) -> Provider:
    from core.errors import ProviderAuthError
    from core.providers.azure_deployments import MANAGEMENT_URL
    from core.providers.azure_openai import AZURE_API_VERSION, AzureOpenAIProvider, AzureSettings

    if not settings.base_url:
        raise ProviderAuthError(
            "This Azure OpenAI connection has no endpoint (https://RESOURCE.openai.azure.com)."
        )
    key_env = None if settings.entra_id else _key_env(settings)
    api_key = config.secret(key_env) if key_env else None
    azure = AzureSettings(
        endpoint=settings.base_url,
        api_version=settings.api_version or AZURE_API_VERSION,
        key_env=key_env,
        subscription_id=settings.azure_subscription_id,
        resource_group=settings.azure_resource_group,
        account_name=settings.azure_account_name,
        manual_deployments=settings.manual_deployments,
        management_url=config.secret(ARM_URL_ENV) or MANAGEMENT_URL,
        hosting_price_per_hour=settings.hosting_price_per_hour,
    )
    timeout = _timeout()
    # Resource Manager signs in with Entra ID even where the data plane takes a key.
    needs_entra = settings.entra_id or (azure.arm_complete and not azure.manual_deployments)
    credential = _entra_credential() if needs_entra else None
    if key_env and not api_key:
        return AzureOpenAIProvider(azure, credential=credential, timeout=timeout)  # raises
    digest = hashlib.sha256(api_key.encode()).hexdigest() if api_key else None
    cache_key = (azure, digest, id(credential), timeout)
    found = _cached(cache_key)
    if found is not None:
        return found
    built = AzureOpenAIProvider(azure, api_key=api_key, credential=credential, timeout=timeout)
    return _keep(cache_key, built)


def _open_weights(settings: ConnectionSettings) -> Provider:
    """In-process, or serving through an OpenAI-compatible server (``base_url``; its key,
    if it takes one, in the variable ``api_key_env`` names)."""
    from core.providers.open_weights import OpenWeightsProvider, default_root
    from core.training.lora import store

    root = default_root()
    if not settings.base_url:
        return OpenWeightsProvider(root, lora_rank=settings.lora_rank)
    from core.errors import ProviderAuthError
    from core.providers.open_weights_serving import AdapterServer, ServeSettings, client_for

    key_env = _key_env(settings) if settings.api_key_env else None
    api_key = config.secret(key_env) if key_env else None
    if key_env and not api_key:
        raise ProviderAuthError(
            f"No key for the OpenAI-compatible server: set the environment variable or "
            f"secret {key_env} (or name no key variable if the server takes none)."
        )
    serve = ServeSettings(base_url=settings.base_url, key_env=key_env, timeout=_timeout())
    server = AdapterServer(client_for(serve, api_key), store.from_config(root), key_env)
    return OpenWeightsProvider(root, lora_rank=settings.lora_rank, serving=server)
