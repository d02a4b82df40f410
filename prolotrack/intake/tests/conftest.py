"""Intake fixtures: a booked new-patient assessment next week for a patient with an email address, and answers."""

from typing import Any

import pytest
from django.db import transaction

from prolotrack.booking import services as booking_services
from prolotrack.booking.models import AppointmentKind
from prolotrack.booking.testing import at, next_weekday, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.domain.intake import CONDITION_KEYS


@pytest.fixture
def types(admin_user: Any, clinician: Any) -> dict[str, Any]:
    return set_up_week(actor_of(admin_user), [clinician])


@pytest.fixture
def appointment(types: Any, clinician: Any, make_patient: Any) -> Any:
    patient = make_patient(email="ada@example.org")
    day = next_weekday(patient.clinic, 1)
    with transaction.atomic():
        return booking_services.book_appointment(
            actor_of(clinician),
            patient=patient,
            appointment_type=types[AppointmentKind.ASSESSMENT],
            clinician=clinician,
            starts_at=at(patient.clinic, day, "10:00"),
        )


@pytest.fixture
def full_answers() -> dict[str, Any]:
    """Every required part answered: a knee complaint, ibuprofen and apixaban, a lidocaine allergy, diabetes."""
    return {
        "complaint": {
            "description": "Pain inside the left knee on stairs",
            "region": "knee",
            "side": "left",
            "duration": "chronic",
            "pain_now": 6,
            "treatments": ["physiotherapy"],
            "treatments_other": "",
        },
        "medicines": {
            "none": False,
            "named": {"ibuprofen": {"dose": "400 mg", "last_dose": ""}, "apixaban": {"dose": "5 mg", "last_dose": ""}},
            "other": [],
        },
        "allergies": {
            "answer": "some",
            "items": [{"substance": "Lidocaine", "reaction": "hives", "severity": "moderate"}],
        },
        "conditions": {**dict.fromkeys(CONDITION_KEYS, "no"), "diabetes": "yes"},
        "weight": {"value": "160", "unit": "lb"},
    }
