"""Access checks for pages: login, clinic membership and role permission."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse

from prolotrack.clinics.roles import Permission


def require(permission: Permission) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """Let the view run only for a signed-in member of a clinic whose role holds `permission`."""

    def decorator(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            membership = getattr(request, "membership", None)
            if membership is None:
                raise PermissionDenied("Your account is not a member of any clinic. Ask a clinic administrator.")
            if not membership.can(permission):
                raise PermissionDenied(
                    f"Your role ({membership.get_role_display()}) does not allow this page. "
                    "Ask a clinic administrator if you need it."
                )
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission  # type: ignore[attr-defined]
        return wrapped

    return decorator


def require_permission(actor: Any, permission: Permission) -> None:
    """Refuse a service call whose actor's role lacks the permission, whatever the caller checked."""
    from prolotrack.audit.services import AccessDenied
    from prolotrack.clinics.roles import role_has

    if not role_has(actor.role, permission):
        raise AccessDenied("Your role does not allow this.")


def require_same_clinic(actor: Any, record: Any) -> None:
    """Refuse a record of another clinic: callers look records up inside the actor's clinic; this stops one that forgets."""
    from prolotrack.audit.services import AccessDenied

    if actor.clinic is None or record.clinic_id != actor.clinic.pk:
        raise AccessDenied("This record belongs to another clinic.")
