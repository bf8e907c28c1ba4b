"""Sessions end on sign-out, through the pages (AppTest): the signed-out session holds no
user and reaches no protected page, its token is ended on the server, and another tab still
holding the same token is signed out at its next run; disabling a user does the same to
their open accounts. (The cookie's side, with a real browser: tests/browser/
test_sign_in_sessions.py.)"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import db
from core.domain import Role
from core.errors import AuthenticationFailed
from core.models import LoginSession
from core.permissions import Actor
from core.services import accounts
from core.uow import UnitOfWork
from tests.conftest import make_user
from tests.paths import ROOT
from ui.context import TOKEN_KEY, USER_KEY

PASSWORD = "correct horse battery"
ENDED = "Your session has ended. Please sign in again."


@pytest.fixture
def database(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[UnitOfWork]:
    monkeypatch.setenv("DATABASE_URL", sqlite_url)
    engine = db.make_engine(sqlite_url)
    yield UnitOfWork(db.session_factory(engine))
    engine.dispose()
    db.dispose_engines()


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)


def _sign_in(database: UnitOfWork, actor: Actor) -> AppTest:
    """A browser session just signed in: what ``ui.context.sign_in`` leaves behind (a new
    server-side session and its token in the session state). The sign-in form itself is
    driven in a real browser (tests/browser/); AppTest does not follow its page switch."""
    at = _app()
    at.session_state[USER_KEY] = actor.user_id
    at.session_state[TOKEN_KEY] = accounts.start_session(database, actor)
    return at.run()


def _signed_in(at: AppTest) -> bool:
    return USER_KEY in at.session_state and any(
        b.key == "sidebar_sign_out" for b in at.sidebar.button
    )


def _signed_out(at: AppTest) -> None:
    assert not at.exception
    assert USER_KEY not in at.session_state and TOKEN_KEY not in at.session_state
    assert [t.value for t in at.title] == ["Arbiter Studio"]  # the sign-in page
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/models.py")


def _stopped(at: AppTest, title: str) -> None:
    """A protected page run with an ended session: it shows nothing of itself, says why,
    and the session state no longer holds a user (the next full run shows the sign-in)."""
    assert not at.exception
    assert title not in [t.value for t in at.title]
    assert [w.value for w in at.warning] == [ENDED]
    assert USER_KEY not in at.session_state and TOKEN_KEY not in at.session_state


def _other_tab(token: str, user_id: int) -> AppTest:
    """A second browser tab of the same session: its own page state, the same token."""
    at = _app()
    at.session_state[USER_KEY] = user_id
    at.session_state[TOKEN_KEY] = token
    return at.run()


def _sign_out() -> None:
    """What the sidebar's "Sign out" button runs (AppTest reruns only the page after the
    first run, so the entry point's sidebar cannot be clicked here; the browser test
    clicks it)."""
    from ui import context

    context.sign_out()


def test_sign_out_ends_the_session_here_on_the_server_and_in_other_tabs(
    database: UnitOfWork,
) -> None:
    trainer = make_user(database, "trainer@test.example", Role.TRAINER, PASSWORD)
    assert trainer.user_id is not None
    at = _sign_in(database, trainer)
    assert _signed_in(at)
    token = str(at.session_state[TOKEN_KEY])
    # Another tab of the same session, on a page only a signed-in user reaches.
    tab = _other_tab(token, trainer.user_id)
    assert _signed_in(tab)
    tab.switch_page("pages/qas.py").run()
    assert not tab.exception and [t.value for t in tab.title] == ["Q&As"]

    out = AppTest.from_function(_sign_out)
    for key, value in at.session_state.to_dict().items():
        out.session_state[key] = value
    out.run()
    assert not out.exception
    left = out.session_state.to_dict()
    assert USER_KEY not in left and TOKEN_KEY not in left
    with database:
        ended = database.session.scalars(select(LoginSession.ended_at)).all()
    assert len(ended) == 1 and ended[0] is not None
    with pytest.raises(AuthenticationFailed):
        accounts.resume_session(database, token)

    # The same browser session after signing out (a reload): the sign-in page only.
    reloaded = _app()
    for key, value in left.items():
        reloaded.session_state[key] = value
    _signed_out(reloaded.run())
    # The other tab still holds the token: its next run finds the session ended.
    tab.run()
    _stopped(tab, "Q&As")
    # Putting the old token back (a copy kept somewhere) signs no one in either.
    _signed_out(_other_tab(token, trainer.user_id))


def test_disabling_a_user_ends_their_open_sessions(database: UnitOfWork) -> None:
    admin: Actor = make_user(database, "admin@test.example", Role.ADMIN, PASSWORD)
    manager = make_user(database, "manager@test.example", Role.MANAGER, PASSWORD)
    assert manager.user_id is not None
    at = _sign_in(database, manager)
    assert _signed_in(at)
    at.switch_page("pages/dashboard.py").run()
    assert [t.value for t in at.title] == ["Dashboard"]
    accounts.update_user(database, admin, manager.user_id, is_active=False)
    at.run()
    _stopped(at, "Dashboard")
