"""Access checks for pages: login, clinic membership and role permission.

The permission table is clinics/roles.py (a layer above); `require` asks the request's membership (`can`), so this
module names no role. Services check again with `clinics.roles.require_permission`.
"""

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.http.response import HttpResponseBase

from prolotrack.core.errors import AccessDenied

View = Callable[..., HttpResponseBase]  # a page: it may answer with a file (FileResponse) as well as HTML


def require(permission: StrEnum) -> Callable[[View], View]:
    """Let the view run only for a signed-in member of a clinic whose role holds `permission`."""

    def decorator(view: View) -> View:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
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

        vars(wrapped)["required_permission"] = permission  # the permission a page needs, readable from the URL map
        return wrapped

    return decorator


def can(request: HttpRequest, permission: StrEnum) -> bool:
    """Whether the request's member may do this: for a part of a page (a button, a column) that the role decides."""
    membership = getattr(request, "membership", None)
    return membership is not None and membership.can(permission)


def require_same_clinic(actor: Any, record: Any) -> None:
    """Refuse a record of another clinic: callers look records up inside the actor's clinic; this stops one that forgets."""
    if actor.clinic is None or record.clinic_id != actor.clinic.pk:
        raise AccessDenied("This record belongs to another clinic.")
