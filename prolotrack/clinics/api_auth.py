"""Bearer-token authentication for the JSON API and FHIR: the token acts as one membership, within its scopes,
until it expires or is revoked (docs/SECURITY.md, "API tokens")."""

from collections.abc import Callable
from datetime import timedelta
from functools import wraps
from inspect import iscoroutinefunction
from typing import Concatenate, ParamSpec, TypeVar, cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from prolotrack.audit.services import AccessDenied
from prolotrack.clinics.http import ApiRequest, ClinicRequest
from prolotrack.clinics.models import SCOPE_EXPORT, SCOPE_READ, SCOPE_WRITE, ApiToken, Membership, hash_token
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for_membership

# Recording every use would make each read a write; a minute's precision is enough to spot idle tokens.
LAST_USED_PRECISION = timedelta(minutes=1)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Bulk FHIR ($export, its status and files) and research exports take the export scope, whatever the method.
EXPORT_MARKERS = ("$export", "/api/research/exports")


def required_scope(request: HttpRequest) -> str:
    """The scope a request needs: export for exports, read for reads (and a FHIR search sent by POST), else write."""
    path = request.path
    if any(marker in path for marker in EXPORT_MARKERS):
        return SCOPE_EXPORT
    if request.method in SAFE_METHODS or (request.method == "POST" and path.endswith("/_search")):
        return SCOPE_READ
    return SCOPE_WRITE


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Membership | None:
        now = timezone.now()
        found = (
            ApiToken.objects.select_related("membership__clinic", "membership__user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=now)
            .first()
        )
        if found is None:
            return None
        membership = found.membership
        if not (membership.is_active and membership.user.is_active and membership.can(Permission.API_TOKEN_USE)):
            return None
        scope = required_scope(request)
        if scope not in found.scope_set:
            raise AccessDenied(
                f"This token may {' and '.join(sorted(found.scope_set)) or 'do nothing'}, not {scope}: make a token "
                f"with the {scope} scope on My security, API tokens."
            )
        if found.last_used_at is None or now - found.last_used_at > LAST_USED_PRECISION:
            ApiToken.objects.filter(pk=found.pk).update(last_used_at=now)
        typed = cast(ClinicRequest, request)
        typed.membership = membership
        typed.clinic = membership.clinic
        return membership


P = ParamSpec("P")
R = TypeVar("R")


def api_require(
    permission: Permission, channel: str = "api"
) -> Callable[[Callable[Concatenate[ApiRequest, P], R]], Callable[Concatenate[ApiRequest, P], R]]:
    """Let the endpoint run only when the token's membership holds `permission`; it finds the acting member as
    `request.actor` (audited on `channel`). Else 403, before the endpoint reads or writes anything.

    The API's one access check, as `core.access.require` is the pages' one: put it under the router's decorator, so the
    router registers the checked function (tests/test_api_access.py refuses an operation without it)::

        @router.get("/patients/{patient_id}/imaging", response={200: list[StudyOut]})
        @api_require(Permission.PATIENT_VIEW_CLINICAL)
        def list_studies(request: ApiRequest, patient_id: UUID) -> Any:
            actor = request.actor

    `functools.wraps` keeps the endpoint's signature (django-ninja reads its parameters from it) and name.
    """

    def decorator(endpoint: Callable[Concatenate[ApiRequest, P], R]) -> Callable[Concatenate[ApiRequest, P], R]:
        if iscoroutinefunction(endpoint):
            raise TypeError(f"{endpoint.__qualname__}: api_require checks synchronous endpoints only.")

        @wraps(endpoint)
        def checked(request: ApiRequest, *args: P.args, **kwargs: P.kwargs) -> R:
            membership = request.auth
            if not membership.can(permission):
                raise HttpError(403, f"Your role ({membership.get_role_display()}) does not allow this.")
            request.actor = actor_for_membership(membership, request, channel=channel)
            return endpoint(request, *args, **kwargs)

        vars(checked)["required_permission"] = permission  # the permission an operation needs, read by the tests
        return checked

    return decorator
