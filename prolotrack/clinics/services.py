"""Staff, clinics, tokens and sign-in events: writes with their audit rows."""

from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from axes.signals import user_locked_out
from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.core.exceptions import ValidationError
from django.db import transaction
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from prolotrack.audit.services import Actor, ServiceError, record_event
from prolotrack.clinics.config import ClinicConfig
from prolotrack.clinics.models import (
    SCOPE_EXPORT,
    SCOPE_READ,
    SCOPE_WRITE,
    TOKEN_LIFETIMES_DAYS,
    TOKEN_SCOPES,
    ApiToken,
    Clinic,
    Membership,
    User,
    hash_token,
)
from prolotrack.clinics.queries import SESSION_ACTIVITY_KEY, active_membership
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core.access import require_same_clinic
from prolotrack.domain.errors import InputError
from prolotrack.domain.provider_ids import parse_npi


def client_address(request: HttpRequest) -> str | None:
    """The caller's address, trusting X-Forwarded-For only from configured proxies."""
    proxies = settings.PROLOTRACK_TRUSTED_PROXY_COUNT
    if proxies:
        forwarded: list[str] = [
            part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    address: str | None = request.META.get("REMOTE_ADDR")
    return address or None


def actor_for(request: HttpRequest, channel: str = "web") -> Actor:
    """The Actor behind a request: its user, clinic, role and address."""
    membership: Membership | None = getattr(request, "membership", None)
    user = request.user if request.user.is_authenticated else None
    return Actor(
        user=user,
        clinic=membership.clinic if membership else None,
        role=membership.role if membership else "",
        client_address=client_address(request),
        channel=channel,
    )


def actor_for_membership(membership: Membership, request: HttpRequest | None = None, channel: str = "api") -> Actor:
    return Actor(
        user=membership.user,
        clinic=membership.clinic,
        role=membership.role,
        client_address=client_address(request) if request is not None else None,
        channel=channel,
    )


def _signed_in_actor(user: User, membership: Membership | None, request: HttpRequest) -> Actor:
    """Who signs in or out: the user, in the membership they act in (none for a user of no clinic), from where."""
    return Actor(
        user,
        membership.clinic if membership else None,
        membership.role if membership else "",
        client_address(request),
    )


@receiver(user_logged_in)
def _audit_login(sender: Any, request: HttpRequest, user: User, **kwargs: Any) -> None:
    request.session[SESSION_ACTIVITY_KEY] = timezone.now().timestamp()
    membership = active_membership(user, request.session)
    with transaction.atomic():
        record_event(
            _signed_in_actor(user, membership, request),
            "auth.login",
        )


@receiver(user_logged_out)
def _audit_logout(sender: Any, request: HttpRequest, user: User | None, **kwargs: Any) -> None:
    if user is None:
        return
    membership = getattr(request, "membership", None)
    with transaction.atomic():
        record_event(
            _signed_in_actor(user, membership, request),
            "auth.logout",
        )


@receiver(user_locked_out)
def _audit_lockout(sender: Any, request: HttpRequest, username: str | None = None, **kwargs: Any) -> None:
    with transaction.atomic():
        record_event(
            Actor(None, None, "", client_address(request) if request is not None else None),
            "auth.locked_out",
            detail={"username": username or ""},
        )


def record_idle_logout(request: HttpRequest) -> None:
    with transaction.atomic():
        record_event(actor_for(request), "auth.idle_logout")


def create_api_token(
    membership: Membership,
    name: str = "",
    *,
    scopes: Iterable[str] = (SCOPE_READ, SCOPE_WRITE, SCOPE_EXPORT),
    days: int = 90,
    actor: Actor | None = None,
) -> str:
    """Create a bearer token for a membership, with its scopes and lifetime; returns the token, shown once."""
    known = {code for code, _label in TOKEN_SCOPES}
    chosen = [code for code, _label in TOKEN_SCOPES if code in set(scopes)]
    unknown = set(scopes) - known
    if unknown or not chosen:
        raise ServiceError(f"Choose the token's scopes from {', '.join(sorted(known))}.")
    if not 1 <= days <= max(TOKEN_LIFETIMES_DAYS):
        raise ServiceError(f"A token lasts from 1 to {max(TOKEN_LIFETIMES_DAYS)} days.")
    raw = ApiToken.generate()
    with transaction.atomic():
        token = ApiToken.objects.create(
            membership=membership,
            name=name,
            token_hash=hash_token(raw),
            hint=raw[:10],
            scopes=" ".join(chosen),
            expires_at=timezone.now() + timedelta(days=days),
        )
        record_event(
            actor or actor_for_membership(membership, channel="system"),
            "api.token.created",
            detail={
                "token": token.hint,
                "name": name,
                "owner": membership.user.username,
                "scopes": token.scopes,
                "expires_at": token.expires_at.isoformat(),
            },
            clinic=membership.clinic,
        )
    return raw


def revoke_api_token(token: ApiToken, actor: Actor | None = None) -> None:
    """Revoke a token: it stops working at once; its row stays, with when and by whom."""
    with transaction.atomic():
        token.revoked_at = timezone.now()
        token.revoked_by = actor.user if actor is not None else None
        token.save(update_fields=["revoked_at", "revoked_by"])
        record_event(
            actor or actor_for_membership(token.membership, channel="system"),
            "api.token.revoked",
            detail={"token": token.hint, "owner": token.membership.user.username},
            clinic=token.membership.clinic,
        )


def update_clinic_settings(actor: Actor, clinic: Clinic, values: dict[str, Any]) -> Clinic:
    """Change clinic settings after validating every value."""
    merged = {**clinic.config.to_json(), **values}
    config = ClinicConfig.validated(merged)
    with transaction.atomic():
        before = clinic.config.to_json()
        clinic.settings = config.to_json()
        clinic.save(update_fields=["settings"])
        changed = {k: [before[k], v] for k, v in clinic.settings.items() if before.get(k) != v}
        record_event(actor, "clinic.settings.updated", detail={"changes": changed})
    return clinic


def set_member_npi(actor: Actor, membership: Membership, npi: str) -> Membership:
    """Record (or clear, with empty text) a member's own NPI as a rendering provider, printed on superbills beside
    their name (docs/BILLING.md, "Superbill"). Refused, with nothing written, unless it is 10 digits whose last is
    the CMS check digit (domain/provider_ids.py)."""
    require_permission(actor, Permission.CLINIC_MANAGE)
    require_same_clinic(actor, membership)
    try:
        value = parse_npi(npi)
    except InputError as error:
        raise ValidationError({"npi": str(error)}) from None
    with transaction.atomic():
        current = Membership.objects.select_for_update().get(pk=membership.pk)
        before = current.npi
        if before == value:
            return current
        current.npi = value
        current.save(update_fields=["npi"])
        record_event(
            actor,
            "clinic.member.npi_set",
            detail={"member": current.user.username, "role": current.role, "changes": {"npi": [before, value]}},
        )
    return current
