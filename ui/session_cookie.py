"""The session cookie, set by the server so that page scripts can never read it (HttpOnly).

Streamlit pages cannot send HTTP headers, so after sign-in the page hands the browser a
one-time ticket, and a fixed script of ours posts it to ``/arbiter/session``, a route of
the app's own (``server.py``): the answer carries ``Set-Cookie: ...; HttpOnly``. The
ticket is random, lives for a minute, works once and only from a page of this origin; the
session token itself never appears in the page. Tickets are kept in this process: a
deployment with several app processes sends each browser to one of them (the shipped nginx
configuration's ``ip_hash``, which Streamlit's uploads need anyway).

Without that route (``streamlit run app.py`` rather than ``server.py``) the post fails and
the browser simply keeps no cookie: the tab stays signed in, a reload asks again.
"""

from __future__ import annotations

import secrets
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from core.services import accounts

COOKIE = "arbiter_session"
PATH = "/arbiter/session"
TICKET_SECONDS = 60.0
MAX_TICKETS = 10_000  # a flood of sign-ins cannot grow this process without bound


@dataclass(frozen=True)
class _Ticket:
    token: str | None  # None ends the cookie
    expires: float


_tickets: dict[str, _Ticket] = {}
_lock = threading.Lock()


def issue(token: str | None) -> str:
    """A ticket that sets the cookie to ``token`` (or clears it, for None)."""
    ticket = secrets.token_urlsafe(24)
    now = time.monotonic()
    with _lock:
        for key in [k for k, t in _tickets.items() if t.expires <= now]:
            del _tickets[key]
        while len(_tickets) >= MAX_TICKETS:
            del _tickets[next(iter(_tickets))]  # the oldest
        _tickets[ticket] = _Ticket(token, now + TICKET_SECONDS)
    return ticket


def redeem(ticket: str) -> _Ticket | None:
    with _lock:
        found = _tickets.pop(ticket, None)
    if found is None or found.expires <= time.monotonic():
        return None
    return found


def script(ticket: str) -> str:
    """The page's part: post the ticket (only letters, digits, '-' and '_') to the route."""
    return (
        f"<script>fetch('{PATH}', {{method: 'POST', body: '{ticket}', "
        "credentials: 'same-origin', headers: {'Content-Type': 'text/plain'}});</script>"
    )


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin:
        return False
    return urlsplit(origin).netloc == request.headers.get("host", "")


def _secure(request: Request) -> bool:
    forwarded = request.headers.get("x-forwarded-proto", "")
    return request.url.scheme == "https" or forwarded.split(",")[0].strip() == "https"


async def _set_cookie(request: Request) -> Response:
    if not _same_origin(request):
        return Response("Cross-site request refused.", status_code=403)
    ticket = redeem((await request.body()).decode("ascii", errors="replace")[:100])
    if ticket is None:
        return Response("Unknown or expired ticket.", status_code=403)
    response = Response(status_code=204)
    if ticket.token is None:
        response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")
    else:
        response.set_cookie(
            COOKIE,
            ticket.token,
            max_age=accounts.MAX_DAYS * 86400,
            path="/",
            secure=_secure(request),
            httponly=True,
            samesite="strict",
        )
    return response


ROUTES = (Route(PATH, _set_cookie, methods=["POST"]),)
