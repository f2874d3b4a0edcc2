"""Start-up problems as one line naming the setting: the database unreachable or not migrated,
the HTTP port taken. An operator reads what to fix, not a traceback."""

from __future__ import annotations

import errno
import socket

from sqlalchemy import Engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from config.settings import ConfigError, HttpSettings, mask_url

MISSING_SCHEMA_SQLSTATES = frozenset({"42P01", "42703"})  # PostgreSQL: undefined table, undefined column


def database_problem(exc: DBAPIError, url: str | None) -> str:
    """One line for a database error, with the URL masked and no password anywhere in it."""
    reason = _first_line(exc.orig)
    password = make_url(url).password if url else None
    if password:
        reason = reason.replace(str(password), "****")
    where = mask_url(url) if url else "the database"
    if exc.statement is None:  # failed before any statement: the connection itself
        down = any(word in reason.lower() for word in ("refused", "timeout", "timed out"))
        hint = ": is the server up?" if down else ""
        return f"database_url: cannot connect to {where} ({reason}){hint}"
    if _missing_schema(exc, reason):
        return f"database_url: the schema of {where} is not migrated ({reason}); run `satupintu db upgrade`"
    return f"database_url: {where}: {reason}"


def _first_line(error: BaseException | None) -> str:
    text = str(error or "").strip().removeprefix("connection failed: ")
    return text.splitlines()[0] if text else "unknown error"


def _missing_schema(exc: DBAPIError, reason: str) -> bool:
    return getattr(exc.orig, "sqlstate", None) in MISSING_SCHEMA_SQLSTATES or reason.startswith(
        ("no such table", "no such column")
    )


def require_schema(engine: Engine) -> None:
    """Admin commands refuse a database not at this version's schema, as ``worker`` does; unlike
    ``Parts.check_database`` this writes nothing (the units sync), so reads stay reads."""
    from storage.migrate import current, head

    found, wanted = current(engine), head()
    if found != wanted:
        raise ConfigError(
            f"database_url: the schema of {engine.url} is at revision {found or 'none'}, "
            f"this version needs {wanted}; run `satupintu db upgrade` first"
        )


def check_port(http: HttpSettings) -> None:
    """Fail before migrating or starting anything when the HTTP address cannot be bound."""
    try:
        addresses = socket.getaddrinfo(http.host, http.port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
        for family, kind, proto, _, address in addresses:
            with socket.socket(family, kind, proto) as probe:
                probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds
                probe.bind(address)
    except OSError as exc:
        raise ConfigError(bind_problem(http, exc)) from None


def bind_problem(http: HttpSettings, exc: OSError) -> str:
    if exc.errno == errno.EADDRINUSE:
        return f"http.port: {http.host}:{http.port} is already in use"
    if exc.errno == errno.EACCES:
        return f"http.port: {http.port} needs privileges to listen on; use a port above 1023"
    if isinstance(exc, socket.gaierror) or exc.errno == errno.EADDRNOTAVAIL:
        return f"http.host: {http.host} is not an address of this machine"
    return f"http: cannot listen on {http.host}:{http.port}: {exc.strerror or exc}"
