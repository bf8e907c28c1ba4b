"""The unit of work on its own, with a stand-in session: one transaction per use case,
nothing written without a commit, and a database that was too busy becomes a domain error."""

from __future__ import annotations

from typing import Any, cast

import pytest
from sqlalchemy.exc import OperationalError

from core.db import SessionFactory
from core.errors import DatabaseBusy
from core.uow import UnitOfWork


class StandInSession:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def commit(self) -> None:
        self.calls.append("commit")

    def flush(self) -> None:
        self.calls.append("flush")

    def rollback(self) -> None:
        self.calls.append("rollback")

    def close(self) -> None:
        self.calls.append("close")


def _uow() -> tuple[UnitOfWork, list[StandInSession]]:
    made: list[StandInSession] = []

    def factory() -> Any:
        made.append(StandInSession())
        return made[-1]

    return UnitOfWork(cast(SessionFactory, factory)), made


def _locked(message: str, sqlstate: str | None = None) -> OperationalError:
    orig = Exception(message)
    orig.sqlstate = sqlstate  # type: ignore[attr-defined]
    return OperationalError("UPDATE qas …", {}, orig)


def test_nothing_is_written_without_a_commit() -> None:
    uow, made = _uow()
    with uow:
        pass
    assert made[0].calls == ["rollback", "close"]


def test_a_nested_use_case_shares_the_transaction_and_only_the_outer_one_commits() -> None:
    uow, made = _uow()
    with uow:
        with uow:
            uow.commit()
        uow.commit()
    assert len(made) == 1
    assert made[0].calls == ["flush", "commit", "rollback", "close"]


@pytest.mark.parametrize(
    ("message", "sqlstate"),
    [("database is locked", None), ("deadlock detected", "40P01"), ("lock timeout", "55P03")],
)
def test_a_busy_database_is_a_domain_error(message: str, sqlstate: str | None) -> None:
    uow, made = _uow()
    with pytest.raises(DatabaseBusy, match="nothing was saved"), uow:
        raise _locked(message, sqlstate)
    assert made[0].calls == ["rollback", "close"]


def test_other_database_errors_stay_what_they_are() -> None:
    uow, _ = _uow()
    with pytest.raises(OperationalError), uow:
        raise _locked("could not connect to server")
