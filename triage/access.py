"""Who may see the reporter of a case: modelled here, enforced by the console (and ``cases show``).

A confidential case (the content demands it: violence, harassment, corruption, self-harm) shows
its reporter only to ``[access] identity_roles`` and to the roles its unit names in
``unit_identity_roles``. An anonymous case (the reporter asked) hides them from the work units
too, but not from the ULT (``identity_roles``), which must be able to answer them. Every other
case shows its reporter to every role.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from config.settings import AccessSettings


class UnknownRole(ValueError):
    """A role the configuration does not have."""


def may_see_reporter(access: AccessSettings, role: str, case: Mapping[str, Any]) -> bool:
    if role not in access.roles:
        raise UnknownRole(f"{role!r} is not a role here; valid: {', '.join(access.roles)}")
    if role in access.identity_roles:
        return True
    if case["confidential"]:
        return role in access.unit_identity_roles.get(case["unit"], [])
    return not case["anonymous"]
