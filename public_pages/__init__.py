"""Public pages for the reporters of every channel, not of one: the status lookup."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy import Engine

from config.settings import Settings
from public_pages.status import StatusLookup


def routes(engine: Engine, settings: Settings) -> list[web.RouteDef]:
    """The public routes, for the HTTP server to mount beside the connectors' own."""
    return StatusLookup(engine, settings).routes()
