"""The seam for SP4N-LAPOR!'s integration API (documented only to agency accounts with the
developer role, research/domain.md §9): pull the reports disposed to the unit, push a
follow-up and a status. :class:`HttpLaporClient` speaks JSON over HTTPS to ``api_url`` with the
agency's token; the paths and fields are ours until the unit has the documentation, each in one
place below. Nothing calls it until ``[connectors.lapor] api_url`` is set.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import aiohttp

from connectors.base import ConnectorAuthFailed, ConnectorNotReady, PermanentSendError, TransientSendError

DISPOSITIONS_PATH = "/laporan/disposisi"
FOLLOW_UP_PATH = "/laporan/{tracking_id}/tindak-lanjut"
STATUS_PATH = "/laporan/{tracking_id}/status"
TIMEOUT_SECONDS = 30.0


@dataclass(frozen=True, slots=True)
class Disposition:
    """A report the platform disposed to the unit, in the fields of the dashboard's export."""

    tracking_id: str
    record: dict[str, Any]


class LaporClient(ABC):
    """What the unit does on SP4N-LAPOR! through its API."""

    @abstractmethod
    async def dispositions(self, since: datetime | None) -> list[Disposition]:
        """Reports disposed to the unit since ``since`` (all when None)."""

    @abstractmethod
    async def post_follow_up(self, tracking_id: str, text: str) -> str:
        """Post a follow-up (tindak lanjut) on a report; returns the platform's id of it."""

    @abstractmethod
    async def set_status(self, tracking_id: str, status: str) -> None:
        """Set the report's status on the platform (e.g. ``selesai``)."""

    @abstractmethod
    async def close(self) -> None:
        """Release the client's connections."""


class HttpLaporClient(LaporClient):
    def __init__(self, api_url: str, token: str) -> None:
        self.api_url = api_url.rstrip("/")
        self.token = token
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(
                headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
                timeout=aiohttp.ClientTimeout(total=TIMEOUT_SECONDS),
            )
        return self._session

    async def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        try:
            async with self._client().request(method, self.api_url + path, json=body) as response:
                if response.status in {401, 403}:
                    raise ConnectorAuthFailed(f"SP4N-LAPOR! refused the token (HTTP {response.status})")
                if response.status == 429 or response.status >= 500:
                    retry = response.headers.get("Retry-After")
                    raise ConnectorNotReady(
                        f"SP4N-LAPOR! answered HTTP {response.status}",
                        retry_after=float(retry) if retry and retry.isdigit() else None,
                    )
                if response.status >= 400:
                    raise ValueError(f"SP4N-LAPOR! refused the request: HTTP {response.status}")
                return await response.json(content_type=None)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise ConnectorNotReady(f"SP4N-LAPOR! cannot be reached: {type(exc).__name__}") from None

    async def dispositions(self, since: datetime | None) -> list[Disposition]:
        answer = await self._call("GET", DISPOSITIONS_PATH + (f"?since={since.isoformat()}" if since else ""))
        reports = answer.get("data", []) if isinstance(answer, dict) else []
        return [Disposition(str(r["tracking_id"]), r) for r in reports if isinstance(r, dict) and r.get("tracking_id")]

    async def post_follow_up(self, tracking_id: str, text: str) -> str:
        try:
            answer = await self._call("POST", FOLLOW_UP_PATH.format(tracking_id=tracking_id), {"isi": text})
        except ConnectorNotReady as exc:
            raise TransientSendError(str(exc), retry_after=exc.retry_after) from None
        except (ConnectorAuthFailed, ValueError) as exc:
            raise PermanentSendError(str(exc), channel_down=isinstance(exc, ConnectorAuthFailed)) from None
        return str(answer.get("id") if isinstance(answer, dict) and answer.get("id") else f"{tracking_id}:posted")

    async def set_status(self, tracking_id: str, status: str) -> None:
        try:
            await self._call("POST", STATUS_PATH.format(tracking_id=tracking_id), {"status": status})
        except ConnectorNotReady as exc:
            raise TransientSendError(str(exc), retry_after=exc.retry_after) from None
        except (ConnectorAuthFailed, ValueError) as exc:
            raise PermanentSendError(str(exc), channel_down=isinstance(exc, ConnectorAuthFailed)) from None

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
