"""The one shape of every JSON error the HTTP server answers.

::

    {"error": {"status": 422, "reason": "invalid report", "fields": {"text": "required"}}}

``status`` repeats the HTTP status (a client that logs only the body still knows it), ``reason``
is one sentence for a person, and any other key (``fields``: what is wrong with which field) is
optional. Handlers raise :func:`json_error`; the server's middleware turns every other error
(aiohttp's own 404/405/413, a storage outage) into the same shape.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson
from aiohttp import web

JSON = "application/json"


def error_body(status: int, reason: str, **extra: Any) -> dict[str, Any]:
    """The error document: ``{"error": {"status", "reason", **extra}}``."""
    return {"error": {"status": status, "reason": reason, **extra}}


class JsonError(web.HTTPError):
    """An HTTP error of any status whose body is already in the server's shape."""

    def __init__(self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        self.status_code = status  # aiohttp reads the status from here; one class serves every status
        super().__init__(text=orjson.dumps(body).decode(), content_type=JSON, headers=headers)


def json_error(
    status: int,
    reason: str,
    *,
    retry_after: int | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> web.HTTPException:
    """The error to ``raise`` (or return) from a handler, in the server's one shape.

    ``retry_after`` sets the ``Retry-After`` header (503, 429); ``headers`` adds others (``Allow``);
    every other keyword goes into the error object, e.g. ``fields={"email": "not an address"}``.
    """
    sent = dict(headers or {})
    if retry_after is not None:
        sent["Retry-After"] = str(retry_after)
    return JsonError(status, error_body(status, reason, **extra), sent)
