"""Placeholder: filled in this round (issue 20)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from pipeline.app import Parts


def setup(app: web.Application, parts: Parts) -> None:
    """Adds this module's routes to app."""
