"""One step of one claimed compilation: the transactions every step module uses.

Discipline: provider calls happen outside database transactions (so a slow provider never
holds a database lock), and every transaction that writes starts by checking the claim
(``Step.load``). A step ends by committing and raising ``Stop``; ``LeaseLost`` drops its
results when another worker holds the compilation now.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, NoReturn

from sqlalchemy import select

from core.domain import CompilationStatus, utcnow
from core.errors import ProviderError, ProviderRateLimited, ProviderUnavailable
from core.models import Compilation
from core.providers.base import Provider
from core.providers.limits import ENGINE_MAX_WAIT, backoff_delay
from core.providers.registry import provider_for
from core.services.catalog.usage import connection_facts
from core.services.compilation.records import finish, log
from core.uow import UnitOfWork

logger = logging.getLogger("arbiter.compilations")


@dataclass(frozen=True)
class EngineSettings:
    lease_seconds: float = 60.0
    # After a job creation whose outcome is unknown, wait this long before creating again
    # (a request the provider received may still be processed after our timeout).
    doubt_seconds: float = 60.0
    retry_seconds: float = 5.0  # first wait after the provider was unavailable (doubles)
    max_provider_errors: int = 10  # consecutive; then the compilation fails
    poll_seconds: float | None = None  # overrides the provider's own first poll interval
    # Which compilations this worker takes: "any", "only" those that train on this machine
    # (open-weights connections: GPU hosts), or "none" of those (the app's machines).
    training: str = "any"

    @classmethod
    def from_env(cls) -> EngineSettings:
        def number(name: str, default: float) -> float:
            return float(os.environ.get(name) or default)

        poll = os.environ.get("ARBITER_POLL_SECONDS")
        return cls(
            lease_seconds=number("ARBITER_LEASE_SECONDS", cls.lease_seconds),
            doubt_seconds=number("ARBITER_JOB_DOUBT_SECONDS", cls.doubt_seconds),
            retry_seconds=number("ARBITER_RETRY_SECONDS", cls.retry_seconds),
            max_provider_errors=int(number("ARBITER_MAX_PROVIDER_ERRORS", 10)),
            poll_seconds=float(poll) if poll else None,
            training=os.environ.get("ARBITER_WORKER_TRAINING") or "any",
        )


class LeaseLost(Exception):
    """Another worker holds the compilation now: drop this step's results."""


class Stop(Exception):
    """The step ended the compilation or scheduled its next round; nothing more to do."""


class Step:
    """One step of one claimed compilation.

    Discipline: provider calls happen outside database transactions (so a slow provider
    never holds a database lock), and every transaction that writes starts by checking the
    claim (``load``). ``end_here`` and ``release_here`` commit and stop the step; they
    are called with a transaction open, ``end`` and ``provider_trouble`` without.
    """

    def __init__(
        self, uow: UnitOfWork, compilation_id: int, worker: str, settings: EngineSettings
    ) -> None:
        self.uow = uow
        self.id = compilation_id
        self.worker = worker
        self.settings = settings
        self._provider: Provider | None = None

    def load(self) -> Compilation:
        # One statement locks the row and reads it fresh (steps load it several times).
        compilation = self.uow.session.scalar(
            select(Compilation)
            .where(Compilation.id == self.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        if compilation is None or compilation.claimed_by != self.worker:
            raise LeaseLost(self.id)
        return compilation

    @staticmethod
    def release(compilation: Compilation, delay: float | None = None) -> None:
        compilation.claimed_by = None
        compilation.lease_until = None
        compilation.next_poll_at = utcnow() + timedelta(seconds=delay) if delay else None

    @staticmethod
    def stats(compilation: Compilation, **changes: Any) -> dict[str, Any]:
        merged = dict(compilation.dataset_stats or {})
        merged.update(changes)
        compilation.dataset_stats = merged
        return merged

    def end_here(
        self,
        compilation: Compilation,
        status: CompilationStatus,
        *,
        error: str | None = None,
        reason: str | None = None,
    ) -> NoReturn:
        finish(self.uow.session, compilation, status, error=error, reason=reason)
        self.uow.commit()
        raise Stop

    def release_here(self, compilation: Compilation, delay: float | None = None) -> NoReturn:
        self.release(compilation, delay)
        self.uow.commit()
        raise Stop

    def end(
        self, status: CompilationStatus, *, error: str | None = None, reason: str | None = None
    ) -> NoReturn:
        with self.uow:
            self.end_here(self.load(), status, error=error, reason=reason)

    def release_quietly(self, delay: float) -> None:
        try:
            with self.uow:
                self.release_here(self.load(), delay)
        except Stop:
            pass
        except Exception:
            logger.exception("could not release compilation %s", self.id)

    def fail_quietly(self, error: str) -> None:
        try:
            self.end(CompilationStatus.FAILED, error=error)
        except Stop:
            pass
        except Exception:
            logger.exception("could not record the failure of compilation %s", self.id)

    def provider_here(self, compilation: Compilation) -> Provider:
        """The compilation's provider (built once per step); ends it if there is none."""
        if self._provider is None:
            conn_id = (compilation.dataset_stats or {}).get("connection_id")
            found = connection_facts(self.uow.session).get(conn_id) if conn_id else None
            if found is None:
                self.end_here(
                    compilation,
                    CompilationStatus.FAILED,
                    error="The model's provider connection no longer exists.",
                )
            try:
                self._provider = provider_for(found.settings)
            except ProviderError as exc:
                self.end_here(compilation, CompilationStatus.FAILED, error=exc.message)
        return self._provider

    def retries_left(self) -> bool:
        """Whether one more provider outage would still be retried (not fail the step)."""
        with self.uow:
            errors = int((self.load().dataset_stats or {}).get("provider_errors", 0)) + 1
        return errors < self.settings.max_provider_errors

    def provider_trouble(self, exc: ProviderError) -> NoReturn:
        """Retry later when the provider is unavailable; fail on anything else."""
        if not isinstance(exc, ProviderUnavailable):
            self.end(CompilationStatus.FAILED, error=exc.message)
        with self.uow:
            compilation = self.load()
            errors = int((compilation.dataset_stats or {}).get("provider_errors", 0)) + 1
            if errors >= self.settings.max_provider_errors:
                self.end_here(
                    compilation,
                    CompilationStatus.FAILED,
                    error=f"The provider stayed unavailable ({errors} attempts): {exc.message}",
                )
            # Jittered so that workers that met one outage do not all come back at once;
            # capped, and never sooner than the provider asked for.
            delay = backoff_delay(
                errors,
                first=self.settings.retry_seconds,
                cap=ENGINE_MAX_WAIT,
                retry_after=exc.retry_after if isinstance(exc, ProviderRateLimited) else None,
            )
            self.stats(compilation, provider_errors=errors)
            log(
                self.uow.session,
                compilation,
                f"{exc.message} Trying again in {delay:.3g} s.",
                level="warning",
            )
            self.release_here(compilation, delay)
