"""Password hashing: argon2id for new hashes, Werkzeug hashes verified and upgraded."""

from __future__ import annotations

import pytest
from werkzeug.security import generate_password_hash

from shared.passwords import hash_password, verify_password

PASSWORD = "correct horse battery staple"


def test_hash_password_makes_argon2id_hashes() -> None:
    first = hash_password(PASSWORD)
    second = hash_password(PASSWORD)

    assert first.startswith("$argon2id$")
    assert first != second  # salted
    assert PASSWORD not in first


def test_argon2_hash_verifies_without_replacement() -> None:
    assert verify_password(PASSWORD, hash_password(PASSWORD)) == (True, None)


def test_wrong_password_against_argon2_hash_fails() -> None:
    assert verify_password("wrong", hash_password(PASSWORD)) == (False, None)


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256"])
def test_werkzeug_hash_verifies_and_is_upgraded(method: str) -> None:
    legacy = generate_password_hash(PASSWORD, method=method)
    assert legacy.startswith(method)

    valid, replacement = verify_password(PASSWORD, legacy)

    assert valid is True
    assert replacement is not None
    assert replacement.startswith("$argon2id$")
    assert verify_password(PASSWORD, replacement) == (True, None)
    assert verify_password("wrong", replacement) == (False, None)


@pytest.mark.parametrize("method", ["scrypt", "pbkdf2:sha256"])
def test_wrong_password_against_werkzeug_hash_fails(method: str) -> None:
    legacy = generate_password_hash(PASSWORD, method=method)

    assert verify_password("wrong", legacy) == (False, None)


@pytest.mark.parametrize(
    "stored",
    [
        "",
        "plaintext",
        "md5$abc$def",
        "sha256$salt$0123456789abcdef",  # Werkzeug < 2.3 plain salted digests
        "$2b$12$abcdefghijklmnopqrstuuabcdefghijklmnopqrstuvwxyz0123",  # bcrypt
    ],
)
def test_unknown_hash_format_fails(stored: str) -> None:
    assert verify_password(PASSWORD, stored) == (False, None)


@pytest.mark.parametrize(
    "stored",
    [
        "scrypt:",
        "scrypt:abc$salt$hash",
        "scrypt:32768:8:1",
        "pbkdf2:sha256:notanumber$salt$hash",
        "pbkdf2:no-such-digest$salt$hash",
    ],
)
def test_corrupt_werkzeug_hash_fails_instead_of_raising(stored: str) -> None:
    assert verify_password(PASSWORD, stored) == (False, None)


def test_missing_hash_fails() -> None:
    assert verify_password(PASSWORD, None) == (False, None)
