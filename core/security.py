"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import os
import secrets
import threading
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from core.errors import Problem, ValidationFailed

MIN_PASSWORD_LENGTH = 10
MAX_PASSWORD_LENGTH = 256


@cache
def _hasher() -> PasswordHasher:
    # Tests set ARBITER_FAST_PASSWORD_HASH=1: argon2 at its defaults takes ~140 ms per hash.
    if os.environ.get("ARBITER_FAST_PASSWORD_HASH") == "1":
        return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    return PasswordHasher()


def verification_slots() -> int:
    return max(1, (os.cpu_count() or 2) // 2)


# argon2 runs four lanes per hash on as many threads. Eight sign-in loops in the one server
# process made 32 busy threads on 2 cores, and a trainer's cell save waited its turn behind
# them; past these slots a sign-in waits for the one before it instead (it is as slow in
# total, and everyone else keeps their share of the CPU).
_HASHING = threading.BoundedSemaphore(verification_slots())


def check_password_policy(password: str) -> None:
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(Problem("password", f"use at least {MIN_PASSWORD_LENGTH} characters"))
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(Problem("password", f"use at most {MAX_PASSWORD_LENGTH} characters"))
    if password.strip() != password:
        problems.append(Problem("password", "must not start or end with a space"))
    if problems:
        raise ValidationFailed("The password does not meet the policy.", problems)


def hash_password(password: str) -> str:
    check_password_policy(password)
    with _HASHING:
        return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash or len(password) > MAX_PASSWORD_LENGTH:
        return False
    try:
        with _HASHING:
            return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return _hasher().check_needs_rehash(password_hash)


def dummy_verify() -> None:
    """Spend the time of one verification, so unknown e-mails are not told apart by timing."""
    verify_password(_dummy_hash(), "not-the-password")


@cache
def _dummy_hash() -> str:
    return _hasher().hash(secrets.token_urlsafe(16))


_ALPHABET = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def generate_password(length: int = 16) -> str:
    """Random letters and digits, leaving out look-alikes (l/1, O/0) for reading aloud."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))
