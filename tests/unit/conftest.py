"""The unit tier: no database and no network. The database fixtures of tests/conftest.py
refuse here, and so does any socket connection, so a test that needs either belongs in
tests/integration/."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def refuse(*_: object, **__: object) -> None:
        raise AssertionError("unit tests make no network connections (tests/integration/)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    yield


def _refused() -> None:
    pytest.fail("unit tests use no database: move this test to tests/integration/")


@pytest.fixture
def db_url() -> None:
    _refused()


@pytest.fixture
def sqlite_url() -> None:
    _refused()


@pytest.fixture
def pg_url() -> None:
    _refused()
