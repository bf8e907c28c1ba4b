"""A compilation's end reaches the people who opted in: one e-mail (a local aiosmtpd
server) and one webhook post (a local HTTP receiver), exactly once, also when the worker
dies halfway; a receiver that is down is retried and never holds up a compilation."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import select

from core import messaging
from core.messaging import SmtpSettings
from core.models import NotificationDelivery
from core.permissions import Actor
from core.services import accounts, compilation
from core.uow import UnitOfWork
from tests.compile_helpers import add_qas, drain, local_connection, make_model
from tests.notify_receivers import Hook, Mailbox, free_port, smtp_server, webhook_server

Uows = Callable[[], UnitOfWork]


class WorkerDied(BaseException):
    """Stands for the process being killed: not an Exception, so nothing catches it."""


@pytest.fixture
def receivers(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Mailbox, Hook, str]]:
    with smtp_server() as (box, port), webhook_server() as (hook, url):
        monkeypatch.setenv("ARBITER_SMTP_HOST", "127.0.0.1")
        monkeypatch.setenv("ARBITER_SMTP_PORT", str(port))
        monkeypatch.setenv("ARBITER_SMTP_SENDER", "studio@northwind.example")
        monkeypatch.setenv("ARBITER_APP_URL", "https://studio.northwind.example")
        monkeypatch.setenv("ARBITER_NOTIFY_RETRY_SECONDS", "0")
        yield box, hook, url


def _compiled(new_uow: Uows, admin: Actor, trainer: Actor, hook_url: str) -> int:
    """The trainer opts in to both, the model has a webhook, and a compilation ends."""
    model_id = make_model(new_uow, admin, "Support", connection_id=local_connection(new_uow, admin))
    add_qas(new_uow, model_id)
    accounts.set_model_webhook(new_uow(), admin, model_id, hook_url)
    accounts.set_notification_settings(new_uow(), trainer, email=True, webhook=True)
    queued = compilation.request_compilation(new_uow(), trainer, model_id)
    drain(new_uow)
    assert compilation.get_compilation(new_uow(), trainer, queued.id).status == "succeeded"
    return queued.id


def _deliveries(new_uow: Uows) -> list[tuple[str, str, int]]:
    uow = new_uow()
    with uow:
        return [
            (d.channel, d.status, d.attempts)
            for d in uow.session.scalars(
                select(NotificationDelivery).order_by(NotificationDelivery.id)
            )
        ]


def test_a_compilation_end_sends_one_email_and_one_webhook_post(
    new_uow: Uows, admin: Actor, trainer: Actor, receivers: tuple[Mailbox, Hook, str]
) -> None:
    box, hook, url = receivers
    compilation_id = _compiled(new_uow, admin, trainer, url)
    assert accounts.deliver_notifications(new_uow(), "worker-1") == 2
    assert box.recipients == [[trainer.email]]
    mail = box.messages[0]
    assert mail["Subject"] == f"Arbiter Studio: Compilation #{compilation_id} of Support succeeded."
    assert mail["From"] == "studio@northwind.example"
    body = mail.get_content()  # type: ignore[attr-defined]
    assert f"https://studio.northwind.example/compilations?compilation={compilation_id}" in body
    assert len(hook.posts) == 1
    key, payload = hook.posts[0]
    assert key and payload["text"].startswith(
        f"Compilation #{compilation_id} of Support succeeded."
    )
    assert "<https://studio.northwind.example/compilations?" in payload["text"]
    # Another round, another worker: nothing is sent twice.
    assert accounts.deliver_notifications(new_uow(), "worker-2") == 0
    assert len(box.messages) == 1 and len(hook.posts) == 1
    assert _deliveries(new_uow) == [("email", "sent", 1), ("webhook", "sent", 1)]


def test_without_opt_in_nothing_leaves_the_app(
    new_uow: Uows, admin: Actor, trainer: Actor, receivers: tuple[Mailbox, Hook, str]
) -> None:
    box, hook, url = receivers
    _compiled(new_uow, admin, trainer, url)
    assert accounts.deliver_notifications(new_uow(), "worker-1") == 2
    accounts.set_notification_settings(new_uow(), trainer, email=False, webhook=False)
    compilation.request_compilation(new_uow(), trainer, 1, force=True)
    drain(new_uow)
    assert accounts.deliver_notifications(new_uow(), "worker-1") == 0
    # The first compilation's end was sent while opted in; the second stays in the app.
    assert len(box.messages) == 1 and len(hook.posts) == 1
    assert len(accounts.list_notifications(new_uow(), trainer)) == 2


def test_a_worker_killed_after_sending_the_email_sends_neither_again(
    new_uow: Uows, admin: Actor, trainer: Actor, receivers: tuple[Mailbox, Hook, str]
) -> None:
    box, hook, url = receivers
    _compiled(new_uow, admin, trainer, url)

    def die(*args: Any) -> None:
        raise WorkerDied

    # The e-mail goes out and is recorded; the process dies as it turns to the webhook.
    with pytest.raises(WorkerDied):
        accounts.deliver_notifications(new_uow(), "worker-1", webhook=die)
    assert len(box.messages) == 1 and not hook.posts
    assert _deliveries(new_uow) == [("email", "sent", 1), ("webhook", "sending", 1)]
    # Its lease has not run out: another worker leaves the webhook alone for now.
    assert accounts.deliver_notifications(new_uow(), "worker-2") == 0
    assert not hook.posts


def test_a_delivery_left_sending_is_taken_over_with_the_same_key(
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    receivers: tuple[Mailbox, Hook, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box, hook, url = receivers
    monkeypatch.setenv("ARBITER_NOTIFY_LEASE_SECONDS", "0")  # a dead worker's lease ends at once
    _compiled(new_uow, admin, trainer, url)

    def sent_then_died(address: str, payload: dict[str, Any], key: str) -> None:
        messaging.post_webhook(address, payload, key)
        raise WorkerDied  # accepted by the receiver, not yet recorded

    with pytest.raises(WorkerDied):
        accounts.deliver_notifications(new_uow(), "worker-1", webhook=sent_then_died)
    assert accounts.deliver_notifications(new_uow(), "worker-2") == 1
    # Sent again with the same idempotency key, which the receiver uses to drop the repeat;
    # the e-mail went once.
    assert len(hook.posts) == 2 and len(hook.keys()) == 1
    assert len(box.messages) == 1 and len(box.keys()) == 1
    assert accounts.deliver_notifications(new_uow(), "worker-3") == 0
    assert _deliveries(new_uow) == [("email", "sent", 1), ("webhook", "sent", 2)]


def test_a_receiver_that_is_down_is_retried_and_the_compilation_is_not_held_up(
    new_uow: Uows,
    admin: Actor,
    trainer: Actor,
    receivers: tuple[Mailbox, Hook, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box, hook, url = receivers
    hook.fail_next = 1
    real_port = SmtpSettings.from_config().port  # type: ignore[union-attr]
    monkeypatch.setenv("ARBITER_SMTP_PORT", str(free_port()))  # nobody listens there
    _compiled(new_uow, admin, trainer, url)  # succeeded, whatever the receivers do
    assert accounts.deliver_notifications(new_uow(), "worker-1") == 0
    assert [(c, s) for c, s, _ in _deliveries(new_uow)] == [
        ("email", "pending"),
        ("webhook", "pending"),
    ]
    monkeypatch.setenv("ARBITER_SMTP_PORT", str(real_port))
    assert accounts.deliver_notifications(new_uow(), "worker-1") == 2
    assert len(box.messages) == 1 and len(hook.posts) == 1
    assert _deliveries(new_uow) == [("email", "sent", 2), ("webhook", "sent", 2)]
