"""``satupintu connectors``: what is installed, what the config enables, and what each one does."""

from __future__ import annotations

from typing import Any

import click
from pydantic import ValidationError

from cli.common import FORMAT, emit, fail_cleanly, settings
from cli.views import columns


@click.group()
def connectors() -> None:
    """Channels."""


@connectors.command("list")
@FORMAT
@click.pass_context
@fail_cleanly
def connectors_list(ctx: click.Context, output: str) -> None:
    """Every installed connector, its roles, whether the config enables it, and what is wrong with
    its section."""
    from connectors.registry import discover

    sections = settings(ctx).connectors
    installed = discover()
    rows = [_connector_row(name, cls, sections.get(name)) for name, cls in sorted(installed.items())]
    rows += [_unknown_connector_row(name) for name in sorted(set(sections) - set(installed))]

    def table(data: list[dict[str, Any]]) -> None:
        cells = [
            (
                row["name"],
                "error" if row["error"] else "enabled" if row["enabled"] else "disabled",
                "+".join(row["roles"]) or "-",
                row["error"] or row["display_name"],
            )
            for row in data
        ]
        for line in columns(("NAME", "STATE", "ROLES", "WHAT"), cells, minimum=(14, 9, 20)):
            click.echo(line)

    emit(rows, output == "json", table)


def _connector_row(name: str, cls: Any, section: dict[str, Any] | None) -> dict[str, Any]:
    enabled, error = _connector_enabled(name, cls, section)
    return {
        "name": name,
        "display_name": cls.spec.display_name,
        "roles": sorted(cls.spec.roles),
        "enabled": enabled,
        "error": error,
        "event_types": sorted(cls.spec.event_types),
        "capabilities": sorted(cls.spec.capabilities),
        "module": cls.__module__,
    }


def _connector_enabled(name: str, cls: Any, section: dict[str, Any] | None) -> tuple[bool, str | None]:
    """Decide as start-up does: no section is not configured, and the connector's own config model
    reads the section (``"false"`` from the environment is false; a bad value is reported)."""
    if section is None:
        return False, None
    try:
        return bool(cls.config_model.model_validate(section).enabled), None
    except ValidationError as exc:
        return False, "; ".join(
            f"connectors.{name}.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )


def _unknown_connector_row(name: str) -> dict[str, Any]:
    """A section naming no installed connector stops start-up; the list shows it rather than hide it."""
    return {
        "name": name,
        "display_name": "",
        "roles": [],
        "enabled": False,
        "error": f"connectors.{name}: no such connector",
        "event_types": [],
        "capabilities": [],
        "module": None,
    }
