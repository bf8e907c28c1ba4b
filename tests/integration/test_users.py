from __future__ import annotations

from collections.abc import Callable

import pytest

from core.domain import Role
from core.errors import (
    AuthenticationFailed,
    Conflict,
    PermissionDenied,
    ValidationFailed,
)
from core.models import AuditEntry
from core.permissions import Actor
from core.services import accounts
from core.uow import UnitOfWork
from tests.conftest import make_user

Uows = Callable[[], UnitOfWork]


def test_log_in_with_the_right_password(new_uow: Uows, admin: Actor) -> None:
    actor = accounts.log_in(new_uow(), " Admin@Test.example ", "correct horse battery")
    assert actor.user_id == admin.user_id and actor.role == Role.ADMIN


def test_wrong_password_and_unknown_email_read_the_same(new_uow: Uows, admin: Actor) -> None:
    with pytest.raises(AuthenticationFailed) as wrong:
        accounts.log_in(new_uow(), admin.email, "not the password")
    with pytest.raises(AuthenticationFailed) as unknown:
        accounts.log_in(new_uow(), "nobody@test.example", "whatever")
    assert wrong.value.message == unknown.value.message


def test_too_many_failures_lock_the_account_even_for_the_right_password(
    new_uow: Uows, trainer: Actor
) -> None:
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            accounts.log_in(new_uow(), trainer.email, "wrong password")
    with pytest.raises(AuthenticationFailed) as locked:
        accounts.log_in(new_uow(), trainer.email, "correct horse battery")
    # The same words as a wrong password or an unknown e-mail: a guesser cannot tell that
    # this account exists, or that it is locked.
    with pytest.raises(AuthenticationFailed) as unknown:
        accounts.log_in(new_uow(), "nobody@test.example", "whatever")
    assert locked.value.message == unknown.value.message
    assert "locked for 15 minutes" in locked.value.message


def test_admin_unlocks_and_resets(new_uow: Uows, admin: Actor, trainer: Actor) -> None:
    for _ in range(accounts.MAX_FAILED_LOGINS):
        with pytest.raises(AuthenticationFailed):
            accounts.log_in(new_uow(), trainer.email, "wrong password")
    assert trainer.user_id is not None
    new_password = accounts.reset_password(new_uow(), admin, trainer.user_id)
    assert accounts.log_in(new_uow(), trainer.email, new_password).user_id == trainer.user_id


def test_disabled_users_cannot_sign_in_and_lose_their_session(
    new_uow: Uows, admin: Actor, trainer: Actor
) -> None:
    assert trainer.user_id is not None
    accounts.update_user(new_uow(), admin, trainer.user_id, is_active=False)
    with pytest.raises(AuthenticationFailed):
        accounts.log_in(new_uow(), trainer.email, "correct horse battery")
    with pytest.raises(AuthenticationFailed):
        accounts.current_actor(new_uow(), trainer.user_id)


def test_change_own_password(new_uow: Uows, manager: Actor) -> None:
    with pytest.raises(AuthenticationFailed):
        accounts.change_own_password(new_uow(), manager, "wrong", "a new password 123")
    with pytest.raises(ValidationFailed):
        accounts.change_own_password(new_uow(), manager, "correct horse battery", "short")
    accounts.change_own_password(new_uow(), manager, "correct horse battery", "a new password 123")
    assert (
        accounts.log_in(new_uow(), manager.email, "a new password 123").user_id == manager.user_id
    )


def test_create_user_and_roles(new_uow: Uows, admin: Actor, trainer: Actor) -> None:
    created = accounts.create_user(
        new_uow(), admin, "New@Test.example", "New Person", Role.MANAGER, generate_password=True
    )
    assert created.user.email == "new@test.example" and created.generated_password
    assert (
        accounts.log_in(new_uow(), "new@test.example", created.generated_password).role
        == Role.MANAGER
    )
    with pytest.raises(Conflict):
        accounts.create_user(new_uow(), admin, "new@test.example", "Again", Role.TRAINER, None)
    with pytest.raises(ValidationFailed):
        accounts.create_user(new_uow(), admin, "not-an-email", "", Role.TRAINER, None)
    with pytest.raises(PermissionDenied):
        accounts.create_user(new_uow(), trainer, "x@test.example", "X", Role.ADMIN, None)
    updated = accounts.update_user(new_uow(), admin, created.user.id, role=Role.TRAINER)
    assert updated.role == Role.TRAINER


def test_the_last_admin_stays(new_uow: Uows, admin: Actor) -> None:
    assert admin.user_id is not None
    with pytest.raises(Conflict, match="last active admin"):
        accounts.update_user(new_uow(), admin, admin.user_id, role=Role.TRAINER)
    with pytest.raises(Conflict):
        accounts.update_user(new_uow(), admin, admin.user_id, is_active=False)


def test_sso_maps_e_mail_to_our_role(new_uow: Uows, manager: Actor) -> None:
    assert accounts.log_in_with_sso(new_uow(), "MANAGER@test.example").role == Role.MANAGER
    with pytest.raises(AuthenticationFailed, match="no active account"):
        accounts.log_in_with_sso(new_uow(), "stranger@elsewhere.example")


def test_changes_to_users_are_audited(new_uow: Uows, admin: Actor) -> None:
    created = accounts.create_user(new_uow(), admin, "a@test.example", "A", Role.TRAINER, None)
    accounts.update_user(new_uow(), admin, created.user.id, role=Role.MANAGER)
    uow = new_uow()
    with uow:
        entries = (
            uow.session.query(AuditEntry)
            .filter_by(entity_type="user", entity_id=created.user.id)
            .all()
        )
        assert [e.action for e in entries] == ["create", "update"]
        assert entries[1].before == {
            "email": "a@test.example",
            "display_name": "A",
            "role": "trainer",
            "is_active": True,
        }
        assert entries[1].after is not None and entries[1].after["role"] == "manager"
        assert all("password" not in str(e.after) for e in entries)


def test_no_password_hash_is_ever_a_plain_password(new_uow: Uows) -> None:
    actor = make_user(new_uow(), "p@test.example", Role.TRAINER, password="plain text secret")
    uow = new_uow()
    with uow:
        from core.models import User

        stored = uow.session.get(User, actor.user_id)
        assert stored is not None and stored.password_hash is not None
        assert (
            stored.password_hash.startswith("$argon2id$")
            and "plain text secret" not in stored.password_hash
        )
