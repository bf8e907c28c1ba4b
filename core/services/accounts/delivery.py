"""Sending notifications beyond the app, in the worker: fan each new notification out into
deliveries (e-mail to its user, a post to its model's webhook, as the user opted in), then
send the due ones with retries.

Exactly once: a notification is fanned out by one worker only (a conditional update claims
it), each delivery has a unique idempotency key (so a second fan-out cannot add it again),
and a delivery is claimed (status ``sending``, with a lease) and committed *before* the
network call and marked ``sent`` right after it. A worker that restarts never sends a sent
delivery again. Only a worker killed in the instant between the receiver's acceptance and
that commit leaves a ``sending`` delivery behind; when its lease has passed it is sent again
with the *same* key (the e-mail's Message-ID, the webhook's Idempotency-Key header), which a
receiver uses to drop the repeat. A failing receiver never holds up a compilation: all of
this runs as its own worker task, after the compilation's transaction has ended.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from core import messaging
from core.domain import utcnow
from core.messaging import SmtpSettings
from core.models import (
    AIModel,
    Compilation,
    Notification,
    NotificationDelivery,
    NotificationWebhook,
    User,
)
from core.permissions import public
from core.uow import UnitOfWork

log = logging.getLogger("arbiter.notifications")
MAX_ATTEMPTS = 6
BATCH = 20
EmailSender = Callable[[SmtpSettings, str, str, str, str], None]
WebhookSender = Callable[[str, dict[str, Any], str], None]


def _seconds(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def _key(*parts: object) -> str:
    return hashlib.sha256("|".join(str(p) for p in parts).encode("utf-8")).hexdigest()[:40]


def _model_of(session: Session, link: str | None) -> AIModel | None:
    """The model a notification is about, from its link (a compilation or a model page)."""
    query = parse_qs((link or "").partition("?")[2])
    try:
        if "compilation" in query:
            found = session.get(Compilation, int(query["compilation"][0]))
            return session.get(AIModel, found.model_id) if found else None
        if "model" in query:
            return session.get(AIModel, int(query["model"][0]))
    except ValueError:
        return None
    return None


def _webhook_for(session: Session, model: AIModel | None) -> str | None:
    """The model's own webhook, else that of the connection it (or an ancestor) uses."""
    seen: set[int] = set()
    while model is not None and model.id not in seen:
        seen.add(model.id)
        url = session.scalar(
            select(NotificationWebhook.url).where(NotificationWebhook.model_id == model.id)
        )
        if url:
            return url
        if model.connection_id is not None:
            return session.scalar(
                select(NotificationWebhook.url).where(
                    NotificationWebhook.connection_id == model.connection_id
                )
            )
        model = session.get(AIModel, model.parent_id) if model.parent_id else None
    return None


def _fan_out(session: Session, note: Notification, email_on: bool) -> int:
    user = session.get(User, note.user_id)
    if user is None or not user.is_active:
        return 0
    wanted: list[tuple[str, str, str]] = []
    if user.notify_email and email_on:
        wanted.append(("email", user.email, _key("email", note.id)))
    url = _webhook_for(session, _model_of(session, note.link)) if user.notify_webhook else None
    if url:
        # One post per event and channel, however many opted-in users were told of it.
        moment = f"{note.created_at:%Y-%m-%dT%H:%M}"
        wanted.append(("webhook", url, _key("webhook", url, note.kind, note.text, moment)))
    added = 0
    for channel, target, key in wanted:
        exists = session.scalar(
            select(NotificationDelivery.id).where(NotificationDelivery.idempotency_key == key)
        )
        if exists is None:
            session.add(
                NotificationDelivery(
                    notification_id=note.id, channel=channel, target=target, idempotency_key=key
                )
            )
            session.flush()
            added += 1
    return added


def dispatch(uow: UnitOfWork, limit: int = 100) -> int:
    """Fan the notifications no worker has fanned out yet into deliveries."""
    email_on = SmtpSettings.from_config() is not None
    added = 0
    with uow:
        session = uow.session
        ids = session.scalars(
            select(Notification.id)
            .where(Notification.dispatched_at.is_(None))
            .order_by(Notification.id)
            .limit(limit)
        ).all()
        for note_id in ids:
            mine = session.execute(
                update(Notification)
                .where(Notification.id == note_id, Notification.dispatched_at.is_(None))
                .values(dispatched_at=utcnow())
            ).rowcount  # type: ignore[attr-defined]
            note = session.get(Notification, note_id) if mine else None
            if note is not None:
                added += _fan_out(session, note, email_on)
        uow.commit()
    return added


