"""The look every HTML page of the server shares: one layout (``templates/base.html``, with its
CSS), one way to make a Jinja environment over it, and how a size reads to a reporter.

A connector that serves pages (the web form) reaches it through :mod:`connectors.base`; the
public pages and the server's own error pages use it too, so every page looks alike.
"""

from __future__ import annotations

from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

LAYOUT = PackageLoader("connectors", "templates")
"""``base.html`` (blocks ``head``, ``title``, ``main``) and ``refused.html`` (``title``, ``notice``)."""


def page_templates(package: str | None = None) -> Environment:
    """A Jinja environment over ``package``'s own ``templates/`` folder, then the shared layout."""
    loader = LAYOUT if package is None else ChoiceLoader([PackageLoader(package, "templates"), LAYOUT])
    return Environment(loader=loader, autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def size_text(size: int) -> str:
    """A byte count as a reporter reads it: ``10 MB``, ``64 KB``."""
    return f"{size // 1024**2} MB" if size >= 1024**2 else f"{size // 1024} KB"
