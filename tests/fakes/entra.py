"""A Microsoft Entra ID credential for tests: an ``azure.core.credentials.TokenCredential``
that hands out a fixed token per scope (what ``DefaultAzureCredential`` would get from a
managed identity), and records which scopes were asked for."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from azure.core.credentials import AccessToken

COGNITIVE_SCOPE = "https://cognitiveservices.azure.com/.default"
MANAGEMENT_SCOPE = "https://management.azure.com/.default"


class StaticCredential:
    def __init__(self, tokens: Mapping[str, str]) -> None:
        self.tokens = dict(tokens)
        self.scopes: list[str] = []

    def get_token(
        self,
        *scopes: str,
        claims: str | None = None,
        tenant_id: str | None = None,
        enable_cae: bool = False,
        **kwargs: Any,
    ) -> AccessToken:
        from azure.core.exceptions import ClientAuthenticationError

        self.scopes.extend(scopes)
        token = self.tokens.get(scopes[0]) if scopes else None
        if token is None:
            raise ClientAuthenticationError(f"no token for {scopes}")
        return AccessToken(token, int(time.time()) + 3600)

    def __repr__(self) -> str:
        return "StaticCredential()"


def credential_for(server: Any) -> StaticCredential:
    """The tokens a ``FakeAzureOpenAI`` accepts, for both scopes."""
    return StaticCredential(
        {
            COGNITIVE_SCOPE: next(iter(server.entra_tokens)),
            MANAGEMENT_SCOPE: next(iter(server.arm.tokens)),
        }
    )
