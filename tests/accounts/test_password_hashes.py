"""Password hashes: argon2id at RFC 9106's second profile in production; the suite's
cheap hashes are argon2id too, and a production server rehashes them at login."""

from __future__ import annotations

from argon2 import PasswordHasher, extract_parameters

from weft.accounts import passwords


def test_production_hashes_use_rfc_9106s_second_profile() -> None:
    encoded = passwords.PRODUCTION_HASHER.hash("correct horse battery")
    params = extract_parameters(encoded)
    assert encoded.startswith("$argon2id$")
    assert (params.memory_cost, params.time_cost, params.parallelism) == (65536, 3, 4)


async def test_a_cheap_hash_verifies_and_a_production_server_would_rehash_it() -> None:
    encoded = await passwords.hash_password("correct horse battery")   # the suite's cheap profile
    assert encoded.startswith("$argon2id$")
    assert (await passwords.verify_password(encoded, "correct horse battery"))[0]
    assert not (await passwords.verify_password(encoded, "wrong horse battery"))[0]
    assert passwords.PRODUCTION_HASHER.check_needs_rehash(encoded)
    assert isinstance(passwords.PRODUCTION_HASHER, PasswordHasher)
