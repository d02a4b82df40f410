"""The booking pages: setup for administrators, booking from the free slots for the front desk, the appointment page
(move, cancel), the appointments on the staff calendar. Refused forms show the message and write nothing."""

from datetime import UTC, timedelta
from typing import Any

import pytest
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import queries, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, AppointmentType, WeeklyPeriod
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        AppointmentType.objects.count(),
        WeeklyPeriod.objects.count(),
        Appointment.objects.count(),
        AuditEvent.objects.count(),
        RecordVersion.objects.count(),
    )


def slot(clinic: Any, clinician: Any, day: Any, clock: str) -> str:
    return f"{at(clinic, day, clock).astimezone(UTC).isoformat()}|{clinician.uuid}"


@pytest.mark.parametrize(
    ("persona", "setup_status", "book_status"),
    [
        ("admin", 200, 403),
        ("frontdesk", 403, 200),
        ("clinician", 403, 200),
        ("colleague", 403, 200),
        ("researcher", 403, 403),
    ],
)
def test_who_sees_which_page(
    login: Any, personas: Any, types: Any, persona: str, setup_status: int, book_status: int
) -> None:
    client = login(personas[persona])
    assert client.get("/booking/setup/").status_code == setup_status
    assert client.get("/booking/hours/").status_code == setup_status
    assert client.get("/booking/book/").status_code == book_status


def test_an_administrator_adds_a_type_and_chooses_who_offers_it(login: Any, admin_user: Any, clinician: Any) -> None:
    client = login(admin_user)
    response = client.post(
        "/booking/setup/types/add/",
        {"name": "Follow-up", "kind": "follow_up", "duration_minutes": "30", "buffer_before_minutes": ""},
    )
    assert response.status_code == 302
    made = AppointmentType.objects.get(name="Follow-up")
    assert made.buffer_before_minutes == 0 and made.fee_item is None
    page = client.get(response["Location"])
    assert page.status_code == 200 and "Who offers it" in page.content.decode()
    response = client.post(
        response["Location"], {"save_offers": "1", "clinicians": [str(clinician.uuid)], "version": made.version}
    )
    assert response.status_code == 302
    assert [c.pk for c in queries.offering_clinicians(made.clinic, made)] == [clinician.pk]
    response = client.post(
        f"/booking/setup/types/{made.uuid}/",
        {"save_type": "1", "name": "Follow-up visit", "kind": "follow_up", "duration_minutes": "40", "version": 1},
    )
    assert response.status_code == 302
    made.refresh_from_db()
    assert (made.name, made.duration_minutes, made.version) == ("Follow-up visit", 40, 2)


def test_a_bad_type_is_refused_on_the_page_and_nothing_is_written(login: Any, admin_user: Any) -> None:
    client = login(admin_user)
    before = counts()
    response = client.post("/booking/setup/types/add/", {"name": "", "kind": "follow_up", "duration_minutes": "0"})
    assert response.status_code == 400
    text = response.content.decode()
    assert "This field is required." in text and "greater than or equal to 5" in text
    assert counts() == before


def test_hours_and_time_off_on_the_page(login: Any, admin_user: Any, clinician: Any) -> None:
    client = login(admin_user)
    response = client.post(
        "/booking/hours/add/",
        {"clinician": str(clinician.uuid), "kind": "hours", "weekday": "0", "starts": "09:00", "ends": "12:00"},
    )
    assert response.status_code == 302
    before = counts()
    response = client.post(
        "/booking/hours/add/",
        {"clinician": str(clinician.uuid), "kind": "hours", "weekday": "0", "starts": "11:00", "ends": "13:00"},
    )
    assert response.status_code == 400 and "overlap" in response.content.decode()
    assert counts() == before
    page = client.get("/booking/hours/").content.decode()
    assert "Monday" in page and "09:00-12:00" in page
    period = WeeklyPeriod.objects.get()
    assert client.post(f"/booking/hours/{period.uuid}/remove/").status_code == 302
    period.refresh_from_db()
    assert not period.active
    day = timezone.localdate() + timedelta(days=30)
    response = client.post("/booking/time-off/add/", {"clinician": "", "first_day": day, "last_day": day, "note": ""})
    assert response.status_code == 302
    assert "clinic holiday" in client.get("/booking/hours/").content.decode()


