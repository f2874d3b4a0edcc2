"""Mounts the console on the public server: its login middleware, its API and its pages."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from pipeline.app import Parts


def install(app: web.Application, parts: Parts) -> None:
    """Everything officers use, on the same server as the webhooks and the public pages."""
    from console import api, pages

    api.setup(app, parts)
    pages.setup(app, parts)
