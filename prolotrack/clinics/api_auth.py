"""Bearer-token authentication for the JSON API: the token acts as one membership."""

from datetime import timedelta
from typing import cast

from django.http import HttpRequest
from django.utils import timezone
from ninja.errors import HttpError
from ninja.security import HttpBearer

from prolotrack.audit.services import Actor
from prolotrack.clinics.http import ApiRequest, ClinicRequest
from prolotrack.clinics.models import ApiToken, Membership, hash_token
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for_membership

# Recording every use would make each read a write; a minute's precision is enough to spot idle tokens.
LAST_USED_PRECISION = timedelta(minutes=1)


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Membership | None:
        found = (
            ApiToken.objects.select_related("membership__clinic", "membership__user")
            .filter(token_hash=hash_token(token), revoked_at__isnull=True)
            .first()
        )
        if found is None:
            return None
        membership = found.membership
        if not (membership.is_active and membership.user.is_active and membership.can(Permission.API_TOKEN_USE)):
            return None
        now = timezone.now()
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
