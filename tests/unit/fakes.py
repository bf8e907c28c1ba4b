"""Fakes for the unit tier: units of work that never reach a database."""

from __future__ import annotations

from types import TracebackType

from core.uow import UnitOfWork


class UntouchedUnitOfWork(UnitOfWork):
    """A unit of work that fails the test if a use case so much as opens it: for checks
    that must refuse (or answer) before any transaction begins."""

    def __init__(self) -> None:
        self.opened = 0

    def __enter__(self) -> UnitOfWork:
        self.opened += 1
        raise AssertionError("the use case opened a transaction")

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        raise AssertionError("the use case committed")


class CountingUnitOfWork(UnitOfWork):
    """A unit of work that only counts how it is used (for the worker loop, whose tasks
    are fakes too)."""

    def __init__(self) -> None:
        self.entered = 0
        self.commits = 0

    def __enter__(self) -> UnitOfWork:
        self.entered += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None

    def commit(self) -> None:
        self.commits += 1
