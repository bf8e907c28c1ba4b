"""Bounds on what one provider call may cost, so that a provider that misbehaves (a list
that repeats its page and always says ``has_more``, an endless rate limit) costs a known
number of requests and seconds instead of running away.

* ``collect_pages`` reads a cursor-paged list: at most ``max_pages`` pages and ``max_items``
  items, and it stops as soon as a page brings no item it has not seen.
* ``backoff_delay`` is the wait before the next attempt: exponential, with jitter (so that
  workers that failed together do not come back together), capped, and never shorter than
  the provider's ``Retry-After``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

logger = logging.getLogger("arbiter.providers")

T = TypeVar("T")

MAX_PAGES = 20
MAX_ITEMS = 2_000
# Attempts of one read within one call (the first one included); the engine schedules
# anything longer as a later step.
READ_ATTEMPTS = 3
FIRST_WAIT = 0.5
MAX_WAIT = 8.0
# A longer Retry-After is not slept through inside a call: the error carries it to the
# engine, which schedules the next attempt that much later without holding a worker.
MAX_RETRY_AFTER_IN_CALL = 20.0
# The engine's wait between steps after an outage: doubling from its first wait
# (ARBITER_RETRY_SECONDS), jittered, never longer than this unless Retry-After says so.
ENGINE_MAX_WAIT = 300.0
# A Retry-After beyond this is treated as this (a provider's typo must not park a
# compilation for days).
MAX_RETRY_AFTER = 3_600.0


@dataclass(frozen=True)
class Pages(Generic[T]):
    """What ``collect_pages`` read, and why it stopped."""

    items: list[T]
    requests: int
    stopped: str  # "end", "found", "repeated", "max_pages", "max_items"

    @property
    def complete(self) -> bool:
        return self.stopped in ("end", "found")


def collect_pages(
    fetch: Callable[[str | None], tuple[Sequence[T], bool]],
    key: Callable[[T], str],
    *,
    until: Callable[[T], bool] | None = None,
    max_pages: int = MAX_PAGES,
    max_items: int = MAX_ITEMS,
    what: str = "items",
) -> Pages[T]:
    """Read pages with ``fetch(after) -> (page items, has_more)``, each page continuing after
    the last item of the one before. Items come back in the order read, each once; reading
    stops before an item for which ``until`` is true (e.g. the newest event already known)."""
    items: list[T] = []
    seen: set[str] = set()
    after: str | None = None
    for request in range(1, max_pages + 1):
        page, has_more = fetch(after)
        new = 0
        for item in page:
            item_key = key(item)
            if until is not None and until(item):
                return Pages(items, request, "found")
            if item_key in seen:
                continue
            seen.add(item_key)
            items.append(item)
            new += 1
            if len(items) >= max_items:
                logger.warning("stopped reading %s after %d (the limit)", what, max_items)
                return Pages(items, request, "max_items")
        if not page or not has_more:
            return Pages(items, request, "end")
        if new == 0:
            logger.warning(
                "the provider answered a page of %s that brought nothing new and said there "
                "is more; stopped after %d requests",
                what,
                request,
            )
            return Pages(items, request, "repeated")
        after = key(page[-1])
    logger.warning("stopped reading %s after %d pages (the limit)", what, max_pages)
    return Pages(items, max_pages, "max_pages")


def backoff_delay(
    attempt: int,
    *,
    first: float = FIRST_WAIT,
    cap: float = MAX_WAIT,
    retry_after: float | None = None,
    rng: random.Random | None = None,
) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1 for the first failure):
    a random time between half and all of ``first * 2 ** (attempt - 1)``, at most ``cap``,
    and at least the provider's ``retry_after`` (itself at most ``MAX_RETRY_AFTER``)."""
    ceiling = min(cap, first * 2 ** max(0, min(attempt - 1, 30)))
    wait = (rng or random).uniform(ceiling / 2, ceiling)
    if retry_after is not None and retry_after > 0:
        wait = max(wait, min(retry_after, MAX_RETRY_AFTER))
    return wait


def parse_retry_after(headers: object) -> float | None:
    """The wait a response asks for, in seconds: ``retry-after-ms`` (OpenAI, Azure) or
    ``Retry-After`` in seconds; None if absent or not a number (an HTTP date is ignored)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    for name, scale in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        raw = get(name)
        if raw is None:
            continue
        try:
            value = float(str(raw).strip()) / scale
        except ValueError:
            continue
        if value >= 0:
            return value
    return None
