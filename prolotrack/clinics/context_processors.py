from typing import Any

from django.http import HttpRequest

from prolotrack.clinics.roles import ROLE_PERMISSIONS


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The active clinic, membership and permission set, for templates."""
    membership = getattr(request, "membership", None)
    perms = set()
    if membership is not None:
        perms = {str(p) for p, roles in ROLE_PERMISSIONS.items() if membership.role in roles}
    return {
        "active_clinic": getattr(request, "clinic", None),
        "membership": membership,
        "can": perms,
        "idle_timeout_seconds": membership.clinic.config.idle_timeout_minutes * 60 if membership else None,
    }
