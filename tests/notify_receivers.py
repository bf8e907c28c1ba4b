"""Local receivers for notification tests: an SMTP server (aiosmtpd) and an HTTP server
that takes webhook posts, both on 127.0.0.1, recording what arrived."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    messages: list[Message] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        self.recipients.append(list(envelope.rcpt_tos))
        return "250 Message accepted for delivery"

    def keys(self) -> set[str]:
        return {str(m["Message-ID"]) for m in self.messages}


@contextmanager
def smtp_server() -> Iterator[tuple[Mailbox, int]]:
    box = Mailbox()
    port = free_port()
    controller = Controller(box, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield box, port
    finally:
        controller.stop()


@dataclass
class Hook:
    posts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)  # (key, body)
    fail_next: int = 0  # answer that many posts with HTTP 500 first
    # Called with each post once it is recorded, before the answer (e.g. to kill the sender).
    on_post: Callable[[], None] | None = None

    def keys(self) -> set[str]:
        return {key for key, _ in self.posts}


@contextmanager
def webhook_server() -> Iterator[tuple[Hook, str]]:
    hook = Hook()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if hook.fail_next > 0:
                hook.fail_next -= 1
                self.send_response(500)
            else:
                hook.posts.append((self.headers.get("Idempotency-Key", ""), json.loads(body)))
                if hook.on_post is not None:
                    hook.on_post()
                self.send_response(200)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hook, f"http://127.0.0.1:{server.server_address[1]}/hooks/team"
    finally:
        server.shutdown()
        server.server_close()
