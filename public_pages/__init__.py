"""Public pages for the reporters of every channel, not of one: the status lookup and the
satisfaction survey's full form."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Engine

from config.settings import Settings
from public_pages.status import StatusLookup
from public_pages.survey import SurveyForm


def routes(engine: Engine, settings: Settings) -> list[web.RouteDef]:
    """The public routes, for the HTTP server to mount beside the connectors' own."""
    return [*StatusLookup(engine, settings).routes(), *SurveyForm(engine).routes()]
