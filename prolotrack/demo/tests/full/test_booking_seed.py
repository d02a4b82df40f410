"""The demo's booking: appointment types (two bookable online), both clinicians' working hours, a few follow-ups next
week in free slots, and free slots left for the public page; seeding again changes nothing. Read from the full demo."""

from datetime import timedelta
from typing import Any

import pytest

from prolotrack.booking import queries
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentType, BookingSource, WeeklyPeriod
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.queries import clinic_today
from prolotrack.demo.booking_seed import FOLLOW_UPS, SPANISH_NAMES, seed_booking

pytestmark = pytest.mark.xdist_group("full_demo")


def test_the_demo_can_be_booked(demo: Clinic, db: Any) -> None:
    kinds = {t.kind: t for t in AppointmentType.objects.filter(clinic=demo)}
    assert set(kinds) == {AppointmentKind.ASSESSMENT, AppointmentKind.SESSION, AppointmentKind.FOLLOW_UP}
    assert [t.kind for t in queries.bookable_types(demo, online=True)] != []
    demo.refresh_from_db()
    assert demo.config.online_booking
    assert not kinds[AppointmentKind.SESSION].bookable_online  # course sessions are booked by staff
    assert WeeklyPeriod.objects.filter(clinic=demo).values("clinician").distinct().count() == 2
    # The staff's follow-ups (the waitlist seed's offers are slots held from a link: source "link"; the intake seed books
    # new-patient assessments).
    booked = Appointment.objects.filter(
        clinic=demo, source=BookingSource.STAFF, appointment_type__kind=AppointmentKind.FOLLOW_UP
    )
    # (and the messaging seed books two more, confirmed with their manage links)
    assert booked.count() >= FOLLOW_UPS and all(a.patient_id for a in booked)
    today = clinic_today(demo)
    assert all(a.starts_at.astimezone(demo.tz).date() > today for a in booked)
    free = queries.free_slots(
        demo, kinds[AppointmentKind.ASSESSMENT], today + timedelta(days=1), today + timedelta(days=14), online=True
    )
    assert len(free) > 20  # a visitor to /book/<slug>/ has times to choose


def test_the_demo_public_booking_page_opens(demo: Clinic, db: Any, client: Any) -> None:
    demo.refresh_from_db()
    page = client.get(f"/book/{demo.slug}/")
    assert page.status_code == 200 and "New-patient assessment" in page.content.decode()


def test_the_demo_types_are_named_in_spanish_for_patients_who_read_it(demo: Clinic, db: Any, client: Any) -> None:
    kinds = {t.kind: t for t in AppointmentType.objects.filter(clinic=demo)}
    assert {kind: t.names for kind, t in kinds.items()} == {kind: {"es": n} for kind, n in SPANISH_NAMES.items()}
    page = client.get(f"/book/{demo.slug}/?lang=es").content.decode()
    assert "Evaluación de paciente nuevo" in page and "Consulta de seguimiento" in page
    assert "New-patient assessment" not in page and "Follow-up" not in page


def test_seeding_again_changes_nothing(demo: Clinic, db: Any) -> None:
    before = (AppointmentType.objects.count(), WeeklyPeriod.objects.count(), Appointment.objects.count())
    assert seed_booking(demo, today=clinic_today(demo)) == {"types": 0, "appointments": 0}
    assert (AppointmentType.objects.count(), WeeklyPeriod.objects.count(), Appointment.objects.count()) == before
