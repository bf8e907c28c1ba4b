from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import text

from core.domain import ProviderType
from core.errors import Conflict, PermissionDenied, ProviderAuthError, ValidationFailed
from core.permissions import Actor
from core.services import catalog
from core.services.catalog import ConnectionInput
from core.uow import UnitOfWork

Uows = Callable[[], UnitOfWork]
PLANTED_KEY = "sk-test-PLANTED-0123456789abcdef0123456789abcdef"


def test_the_key_itself_is_never_stored(
    new_uow: Uows, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ARBITER_KEY_TEST", PLANTED_KEY)
    conn = catalog.create_connection(
        new_uow(),
        admin,
        ConnectionInput(
            name="OpenAI", provider_type=ProviderType.OPENAI, api_key_env="ARBITER_KEY_TEST"
        ),
    )
    assert conn.key_present and conn.api_key_env == "ARBITER_KEY_TEST"
    assert PLANTED_KEY not in repr(conn)
    uow = new_uow()
    with uow:
        for table in ("provider_connections", "audit_entries"):
            dump = " ".join(str(row) for row in uow.session.execute(text(f"SELECT * FROM {table}")))
            assert PLANTED_KEY not in dump
    monkeypatch.delenv("ARBITER_KEY_TEST")
    assert not catalog.get_connection(new_uow(), admin, conn.id).key_present


def test_a_pasted_key_is_refused_with_a_clear_message(new_uow: Uows, admin: Actor) -> None:
    with pytest.raises(ValidationFailed) as exc:
        catalog.create_connection(
            new_uow(),
            admin,
            ConnectionInput(
                name="Oops", provider_type=ProviderType.OPENAI, api_key_env=PLANTED_KEY
            ),
        )
    assert "never the key itself" in str(exc.value)
    assert PLANTED_KEY not in str(exc.value)


def test_validation_and_uniqueness(new_uow: Uows, admin: Actor) -> None:
    catalog.create_connection(
        new_uow(), admin, ConnectionInput(name="Local", provider_type=ProviderType.LOCAL)
    )
    with pytest.raises(Conflict):
        catalog.create_connection(
            new_uow(), admin, ConnectionInput(name="local", provider_type=ProviderType.LOCAL)
        )
    with pytest.raises(ValidationFailed) as exc:
        catalog.create_connection(
            new_uow(),
            admin,
            ConnectionInput(
                name="",
                provider_type=ProviderType.OPENAI,
                base_url="ftp://x",
                price_per_million_tokens="-1",
            ),
        )
    assert {p.where for p in exc.value.problems} == {"name", "base URL", "price per 1M tokens"}


def test_local_connection_lists_its_models(new_uow: Uows, admin: Actor, manager: Actor) -> None:
    conn = catalog.create_connection(
        new_uow(), admin, ConnectionInput(name="Local", provider_type=ProviderType.LOCAL)
    )
    models = catalog.test_connection(new_uow(), manager, conn.id)
    assert [m.id for m in models] == ["local-retrieval-1"]


def test_openai_connection_without_key_says_which_variable(
    new_uow: Uows, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ARBITER_KEY_NO_SUCH", raising=False)
    conn = catalog.create_connection(
        new_uow(),
        admin,
        ConnectionInput(
            name="OpenAI", provider_type=ProviderType.OPENAI, api_key_env="ARBITER_KEY_NO_SUCH"
        ),
    )
    with pytest.raises(ProviderAuthError, match="ARBITER_KEY_NO_SUCH"):
        catalog.test_connection(new_uow(), admin, conn.id)


def test_only_admins_change_connections(new_uow: Uows, trainer: Actor, manager: Actor) -> None:
    for actor in (trainer, manager):
        with pytest.raises(PermissionDenied):
            catalog.create_connection(
                new_uow(), actor, ConnectionInput(name="X", provider_type=ProviderType.LOCAL)
            )
    with pytest.raises(PermissionDenied):
        catalog.test_connection(new_uow(), trainer, 1)


def test_openai_connection_lists_models_through_the_sdk(
    new_uow: Uows, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.openai_server import FakeOpenAI, Fault

    with FakeOpenAI(api_key="sk-conn-test") as server:
        monkeypatch.setenv("ARBITER_KEY_CONN_TEST", "sk-conn-test")
        conn = catalog.create_connection(
            new_uow(),
            admin,
            ConnectionInput(
                name="OpenAI",
                provider_type=ProviderType.OPENAI,
                base_url=server.base_url,
                api_key_env="ARBITER_KEY_CONN_TEST",
            ),
        )
        models = {m.id: m for m in catalog.test_connection(new_uow(), admin, conn.id)}
        assert "gpt-4o-mini-2024-07-18" in models
        assert models["gpt-4o-mini-2024-07-18"].fine_tunable
        assert models["gpt-4o-mini-2024-07-18"].shutdown_date is not None
        assert ("GET", "/v1/models") in server.requests

        monkeypatch.setenv("ARBITER_KEY_CONN_TEST", "sk-wrong")
        with pytest.raises(ProviderAuthError, match="ARBITER_KEY_CONN_TEST"):
            catalog.test_connection(new_uow(), admin, conn.id)
        monkeypatch.setenv("ARBITER_KEY_CONN_TEST", "sk-conn-test")
        server.add_fault("GET", "/v1/models", Fault.server_error(503))
        from core.errors import ProviderUnavailable

        with pytest.raises(ProviderUnavailable, match="server error"):
            catalog.test_connection(new_uow(), admin, conn.id)
