from typing import Any

from django.http import HttpRequest

from prolotrack.clinics.roles import Permission, role_has


def clinic(request: HttpRequest) -> dict[str, Any]:
    """The active clinic, membership and permission set, for templates."""
    membership = getattr(request, "membership", None)
    perms = set()
    if membership is not None:
        perms = {str(p) for p in Permission if role_has(membership.role, p)}
    memberships = getattr(request, "memberships", None)
    if memberships is None:  # a request ClinicMiddleware did not see: read them when the page asks
        user = getattr(request, "user", None)
        memberships = user.memberships.select_related("clinic") if user is not None and user.is_authenticated else []
    return {
        "my_memberships": memberships,
        "active_clinic": getattr(request, "clinic", None),
        "membership": membership,
        "can": perms,
        "idle_timeout_seconds": membership.clinic.config.idle_timeout_minutes * 60 if membership else None,
    }
