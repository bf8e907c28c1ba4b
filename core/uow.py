"""The unit of work: one transaction per use case (after cosmicpython's pattern).

    with uow:
        ...             # read and change through uow.session
        uow.commit()    # nothing is written unless the use case commits

Leaving the block without a commit rolls back, so a use case that raises writes nothing.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session

from core.db import SessionFactory, session_factory


class UnitOfWork:
    session: Session

    def __init__(self, factory: SessionFactory | None = None) -> None:
        self._factory = factory or session_factory()
        self._depth = 0

    @property
    def factory(self) -> SessionFactory:
        return self._factory

    def __enter__(self) -> UnitOfWork:
        # Re-entrant so that one use case may call another within its own transaction.
        if self._depth == 0:
            self.session = self._factory()
        self._depth += 1
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._depth -= 1
        if self._depth == 0:
            self.session.rollback()
            self.session.close()

    def commit(self) -> None:
        if self._depth == 1:
            self.session.commit()
        else:
            self.session.flush()

    def rollback(self) -> None:
        self.session.rollback()
