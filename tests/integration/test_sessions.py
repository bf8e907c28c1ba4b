"""Login sessions: a token resumes its user until sign-out, expiry or a disabled account;
the database holds only the token's hash."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.errors import AuthenticationFailed
from core.models import LoginSession
from core.permissions import Actor
from core.services import accounts
from core.uow import UnitOfWork

Uows = Callable[[], UnitOfWork]


def test_a_token_resumes_its_user_until_sign_out(new_uow: Uows, trainer: Actor) -> None:
    token = accounts.start_session(new_uow(), trainer)
    assert accounts.resume_session(new_uow(), token) == trainer
    accounts.end_session(new_uow(), token)
    with pytest.raises(AuthenticationFailed, match="sign in again"):
        accounts.resume_session(new_uow(), token)


def test_signing_out_ends_only_that_session(new_uow: Uows, trainer: Actor) -> None:
    laptop = accounts.start_session(new_uow(), trainer)
    phone = accounts.start_session(new_uow(), trainer)
    accounts.end_session(new_uow(), laptop)
    assert accounts.resume_session(new_uow(), phone) == trainer


def test_unknown_and_forged_tokens_sign_no_one_in(new_uow: Uows, trainer: Actor) -> None:
    token = accounts.start_session(new_uow(), trainer)
    for wrong in ("", "not-a-token", token[:-1], token + "x"):
        with pytest.raises(AuthenticationFailed):
            accounts.resume_session(new_uow(), wrong)


def test_only_a_hash_of_the_token_is_stored(new_uow: Uows, trainer: Actor) -> None:
    token = accounts.start_session(new_uow(), trainer)
    uow = new_uow()
    with uow:
        stored = list(uow.session.scalars(select(LoginSession.token_hash)))
    assert stored and token not in stored and all(len(h) == 64 for h in stored)


@pytest.mark.parametrize(
    "column,age",
    [
        ("last_seen_at", timedelta(hours=accounts.IDLE_HOURS, minutes=1)),
        ("expires_at", timedelta(seconds=1)),
    ],
)
def test_idle_and_old_sessions_expire(
    new_uow: Uows, trainer: Actor, column: str, age: timedelta
) -> None:
    token = accounts.start_session(new_uow(), trainer)
    uow = new_uow()
    with uow:
        moment = getattr(uow.session.scalars(select(LoginSession)).one(), column)
        shifted = moment - age if column == "last_seen_at" else moment - timedelta(days=8)
        uow.session.execute(update(LoginSession).values({column: shifted}))
        uow.commit()
    with pytest.raises(AuthenticationFailed):
        accounts.resume_session(new_uow(), token)


def test_disabling_or_resetting_a_user_ends_their_sessions(
    new_uow: Uows, admin: Actor, trainer: Actor, manager: Actor
) -> None:
    assert trainer.user_id is not None and manager.user_id is not None
    disabled = accounts.start_session(new_uow(), trainer)
    reset = accounts.start_session(new_uow(), manager)
    accounts.update_user(new_uow(), admin, trainer.user_id, is_active=False)
    accounts.reset_password(new_uow(), admin, manager.user_id)
    for token in (disabled, reset):
        with pytest.raises(AuthenticationFailed):
            accounts.resume_session(new_uow(), token)
    accounts.update_user(new_uow(), admin, trainer.user_id, is_active=True)
    with pytest.raises(AuthenticationFailed):
        accounts.resume_session(new_uow(), disabled)
