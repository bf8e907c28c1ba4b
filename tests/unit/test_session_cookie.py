"""The route that sets the sign-in cookie: HttpOnly, from a one-time ticket, same origin
only; the ticket store stays bounded. (The browser's side: tests/browser/
test_sign_in_sessions.py.)"""

from __future__ import annotations

import pytest
from starlette.applications import Starlette
from starlette.testclient import TestClient

from ui import session_cookie

SAME_ORIGIN = {"origin": "http://testserver"}


@pytest.fixture
def client() -> TestClient:
    return TestClient(Starlette(routes=list(session_cookie.ROUTES)))


def test_a_ticket_sets_an_http_only_cookie_once(client: TestClient) -> None:
    ticket = session_cookie.issue("the-session-token")
    assert "the-session-token" not in session_cookie.script(ticket)
    answer = client.post(session_cookie.PATH, content=ticket, headers=SAME_ORIGIN)
    assert answer.status_code == 204
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{session_cookie.COOKIE}=the-session-token;")
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/" in cookie
    assert "Secure" not in cookie  # plain http here; https sets it
    again = client.post(session_cookie.PATH, content=ticket, headers=SAME_ORIGIN)
    assert again.status_code == 403 and "set-cookie" not in again.headers


def test_behind_https_the_cookie_is_secure(client: TestClient) -> None:
    ticket = session_cookie.issue("the-session-token")
    headers = {**SAME_ORIGIN, "x-forwarded-proto": "https"}
    answer = client.post(session_cookie.PATH, content=ticket, headers=headers)
    assert "Secure" in answer.headers["set-cookie"]


def test_a_clearing_ticket_removes_the_cookie(client: TestClient) -> None:
    answer = client.post(
        session_cookie.PATH, content=session_cookie.issue(None), headers=SAME_ORIGIN
    )
    assert answer.status_code == 204
    assert 'arbiter_session="";' in answer.headers["set-cookie"]
    assert "Max-Age=0" in answer.headers["set-cookie"]


@pytest.mark.parametrize(
    "headers", [{}, {"origin": "https://attacker.example"}, {"origin": "null"}]
)
def test_another_site_cannot_use_a_ticket(client: TestClient, headers: dict[str, str]) -> None:
    ticket = session_cookie.issue("the-session-token")
    answer = client.post(session_cookie.PATH, content=ticket, headers=headers)
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_unknown_and_expired_tickets_set_nothing(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    unknown = client.post(session_cookie.PATH, content="made-up", headers=SAME_ORIGIN)
    assert unknown.status_code == 403
    monkeypatch.setattr(session_cookie, "TICKET_SECONDS", 0.0)
    expired = session_cookie.issue("the-session-token")
    answer = client.post(session_cookie.PATH, content=expired, headers=SAME_ORIGIN)
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_the_ticket_store_stays_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(session_cookie, "MAX_TICKETS", 50)
    first = session_cookie.issue("first")
    for n in range(500):
        session_cookie.issue(f"token-{n}")
    assert len(session_cookie._tickets) <= 50
    assert session_cookie.redeem(first) is None  # the oldest went first
