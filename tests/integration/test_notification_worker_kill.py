"""Real worker processes: one is killed (SIGKILL) while its webhook post is being answered,
after the receiver took it; the next worker sends it again with the same idempotency key,
and the e-mail that was recorded as sent is never sent again."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

from sqlalchemy import select

from core.models import NotificationDelivery
from core.permissions import Actor
from core.services import accounts, compilation
from core.uow import UnitOfWork
from tests.compile_helpers import add_qas, drain, local_connection, make_model
from tests.notify_receivers import smtp_server, webhook_server
from tests.paths import ROOT

Uows = Callable[[], UnitOfWork]


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "core.worker", "--idle", "0.05", "--exit-when-idle", "3"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def test_a_worker_killed_after_the_receiver_took_the_post(
    db_url: str, new_uow: Uows, admin: Actor, trainer: Actor
) -> None:
    model_id = make_model(new_uow, admin, "Support", connection_id=local_connection(new_uow, admin))
    add_qas(new_uow, model_id)
    accounts.set_notification_settings(new_uow(), trainer, email=True, webhook=True)
    with smtp_server() as (box, port), webhook_server() as (hook, url):
        accounts.set_model_webhook(new_uow(), admin, model_id, url)
        compilation.request_compilation(new_uow(), trainer, model_id)
        drain(new_uow)
        env = {
            **os.environ,
            "DATABASE_URL": db_url,
            "ARBITER_SMTP_HOST": "127.0.0.1",
            "ARBITER_SMTP_PORT": str(port),
            "ARBITER_NOTIFY_LEASE_SECONDS": "1",
        }
        first = _worker(env)

        def kill_the_sender() -> None:
            hook.on_post = None
            first.send_signal(signal.SIGKILL)
            first.wait(timeout=30)

        hook.on_post = kill_the_sender
        assert first.wait(timeout=60) == -signal.SIGKILL
        assert len(box.messages) == 1 and len(hook.posts) == 1
        time.sleep(1.2)  # the dead worker's lease runs out
        second = _worker(env)
        assert second.wait(timeout=60) == 0
    assert len(box.messages) == 1, "the e-mail was recorded as sent: never again"
    assert len(hook.posts) == 2 and len(hook.keys()) == 1, "sent again, with the same key"
    uow = new_uow()
    with uow:
        rows = uow.session.scalars(select(NotificationDelivery).order_by(NotificationDelivery.id))
        assert [(d.channel, d.status, d.attempts) for d in rows] == [
            ("email", "sent", 1),
            ("webhook", "sent", 2),
        ]
