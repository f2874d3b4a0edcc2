"""The Graph API client both Meta channels use, and Meta's errors mapped to the framework's.

Every call carries the access token as a bearer header. An error answer is
``{"error": {"message", "type", "code", "error_subcode", "error_data": {"details"}, "fbtrace_id"}}``;
what it means for us is decided by :func:`send_error` and :func:`media_error` from the HTTP
status and Meta's code, in one table (``RATE_LIMITED``, ``TRANSIENT``, ``TOKEN_INVALID``).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from dataclasses import dataclass
from datetime import UTC
from typing import Any

import aiohttp
import orjson

from connectors._meta.config import MetaConfig
from connectors.base import (
    ConnectorNotReady,
    MediaUnavailable,
    PermanentSendError,
    TransientSendError,
    read_capped,
)

TIMEOUT_SECONDS = 15.0
RATE_LIMITED = frozenset({4, 17, 32, 613, 80007, 130429, 131048, 131056})
"""Meta's throttling codes (app, user, page, pair rate limits): retried after Retry-After."""
TRANSIENT = frozenset({1, 2, 131000, 131016, 133004})
"""Unknown error, service temporarily unavailable, server unavailable: retried with backoff."""
TOKEN_INVALID = frozenset({190})
"""The access token expired or was revoked: nothing on the channel can go until it is replaced."""
MAX_ERROR_CHARS = 300


@dataclass(frozen=True, slots=True)
class GraphError(Exception):
    """An error answer of the Graph API (or a transport failure, ``status`` 0)."""

    status: int
    code: int | None
    message: str
    retry_after: float | None = None

    def __str__(self) -> str:
        code = f" (code {self.code})" if self.code is not None else ""
        return f"Graph API HTTP {self.status}{code}: {self.message}"


class GraphClient:
    """One aiohttp session per event loop: ``start`` in the loop that will use it (the framework
    starts a fresh connector in each), or lazily at the first call."""

    def __init__(self, config: MetaConfig) -> None:
        self.base = f"{config.graph_api_url.rstrip('/')}/{config.graph_api_version}"
        self._token = config.access_token.get_secret_value()
        self._posting = {"Authorization": f"Bearer {self._token}", "Content-Type": "application/json"}
        """A POST's headers, made once: a send is one POST, and a deliver batch makes hundreds."""
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._client()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
                json_serialize=lambda value: orjson.dumps(value).decode(),
            )
        return self._session

    def _auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._token}"}

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        url = f"{self.base}/{path.lstrip('/')}"
        return await self._call("POST", url, data=orjson.dumps(body), headers=self._posting)

    async def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any]:
        return await self._call("GET", f"{self.base}/{path.lstrip('/')}", params=params)

    async def _call(self, method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        try:
            kwargs.setdefault("headers", self._auth())
            async with self._client().request(method, url, **kwargs) as response:
                body = await response.read()
                if response.status >= 400:
                    raise _error(response.status, body, response.headers.get("Retry-After"))
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GraphError(0, None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]) from exc
        try:
            document = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise GraphError(response.status, None, "the answer is not JSON") from None
        if not isinstance(document, dict):
            raise GraphError(response.status, None, "the answer is not a JSON object")
        return document

    async def download(self, url: str, max_bytes: int, *, authorized: bool) -> tuple[bytes, str | None]:
        """The bytes at ``url`` (at most ``max_bytes``) and their content type. WhatsApp's media
        URLs want the bearer token; Instagram's CDN URLs are signed and get none."""
        headers = self._auth() if authorized else None
        try:
            async with self._client().get(url, headers=headers) as response:
                if response.status >= 400:
                    raise _error(
                        response.status, await response.content.read(4096), response.headers.get("Retry-After")
                    )
                data = await read_capped(response.content, max_bytes, response.content_length)
                return data, response.content_type if "Content-Type" in response.headers else None
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise GraphError(0, None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]) from exc


def _error(status: int, body: bytes, retry_after: str | None) -> GraphError:
    code: int | None = None
    message = f"HTTP {status}"
    try:
        found = orjson.loads(body).get("error")
    except (orjson.JSONDecodeError, AttributeError):
        found = None
    if isinstance(found, dict):
        raw_code = found.get("code")
        code = raw_code if isinstance(raw_code, int) and not isinstance(raw_code, bool) else None
        message = str(found.get("message") or message)
        details = (found.get("error_data") or {}).get("details") if isinstance(found.get("error_data"), dict) else None
        if details and details not in message:
            message = f"{message}: {details}"
    return GraphError(status, code, message[:MAX_ERROR_CHARS], _seconds(retry_after))


def _seconds(retry_after: str | None) -> float | None:
    """``Retry-After`` as seconds: a number, or an HTTP date."""
    if not retry_after:
        return None
    try:
        return max(0.0, float(retry_after))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - time.time())


def is_transient(error: GraphError) -> bool:
    return error.status in (0, 429) or error.status >= 500 or error.code in RATE_LIMITED | TRANSIENT


def token_invalid(error: GraphError) -> bool:
    return error.code in TOKEN_INVALID or (error.status == 401 and error.code is None)


def send_error(error: GraphError) -> TransientSendError | PermanentSendError:
    """What a refused send means: retried (429, 5xx, throttling codes, honouring Retry-After), or
    dead with Meta's code and message; an invalid token also says the whole channel is down."""
    if token_invalid(error):
        return PermanentSendError(str(error), code=str(error.code or error.status), channel_down=True)
    if is_transient(error):
        return TransientSendError(str(error), retry_after=error.retry_after)
    return PermanentSendError(str(error), code=str(error.code) if error.code is not None else str(error.status))


def media_error(error: GraphError) -> ConnectorNotReady | MediaUnavailable:
    """What a failed media fetch means: tried again later (transient, and an invalid token, which
    an admin can replace within the media id's 7 days), or never (the id or URL is gone)."""
    if is_transient(error) or token_invalid(error):
        return ConnectorNotReady(str(error), retry_after=error.retry_after)
    return MediaUnavailable(str(error))
