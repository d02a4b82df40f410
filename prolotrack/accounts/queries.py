"""Reads of the account pages: a user's API tokens, the clinic's tokens and staff, always within the caller's reach."""

from typing import Any

from prolotrack.clinics.models import ApiToken, Membership


def tokens_of(user: Any) -> list[ApiToken]:
    """The user's API tokens in every clinic, live ones first, newest first."""
    return list(
        ApiToken.objects.filter(membership__user=user)
        .select_related("membership__clinic")
        .order_by("revoked_at", "-created_at")[:100]
    )


def token(token_id: int) -> ApiToken | None:
    """A token with its membership (the caller then checks it may revoke it)."""
    return ApiToken.objects.select_related("membership__clinic", "membership__user").filter(pk=token_id).first()


def clinic_staff(clinic: Any) -> list[Membership]:
    return list(
        Membership.objects.filter(clinic=clinic)
        .select_related("user")
        .order_by("user__last_name", "user__first_name", "user__username")
    )


def clinic_tokens(clinic: Any) -> list[ApiToken]:
    return list(
        ApiToken.objects.filter(membership__clinic=clinic)
        .select_related("membership__user")
        .order_by("revoked_at", "-created_at")[:500]
    )
