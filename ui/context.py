"""Per-process resources (database, embedded worker) and per-session state (who is signed in).

Resources are cached with ``st.cache_resource`` keyed by the database URL, so tests that
point DATABASE_URL elsewhere get their own engine.
"""

from __future__ import annotations

import os

import streamlit as st

from core import config, db
from core.db import SessionFactory
from core.errors import AuthenticationFailed
from core.permissions import Actor
from core.services import accounts
from core.uow import UnitOfWork
from ui import session_cookie
from ui.session_cookie import COOKIE

USER_KEY = "auth_user_id"
TOKEN_KEY = "auth_session_token"  # noqa: S105 (a session-state key, not a secret)
_COOKIE_TO_SET = "auth_cookie_to_set"
_COOKIE_TO_CLEAR = "auth_cookie_to_clear"


@st.cache_resource(show_spinner=False)
def _session_factory(url: str) -> SessionFactory:
    config.keep_files_private()  # once per app process, before the database is opened
    engine = db.get_engine(url)
    db.upgrade(engine)
    return db.session_factory(engine)


@st.cache_resource(show_spinner=False)
def _embedded_worker(url: str) -> object:
    from core import bootstrap

    factory = _session_factory(url)
    return bootstrap.start_embedded_worker(lambda: UnitOfWork(factory))


def start_background_work() -> None:
    """One embedded worker per app process, unless separate workers do the work."""
    if os.environ.get("ARBITER_EMBEDDED_WORKER", "1") == "1":
        _embedded_worker(config.database_url())


def uow() -> UnitOfWork:
    return UnitOfWork(_session_factory(config.database_url()))


def sign_in(actor: Actor) -> None:
    token = accounts.start_session(uow(), actor)
    st.session_state[USER_KEY] = actor.user_id
    st.session_state[TOKEN_KEY] = token
    st.session_state[_COOKIE_TO_SET] = token


def session_token() -> str | None:
    """The token of this browser's sign-in session (kept when its user changes password)."""
    token = st.session_state.get(TOKEN_KEY)
    return str(token) if token else None


def _forget() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def sign_out() -> None:
    """End the session on the server (so no copy of its cookie signs in again)."""
    token = st.session_state.get(TOKEN_KEY)
    if token:
        accounts.end_session(uow(), str(token))
    _forget()
    st.session_state[_COOKIE_TO_CLEAR] = True


def _resume_from_cookie() -> Actor | None:
    token = st.context.cookies.get(COOKIE)
    if not isinstance(token, str) or not token:  # AppTest has no real cookies
        return None
    try:
        actor = accounts.resume_session(uow(), token)
    except AuthenticationFailed:
        return None  # ended or expired: simply show the sign-in page
    st.session_state[USER_KEY] = actor.user_id
    st.session_state[TOKEN_KEY] = token
    # Set again by the server: a cookie from before it was HttpOnly becomes so.
    st.session_state[_COOKIE_TO_SET] = token
    return actor


def current_actor() -> Actor | None:
    """The signed-in user, reloaded from the database on every run (so that disabling,
    re-roling or signing out elsewhere takes effect at the next click). A new browser
    session (a reload, a new tab) resumes from the session cookie."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None if st.session_state.get(_COOKIE_TO_CLEAR) else _resume_from_cookie()
    token = st.session_state.get(TOKEN_KEY)
    try:
        if token:
            return accounts.resume_session(uow(), str(token))
        return accounts.current_actor(uow(), int(user_id))
    except AuthenticationFailed as exc:
        _forget()
        st.warning(exc.message)
        return None


def sync_cookie() -> None:
    """Have the server hand the browser its session cookie after sign-in (HttpOnly, see
    ui.session_cookie), and take it back after sign-out."""
    token = st.session_state.pop(_COOKIE_TO_SET, None)
    if token:
        _post_ticket(session_cookie.issue(str(token)))
    elif st.session_state.pop(_COOKIE_TO_CLEAR, None):
        _post_ticket(session_cookie.issue(None))


def _post_ticket(ticket: str) -> None:
    st.html(session_cookie.script(ticket), unsafe_allow_javascript=True)


def actor() -> Actor:
    """For pages, which only run for a signed-in user."""
    found = current_actor()
    if found is None:
        st.stop()
    assert found is not None
    return found
