"""Password hashing runs in bounded slots, so sign-in loops cannot take every core of the
server process from the people working in it (bench/signin.py measures the effect)."""

from __future__ import annotations

import threading
import time

import pytest

from core import security


class _BlockingHasher:
    """Counts the verifications running at once and holds each until released."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.inside = 0
        self.most = 0
        self.release = threading.Event()

    def verify(self, password_hash: str, password: str) -> bool:
        with self.lock:
            self.inside += 1
            self.most = max(self.most, self.inside)
        self.release.wait(timeout=30)
        with self.lock:
            self.inside -= 1
        return password == "right-password"


def test_no_more_verifications_run_at_once_than_there_are_slots(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hasher = _BlockingHasher()
    monkeypatch.setattr(security, "_hasher", lambda: hasher)
    slots = security.verification_slots()
    callers = [
        threading.Thread(target=security.verify_password, args=("$argon2id$x", "guess"))
        for _ in range(slots + 3)
    ]
    for caller in callers:
        caller.start()
    deadline = time.monotonic() + 30
    while hasher.inside < slots and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # room for a caller past the slots to get in, were it let in
    assert hasher.inside == slots
    hasher.release.set()
    for caller in callers:
        caller.join(timeout=30)
    assert hasher.most == slots
    assert security.verify_password("$argon2id$x", "right-password")


def test_a_wrong_password_still_gives_its_slot_back() -> None:
    stored = security.hash_password("the-right-password")
    for _ in range(security.verification_slots() + 2):
        assert not security.verify_password(stored, "a-wrong-password")
    assert security.verify_password(stored, "the-right-password")
