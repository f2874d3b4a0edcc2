"""Officers' passwords: argon2id (argon2-cffi's defaults, RFC 9106's low-memory profile).

A hash takes about 0.1 s and 64 MiB on purpose; callers on the event loop run these in a thread.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 10
MAX_LENGTH = 1024
"""Longer is refused before hashing: a megabyte "password" would only cost us CPU."""

_HASHER = PasswordHasher()
_DUMMY = _HASHER.hash("satupintu: no such officer")
"""Verified against when the name is unknown, so that a wrong name takes as long as a wrong password."""


class WeakPassword(ValueError):
    """A password the console refuses to set."""


def check_strength(password: str, name: str) -> None:
    if len(password) < MIN_LENGTH:
        raise WeakPassword(f"a password needs at least {MIN_LENGTH} characters")
    if len(password) > MAX_LENGTH:
        raise WeakPassword(f"a password has at most {MAX_LENGTH} characters")
    if password.strip().lower() == name.lower() or len(set(password)) < 4:
        raise WeakPassword("the password is too easy to guess (the name, or a few characters repeated)")


def hash_password(password: str) -> str:
    return _HASHER.hash(password)


def verify_password(stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored`` (None: no such officer, checked against a dummy)."""
    if len(password) > MAX_LENGTH:
        return False
    try:
        return _HASHER.verify(stored or _DUMMY, password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """True when the hash was made with weaker parameters than today's: rehash at the next login."""
    try:
        return _HASHER.check_needs_rehash(stored)
    except InvalidHashError:
        return True
