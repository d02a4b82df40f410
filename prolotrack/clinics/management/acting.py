"""The clinic member a management command acts as (`USERNAME [--clinic NAME]`), found the same way by every command."""

from django.core.management.base import CommandError

from prolotrack.clinics.models import Membership, User


def acting_membership(username: str, clinic: str | None) -> Membership:
    """The user's one active membership (in the named clinic, when given); a CommandError saying what to fix otherwise."""
    try:
        user = User.objects.get(username=username)
    except User.DoesNotExist:
        raise CommandError(f"No user called {username!r}.") from None
    memberships = Membership.objects.filter(user=user, is_active=True).select_related("clinic", "user")
    if clinic:
        memberships = memberships.filter(clinic__name=clinic)
    found = list(memberships[:2])
    if not found:
        raise CommandError(f"{username} has no active clinic membership{' in ' + clinic if clinic else ''}.")
    if len(found) > 1:
        raise CommandError(f"{username} belongs to several clinics: choose one with --clinic NAME.")
    return found[0]
