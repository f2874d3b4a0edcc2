"""Mounts the console on the public server: its login middleware, its API and its pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from pipeline.app import Parts


def install(app: web.Application, parts: Parts) -> None:
    """Everything officers use, on the same server as the webhooks and the public pages. The
    guard runs inside the server's front middleware, so its refusals leave in the one error shape."""
    from console import api, pages
    from console.auth import GATE, Gate, middleware
    from console.login import Login

    settings = parts.settings
    gate = Gate(parts.engine, settings.console, trust_proxy=settings.public.forwarded_for)
    app[GATE] = gate
    app.middlewares.append(middleware(gate))
    app.add_routes(Login(parts.engine, settings.console).routes())
    api.setup(app, parts)
    pages.setup(app, parts)
