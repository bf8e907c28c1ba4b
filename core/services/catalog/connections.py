"""Provider connections: where models are trained and answered, at what price and budget."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import func, select

from core.domain import NAME_MAX, ProviderType
from core.errors import Conflict, Problem, ValidationFailed
from core.models import AIModel, ProviderConnection
from core.permissions import Actor, Permission, requires
from core.providers.base import BaseModel
from core.providers.registry import ConnectionSettings, key_is_present, provider_for
from core.services.accounts.audit import record_audit
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
)
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,119}$")
# Something that looks like a key rather than the name of a variable holding one.
_LOOKS_LIKE_KEY = re.compile(r"^(sk-|sess-)|[a-z0-9]{32,}", re.IGNORECASE)


@dataclass(frozen=True)
class ConnectionInput:
    name: str
    provider_type: ProviderType
    base_url: str | None = None
    api_key_env: str | None = None
    default_base_model: str | None = None
    price_per_million_tokens: Decimal | str | float = Decimal("0")
    monthly_budget: Decimal | str | float | None = None
    notes: str = ""
    lora_rank: int | None = None  # open-weights; None keeps the stored rank


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
    lora_rank: int | None = None

    @property
    def settings(self) -> ConnectionSettings:
        return ConnectionSettings(self.provider_type, self.base_url, self.api_key_env)


def _settings(conn: ProviderConnection) -> ConnectionSettings:
    return ConnectionSettings(conn.provider_type, conn.base_url, conn.api_key_env)


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
        lora_rank=conn.lora_rank,
    )


def _decimal(value: object, field: str, problems: list[Problem]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        problems.append(Problem(field, "enter a number"))
        return None
    if number < 0 or not number.is_finite():
        problems.append(Problem(field, "must be zero or more"))
        return None
    return number


def _clean(data: ConnectionInput) -> dict[str, object]:
    problems: list[Problem] = []
    name = data.name.strip()
    if not name:
        problems.append(Problem("name", "must not be empty"))
    elif len(name) > NAME_MAX:
        problems.append(Problem("name", f"use at most {NAME_MAX} characters"))
    try:
        provider_type = ProviderType(data.provider_type)
    except ValueError:
        problems.append(Problem("type", "choose one of: " + ", ".join(ProviderType)))
        provider_type = ProviderType.LOCAL
    key_env = (data.api_key_env or "").strip() or None
    if key_env is not None:
        if _LOOKS_LIKE_KEY.search(key_env) and not key_env.isupper():
            problems.append(
                Problem(
                    "API key variable",
                    "enter the NAME of the environment variable or secret that holds the key "
                    "(e.g. OPENAI_API_KEY), never the key itself",
                )
            )
        elif not _ENV_NAME.match(key_env):
            problems.append(
                Problem("API key variable", "letters, digits and _ only, e.g. OPENAI_API_KEY")
            )
    base_url = (data.base_url or "").strip() or None
    if base_url and not re.match(r"^https?://[^\s]+$", base_url):
        problems.append(Problem("base URL", "enter an http(s) URL, e.g. https://api.openai.com/v1"))
    price = _decimal(data.price_per_million_tokens, "price per 1M tokens", problems)
    budget = _decimal(data.monthly_budget, "monthly budget", problems)
    if data.lora_rank is not None and not 1 <= data.lora_rank <= 256:
        problems.append(Problem("LoRA rank", "between 1 and 256, e.g. 16"))
    if problems:
        raise ValidationFailed("The connection cannot be saved.", problems)
    # Only when given: a form that does not show the rank never clears it.
    rank = {"lora_rank": data.lora_rank} if data.lora_rank is not None else {}
    return rank | {
        "name": name,
        "provider_type": provider_type,
        "base_url": base_url,
        "api_key_env": key_env,
        "default_base_model": (data.default_base_model or "").strip() or None,
        "price_per_million_tokens": price or Decimal("0"),
        "monthly_budget": budget,
        "notes": data.notes.strip(),
    }


def _model_counts(uow: UnitOfWork) -> dict[int, int]:
    rows = uow.session.execute(
        select(AIModel.connection_id, func.count()).group_by(AIModel.connection_id)
    )
    return {cid: n for cid, n in rows if cid is not None}


@requires(Permission.READ)
def list_connections(uow: UnitOfWork, actor: Actor) -> list[ConnectionView]:
    """Connections with their settings; never the key, only whether it is present."""
    with uow:
        counts = _model_counts(uow)
        conns = uow.session.scalars(select(ProviderConnection).order_by(ProviderConnection.name))
        return [_view(c, counts.get(c.id, 0)) for c in conns]


@requires(Permission.READ)
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
    values = _clean(data)
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
    values = _clean(data)
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
