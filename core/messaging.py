"""Sending a notification beyond the app: an e-mail over SMTP, or a JSON POST to a chat
webhook (Slack incoming webhooks and Teams workflows both take ``{"text": ...}``).

Settings come from the environment or the secrets file (``[smtp]`` section); the password
is never logged. Every message carries its idempotency key (the e-mail's Message-ID, the
webhook's ``Idempotency-Key`` header), so that a receiver can drop a repeat.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.request
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from core import config

TIMEOUT_SECONDS = 10.0


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    sender: str
    username: str | None = None
    password: str | None = None
    starttls: bool = False

    @classmethod
    def from_config(cls) -> SmtpSettings | None:
        """None when no SMTP host is configured (e-mail is then not offered)."""
        section = config.secrets_section("smtp")

        def read(name: str) -> str | None:
            value = os.environ.get(f"ARBITER_SMTP_{name.upper()}") or section.get(name)
            return str(value) if value not in (None, "") else None

        host = read("host")
        if host is None:
            return None
        return cls(
            host=host,
            port=int(read("port") or 25),
            sender=read("sender") or "arbiter-studio@localhost",
            username=read("username"),
            password=read("password"),
            starttls=(read("starttls") or "0").lower() in ("1", "true", "yes"),
        )


def app_url(link: str | None) -> str | None:
    """The address of a page link (``pages/compilations.py?compilation=5``) in the app."""
    if not link:
        return None
    base = (os.environ.get("ARBITER_APP_URL") or "http://127.0.0.1:8501").rstrip("/")
    path, _, query = link.partition("?")
    page = path.removeprefix("pages/").removesuffix(".py")
    return f"{base}/{page}" + (f"?{query}" if query else "")


def send_email(
    settings: SmtpSettings, to: str, subject: str, body: str, idempotency_key: str
) -> None:
    message = EmailMessage()
    message["From"] = settings.sender
    message["To"] = to
    message["Subject"] = subject
    message["Message-ID"] = f"<{idempotency_key}@arbiter-studio>"
    message["X-Arbiter-Idempotency-Key"] = idempotency_key
    message.set_content(body)
    with smtplib.SMTP(settings.host, settings.port, timeout=TIMEOUT_SECONDS) as smtp:
        if settings.starttls:
            smtp.starttls()
        if settings.username and settings.password:
            smtp.login(settings.username, settings.password)
        smtp.send_message(message)


def webhook_payload(text: str, url: str | None) -> dict[str, Any]:
    """Slack and Teams both show ``text`` (Markdown links in Slack's own form)."""
    return {"text": f"{text} <{url}|Open in Arbiter Studio>" if url else text}


def post_webhook(url: str, payload: dict[str, Any], idempotency_key: str) -> None:
    if not url.startswith(("https://", "http://")):
        raise ValueError("a webhook address starts with https:// (or http://)")
    request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
        url,
        data=json.dumps(payload).encode("utf-8"),
        method="POST",
        headers={"Content-Type": "application/json", "Idempotency-Key": idempotency_key},
    )
    with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:  # noqa: S310
        if response.status >= 300:
            raise OSError(f"the webhook answered HTTP {response.status}")
