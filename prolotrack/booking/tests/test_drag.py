"""Drag to move on the calendar's week (docs/BOOKING.md, "Drag to move"): the week marks each movable appointment and
its day columns, and the drop address moves it through the same service as the form, with the same rules."""

from typing import Any

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.booking import services
from prolotrack.booking.models import Appointment, AppointmentKind
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def visit(clinic: Any, clinician: Any, frontdesk: Any, patient: Any, types: Any) -> Appointment:
    return services.book_appointment(
        actor_of(frontdesk), patient=patient, appointment_type=types[AppointmentKind.FOLLOW_UP],
        clinician=clinician, starts_at=at(clinic, next_weekday(clinic, 1), "10:00"),
    )  # fmt: skip


def test_the_week_offers_the_drag_to_those_who_book(login: Any, frontdesk: Any, admin_user: Any, visit: Any,
                                                    clinic: Any) -> None:  # fmt: skip
    day = f"{visit.starts_at.astimezone(clinic.tz):%Y-%m-%d}"
    page = login(frontdesk).get(f"/calendar/?view=week&date={day}").content.decode()
    assert f'data-drop="/appointments/{visit.uuid}/drop/"' in page and 'draggable="true"' in page
    assert f'data-day="{day}"' in page and "booking-calendar.js" in page and 'data-drop-step="15"' in page
    page = login(admin_user).get(f"/calendar/?view=week&date={day}").content.decode()  # sees, does not book
    assert "data-drop=" not in page and "booking-calendar.js" not in page


def test_a_drop_moves_to_the_wall_clock_time(login: Any, frontdesk: Any, visit: Any, clinic: Any) -> None:
    day = visit.starts_at.astimezone(clinic.tz).date()
    response = login(frontdesk).post(
        f"/appointments/{visit.uuid}/drop/", {"day": day.isoformat(), "time": "14:30", "version": visit.version}
    )
    assert response.status_code == 200 and "Moved to" in response.json()["message"]
    moved = Appointment.objects.get()
    assert moved.starts_at == at(clinic, day, "14:30") and moved.version == visit.version + 1


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        ({"time": "12:15"}, 409, "overlaps the break 12:00-13:00"),
        ({"time": "14:05"}, 409, "not on the 15 minutes grid"),
        ({"time": "25:00"}, 400, "Drop the appointment on a day and a time."),
        ({"day": "2026-02-30", "time": "10:00"}, 400, "Drop the appointment on a day and a time."),
        ({"time": "14:30", "version": 99}, 409, "after you opened it"),
    ],
)
def test_a_refused_drop_says_why_and_writes_nothing(login: Any, frontdesk: Any, visit: Any, clinic: Any,
                                                    data: dict[str, Any], status: int, words: str) -> None:  # fmt: skip
    day = visit.starts_at.astimezone(clinic.tz).date()
    client = login(frontdesk)
    before = AuditEvent.objects.count()
    response = client.post(
        f"/appointments/{visit.uuid}/drop/", {"day": day.isoformat(), "version": visit.version, **data}
    )
    assert response.status_code == status and words in response.json()["message"]
    assert AuditEvent.objects.count() == before and Appointment.objects.get().version == visit.version


def test_only_those_who_book_may_drop(login: Any, admin_user: Any, visit: Any, clinic: Any) -> None:
    day = visit.starts_at.astimezone(clinic.tz).date()
    response = login(admin_user).post(
        f"/appointments/{visit.uuid}/drop/", {"day": day.isoformat(), "time": "14:30", "version": visit.version}
    )
    assert response.status_code == 403 and Appointment.objects.get().version == visit.version
