"""Helpers shared by the test suites."""

from datetime import date
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.clinics.models import Membership, User


def actor_of(user: User) -> Actor:
    """The Actor for a user's (single) clinic membership, as the services expect it."""
    membership = Membership.objects.select_related("clinic").get(user=user)
    return Actor(user=user, clinic=membership.clinic, role=membership.role, client_address="127.0.0.1")


def knee_course(clinician: User, patient: Any, start_on: date, **overrides: Any) -> Any:
    """The course most tests need: right knee osteoarthritis from the Rabago template, treated by `clinician`."""
    from prolotrack.treatment import services

    fields: dict[str, Any] = {
        "protocol_id": "knee_oa_rabago",
        "indication": "Knee osteoarthritis",
        "region": "knee",
        "side": "right",
        "start_on": start_on,
        "clinician": clinician,
    }
    fields.update(overrides)
    return services.create_course(actor_of(clinician), patient, **fields)
