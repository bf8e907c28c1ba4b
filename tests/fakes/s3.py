"""A local S3-compatible server for tests: moto's ``ThreadedMotoServer`` (S3's REST protocol
over HTTP, moto's implementation of the service) on 127.0.0.1 and a free port, with faults
injected in front of it. Point the real boto3 at ``endpoint_url``::

    with FakeS3() as s3:
        s3.create_bucket("adapters")
        s3.fail(2, 503, "SlowDown")          # the next two requests answer 503 SlowDown
        s3.fail(None, 500, "InternalError")  # every request, until heal()
        s3.fail(None, 500, "InternalError", lambda method, path: method == "PUT")

A fault answers as S3 does (``<Error><Code>…</Code><Message>…</Message></Error>``, the
status given) without reaching moto. ``requests`` lists ``(method, path)`` of every request
that arrived, faults included; ``faulted`` those a fault answered. Moto checks no signature: any credentials are let in.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Any
from urllib.request import Request as UrlRequest
from urllib.request import urlopen

import pytest
from moto.server import ThreadedMotoServer
from werkzeug.wrappers import Request

from tests.notify_receivers import free_port

__all__ = ["ADAPTER_BUCKET", "KEY_ID", "SECRET", "FakeS3", "adapter_bucket", "fake_credentials"]

Match = Callable[[str, str], bool]
_REASONS = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 503: "Slow Down"}
_MESSAGES = {
    "SlowDown": "Please reduce your request rate.",
    "InternalError": "We encountered an internal error. Please try again.",
    "AccessDenied": "Access Denied",
}


@dataclass
class _Fault:
    remaining: int | None  # None: every matching request
    status: int
    code: str
    match: Match | None


class _Faults:
    """WSGI middleware in front of moto's application."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.Lock()
        self.faults: list[_Fault] = []
        self.requests: list[tuple[str, str]] = []
        self.faulted: list[tuple[str, str, str]] = []  # (method, path, code) answered here

    def _fault_for(self, method: str, path: str) -> _Fault | None:
        with self.lock:
            self.requests.append((method, path))
            for fault in self.faults:
                if fault.match is not None and not fault.match(method, path):
                    continue
                if fault.remaining is not None:
                    if fault.remaining <= 0:
                        continue
                    fault.remaining -= 1
                self.faulted.append((method, path, fault.code))
                return fault
        return None

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method, path = environ["REQUEST_METHOD"], environ.get("PATH_INFO", "")
        fault = self._fault_for(method, path)
        if fault is None:
            result: Iterable[bytes] = self.app(environ, start_response)
            return result
        Request(environ).get_data()  # read the body, so the connection stays usable
        message = _MESSAGES.get(fault.code, fault.code)
        body = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{fault.code}</Code><Message>{message}</Message>"
            "<RequestId>FAKE0000FAULT</RequestId><HostId>fake-s3</HostId></Error>"
        ).encode()
        start_response(
            f"{fault.status} {_REASONS.get(fault.status, 'Error')}",
            [("Content-Type", "application/xml"), ("Content-Length", str(len(body)))],
        )
        return [b"" if method == "HEAD" else body]


class FakeS3:
    def __init__(self) -> None:
        self.port = free_port()
        self.server = ThreadedMotoServer(ip_address="127.0.0.1", port=self.port, verbose=False)
        self.faults: _Faults | None = None
        self.running = False

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def requests(self) -> list[tuple[str, str]]:
        assert self.faults is not None
        with self.faults.lock:
            return list(self.faults.requests)

    @property
    def faulted(self) -> list[tuple[str, str, str]]:
        """``(method, path, code)`` of each request a fault answered."""
        assert self.faults is not None
        with self.faults.lock:
            return list(self.faults.faulted)

    def start(self) -> FakeS3:
        self.server.start()
        wsgi = self.server._server  # werkzeug's server: its app is moto's dispatcher
        assert wsgi is not None
        self.faults = _Faults(wsgi.app)
        wsgi.app = self.faults
        self.running = True
        return self

    def stop(self) -> None:
        if self.running:
            self.running = False
            self.heal()
            # moto keeps its buckets in this process: forget them for the next test.
            urlopen(UrlRequest(f"{self.endpoint_url}/moto-api/reset", method="POST"), timeout=10)
            self.server.stop()

    def __enter__(self) -> FakeS3:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def create_bucket(self, name: str) -> None:
        urlopen(UrlRequest(f"{self.endpoint_url}/{name}", method="PUT"), timeout=10)

    def fail(self, count: int | None, status: int, code: str, match: Match | None = None) -> None:
        assert self.faults is not None
        with self.faults.lock:
            self.faults.faults.append(_Fault(count, status, code, match))

    def heal(self) -> None:
        assert self.faults is not None
        with self.faults.lock:
            self.faults.faults.clear()


KEY_ID = "AKIAFAKEADAPTERSTORE1"
SECRET = "fake-secret-Zq8vN3xW1pL6"  # tests check it appears in no message
ADAPTER_BUCKET = "arbiter-adapters"


def fake_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """boto3's standard chain finds these (and no profile of the machine's user)."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", KEY_ID)
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", SECRET)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")


@pytest.fixture
def adapter_bucket(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeS3]:
    """The adapter store of every process the test starts (workers, their training
    processes) and of the test itself: s3://arbiter-adapters/adapters on a local server."""
    with FakeS3() as server:
        server.create_bucket(ADAPTER_BUCKET)
        fake_credentials(monkeypatch)
        monkeypatch.setenv("ARBITER_ADAPTER_STORE", f"s3://{ADAPTER_BUCKET}/adapters")
        monkeypatch.setenv("ARBITER_S3_ENDPOINT_URL", server.endpoint_url)
        yield server
