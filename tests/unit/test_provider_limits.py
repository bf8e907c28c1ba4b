"""The bounds of a provider client: paging that cannot loop, waits that are capped and
jittered and honour Retry-After."""

from __future__ import annotations

import random
from collections.abc import Sequence

import pytest

from core.providers import limits
from core.providers.limits import backoff_delay, collect_pages, parse_retry_after


class Pages:
    """A list served in pages of ``size``; ``repeat`` answers page one to every request."""

    def __init__(self, count: int, size: int, *, repeat: bool = False) -> None:
        self.items = [f"id-{n}" for n in range(count)]
        self.size = size
        self.repeat = repeat
        self.requests: list[str | None] = []

    def fetch(self, after: str | None) -> tuple[Sequence[str], bool]:
        self.requests.append(after)
        start = 0 if self.repeat or after is None else self.items.index(after) + 1
        page = self.items[start : start + self.size]
        return page, self.repeat or start + self.size < len(self.items)


def test_pages_are_read_to_the_end_each_after_the_last() -> None:
    source = Pages(250, 100)
    read = collect_pages(source.fetch, str)
    assert read.items == source.items and read.complete and read.stopped == "end"
    assert source.requests == [None, "id-99", "id-199"]


def test_a_page_that_brings_nothing_new_stops_the_reading() -> None:
    source = Pages(250, 100, repeat=True)
    read = collect_pages(source.fetch, str)
    assert read.stopped == "repeated" and not read.complete
    assert read.items == source.items[:100]
    assert len(source.requests) == 2


def test_reading_stops_at_the_known_item() -> None:
    source = Pages(250, 100)
    read = collect_pages(source.fetch, str, until=lambda item: item == "id-120")
    assert read.items == source.items[:120] and read.stopped == "found"
    assert len(source.requests) == 2


@pytest.mark.parametrize(
    ("max_pages", "max_items", "stopped", "items", "requests"),
    [(3, 10_000, "max_pages", 30, 3), (100, 25, "max_items", 25, 3)],
)
def test_pages_and_items_are_bounded(
    max_pages: int, max_items: int, stopped: str, items: int, requests: int
) -> None:
    source = Pages(1_000, 10)
    read = collect_pages(source.fetch, str, max_pages=max_pages, max_items=max_items)
    assert (read.stopped, len(read.items), len(source.requests)) == (stopped, items, requests)


def test_an_empty_page_ends_the_list_even_if_it_says_there_is_more() -> None:
    requests = []

    def fetch(after: str | None) -> tuple[Sequence[str], bool]:
        requests.append(after)
        return [], True

    assert collect_pages(fetch, str).items == [] and requests == [None]


def test_backoff_grows_with_jitter_up_to_its_cap() -> None:
    rng = random.Random(7)
    for attempt in range(1, 12):
        ceiling = min(8.0, 0.5 * 2 ** (attempt - 1))
        waits = {backoff_delay(attempt, first=0.5, cap=8.0, rng=rng) for _ in range(50)}
        assert all(ceiling / 2 <= w <= ceiling for w in waits)
        assert len(waits) > 1  # jittered: workers that failed together do not come back together


def test_backoff_honours_retry_after_beyond_the_cap_but_within_reason() -> None:
    rng = random.Random(1)
    assert backoff_delay(1, cap=8.0, retry_after=30, rng=rng) == 30
    assert backoff_delay(1, cap=8.0, retry_after=10**9, rng=rng) == limits.MAX_RETRY_AFTER
    assert backoff_delay(5, first=5, cap=300, retry_after=1, rng=rng) >= 40
    assert backoff_delay(10**6, first=1, cap=60, rng=rng) <= 60


@pytest.mark.parametrize(
    ("headers", "seconds"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "Wed, 21 Oct 2026 07:28:00 GMT"}, None),
        ({"retry-after": "-1"}, None),
        ({}, None),
    ],
)
def test_retry_after_headers(headers: dict[str, str], seconds: float | None) -> None:
    assert parse_retry_after(headers) == seconds
    assert parse_retry_after(None) is None


def test_the_azure_api_version_is_named_once() -> None:
    from core.providers import azure_openai, registry

    assert registry.DEFAULT_AZURE_API_VERSION == azure_openai.AZURE_API_VERSION