@dataclass(frozen=True)
class _Claimed:
    id: int
    channel: str
    target: str
    key: str
    attempts: int
    subject: str
    text: str
    link: str | None


def _first_sentence(text: str) -> str:
    first = text.split(". ", 1)[0].strip()
    return (first if first.endswith(".") else first + ".")[:150]


def _due(now: datetime) -> Any:
    return or_(
        (NotificationDelivery.status == "pending") & (NotificationDelivery.next_attempt_at <= now),
        # Taken over: its worker stopped while sending (the lease ran out).
        (NotificationDelivery.status == "sending") & (NotificationDelivery.lease_until < now),
    )


def _claim(uow: UnitOfWork, worker: str) -> list[_Claimed]:
    now = utcnow()
    lease = timedelta(seconds=_seconds("ARBITER_NOTIFY_LEASE_SECONDS", 60))
    claimed: list[_Claimed] = []
    with uow:
        session = uow.session
        ids = session.scalars(
            select(NotificationDelivery.id)
            .where(_due(now))
            .order_by(NotificationDelivery.id)
            .limit(BATCH)
        ).all()
        for delivery_id in ids:
            got = session.execute(
                update(NotificationDelivery)
                .where(NotificationDelivery.id == delivery_id, _due(now))
                .values(
                    status="sending",
                    lease_until=now + lease,
                    claimed_by=worker,
                    attempts=NotificationDelivery.attempts + 1,
                )
            ).rowcount  # type: ignore[attr-defined]
            delivery = session.get(NotificationDelivery, delivery_id) if got else None
            note = session.get(Notification, delivery.notification_id) if delivery else None
            if delivery is not None and note is not None:
                session.refresh(delivery)
                claimed.append(
                    _Claimed(
                        delivery.id,
                        delivery.channel,
                        delivery.target,
                        delivery.idempotency_key,
                        delivery.attempts,
                        f"Arbiter Studio: {_first_sentence(note.text)}",
                        note.text,
                        note.link,
                    )
                )
        uow.commit()
    return claimed


def _record(uow: UnitOfWork, worker: str, item: _Claimed, error: str | None) -> None:
    now = utcnow()
    if error is None:
        values: dict[str, Any] = {"status": "sent", "sent_at": now, "lease_until": None}
    elif item.attempts >= MAX_ATTEMPTS:
        values = {"status": "failed", "last_error": error[:2000], "lease_until": None}
    else:
        wait = _seconds("ARBITER_NOTIFY_RETRY_SECONDS", 5) * 2 ** (item.attempts - 1)
        values = {
            "status": "pending",
            "next_attempt_at": now + timedelta(seconds=wait),
            "last_error": error[:2000],
            "lease_until": None,
        }
    with uow:
        uow.session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == item.id, NotificationDelivery.claimed_by == worker)
            .values(**values)
        )
        uow.commit()


def _send(item: _Claimed, email: EmailSender, webhook: WebhookSender) -> None:
    url = messaging.app_url(item.link)
    if item.channel == "email":
        settings = SmtpSettings.from_config()
        if settings is None:
            raise OSError("no SMTP server is configured (ARBITER_SMTP_HOST)")
        body = item.text + (f"\n\nOpen it in Arbiter Studio: {url}" if url else "")
        email(settings, item.target, item.subject, body, item.key)
    else:
        webhook(item.target, messaging.webhook_payload(item.text, url), item.key)


@public
def deliver_notifications(
    uow: UnitOfWork,
    worker: str,
    *,
    email: EmailSender = messaging.send_email,
    webhook: WebhookSender = messaging.post_webhook,
) -> int:
    """Fan out new notifications, then send the deliveries that are due; how many were sent."""
    dispatch(uow)
    sent = 0
    for item in _claim(uow, worker):
        try:
            _send(item, email, webhook)
        except Exception as exc:  # a receiver's trouble is recorded and retried, never raised
            log.warning("notification delivery %s failed: %s", item.id, type(exc).__name__)
            _record(uow, worker, item, f"{type(exc).__name__}: {exc}")
        else:
            _record(uow, worker, item, None)
            sent += 1
    return sent


@public
def notification_delivery_task(uow: UnitOfWork, worker_name: str) -> bool:
    """Worker task: send the e-mails and webhook posts that are due."""
    return deliver_notifications(uow, worker_name) > 0