def test_the_front_desk_books_from_the_free_slots_and_sees_it_on_the_calendar(
    login: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    client = login(frontdesk)
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 1)
    page = client.get("/booking/book/", {"type": str(kind.uuid), "date": day.isoformat(), "q": "Lovelace"})
    text = page.content.decode()
    assert page.status_code == 200
    assert "Lovelace, Ada" in text and slot(clinic, clinician, day, "09:00") in text
    response = client.post(
        "/booking/book/",
        {"type": str(kind.uuid), "patient": str(patient.uuid), "slot": slot(clinic, clinician, day, "09:00")},
    )
    assert response.status_code == 302
    made = Appointment.objects.get()
    assert response["Location"] == f"/appointments/{made.uuid}/"
    assert "Lovelace" in client.get(response["Location"]).content.decode()
    calendar = client.get("/calendar/", {"view": "day", "date": day.isoformat()}).content.decode()
    assert f"/appointments/{made.uuid}/" in calendar and "Follow-up" in calendar
    week = client.get("/calendar/", {"view": "week", "date": day.isoformat()}).content.decode()
    assert f"#visit-{made.uuid}" in week and "Book an appointment" in week
    # The same slot again: refused, the next free slots offered, nothing written.
    before = counts()
    again = client.post(
        "/booking/book/",
        {"type": str(kind.uuid), "patient": str(patient.uuid), "slot": slot(clinic, clinician, day, "09:00")},
    )
    assert again.status_code == 409
    text = again.content.decode()
    assert "too close to the appointment 09:00-09:30" in text and "Next free slots instead" in text
    assert slot(clinic, clinician, day, "09:30") in text
    assert counts() == before


def test_a_booking_without_a_slot_or_a_patient_is_refused(login: Any, frontdesk: Any, patient: Any, types: Any) -> None:
    client = login(frontdesk)
    before = counts()
    kind = types[AppointmentKind.FOLLOW_UP]
    for data, said in (
        ({"type": str(kind.uuid), "patient": str(patient.uuid), "slot": ""}, "Choose one of the free slots"),
        ({"type": str(kind.uuid), "patient": "", "slot": "2030-01-01T09:00:00+00:00|x"},
         "Choose the patient and one of the free slots"),
        ({"type": str(kind.uuid), "patient": str(patient.uuid), "slot": "tomorrow|nobody"},
         "Choose one of the free slots"),
    ):  # fmt: skip
        response = client.post("/booking/book/", data)
        assert response.status_code == 400
        assert f"{said}: nothing was booked." in response.content.decode()  # what is missing, no more
    assert counts() == before
    assert "not a date" in client.get("/booking/book/", {"date": "soon"}).content.decode()


def test_move_and_cancel_on_the_appointment_page(
    login: Any, frontdesk: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    day = next_weekday(clinic, 2)
    made = services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=clinician,
        starts_at=at(clinic, day, "10:00"),
    )
    client = login(frontdesk)
    url = f"/appointments/{made.uuid}/"
    response = client.post(url, {"slot": slot(clinic, clinician, day, "11:00"), "version": 1})
    assert response.status_code == 302
    made.refresh_from_db()
    assert timezone.localtime(made.starts_at, clinic.tz).strftime("%H:%M") == "11:00"
    before = counts()
    response = client.post(f"{url}cancel/", {"reason": "other", "details": "", "version": 2})
    assert response.status_code == 400 and "at least 5 characters" in response.content.decode()
    response = client.post(f"{url}cancel/", {"details": "", "version": 2})  # no reason: said so, plainly
    assert response.status_code == 400 and "Choose a reason from the list." in response.content.decode()
    assert counts() == before
    response = client.post(f"{url}cancel/", {"reason": "patient_unwell", "details": "", "version": 2})
    assert response.status_code == 302
    made.refresh_from_db()
    assert made.status == AppointmentStatus.CANCELLED
    page = client.get(url).content.decode()
    assert "Cancelled: Patient unwell" in page and "Move to" not in page


def test_another_clinic_cannot_open_an_appointment(
    login: Any, frontdesk: Any, outsider: Any, clinician: Any, patient: Any, types: Any, clinic: Any
) -> None:
    made = services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=clinician,
        starts_at=at(clinic, next_weekday(clinic, 2), "10:00"),
    )
    assert login(outsider).get(f"/appointments/{made.uuid}/").status_code == 404
