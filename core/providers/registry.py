"""Build the provider for a connection. The only place that reads API keys."""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
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


# Building an SDK client loads the system's CA certificates (about 70 ms of CPU): a worker
# that built one per step spent most of its time there. A client is thread-safe and keeps
# its connections alive, so one is kept per endpoint, key and timeout.
_CACHE_SIZE = 16
_clients: OrderedDict[tuple[str | None, str, str, float], Provider] = OrderedDict()
_clients_lock = threading.Lock()


def provider_for(settings: ConnectionSettings) -> Provider:
    # Imported here: the SDK and scikit-learn are slow to import and often not needed.
    if settings.provider_type == ProviderType.LOCAL:
        from core.providers.local import LocalProvider

        return LocalProvider()
    from core.providers.openai_provider import DEFAULT_TIMEOUT, OpenAIProvider

    key_env = settings.api_key_env or DEFAULT_KEY_ENV
    base_url = settings.base_url or config.secret("OPENAI_BASE_URL")
    timeout = float(os.environ.get("ARBITER_OPENAI_TIMEOUT") or DEFAULT_TIMEOUT)
    api_key = config.secret(key_env)
    if not api_key:
        return OpenAIProvider(api_key, base_url, key_env=key_env, timeout=timeout)  # raises
    # Keyed by a digest: a changed key (or a key removed) is never served an old client.
    cache_key = (base_url, key_env, hashlib.sha256(api_key.encode()).hexdigest(), timeout)
    with _clients_lock:
        found = _clients.get(cache_key)
        if found is not None:
            _clients.move_to_end(cache_key)
            return found
    built = OpenAIProvider(api_key, base_url, key_env=key_env, timeout=timeout)
    with _clients_lock:
        _clients[cache_key] = built
        while len(_clients) > _CACHE_SIZE:
            _clients.popitem(last=False)
    return built
