"""Accounts: sign-in, password changes, and the admins' user management."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from core import security
from core.domain import NAME_MAX, Role, as_utc, utcnow
from core.errors import (
    AuthenticationFailed,
    Conflict,
    PermissionDenied,
    Problem,
    ValidationFailed,
)
from core.models import LoginSession, User
from core.permissions import Actor, Permission, public, requires
from core.services.accounts.audit import record_audit
from core.services.accounts.sessions import token_hash
from core.services.shared import check_row_version, get_or_404, snapshot
from core.uow import UnitOfWork

MAX_FAILED_LOGINS = 5
LOCK_MINUTES = 15
_AUDITED = ("email", "display_name", "role", "is_active")


@dataclass(frozen=True)
class UserView:
    id: int
    email: str
    display_name: str
    role: Role
    is_active: bool
    has_password: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime
    row_version: int


@dataclass(frozen=True)
class NewUser:
    user: UserView
    generated_password: str | None


def _view(user: User) -> UserView:
    return UserView(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        is_active=user.is_active,
        has_password=user.password_hash is not None,
        locked_until=user.locked_until,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
        row_version=user.row_version,
    )


def _actor(user: User) -> Actor:
    return Actor(user_id=user.id, email=user.email, role=user.role, display_name=user.display_name)


def _normalise_email(email: str) -> str:
    return email.strip().lower()


def _find_by_email(uow: UnitOfWork, email: str) -> User | None:
    return uow.session.scalar(select(User).where(User.email == _normalise_email(email)))


def _end_sessions(uow: UnitOfWork, user_id: int, *, but: str | None = None) -> None:
    """Sign a user out everywhere (disabled, or a password reset by an admin), or everywhere
    but the session whose token is ``but`` (the user changed their own password there)."""
    statement = update(LoginSession).where(
        LoginSession.user_id == user_id, LoginSession.ended_at.is_(None)
    )
    if but is not None:
        statement = statement.where(LoginSession.token_hash != token_hash(but))
    uow.session.execute(statement.values(ended_at=utcnow()))


# One answer for a wrong password, an unknown or disabled e-mail and a locked account, so
# that a guesser cannot tell which accounts exist or are locked; it says what a real user
# needs to know in every case.
_NOT_RIGHT = (
    "The e-mail or the password is not right. After "
    f"{MAX_FAILED_LOGINS} failed attempts an account is locked for {LOCK_MINUTES} minutes."
)


@dataclass(frozen=True)
class _Candidate:
    user_id: int
    password_hash: str | None


def _candidate(uow: UnitOfWork, email: str) -> _Candidate | None:
    with uow:
        user = _find_by_email(uow, email)
        if user is None or not user.is_active:
            return None
        return _Candidate(user.id, user.password_hash)


def _locked(user: User, now: datetime) -> bool:
    locked_until = as_utc(user.locked_until)
    return locked_until is not None and locked_until > now


@public
def log_in(uow: UnitOfWork, email: str, password: str) -> Actor:
    """Check a password. Repeated failures lock the account for a while.

    The password is verified (argon2, ~0.1 s of CPU) between two short transactions, never
    inside one: on SQLite every transaction holds the write lock, and sign-in loops would
    stall every save. The outcome is then counted in a transaction that holds the user's row
    (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite's ``BEGIN IMMEDIATE`` serialises all
    writers), reading the lock state afresh there: parallel guesses are counted one by one,
    the fifth locks the account, and every one counted after it is refused even if right.
    """
    candidate = _candidate(uow, email)
    stored = candidate.password_hash if candidate else None
    if stored:
        right = security.verify_password(stored, password)
    else:
        security.dummy_verify()  # the same time for an unknown e-mail
        right = False
    rehashed = (
        security.hash_password(password)
        if right and stored and security.needs_rehash(stored)
        else None
    )
    if candidate is None:
        raise AuthenticationFailed(_NOT_RIGHT)
    with uow:
        user = uow.session.scalar(
            select(User).where(User.id == candidate.user_id).with_for_update()
        )
        now = utcnow()
        if user is None or not user.is_active or user.password_hash != stored:
            # Gone, disabled or given another password while the password was checked.
            raise AuthenticationFailed(_NOT_RIGHT)
        if _locked(user, now):
            raise AuthenticationFailed(_NOT_RIGHT)
        if not right:
            _count_failure(uow, user, now)
            uow.commit()
            raise AuthenticationFailed(_NOT_RIGHT)
        user.failed_logins = 0
        user.locked_until = None
        user.last_login_at = now
        if rehashed:
            user.password_hash = rehashed
        uow.commit()
        return _actor(user)


def _count_failure(uow: UnitOfWork, user: User, now: datetime) -> None:
    user.failed_logins += 1
    if user.failed_logins >= MAX_FAILED_LOGINS:
        user.locked_until = now + timedelta(minutes=LOCK_MINUTES)
        user.failed_logins = 0
        record_audit(
            uow.session, _actor(user), "lock", "user", user.id, "locked after failed sign-ins"
        )


@public
def log_in_with_sso(uow: UnitOfWork, email: str) -> Actor:
    """Single sign-on: the identity provider vouched for the e-mail; the role is ours."""
    with uow:
        user = _find_by_email(uow, email)
        if user is None or not user.is_active:
            raise AuthenticationFailed(
                f"{email} has no active account in Arbiter Studio. Ask an admin to add you."
            )
        user.last_login_at = utcnow()
        uow.commit()
        return _actor(user)


@public
def current_actor(uow: UnitOfWork, user_id: int) -> Actor:
    """Reload a signed-in user on every page run, so disabling or re-roling takes effect."""
    with uow:
        user = uow.session.get(User, user_id)
        if user is None or not user.is_active:
            raise AuthenticationFailed("Your account is no longer active. Please sign in again.")
        return _actor(user)


@requires(Permission.READ)
def change_own_password(
    uow: UnitOfWork,
    actor: Actor,
    old_password: str,
    new_password: str,
    *,
    keep_session: str | None = None,
) -> None:
    """A new password, checked against the current one. Every other session of the user ends
    with it (one that was stolen included); ``keep_session``, the token of the session that
    asked, stays signed in. Both hashes are computed outside the write transaction."""
    if actor.user_id is None:
        raise PermissionDenied("Only signed-in users have a password to change.")
    with uow:
        stored = get_or_404(uow.session, User, actor.user_id, "User").password_hash
    if not security.verify_password(stored, old_password):
        raise AuthenticationFailed("The current password is not right.")
    if old_password == new_password:
        raise ValidationFailed("The new password must differ from the current one.")
    new_hash = security.hash_password(new_password)
    with uow:
        user = uow.session.scalar(select(User).where(User.id == actor.user_id).with_for_update())
        if user is None or user.password_hash != stored:
            raise Conflict("The password was changed meanwhile; sign in again and retry.")
        user.password_hash = new_hash
        user.password_changed_at = utcnow()
        _end_sessions(uow, user.id, but=keep_session)
        record_audit(uow.session, actor, "change_password", "user", user.id, "changed own password")
        uow.commit()


@requires(Permission.READ)
def get_profile(uow: UnitOfWork, actor: Actor) -> UserView:
    with uow:
        if actor.user_id is None:
            raise PermissionDenied("The system actor has no profile.")
        return _view(get_or_404(uow.session, User, actor.user_id, "User"))


@requires(Permission.MANAGE_USERS)
def list_users(uow: UnitOfWork, actor: Actor) -> list[UserView]:
    with uow:
        return [_view(u) for u in uow.session.scalars(select(User).order_by(User.email))]


def _validate(email: str, display_name: str) -> list[Problem]:
    problems = []
    if "@" not in email or len(email) > 254 or email.startswith("@") or email.endswith("@"):
        problems.append(Problem("email", "enter a valid e-mail address"))
    if not display_name.strip():
        problems.append(Problem("display name", "must not be empty"))
    elif len(display_name) > NAME_MAX:
        problems.append(Problem("display name", f"use at most {NAME_MAX} characters"))
    return problems


@requires(Permission.MANAGE_USERS)
def create_user(
    uow: UnitOfWork,
    actor: Actor,
    email: str,
    display_name: str,
    role: Role,
    password: str | None = None,
    *,
    generate_password: bool = False,
) -> NewUser:
    """Add an account. Without a password it can only sign in through single sign-on;
    with ``generate_password`` it gets one, returned once to be passed on."""
    if generate_password:
        password = security.generate_password()
    email = _normalise_email(email)
    problems = _validate(email, display_name)
    if problems:
        raise ValidationFailed("The user cannot be saved.", problems)
    with uow:
        if _find_by_email(uow, email) is not None:
            raise Conflict(f"A user with the e-mail {email} already exists.")
        user = User(
            email=email,
            display_name=display_name.strip(),
            role=Role(role),
            password_hash=security.hash_password(password) if password else None,
            password_changed_at=utcnow() if password else None,
        )
        uow.session.add(user)
        uow.session.flush()
        record_audit(
            uow.session,
            actor,
            "create",
            "user",
            user.id,
            f"added {email} as {user.role.value}",
            after=snapshot(user, _AUDITED),
        )
        uow.commit()
        return NewUser(_view(user), password if generate_password else None)


def _count_active_admins(uow: UnitOfWork) -> int:
    return (
        uow.session.scalar(
            select(func.count())
            .select_from(User)
            .where(User.role == Role.ADMIN, User.is_active.is_(True))
        )
        or 0
    )


@requires(Permission.MANAGE_USERS)
def update_user(
    uow: UnitOfWork,
    actor: Actor,
    user_id: int,
    *,
    display_name: str | None = None,
    role: Role | None = None,
    is_active: bool | None = None,
    expected_version: int | None = None,
) -> UserView:
    """Rename, re-role, disable or enable a user. The last active admin stays an admin."""
    with uow:
        user = get_or_404(uow.session, User, user_id, "User")
        check_row_version(user, expected_version, entity="user")
        before = snapshot(user, _AUDITED)
        if display_name is not None:
            problems = _validate(user.email, display_name)
            if problems:
                raise ValidationFailed("The user cannot be saved.", problems)
            user.display_name = display_name.strip()
        demoting = (role is not None and Role(role) != Role.ADMIN) or is_active is False
        if (
            demoting
            and user.role == Role.ADMIN
            and user.is_active
            and _count_active_admins(uow) <= 1
        ):
            raise Conflict("This is the last active admin; make someone else an admin first.")
        if role is not None:
            user.role = Role(role)
        if is_active is not None:
            user.is_active = is_active
            if not is_active:
                _end_sessions(uow, user.id)
        after = snapshot(user, _AUDITED)
        if after != before:
            record_audit(
                uow.session,
                actor,
                "update",
                "user",
                user.id,
                f"updated {user.email}",
                before,
                after,
            )
        uow.commit()
        return _view(user)


@requires(Permission.MANAGE_USERS)
def reset_password(uow: UnitOfWork, actor: Actor, user_id: int) -> str:
    """Give a user a new generated password (shown once to the admin) and unlock them."""
    with uow:
        user = get_or_404(uow.session, User, user_id, "User")
        password = security.generate_password()
        user.password_hash = security.hash_password(password)
        user.password_changed_at = utcnow()
        user.failed_logins = 0
        user.locked_until = None
        _end_sessions(uow, user.id)
        record_audit(
            uow.session,
            actor,
            "reset_password",
            "user",
            user.id,
            f"reset the password of {user.email}",
        )
        uow.commit()
        return password


@requires(Permission.MANAGE_USERS)
def unlock_user(uow: UnitOfWork, actor: Actor, user_id: int) -> UserView:
    with uow:
        user = get_or_404(uow.session, User, user_id, "User")
        user.failed_logins = 0
        user.locked_until = None
        record_audit(uow.session, actor, "unlock", "user", user.id, f"unlocked {user.email}")
        uow.commit()
        return _view(user)


@public
def count_users(uow: UnitOfWork) -> int:
    """How many accounts exist (used by start-up and seeding; reveals nothing else)."""
    with uow:
        return uow.session.scalar(select(func.count()).select_from(User)) or 0
