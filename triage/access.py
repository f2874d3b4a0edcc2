"""Who may see the reporter of a case: modelled here, enforced by the console (and ``cases show``).

The roles are the console's: ``admin``, ``ult`` (the ULT's officers: every case), ``unit`` (the
officers of one unit: its cases only) and ``auditor`` (reads everything, changes nothing).

A confidential case (the content demands it: violence, harassment, corruption, self-harm) shows
its reporter only to ``[access] identity_roles`` and to the roles its unit names in
``unit_identity_roles`` (``unit`` there means that unit's own officers, never another's). An
anonymous case (the reporter asked) hides them from everyone but ``identity_roles``, who must be
able to answer them. Every other case shows its reporter to every role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.settings import AccessSettings

ROLES = ("admin", "ult", "unit", "auditor")
"""Every role an officer can have; what each may do is in ``console/access.py``."""


class UnknownRole(ValueError):
    """A role that does not exist."""


def check_role(role: str) -> str:
    if role not in ROLES:
        raise UnknownRole(f"{role!r} is not a role; valid: {', '.join(ROLES)}")
    return role


def may_see_reporter(access: AccessSettings, role: str, case: Mapping[str, Any], unit: str | None = None) -> bool:
    """Whether an officer of ``role`` (a unit officer: of ``unit``, None meaning the case's own)
    may see who reported ``case`` (a mapping with ``confidential``, ``anonymous`` and ``unit``)."""
    check_role(role)
    if role in access.identity_roles:
        return True
    if case["anonymous"]:
        return False
    if not case["confidential"]:
        return True
    if role == "unit" and unit is not None and unit != case["unit"]:
        return False
    return role in access.unit_identity_roles.get(case["unit"], [])
