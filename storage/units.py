"""Keep the unit table in step with routing.toml (cases reference units by key)."""

from __future__ import annotations

from sqlalchemy import Engine, select, update

from config.routing import RoutingConfig
from storage.db import transaction
from storage.sql import insert_ignore
from storage.tables import UNITS


def sync_units(engine: Engine, routing: RoutingConfig) -> None:
    """Add new units and update names; units no longer configured stay for their old cases."""
    with transaction(engine) as connection:
        known = set(connection.execute(select(UNITS.c.key)).scalars())
        for unit in routing.units:
            values = {"name": unit.name, "email": unit.email, "sensitive": unit.sensitive}
            if unit.key in known:
                connection.execute(update(UNITS).where(UNITS.c.key == unit.key).values(**values))
            else:
                connection.execute(insert_ignore(connection, UNITS), {"key": unit.key, **values})
