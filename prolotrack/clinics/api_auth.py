"""Bearer-token authentication for the JSON API and FHIR: the token acts as one membership, within its scopes,
until it expires or is revoked (docs/SECURITY.md, "API tokens")."""

from datetime import timedelta
from typing import cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from prolotrack.audit.services import AccessDenied, Actor
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


def api_actor(request: HttpRequest, permission: Permission, channel: str = "api") -> Actor:
    """The acting membership, or 403 when its role lacks `permission`."""
    membership = cast(ApiRequest, request).auth
    if not membership.can(permission):
        raise HttpError(403, f"Your role ({membership.get_role_display()}) does not allow this.")
    return actor_for_membership(membership, request, channel=channel)
