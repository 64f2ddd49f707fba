"""Password hashes: argon2id, with the argon2-cffi reference implementation's defaults
(RFC 9106's second recommended profile: 64 MiB, 3 passes, 4 lanes).

Hashing takes tens of milliseconds of CPU on purpose, so it runs in a thread (argon2-cffi
releases the GIL) and never blocks the event loop.
"""

from __future__ import annotations

import asyncio

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from weft.errors import UsageError

__all__ = ["MAX_PASSWORD", "MIN_PASSWORD", "PRODUCTION_HASHER", "check_password_rules", "hash_password",
           "use_cheap_hashes_for_tests", "verify_password"]

MIN_PASSWORD = 8
# argon2 hashes any length, but a megabyte "password" per request is a cheap way to burn CPU.
MAX_PASSWORD = 1024

PRODUCTION_HASHER = PasswordHasher()
_HASHER = PRODUCTION_HASHER


def use_cheap_hashes_for_tests() -> None:
    """Hash with argon2id at 1 MiB and one pass from now on, in this process.

    For the test suite alone, which signs up and logs in hundreds of accounts: a tenth of
    a second each adds a minute. The hashes are still argon2id and verify the same way; a
    server using the real hasher would rehash them at the next login (check_needs_rehash).
    """
    global _HASHER
    _HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


def check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password must be at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise UsageError(f"the password must be at most {MAX_PASSWORD} characters")


async def hash_password(password: str) -> str:
    check_password_rules(password)
    return await asyncio.to_thread(_HASHER.hash, password)


async def verify_password(encoded: str, password: str) -> tuple[bool, str | None]:
    """(matches, a new hash when the stored one's parameters are out of date)."""
    if len(password) > MAX_PASSWORD:
        return False, None

    def check() -> tuple[bool, str | None]:
        try:
            _HASHER.verify(encoded, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False, None
        return True, _HASHER.hash(password) if _HASHER.check_needs_rehash(encoded) else None

    return await asyncio.to_thread(check)
