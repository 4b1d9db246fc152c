"""Password hashing: argon2id for new hashes; Werkzeug's older formats verify and upgrade.

Werkzeug (``scrypt:…`` / ``pbkdf2:…``) is what a Flask app typically stored before this
project; those users can still log in, and their hash is replaced by argon2id on success.
"""

from __future__ import annotations

from pwdlib import PasswordHash
from pwdlib.exceptions import UnknownHashError
from pwdlib.hashers.argon2 import Argon2Hasher
from pwdlib.hashers.base import ensure_str
from werkzeug.security import check_password_hash

# A real hash to verify against when the user does not exist, so that a login for an
# unknown email costs the same time as a wrong password (no user enumeration by timing).
_DUMMY_HASH = Argon2Hasher().hash("timing-equaliser")


class WerkzeugHasher:
    """Verify-only pwdlib hasher for Werkzeug's ``method:params$salt$hash`` strings."""

    _PREFIXES = ("scrypt:", "pbkdf2:")

    @classmethod
    def identify(cls, hash: str | bytes) -> bool:
        return ensure_str(hash).startswith(cls._PREFIXES)

    def hash(self, password: str | bytes, *, salt: bytes | None = None) -> str:
        raise NotImplementedError("Werkzeug hashes are only verified, never produced")

    def verify(self, password: str | bytes, hash: str | bytes) -> bool:
        try:
            return check_password_hash(ensure_str(hash), ensure_str(password))
        except ValueError:  # a corrupt hash (bad parameters, unknown digest) matches nothing
            return False

    def check_needs_rehash(self, hash: str | bytes) -> bool:
        return True


_hasher = PasswordHash((Argon2Hasher(), WerkzeugHasher()))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password: str, stored_hash: str | None) -> tuple[bool, str | None]:
    """Return (valid, replacement hash or None). A replacement must be saved by the caller."""
    if stored_hash is None:
        _hasher.verify(password, _DUMMY_HASH)
        return False, None
    try:
        return _hasher.verify_and_update(password, stored_hash)
    except UnknownHashError:
        return False, None
