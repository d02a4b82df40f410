"""Helpers shared by the test suites: the service Actor of a test user."""

from prolotrack.audit.services import Actor
from prolotrack.clinics.models import Membership, User


def actor_of(user: User) -> Actor:
    """The Actor for a user's (single) clinic membership, as the services expect it."""
    membership = Membership.objects.select_related("clinic").get(user=user)
    return Actor(user=user, clinic=membership.clinic, role=membership.role, client_address="127.0.0.1")
