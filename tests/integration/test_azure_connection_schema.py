"""An Azure OpenAI connection is stored with its Azure fields on both databases: after
migration 0009 the provider type's CHECK constraints take the new type, and still refuse
an unknown one."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.domain import ProviderType
from core.models import BaseModelInfo, ProviderConnection
from core.uow import UnitOfWork


def test_an_azure_connection_and_base_model_are_stored(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    with new_uow() as uow:
        uow.session.add(
            ProviderConnection(
                name="Azure Sweden",
                provider_type=ProviderType.AZURE_OPENAI,
                base_url="https://northwind.openai.azure.com",
                api_version="2024-10-21",
                entra_id=True,
                azure_subscription_id="00000000-0000-0000-0000-00000000a0a1",
                azure_resource_group="rg-arbiter",
                azure_account_name="northwind",
                hosting_price_per_hour=Decimal("1.7000"),
            )
        )
        uow.session.add(BaseModelInfo(provider_type=ProviderType.AZURE_OPENAI, name="gpt-4.1-mini"))
        uow.commit()
    with new_uow() as uow:
        conn = uow.session.scalars(select(ProviderConnection)).one()
        assert conn.provider_type == ProviderType.AZURE_OPENAI and conn.entra_id
        assert not conn.manual_deployments and conn.api_key_env is None
        assert conn.hosting_price_per_hour == Decimal("1.7000")
        assert conn.azure_account_name == "northwind"


def test_the_check_constraint_still_refuses_an_unknown_type(
    new_uow: Callable[[], UnitOfWork],
) -> None:
    from sqlalchemy import text

    with new_uow() as uow, pytest.raises(IntegrityError):
        uow.session.execute(
            text(
                "INSERT INTO provider_connections (name, provider_type, price_per_million_tokens,"
                " notes, created_at, updated_at, row_version, entra_id, manual_deployments)"
                " VALUES ('x', 'bedrock', 0, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 1,"
                " false, false)"
            )
        )
