"""Secrets at rest: API keys (random, shown once, stored as an HMAC) and passwords (argon2id)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from uuid import NAMESPACE_URL, UUID, uuid5

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

KEY_PREFIX = "am_"
KEY_RANDOM_CHARS = 43
LOOKUP_CHARS = 12
MIN_KEY_CHARS = 32
_ALPHABET = string.ascii_letters + string.digits
_passwords = PasswordHasher()  # argon2id, RFC 9106 low-memory profile
_DUMMY_HASH = _passwords.hash("agentmem: no such user")


def new_api_key() -> str:
    """A fresh key: `am_` and 43 random base62 characters (about 256 bits)."""
    return KEY_PREFIX + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_RANDOM_CHARS))


def lookup_prefix(key: str) -> str:
    """The first characters of a key: shown in lists and used to find its record."""
    return key[:LOOKUP_CHARS]


def key_id(key: str) -> UUID:
    """The id of the ApiKey aggregate that holds a key, derived from its lookup prefix."""
    return uuid5(NAMESPACE_URL, f"/agentmem/api-key/{lookup_prefix(key)}")


class KeyHasher:
    """HMAC-SHA-256 of API keys with the server secret: a database dump alone cannot check a guess."""

    def __init__(self, secret: bytes) -> None:
        self._secret = secret

    def hash(self, key: str) -> str:
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()

    def matches(self, key: str, key_hash: str) -> bool:
        return hmac.compare_digest(self.hash(key), key_hash)


def hash_password(password: str) -> str:
    return _passwords.hash(password)


def password_matches(password: str, password_hash: str | None) -> bool:
    """True if the password fits the hash; takes as long when there is no hash (no user-exists oracle)."""
    try:
        return _passwords.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False
