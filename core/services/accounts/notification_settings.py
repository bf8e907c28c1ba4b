"""Who gets notifications beyond the app: each user opts in to e-mail and to the chat
webhook; admins name a webhook per model, or per connection for every model on it."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from core.errors import ValidationFailed
from core.messaging import SmtpSettings
from core.models import AIModel, NotificationWebhook, ProviderConnection, User
from core.permissions import Actor, Permission, requires
from core.services.accounts.audit import record_audit
from core.services.shared import get_or_404
from core.uow import UnitOfWork

URL_MAX = 1000


@dataclass(frozen=True)
class NotificationSettings:
    email: bool
    webhook: bool
    address: str
    # Whether the server can send e-mail at all (an SMTP host is configured).
    email_available: bool


def _settings(user: User) -> NotificationSettings:
    return NotificationSettings(
        user.notify_email, user.notify_webhook, user.email, SmtpSettings.from_config() is not None
    )


@requires(Permission.READ)
def notification_settings(uow: UnitOfWork, actor: Actor) -> NotificationSettings:
    with uow:
        return _settings(get_or_404(uow.session, User, actor.user_id or 0, "User"))


@requires(Permission.READ)
def set_notification_settings(
    uow: UnitOfWork, actor: Actor, *, email: bool, webhook: bool
) -> NotificationSettings:
    """One's own opt-ins (everyone may choose how they are told)."""
    with uow:
        user = get_or_404(uow.session, User, actor.user_id or 0, "User")
        before = {"notify_email": user.notify_email, "notify_webhook": user.notify_webhook}
        user.notify_email, user.notify_webhook = bool(email), bool(webhook)
        record_audit(
            uow.session,
            actor,
            "update",
            "user",
            user.id,
            "Changed how they are notified",
            before,
            {"notify_email": user.notify_email, "notify_webhook": user.notify_webhook},
        )
        uow.commit()
        return _settings(user)


def _clean_url(url: str | None) -> str | None:
    url = (url or "").strip()
    if not url:
        return None
    if not url.startswith(("https://", "http://")) or len(url) > URL_MAX or " " in url:
        raise ValidationFailed("A webhook address starts with https:// and has no spaces.")
    return url


def _save_webhook(
    uow: UnitOfWork, actor: Actor, owner: str, owner_id: int, url: str | None
) -> None:
    column = NotificationWebhook.model_id if owner == "model" else NotificationWebhook.connection_id
    found = uow.session.scalar(select(NotificationWebhook).where(column == owner_id))
    if url is None:
        if found is not None:
            uow.session.delete(found)
    elif found is None:
        uow.session.add(
            NotificationWebhook(
                model_id=owner_id if owner == "model" else None,
                connection_id=owner_id if owner == "connection" else None,
                url=url,
            )
        )
    else:
        found.url = url
    # The address is a secret of the chat channel: the audit trail says only that it changed.
    record_audit(
        uow.session, actor, "update", owner, owner_id,
        "Removed the notification webhook" if url is None else "Set the notification webhook",
    )  # fmt: skip
    uow.commit()


@requires(Permission.MANAGE_MODELS)
def set_model_webhook(uow: UnitOfWork, actor: Actor, model_id: int, url: str | None) -> None:
    cleaned = _clean_url(url)
    with uow:
        get_or_404(uow.session, AIModel, model_id, "Model")
        _save_webhook(uow, actor, "model", model_id, cleaned)


@requires(Permission.MANAGE_CONNECTIONS)
def set_connection_webhook(
    uow: UnitOfWork, actor: Actor, connection_id: int, url: str | None
) -> None:
    cleaned = _clean_url(url)
    with uow:
        get_or_404(uow.session, ProviderConnection, connection_id, "Connection")
        _save_webhook(uow, actor, "connection", connection_id, cleaned)


@requires(Permission.MANAGE_MODELS)
def model_webhook(uow: UnitOfWork, actor: Actor, model_id: int) -> str | None:
    with uow:
        return uow.session.scalar(
            select(NotificationWebhook.url).where(NotificationWebhook.model_id == model_id)
        )


@requires(Permission.MANAGE_CONNECTIONS)
def connection_webhook(uow: UnitOfWork, actor: Actor, connection_id: int) -> str | None:
    with uow:
        return uow.session.scalar(
            select(NotificationWebhook.url).where(
                NotificationWebhook.connection_id == connection_id
            )
        )
