"""Reads of clinics and their members."""

from datetime import date
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Permission, roles_with

# The session keys of a signed-in member: the clinic chosen (clinic switching) and the last activity (idle log-off).
SESSION_CLINIC_KEY = "prolotrack_clinic"
SESSION_ACTIVITY_KEY = "prolotrack_last_activity"


def user_memberships(user: Any) -> list[Membership]:
    """Every membership of the user, active or not (the clinic switcher lists them), with its clinic, by clinic name."""
    rows = list(Membership.objects.select_related("clinic").filter(user=user).order_by("clinic__name", "id"))
    for row in rows:
        row.user = user  # the same row as the signed-in user: not read again
    return rows


def active_membership(user: Any, session: Any, memberships: list[Membership] | None = None) -> Membership | None:
    """The membership a session acts under: the chosen clinic, else the user's first by clinic name. Picked from
    `memberships` (`user_memberships(user)`) when given, so that one query serves both this and the clinic switcher
    of every page (docs/PERFORMANCE.md, "Per-request cost")."""
    if user is None or not user.is_authenticated:
        return None
    active = [m for m in (user_memberships(user) if memberships is None else memberships) if m.is_active]
    chosen = session.get(SESSION_CLINIC_KEY)
    if chosen:
        for membership in active:
            if str(membership.clinic.uuid) == str(chosen):
                return membership
    return active[0] if active else None


def members_with(clinic: Any, permission: Permission, *, lacking: Permission | None = None) -> QuerySet[Membership]:
    """The clinic's memberships whose role holds `permission` (and not `lacking`): who may do something, asked of the
    roles table rather than by naming a role."""
    members = Membership.objects.filter(clinic=clinic, role__in=roles_with(permission))
    return members if lacking is None else members.exclude(role__in=roles_with(lacking))


def member_addresses(clinic: Any, permission: Permission) -> list[str]:
    """The email addresses of the clinic's active members whose role holds `permission`, sorted, each once."""
    memberships = Membership.objects.filter(clinic=clinic, role__in=roles_with(permission), is_active=True)
    return sorted({m.user.email for m in memberships.select_related("user") if m.user.email})


def audit_alert_addresses(clinic: Any) -> list[str]:
    """Who is told when a stored file fails its integrity check: those who read the audit trail that records it."""
    return member_addresses(clinic, Permission.AUDIT_VIEW)


def membership_in(user: Any, clinic_uuid: str) -> Membership | None:
    """The user's active membership of the clinic with this uuid, or None."""
    return Membership.objects.filter(user=user, is_active=True, clinic__uuid=clinic_uuid).first()


def staff(clinic: Any) -> list[Membership]:
    """The clinic's active members with their users, by role then name (the staff page)."""
    rows = Membership.objects.filter(clinic=clinic, is_active=True).select_related("user")
    return sorted(rows, key=lambda m: (m.role, m.user.last_name.lower(), m.user.first_name.lower(), m.user.username))


def npis_of(clinic: Any, users: Any) -> dict[int, str]:
    """Each given user's own NPI in this clinic (users without one are left out)."""
    ids = {getattr(user, "pk", user) for user in users if user is not None}
    rows = Membership.objects.filter(clinic=clinic, user_id__in=ids).exclude(npi="").values_list("user_id", "npi")
    return dict(rows)


def member_or_404(clinic: Any, membership_id: int) -> Membership:
    """A membership of this clinic, or 404 (another clinic's member is not found here)."""
    from django.http import Http404

    try:
        return Membership.objects.select_related("user").get(clinic=clinic, pk=membership_id)
    except Membership.DoesNotExist:
        raise Http404("No such member in this clinic.") from None


def clinic_today(clinic: Any) -> date:
    """Today's date where the clinic is (its time zone), the one "today" of every rule: never the server's date."""
    return timezone.localdate(timezone=clinic.tz)
