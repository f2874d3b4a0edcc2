"""Finding connectors: the built-in folders and the ``satupintu.connectors`` entry points."""

from __future__ import annotations

import difflib
import importlib
import logging
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from connectors.base import ROLE_MIXINS, Connector, ConnectorConfigError, ConnectorContext

ENTRY_POINT_GROUP = "satupintu.connectors"
BUILTIN_DIR = Path(__file__).resolve().parent

logger = logging.getLogger(__name__)

ConnectorClass = type[Connector[Any]]


def builtin_names() -> list[str]:
    """Folders under ``connectors/`` that are packages."""
    return sorted(
        p.name for p in BUILTIN_DIR.iterdir() if p.is_dir() and (p / "__init__.py").exists() and p.name[0] != "_"
    )


def discover() -> dict[str, ConnectorClass]:
    """Every connector installed: built-in folders first, then entry points of other packages."""
    found: dict[str, ConnectorClass] = {}
    for name in builtin_names():
        module = importlib.import_module(f"connectors.{name}")
        found[name] = _checked(name, getattr(module, "CONNECTOR", None), f"connectors/{name}")
    for entry in entry_points(group=ENTRY_POINT_GROUP):
        if entry.name in found:
            raise ConnectorConfigError(f"connector {entry.name!r} from {entry.value} clashes with a built-in one")
        found[entry.name] = _checked(entry.name, entry.load(), entry.value)
    return found


def _checked(name: str, candidate: object, origin: str) -> ConnectorClass:
    if not (isinstance(candidate, type) and issubclass(candidate, Connector)):
        raise ConnectorConfigError(f"{origin} does not export CONNECTOR, a Connector subclass")
    if candidate.spec.name != name:
        raise ConnectorConfigError(f"{origin}: spec.name {candidate.spec.name!r} must be {name!r}")
    check_roles(candidate, origin)
    return candidate


def check_roles(candidate: ConnectorClass, origin: str) -> None:
    """The roles a connector declares are exactly the role mixins it has, and not abstract."""
    declared = set(candidate.spec.roles)
    unknown = declared - set(ROLE_MIXINS)
    if unknown:
        raise ConnectorConfigError(f"{origin}: unknown roles {sorted(unknown)}; known: {sorted(ROLE_MIXINS)}")
    provided = {role for role, mixin in ROLE_MIXINS.items() if issubclass(candidate, mixin)}
    if declared - provided:
        missing = ", ".join(f"{r} ({ROLE_MIXINS[r].__name__})" for r in sorted(declared - provided))
        raise ConnectorConfigError(f"{origin}: declares roles it does not implement: {missing}")
    if provided - declared:
        raise ConnectorConfigError(f"{origin}: implements roles it does not declare: {sorted(provided - declared)}")
    if not declared:
        raise ConnectorConfigError(f"{origin}: declares no roles")
    abstract = sorted(getattr(candidate, "__abstractmethods__", ()))
    if abstract:
        raise ConnectorConfigError(f"{origin}: does not implement {', '.join(abstract)}")


def load_enabled(
    sections: dict[str, dict[str, Any]],
    context: ConnectorContext,
    available: dict[str, ConnectorClass] | None = None,
) -> dict[str, Connector[Any]]:
    """Build the connectors that the config enables; an unknown or invalid section stops start-up."""
    available = discover() if available is None else available
    enabled: dict[str, Connector[Any]] = {}
    for name, section in sections.items():
        if name not in available:
            hint = difflib.get_close_matches(name, available, n=1)
            suggestion = f" Did you mean {hint[0]!r}?" if hint else ""
            raise ConnectorConfigError(f"connectors.{name}: no such connector.{suggestion}")
        check_roles(available[name], f"connectors.{name}")  # again: ``available`` may come from a test
        connector = available[name].from_section(section, context)
        if connector.config.enabled:
            enabled[name] = connector
    return enabled
