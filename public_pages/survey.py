"""The full satisfaction survey form (SKM) on the public pages: ``/survei/<token>``.

The link goes out with the survey message of a resolved case; the token is the only key (long
and random), an answer is taken once, and the page says nothing of the case but its tracking
number. The short form suited to chat is answered on the case's own channel (``triage.lifecycle``).
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from sqlalchemy import Engine, select

from connectors.base import page_templates
from storage.db import reading, transaction, utcnow
from storage.tables import CASES
from triage import lifecycle, survey

SURVEY_PAGE = "/survei/{token}"
MAX_FORM_BYTES = 4096
SCALE = ((1, "tidak baik"), (2, "kurang baik"), (3, "baik"), (4, "sangat baik"))
NO_STORE = {"Cache-Control": "no-store"}
_TEMPLATES = page_templates("public_pages")


class SurveyForm:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def routes(self) -> list[web.RouteDef]:
        return [web.get(SURVEY_PAGE, self.show), web.post(SURVEY_PAGE, self.answer)]

    async def show(self, request: web.Request) -> web.Response:
        found = await asyncio.to_thread(self._find, request.match_info["token"])
        if found is None:
            return _render(404, request, notice="Survei tidak ditemukan.")
        if found["answered_at"] is not None:
            return _render(200, request, done=True)
        return _render(200, request, form=True, tracking_number=found["tracking_number"])

    async def answer(self, request: web.Request) -> web.Response:
        token = request.match_info["token"]
        body = await request.content.read(MAX_FORM_BYTES + 1)
        if len(body) > MAX_FORM_BYTES:
            return _render(413, request, notice="Isian terlalu panjang.")
        scores = _scores(body)
        found = await asyncio.to_thread(self._find, token)
        if found is None:
            return _render(404, request, notice="Survei tidak ditemukan.")
        if scores is None:
            return _render(
                400, request, form=True, tracking_number=found["tracking_number"],
                notice="Beri nilai 1 sampai 4 untuk kesembilan hal.",
            )  # fmt: skip
        taken = await asyncio.to_thread(self._store, token, scores)
        if not taken:
            return _render(409, request, done=True, notice="Survei ini sudah diisi.")
        return _render(200, request, done=True)

    def _find(self, token: str) -> dict[str, Any] | None:
        if not token or len(token) > 64:
            return None
        with reading(self.engine) as connection:
            found = survey.survey_by_token(connection, token)
            if found is None:
                return None
            number = connection.execute(
                select(CASES.c.tracking_number).where(CASES.c.id == found["case_id"])
            ).scalar_one()
        return {**found, "tracking_number": number}

    def _store(self, token: str, scores: dict[int, int]) -> bool:
        with transaction(self.engine) as connection:
            return lifecycle.answer_survey_form(connection, token, scores, utcnow())


def _scores(body: bytes) -> dict[int, int] | None:
    """``u1=4&u2=3...``: all nine elements, each 1-4; anything else is None."""
    try:
        fields = dict(parse_qsl(body.decode("utf-8"), strict_parsing=False))
    except UnicodeDecodeError:
        return None
    scores: dict[int, int] = {}
    for element in range(1, survey.COUNT + 1):
        value = fields.get(f"u{element}", "")
        if value not in {"1", "2", "3", "4"}:
            return None
        scores[element] = int(value)
    return scores


def _render(status: int, request: web.Request, *, notice: str | None = None, **context: Any) -> web.Response:
    text = _TEMPLATES.get_template("survey.html").render(
        action=request.path, notice=notice, elements=survey.labels("id"), scale=SCALE, **context
    )
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8", headers=NO_STORE)
