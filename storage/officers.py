"""Officers, their console sessions and their API tokens (issue 20).

Sessions and tokens are looked up by the SHA-256 of what the browser or the integration holds,
so that the table alone (a backup, a leaked dump) opens nothing. A disabled officer's sessions
and tokens stop working at once: every look-up joins the officer and checks ``disabled_at``.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Table, delete, func, select, update

from storage.db import utcnow
from storage.models import OfficerRow, OfficerSession, OfficerToken

OFFICERS: Table = OfficerRow.__table__  # type: ignore[attr-defined]
SESSIONS: Table = OfficerSession.__table__  # type: ignore[attr-defined]
TOKENS: Table = OfficerToken.__table__  # type: ignore[attr-defined]

PUBLIC_COLUMNS = (
    OFFICERS.c.id,
    OFFICERS.c.name,
    OFFICERS.c.role,
    OFFICERS.c.unit,
    OFFICERS.c.language,
    OFFICERS.c.created_at,
    OFFICERS.c.disabled_at,
)
"""Everything of an officer but the password hash."""


def digest(secret: str) -> str:
    """What the tables keep of a session cookie or an API token."""
    return hashlib.sha256(secret.encode("utf-8", "surrogateescape")).hexdigest()


# --- officers --------------------------------------------------------------------------------------


def add_officer(
    connection: Connection, name: str, role: str, unit: str | None, language: str, password_hash: str
) -> int:
    now = utcnow()
    values = {
        "name": name,
        "role": role,
        "unit": unit,
        "language": language,
        "password_hash": password_hash,
        "created_at": now,
        "password_changed_at": now,
    }
    return int(connection.execute(OFFICERS.insert().returning(OFFICERS.c.id), values).scalar_one())


def officer_by_name(connection: Connection, name: str) -> dict[str, Any] | None:
    """The officer with the password hash, for a login (disabled ones too: the caller refuses)."""
    row = connection.execute(select(OFFICERS).where(OFFICERS.c.name == name)).mappings().first()
    return dict(row) if row else None


def list_officers(connection: Connection, unit: str | None = None) -> list[dict[str, Any]]:
    """Every officer (or one unit's), without the hash, with their active API tokens counted."""
    tokens = (
        select(func.count())
        .where(TOKENS.c.officer_id == OFFICERS.c.id, TOKENS.c.revoked_at.is_(None))
        .scalar_subquery()
        .label("tokens")
    )
    query = select(*PUBLIC_COLUMNS, tokens).order_by(OFFICERS.c.name)
    if unit is not None:
        query = query.where(OFFICERS.c.unit == unit)
    return [dict(row) for row in connection.execute(query).mappings()]


def active_officers_of_unit(connection: Connection, unit: str) -> list[dict[str, Any]]:
    """Who a case of ``unit`` can be assigned to: its enabled unit officers."""
    query = (
        select(*PUBLIC_COLUMNS)
        .where(OFFICERS.c.unit == unit, OFFICERS.c.role == "unit", OFFICERS.c.disabled_at.is_(None))
        .order_by(OFFICERS.c.name)
    )
    return [dict(row) for row in connection.execute(query).mappings()]


def set_password(connection: Connection, officer_id: int, password_hash: str, *, end_sessions: bool = True) -> None:
    """A new password; the officer's sessions end unless only the hash's parameters changed."""
    values: dict[str, Any] = {"password_hash": password_hash}
    if end_sessions:
        values["password_changed_at"] = utcnow()
        connection.execute(delete(SESSIONS).where(SESSIONS.c.officer_id == officer_id))
    connection.execute(update(OFFICERS).where(OFFICERS.c.id == officer_id).values(**values))


def disable_officer(connection: Connection, officer_id: int) -> None:
    """No more logins; the sessions end and the tokens are revoked now."""
    now = utcnow()
    connection.execute(update(OFFICERS).where(OFFICERS.c.id == officer_id).values(disabled_at=now))
    connection.execute(delete(SESSIONS).where(SESSIONS.c.officer_id == officer_id))
    connection.execute(
        update(TOKENS).where(TOKENS.c.officer_id == officer_id, TOKENS.c.revoked_at.is_(None)).values(revoked_at=now)
    )


def change_officer(connection: Connection, officer_id: int, *, role: str, unit: str | None, language: str) -> None:
    connection.execute(
        update(OFFICERS).where(OFFICERS.c.id == officer_id).values(role=role, unit=unit, language=language)
    )


def enable_officer(connection: Connection, officer_id: int) -> None:
    connection.execute(update(OFFICERS).where(OFFICERS.c.id == officer_id).values(disabled_at=None))


# --- sessions ----------------------------------------------------------------------------------------


def start_session(connection: Connection, officer_id: int, token: str, lifetime: timedelta) -> None:
    now = utcnow()
    values = {
        "officer_id": officer_id,
        "token_hash": digest(token),
        "created_at": now,
        "expires_at": now + lifetime,
        "seen_at": now,
    }
    connection.execute(SESSIONS.insert(), values)
    connection.execute(delete(SESSIONS).where(SESSIONS.c.expires_at < now))  # ended ones go at the next login


def session_officer(connection: Connection, token: str, now: datetime, idle: timedelta) -> dict[str, Any] | None:
    """The officer a live session belongs to (with the session's ``session_id`` and ``seen_at``);
    None when it is unknown, ended, expired, idle too long, or its officer is disabled."""
    query = (
        select(*PUBLIC_COLUMNS, SESSIONS.c.id.label("session_id"), SESSIONS.c.seen_at)
        .join(OFFICERS, OFFICERS.c.id == SESSIONS.c.officer_id)
        .where(
            SESSIONS.c.token_hash == digest(token),
            SESSIONS.c.expires_at > now,
            SESSIONS.c.seen_at > now - idle,
            OFFICERS.c.disabled_at.is_(None),
        )
    )
    row = connection.execute(query).mappings().first()
    return dict(row) if row else None


def touch_session(connection: Connection, session_id: int, now: datetime) -> None:
    connection.execute(update(SESSIONS).where(SESSIONS.c.id == session_id).values(seen_at=now))


def end_session(connection: Connection, token: str) -> None:
    connection.execute(delete(SESSIONS).where(SESSIONS.c.token_hash == digest(token)))


# --- API tokens --------------------------------------------------------------------------------------


def add_token(connection: Connection, officer_id: int, token: str) -> None:
    connection.execute(TOKENS.insert(), {"officer_id": officer_id, "token_hash": digest(token), "created_at": utcnow()})


def token_officer(connection: Connection, token: str) -> dict[str, Any] | None:
    """The enabled officer an unrevoked token belongs to (with ``token_id`` and ``used_at``)."""
    query = (
        select(*PUBLIC_COLUMNS, TOKENS.c.id.label("token_id"), TOKENS.c.used_at)
        .join(OFFICERS, OFFICERS.c.id == TOKENS.c.officer_id)
        .where(TOKENS.c.token_hash == digest(token), TOKENS.c.revoked_at.is_(None), OFFICERS.c.disabled_at.is_(None))
    )
    row = connection.execute(query).mappings().first()
    return dict(row) if row else None


def touch_token(connection: Connection, token_id: int, now: datetime) -> None:
    connection.execute(update(TOKENS).where(TOKENS.c.id == token_id).values(used_at=now))


def revoke_tokens(connection: Connection, officer_id: int) -> int:
    """Revoke every token of an officer; how many were active."""
    result = connection.execute(
        update(TOKENS)
        .where(TOKENS.c.officer_id == officer_id, TOKENS.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return int(result.rowcount)
