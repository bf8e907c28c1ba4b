"""The unit of work: one transaction per use case (after cosmicpython's pattern).

    with uow:
        ...             # read and change through uow.session
        uow.commit()    # nothing is written unless the use case commits

Leaving the block without a commit rolls back, so a use case that raises writes nothing. A
lock wait that ran out or a deadlock leaves the block as ``DatabaseBusy``, a domain error the
user can act on ("try again"), whichever use case met it.
"""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session

from core.db import SessionFactory, is_busy, session_factory
from core.errors import DatabaseBusy, ValidationFailed


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
        if isinstance(exc, OperationalError) and is_busy(exc):
            raise DatabaseBusy(
                "The database was busy with other changes and this one could not wait any "
                "longer; nothing was saved. Please try again."
            ) from exc
        if isinstance(exc, DataError) and "NUL (0x00)" in str(exc.orig):
            # Every write refuses control characters and every search matches none; this is
            # the net under both, so that a NUL that reached PostgreSQL is a message, not a
            # traceback.
            raise ValidationFailed(
                "Text with the NUL character (U+0000) cannot be stored or searched; remove it."
            ) from exc

    def commit(self) -> None:
        if self._depth == 1:
            self.session.commit()
        else:
            self.session.flush()

    def rollback(self) -> None:
        self.session.rollback()
