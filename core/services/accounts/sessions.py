"""Signed-in browsers: a token that survives a reload, and ends for good on sign-out.

The browser keeps a random token in a cookie; the database keeps only its SHA-256, so a
copy of the database signs no one in. A session ends when its user signs out, after
``IDLE_HOURS`` without use, ``MAX_DAYS`` after it began, or when the account is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import select, update

from core.domain import as_utc, utcnow
from core.errors import AuthenticationFailed
from core.models import LoginSession, User
from core.permissions import Actor, Permission, public, requires
from core.uow import UnitOfWork

IDLE_HOURS = 12
MAX_DAYS = 7
# Refreshing "last seen" on every click would write on every page run.
_TOUCH_EVERY = timedelta(minutes=5)
_ENDED = "Your session has ended. Please sign in again."


def token_hash(token: str) -> str:
    """What the database keeps of a session's token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@requires(Permission.READ)
def start_session(uow: UnitOfWork, actor: Actor) -> str:
    """A new session for a user who has just proved who they are; returns its token."""
    if actor.user_id is None:
        raise AuthenticationFailed("Only a signed-in user can have a session.")
    token = secrets.token_urlsafe(32)
    now = utcnow()
    with uow:
        uow.session.add(
            LoginSession(
                user_id=actor.user_id,
                token_hash=token_hash(token),
                created_at=now,
                last_seen_at=now,
                expires_at=now + timedelta(days=MAX_DAYS),
            )
        )
        uow.commit()
    return token


@public
def resume_session(uow: UnitOfWork, token: str) -> Actor:
    """The user of a live session; raises ``AuthenticationFailed`` for any other token."""
    now = utcnow()
    with uow:
        found = uow.session.execute(
            select(LoginSession, User)
            .join(User, User.id == LoginSession.user_id)
            .where(LoginSession.token_hash == token_hash(token))
        ).one_or_none()
        if found is None:
            raise AuthenticationFailed(_ENDED)
        session, user = found
        idle_since = as_utc(session.last_seen_at)
        if (
            session.ended_at is not None
            or as_utc(session.expires_at) <= now
            or now - idle_since > timedelta(hours=IDLE_HOURS)
            or not user.is_active
        ):
            raise AuthenticationFailed(_ENDED)
        if now - idle_since > _TOUCH_EVERY:
            session.last_seen_at = now
            uow.commit()
        return Actor(
            user_id=user.id, email=user.email, role=user.role, display_name=user.display_name
        )


@public
def end_session(uow: UnitOfWork, token: str) -> None:
    """Sign out: the token no longer signs anyone in, wherever a copy of it is."""
    with uow:
        uow.session.execute(
            update(LoginSession)
            .where(LoginSession.token_hash == token_hash(token), LoginSession.ended_at.is_(None))
            .values(ended_at=utcnow())
        )
        uow.commit()
