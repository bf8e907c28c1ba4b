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
from core.services import users
from core.uow import UnitOfWork

USER_KEY = "auth_user_id"


@st.cache_resource(show_spinner=False)
def _session_factory(url: str) -> SessionFactory:
    engine = db.get_engine(url)
    db.upgrade(engine)
    return db.session_factory(engine)


@st.cache_resource(show_spinner=False)
def _embedded_worker(url: str) -> object:
    from core.worker import start_embedded

    factory = _session_factory(url)
    return start_embedded(lambda: UnitOfWork(factory))


def start_background_work() -> None:
    """One embedded worker per app process, unless separate workers do the work."""
    if os.environ.get("ARBITER_EMBEDDED_WORKER", "1") == "1":
        _embedded_worker(config.database_url())


def uow() -> UnitOfWork:
    return UnitOfWork(_session_factory(config.database_url()))


def sign_in(actor: Actor) -> None:
    st.session_state[USER_KEY] = actor.user_id


def sign_out() -> None:
    for key in list(st.session_state.keys()):
        del st.session_state[key]


def current_actor() -> Actor | None:
    """The signed-in user, reloaded from the database on every run (so that disabling or
    re-roling someone takes effect at their next click)."""
    user_id = st.session_state.get(USER_KEY)
    if user_id is None:
        return None
    try:
        return users.current_actor(uow(), int(user_id))
    except AuthenticationFailed as exc:
        sign_out()
        st.warning(exc.message)
        return None


def actor() -> Actor:
    """For pages, which only run for a signed-in user."""
    found = current_actor()
    if found is None:
        st.stop()
    assert found is not None
    return found
