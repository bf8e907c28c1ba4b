"""Provider connections: where models are trained and answered, at what price and budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import func, select

from core.domain import ProviderType
from core.errors import Conflict
from core.models import AIModel, ProviderConnection
from core.permissions import Actor, Permission, requires
from core.providers.base import BaseModel
from core.providers.registry import ConnectionSettings, key_is_present, provider_for
from core.services.accounts.audit import record_audit
from core.services.catalog.connection_rules import ConnectionInput, checked_connection
from core.services.shared import changed_fields, check_row_version, get_or_404, snapshot
from core.uow import UnitOfWork

_AUDITED = (
    "name",
    "provider_type",
    "base_url",
    "api_key_env",
    "default_base_model",
    "price_per_million_tokens",
    "monthly_budget",
    "notes",
    "api_version",
    "entra_id",
    "azure_subscription_id",
    "azure_resource_group",
    "azure_account_name",
    "manual_deployments",
    "hosting_price_per_hour",
)


@dataclass(frozen=True)
class ConnectionView:
    id: int
    name: str
    provider_type: ProviderType
    base_url: str | None
    api_key_env: str | None
    key_present: bool
    default_base_model: str | None
    price_per_million_tokens: Decimal
    monthly_budget: Decimal | None
    notes: str
    model_count: int
    updated_at: datetime
    row_version: int
    api_version: str | None = None
    entra_id: bool = False
    azure_subscription_id: str | None = None
    azure_resource_group: str | None = None
    azure_account_name: str | None = None
    manual_deployments: bool = False
    hosting_price_per_hour: Decimal | None = None
    lora_rank: int | None = None

    @property
    def settings(self) -> ConnectionSettings:
        return ConnectionSettings.of(self)


def _settings(conn: ProviderConnection) -> ConnectionSettings:
    return ConnectionSettings.of(conn)


def _view(conn: ProviderConnection, model_count: int) -> ConnectionView:
    return ConnectionView(
        id=conn.id,
        name=conn.name,
        provider_type=conn.provider_type,
        base_url=conn.base_url,
        api_key_env=conn.api_key_env,
        key_present=key_is_present(_settings(conn)),
        default_base_model=conn.default_base_model,
        price_per_million_tokens=Decimal(conn.price_per_million_tokens),
        monthly_budget=Decimal(conn.monthly_budget) if conn.monthly_budget is not None else None,
        notes=conn.notes,
        model_count=model_count,
        updated_at=conn.updated_at,
        row_version=conn.row_version,
        api_version=conn.api_version,
        entra_id=conn.entra_id,
        azure_subscription_id=conn.azure_subscription_id,
        azure_resource_group=conn.azure_resource_group,
        azure_account_name=conn.azure_account_name,
        manual_deployments=conn.manual_deployments,
        hosting_price_per_hour=conn.hosting_price_per_hour,
        lora_rank=conn.lora_rank,
    )


def _model_counts(uow: UnitOfWork) -> dict[int, int]:
    rows = uow.session.execute(
        select(AIModel.connection_id, func.count()).group_by(AIModel.connection_id)
    )
    return {cid: n for cid, n in rows if cid is not None}


@requires(Permission.VIEW_CONNECTIONS)
def list_connections(uow: UnitOfWork, actor: Actor) -> list[ConnectionView]:
    """Connections with their settings; never the key, only whether it is present."""
    with uow:
        counts = _model_counts(uow)
        conns = uow.session.scalars(select(ProviderConnection).order_by(ProviderConnection.name))
        return [_view(c, counts.get(c.id, 0)) for c in conns]


@requires(Permission.VIEW_CONNECTIONS)
def get_connection(uow: UnitOfWork, actor: Actor, connection_id: int) -> ConnectionView:
    with uow:
        conn = get_or_404(uow.session, ProviderConnection, connection_id, "Connection")
        return _view(conn, _model_counts(uow).get(conn.id, 0))


def _name_taken(uow: UnitOfWork, name: str, except_id: int | None = None) -> bool:
    query = select(ProviderConnection.id).where(func.lower(ProviderConnection.name) == name.lower())
    found = uow.session.scalar(query)
    return found is not None and found != except_id


@requires(Permission.MANAGE_CONNECTIONS)
def create_connection(uow: UnitOfWork, actor: Actor, data: ConnectionInput) -> ConnectionView:
    values = checked_connection(data)
    with uow:
        if _name_taken(uow, str(values["name"])):
            raise Conflict(f"A connection named {values['name']!r} already exists.")
        conn = ProviderConnection(**values)
        uow.session.add(conn)
        uow.session.flush()
        record_audit(
            uow.session,
            actor,
            "create",
            "connection",
            conn.id,
            f"created connection {conn.name}",
            after=snapshot(conn, _AUDITED),
        )
        uow.commit()
        return _view(conn, 0)


@requires(Permission.MANAGE_CONNECTIONS)
def update_connection(
    uow: UnitOfWork,
    actor: Actor,
    connection_id: int,
    data: ConnectionInput,
    expected_version: int | None = None,
) -> ConnectionView:
    values = checked_connection(data)
    with uow:
        conn = get_or_404(uow.session, ProviderConnection, connection_id, "Connection")
        check_row_version(conn, expected_version, entity="connection")
        if _name_taken(uow, str(values["name"]), except_id=conn.id):
            raise Conflict(f"A connection named {values['name']!r} already exists.")
        before = snapshot(conn, _AUDITED)
        for key, value in values.items():
            setattr(conn, key, value)
        after = snapshot(conn, _AUDITED)
        if changed_fields(before, after):
            uow.session.flush()
            record_audit(
                uow.session,
                actor,
                "update",
                "connection",
                conn.id,
                f"changed {', '.join(changed_fields(before, after))} of connection {conn.name}",
                before,
                after,
            )
        uow.commit()
        return _view(conn, _model_counts(uow).get(conn.id, 0))


@requires(Permission.MANAGE_CONNECTIONS)
def delete_connection(uow: UnitOfWork, actor: Actor, connection_id: int) -> None:
    with uow:
        conn = get_or_404(uow.session, ProviderConnection, connection_id, "Connection")
        users = _model_counts(uow).get(conn.id, 0)
        if users:
            raise Conflict(
                f"{users} model(s) use the connection {conn.name}; move them to another "
                "connection first."
            )
        record_audit(
            uow.session,
            actor,
            "delete",
            "connection",
            conn.id,
            f"deleted connection {conn.name}",
            before=snapshot(conn, _AUDITED),
        )
        uow.session.delete(conn)
        uow.commit()


@requires(Permission.VIEW_CONNECTIONS)
def test_connection(uow: UnitOfWork, actor: Actor, connection_id: int) -> list[BaseModel]:
    """Ask the provider for its base models: proves the URL and key work."""
    with uow:
        conn = get_or_404(uow.session, ProviderConnection, connection_id, "Connection")
        settings = _settings(conn)
    # Outside the transaction: a slow provider must not hold the database.
    return provider_for(settings).list_base_models()
