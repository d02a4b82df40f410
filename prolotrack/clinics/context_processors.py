from typing import Any

from django.http import HttpRequest

from prolotrack.clinics.roles import Permission, role_has


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The active clinic, membership and permission set, for templates."""
    membership = getattr(request, "membership", None)
    perms = set()
    if membership is not None:
        perms = {str(p) for p in Permission if role_has(membership.role, p)}
    return {
        "active_clinic": getattr(request, "clinic", None),
        "membership": membership,
        "can": perms,
        "idle_timeout_seconds": membership.clinic.config.idle_timeout_minutes * 60 if membership else None,
    }
