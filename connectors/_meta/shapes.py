"""Reading Meta's JSON defensively: a field that should be an object may be missing or not one."""

from __future__ import annotations

from typing import Any


def obj(value: object) -> dict[str, Any]:
    """``value`` if it is a JSON object, else an empty one."""
    return value if isinstance(value, dict) else {}
