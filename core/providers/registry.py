"""Build the provider for a connection. The only place that reads API keys."""

from __future__ import annotations

import os
from dataclasses import dataclass

from core import config
from core.domain import ProviderType
from core.providers.base import Provider

DEFAULT_KEY_ENV = "OPENAI_API_KEY"


@dataclass(frozen=True)
class ConnectionSettings:
    """What a provider needs from a connection (never the key itself)."""

    provider_type: ProviderType
    base_url: str | None
    api_key_env: str | None


def key_is_present(settings: ConnectionSettings) -> bool:
    if settings.provider_type == ProviderType.LOCAL:
        return True
    return bool(config.secret(settings.api_key_env or DEFAULT_KEY_ENV))


def provider_for(settings: ConnectionSettings) -> Provider:
    # Imported here: the SDK and scikit-learn are slow to import and often not needed.
    from core.providers.local import LocalProvider
    from core.providers.openai_provider import DEFAULT_TIMEOUT, OpenAIProvider

    if settings.provider_type == ProviderType.LOCAL:
        return LocalProvider()
    key_env = settings.api_key_env or DEFAULT_KEY_ENV
    base_url = settings.base_url or config.secret("OPENAI_BASE_URL")
    timeout = float(os.environ.get("ARBITER_OPENAI_TIMEOUT") or DEFAULT_TIMEOUT)
    return OpenAIProvider(config.secret(key_env), base_url, key_env=key_env, timeout=timeout)
