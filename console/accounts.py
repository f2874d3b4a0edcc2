"""Officers' accounts: the rules ``satupintu officers`` (and the tests) create and change them by.

A name is a lowercase login (``budi.santoso``), also the officer's name in the audit trail; a
``unit`` officer names a unit of ``routing.toml`` and the other roles none; a password has at
least :data:`console.passwords.MIN_LENGTH` characters and is stored as an argon2id hash only.
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from console import passwords
from console.auth import Officer, new_api_token
from storage import officers as store
from storage.tables import UNITS
from triage.access import ROLES

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
LANGUAGES = ("id", "en")


class AccountRefused(ValueError):
    """A change the rules refuse; the message says why, for the person at the terminal."""


def add_officer(
    connection: Connection, name: str, role: str, unit: str | None, password: str, language: str = "id"
) -> Officer:
    if not NAME.fullmatch(name):
        raise AccountRefused(
            f"{name!r}: a name is 2-64 characters: lowercase letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    _check_role(connection, role, unit)
    _check_language(language)
    _check_password(password, name)
    if store.officer_by_name(connection, name) is not None:
        raise AccountRefused(f"{name!r}: an officer of this name exists")
    try:
        officer_id = store.add_officer(connection, name, role, unit, language, passwords.hash_password(password))
    except IntegrityError:  # the same name added at the same moment by another terminal
        raise AccountRefused(f"{name!r}: an officer of this name exists") from None
    return Officer(id=officer_id, name=name, role=role, unit=unit, language=language)


def change(
    connection: Connection, name: str, *, role: str | None = None, unit: str | None = None, language: str | None = None
) -> Officer:
    """A new role, unit or language (a unit officer moved to another unit): it applies from their
    next request, since every request reads the officer afresh."""
    row = _existing(connection, name)
    role = role or row["role"]
    unit = unit if unit is not None else (row["unit"] if role == "unit" else None)
    language = language or row["language"]
    _check_role(connection, role, unit)
    _check_language(language)
    store.change_officer(connection, row["id"], role=role, unit=unit, language=language)
    return Officer(id=row["id"], name=name, role=role, unit=unit, language=language)


def reset_password(connection: Connection, name: str, password: str) -> None:
    """A new password; the officer's sessions end (their API tokens stay)."""
    _check_password(password, name)
    store.set_password(connection, _existing(connection, name)["id"], passwords.hash_password(password))


def disable(connection: Connection, name: str) -> bool:
    """No more logins, sessions or tokens; False when they were disabled already."""
    row = _existing(connection, name)
    if row["disabled_at"] is not None:
        return False
    store.disable_officer(connection, row["id"])
    return True


def enable(connection: Connection, name: str) -> bool:
    """Logins again (old tokens stay revoked); False when they were enabled."""
    row = _existing(connection, name)
    if row["disabled_at"] is None:
        return False
    store.enable_officer(connection, row["id"])
    return True


def issue_token(connection: Connection, name: str) -> str:
    """A new API token for an enabled officer: shown once, stored as its SHA-256 only."""
    row = _existing(connection, name)
    if row["disabled_at"] is not None:
        raise AccountRefused(f"{name!r} is disabled: enable them first")
    token = new_api_token()
    store.add_token(connection, row["id"], token)
    return token


def revoke_tokens(connection: Connection, name: str) -> int:
    return store.revoke_tokens(connection, _existing(connection, name)["id"])


def _existing(connection: Connection, name: str) -> dict[str, Any]:
    row = store.officer_by_name(connection, name)
    if row is None:
        raise AccountRefused(f"{name!r}: no such officer (satupintu officers list)")
    return row


def _check_role(connection: Connection, role: str, unit: str | None) -> None:
    if role not in ROLES:
        raise AccountRefused(f"{role!r} is not a role; valid: {', '.join(ROLES)}")
    if role == "unit" and not unit:
        raise AccountRefused("a unit officer needs --unit (the unit whose cases they see)")
    if role != "unit" and unit:
        raise AccountRefused(f"--unit is only for role unit: {role} officers see every unit")
    if unit and connection.execute(select(UNITS.c.key).where(UNITS.c.key == unit)).first() is None:
        known = ", ".join(connection.execute(select(UNITS.c.key).order_by(UNITS.c.key)).scalars())
        raise AccountRefused(f"{unit!r} is not a unit of routing.toml; known: {known or 'none yet'}")


def _check_language(language: str) -> None:
    if language not in LANGUAGES:
        raise AccountRefused(f"{language!r}: a language is one of {', '.join(LANGUAGES)}")


def _check_password(password: str, name: str) -> None:
    try:
        passwords.check_strength(password, name)
    except passwords.WeakPassword as exc:
        raise AccountRefused(str(exc)) from None
