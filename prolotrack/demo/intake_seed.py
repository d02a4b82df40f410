"""Demo pre-visit intake (docs/INTAKE.md): two new-patient assessments next week, one whose intake link is emailed
(a queued outbox row; the link is made when it is sent) and one whose patient already sent the form back, so the
chart's intake review and the screening page's "reported by the patient, not yet reviewed" have something to show.
Safe to run again: a clinic that has intakes is left as it is."""

from datetime import date, timedelta
from typing import Any

from prolotrack.booking import queries as booking_queries
from prolotrack.booking import services as booking_services
from prolotrack.booking.models import AppointmentKind, AppointmentType
from prolotrack.clinics.roles import Permission
from prolotrack.demo.billing_seed import seed_actor
from prolotrack.intake import queries, services
from prolotrack.intake.models import Intake
from prolotrack.messaging import services as messaging_services
from prolotrack.patients.models import Patient

# What the demo patient who sent the form back answered: a knee complaint, an anticoagulant and an NSAID by name, a
# "-caine" allergy, diabetes, a weight in pounds.
ANSWERS: dict[str, dict[str, Any]] = {
    "complaint": {
        "description": "Pain on the inner side of the knee, worse on stairs",
        "region": "knee",
        "side": "right",
        "duration": "chronic",
        "pain_now": 6,
        "treatments": ["physiotherapy", "pain_medicines"],
        "treatments_other": "",
    },
    "medicines": {
        "none": False,
        "named": {
            "apixaban": {"dose": "5 mg twice a day", "last_dose": ""},
            "ibuprofen": {"dose": "400 mg", "last_dose": ""},
        },
        "other": [{"name": "Metformin", "dose": "500 mg twice a day"}],
    },
    "allergies": {"answer": "some", "items": [{"substance": "Novocaine", "reaction": "rash", "severity": "mild"}]},
    "conditions": {
        "pregnancy": "no",
        "diabetes": "yes",
        "bleeding_disorder": "no",
        "prosthetic_joint": "no",
        "skin_infection": "no",
        "systemic_infection": "no",
    },
    "weight": {"value": "185", "unit": "lb"},
}


def seed_intake(clinic: Any, *, today: date) -> dict[str, int]:
    if Intake.objects.filter(clinic=clinic).exists():
        return {"intakes": 0}
    assessment = AppointmentType.objects.filter(clinic=clinic, kind=AppointmentKind.ASSESSMENT, active=True).first()
    if assessment is None:
        return {"intakes": 0}
    desk = seed_actor(clinic, Permission.SCHEDULE_MANAGE)
    patients = list(Patient.objects.active().filter(clinic=clinic).exclude(email="").order_by("-id")[:2])
    first = today + timedelta(days=7 - today.weekday() + 1)  # next Tuesday
    slots = booking_queries.free_slots(clinic, assessment, first, first + timedelta(days=3))
    made = 0
    for n, (patient, slot) in enumerate(zip(patients, slots[::23], strict=False)):
        visit = booking_services.book_appointment(
            desk, patient=patient, appointment_type=assessment, clinician=slot.clinician, starts_at=slot.start
        )
        if n == 0:
            services.request_intake(desk, visit)  # by email: planned now, its link made when it goes
            messaging_services.plan_intake_messages(clinic, today)
        else:
            _intake, path = services.request_intake(desk, visit, delivery="shown")
            link = queries.link_by_token(str(path).split("/")[2])
            assert link is not None
            for step, values in ANSWERS.items():
                services.save_step(link, step, values)
            services.save_step(link, "questionnaire:nrs_pain", {"now": 6, "average_week": 5, "worst_week": 8})
            services.submit(link)
        made += 1
    return {"intakes": made}
