"""A course's link on the pages: staff make it from the course (shown once), the patient's page books the next session
from the day's free times, says plainly when it books nothing, and answers unknown, used and too many tokens as the
other patient links do (404, 410, 429)."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache

from prolotrack.booking import course_links, patient_links
from prolotrack.booking.testing import at, course_with_a_session_done
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write
from prolotrack.treatment.models import SessionStatus

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()  # rate-limit counts live in the cache


@pytest.fixture
def course(clinician: Any, make_patient: Any, types: dict[str, Any]) -> Any:
    return course_with_a_session_done(clinician, make_patient(email="ada@example.org", preferred_language="es"))


def test_staff_make_the_link_from_the_course_page(client: Any, login: Any, clinician: Any, course: Any) -> None:
    login(clinician)
    assert f"/courses/{course.uuid}/course-link/" in client.get(f"/courses/{course.uuid}/").content.decode()
    page = client.get(f"/courses/{course.uuid}/course-link/")
    assert page.status_code == 200 and "session 2" in page.content.decode()
    made = client.post(f"/courses/{course.uuid}/course-link/", {"delivery": "shown"})
    assert (
        made.status_code == 200
        and "/course-link/" in made.content.decode()
        and "shown only once" in made.content.decode()
    )


def test_the_patient_books_from_the_page_in_their_language(client: Any, frontdesk: Any, course: Any) -> None:
    link, token = course_links.create_course_link(actor_of(frontdesk), course)
    view = course_links.link_view(link)
    page = client.get(f"/course-link/{token}/?day={view.first.isoformat()}")
    text = page.content.decode()
    assert page.status_code == 200 and "no-store" in page["Cache-Control"] and 'lang="es"' in text
    assert "Reserve su próxima sesión" in text and "Sesión de proloterapia 2 de 5" in text and "Rodilla" in text
    assert "Lovelace" not in text and "Ada" not in text  # the page names no one
    day = view.first + timedelta(days=(0 - view.first.weekday()) % 7)
    slot = course_links.slots(link, view, day)[0]
    booked = client.post(f"/course-link/{token}/", {"slot": f"{slot.start.isoformat()}|{slot.clinician.uuid}"})
    assert booked.status_code == 200 and "Su sesión está reservada" in booked.content.decode()
    assert course.sessions.get(number=2).status == SessionStatus.BOOKED
    again = client.post(f"/course-link/{token}/", {"slot": f"{slot.start.isoformat()}|{slot.clinician.uuid}"})
    assert again.status_code == 410


def test_a_link_of_a_closed_course_says_so_and_books_nothing(client: Any, frontdesk: Any, course: Any) -> None:
    link, token = course_links.create_course_link(actor_of(frontdesk), course)
    start = at(course.clinic, course_links.link_view(link).first, "10:00")
    with service_write():
        course.status = "completed"
        course.save()
    page = client.get(f"/course-link/{token}/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200 and "slot-picker" not in page.content.decode()
    posted = client.post(f"/course-link/{token}/?lang=en", {"slot": f"{start.isoformat()}|{course.clinician.uuid}"})
    assert posted.status_code == 409 and course.sessions.get(number=2).status == SessionStatus.PLANNED


def test_unknown_tokens_are_counted_and_limited(client: Any) -> None:
    assert client.get("/course-link/not-a-token/").status_code == 404
    for _ in range(patient_links.FAILED_LOOKUPS.allowed):
        patient_links.FAILED_LOOKUPS.count("127.0.0.1")
    limited = client.get("/course-link/not-a-token/")
    assert limited.status_code == 429 and limited["Retry-After"]
