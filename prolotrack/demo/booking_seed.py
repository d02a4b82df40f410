"""Demo booking: the demo clinic's appointment types (a new-patient assessment and a follow-up bookable online, the
prolotherapy session by staff only), its two clinicians' working hours with a lunch break, and a few follow-ups
booked by the front desk next week in free slots, so the calendar, the staff booking page and the public booking page
(/book/<slug>/, switched on) have something to show. Each type is also named in Spanish, for the patients who read
Spanish (docs/LANGUAGES.md, "Names the clinic types"). Safe to run again: a clinic that has appointment types is left as it is."""

from datetime import date, time, timedelta
from typing import Any

from prolotrack.booking import queries, services
from prolotrack.booking.models import AppointmentKind, AppointmentType
from prolotrack.booking.testing import set_up_week
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import update_clinic_settings
from prolotrack.demo.billing_seed import seed_actor
from prolotrack.patients.models import Patient

# Weekday hours of the demo's clinicians: 08:30-17:00 with lunch 12:30-13:30, Monday to Friday (a demo choice).
HOURS = (time(8, 30), time(17, 0))
LUNCH = (time(12, 30), time(13, 30))
FOLLOW_UPS = 4
# The demo types' names for patients reading Spanish (the names are booking.testing.TYPES'; a demo clinic's choice,
# in the plain words of docs/LANGUAGES.md, "Style for Spanish").
SPANISH_NAMES = {
    AppointmentKind.ASSESSMENT: "Evaluación de paciente nuevo",
    AppointmentKind.SESSION: "Sesión de proloterapia",
    AppointmentKind.FOLLOW_UP: "Consulta de seguimiento",
}


def seed_booking(clinic: Any, *, today: date) -> dict[str, int]:
    if AppointmentType.objects.filter(clinic=clinic).exists():
        return {"types": 0, "appointments": 0}
    admin = seed_actor(clinic, Permission.CLINIC_MANAGE)
    # Whoever may sign a session (the clinicians: the roles table) offers the clinic's appointments.
    clinicians = [
        m.user
        for m in members_with(clinic, Permission.SESSION_SIGN)
        .filter(is_active=True)
        .select_related("user")
        .order_by("id")
    ]
    if not clinicians:
        return {"types": 0, "appointments": 0}
    types = set_up_week(admin, clinicians, hours=HOURS, lunch=LUNCH)
    for kind, made in types.items():
        types[kind] = services.update_appointment_type(
            admin, made, {"names": {"es": SPANISH_NAMES[AppointmentKind(kind)]}}, expected_version=made.version
        )
    # The demo takes bookings online (the setting's default is off: a clinic chooses to open its public page).
    update_clinic_settings(admin, clinic, {"online_booking": True})
    desk = seed_actor(clinic, Permission.SCHEDULE_MANAGE)
    follow_up = types[AppointmentKind.FOLLOW_UP]
    patients = list(Patient.objects.active().filter(clinic=clinic).order_by("id")[:FOLLOW_UPS])
    first = today + timedelta(days=7 - today.weekday())  # next Monday
    slots = queries.free_slots(clinic, follow_up, first, first + timedelta(days=4))
    booked = 0
    # One follow-up a day, spread over the week's mornings and afternoons (every 17th free slot).
    for patient, slot in zip(patients, slots[::17], strict=False):
        services.book_appointment(
            desk, patient=patient, appointment_type=follow_up, clinician=slot.clinician, starts_at=slot.start
        )
        booked += 1
    return {"types": len(types), "appointments": booked}
