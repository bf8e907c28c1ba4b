"""AppTest: every page renders for every role that may see it, with no exception, and the
pages a role may not see are absent from its navigation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select
from streamlit.testing.v1 import AppTest

from core import db, demo
from core.domain import Role
from core.models import User
from core.permissions import ROLE_PERMISSIONS
from core.uow import UnitOfWork
from tests.paths import ROOT
from ui.context import USER_KEY
from ui.navigation import PAGES


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[Role, int]]]:
    folder = tmp_path_factory.mktemp("pages")
    url = f"sqlite:///{folder / 'demo.db'}"
    engine = db.make_engine(url)
    db.upgrade(engine)
    uow = UnitOfWork(db.session_factory(engine))
    accounts = demo.seed(uow)
    ids: dict[Role, int] = {}
    with uow:
        for account in accounts:
            ids.setdefault(
                account.role,
                uow.session.scalar(select(User.id).where(User.email == account.email)) or 0,
            )
    engine.dispose()
    yield url, ids


def app_for(url: str, user_id: int | None, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("DATABASE_URL", url)
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=30)
    if user_id is not None:
        at.session_state[USER_KEY] = user_id
    return at


def test_signed_out_users_see_only_the_sign_in_page(
    demo_db: tuple[str, dict[Role, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = demo_db
    at = app_for(url, None, monkeypatch).run()
    assert not at.exception
    assert [t.value for t in at.title] == ["Arbiter Studio"]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/models.py")


def test_sign_in_with_a_wrong_password_says_so(
    demo_db: tuple[str, dict[Role, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, _ = demo_db
    at = app_for(url, None, monkeypatch).run()
    at.text_input[0].input("admin@northwind.example")
    at.text_input[1].input("definitely wrong")
    at.button[0].click().run()
    assert not at.exception
    assert any("not right" in e.value for e in at.error)


CASES = [(role, page) for role in Role for page in PAGES]


@pytest.mark.parametrize(("role", "page"), CASES, ids=[f"{r.value}-{p.title}" for r, p in CASES])
def test_page_for_role(
    role: Role, page: object, demo_db: tuple[str, dict[Role, int]], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ui.navigation import PageSpec

    assert isinstance(page, PageSpec)
    url, ids = demo_db
    at = app_for(url, ids[role], monkeypatch).run()
    assert not at.exception, at.exception
    if page.permission not in ROLE_PERMISSIONS[role]:
        # Absent from this role's navigation: there is no such page to switch to.
        with pytest.raises(ValueError, match="Could not find a navigation page"):
            at.switch_page(page.path)
        return
    at.switch_page(page.path).run()
    assert not at.exception, at.exception
    assert not at.error, [e.value for e in at.error]
    titles = [t.value for t in at.title]
    assert titles and titles[0] != "Arbiter Studio"
