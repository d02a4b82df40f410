"""Helpers shared by the test suites: the course most tests need."""

from datetime import date
from typing import Any

from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services


def knee_course(clinician: User, patient: Any, start_on: date, **overrides: Any) -> Any:
    """The course most tests need: right knee osteoarthritis from the Rabago template, treated by `clinician`."""
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
