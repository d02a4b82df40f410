"""A week too full to draw: a day over present.DAY_CAP is not drawn, and the page says so (never a silent gap).

DAY_CAP is lowered here so a few bookings fill a day;
docs/PERFORMANCE.md, "The calendar's week and the session record (session 10)"."""

import re
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import present, services
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.tests.conftest import START
from prolotrack.treatment.tests.test_pages_queries import CHICAGO

WEEK = "/calendar/?date=2026-11-02"


@pytest.fixture
def book(clinician, make_patient):
    """book(day, hour): a new patient's one-session course booked then with the clinician."""
    made = []

    def book(day: int, hour: int) -> TreatmentSession:
        patient = make_patient(given_name=f"P{len(made)}")
        course = services.create_course(
            actor_of(clinician), patient, protocol_id="", indication="Plantar fascia", region="ankle_foot",
            side="left", start_on=START, clinician=clinician,
        )  # fmt: skip
        when = datetime(2026, 11, day, hour, 0, tzinfo=CHICAGO)
        made.append(
            services.book_session(actor_of(clinician), course.sessions.get(), starts_at=when, clinician=clinician)
        )
        return made[-1]

    return book


def drawn(text: str) -> set[str]:
    return set(re.findall(r'id="appt-([0-9a-f-]{36})"', text))


def test_a_day_over_the_cap_is_not_drawn_and_the_page_says_so(login, clinician, book, monkeypatch):
    monkeypatch.setattr(present, "DAY_CAP", 2)
    monday = book(2, 9)
    wednesday = [book(4, 8 + n) for n in range(3)]  # one more than the cap
    client = login(clinician)
    response = client.get(WEEK)
    text = response.content.decode()
    # Monday is drawn; none of Wednesday's three (never a part of a day, which would look like free time).
    assert drawn(text) == {str(monday.uuid)}
    # The notice above the week names the day and how many it holds, with a link to the day that lists them all.
    assert "Not every appointment of this week is drawn." in text
    assert "One day holds more than 2 appointments" in text
    assert '<a href="?view=day&amp;date=2026-11-04">Wednesday 4 Nov (3)</a>' in text
    assert "or choose a clinician" in text
    # Its column says so too, and the day's cell counts them for a screen reader.
    assert "<b>3 appointments</b>: too many to draw in the week." in text
    assert 'aria-label="Wednesday 4 November: 3 appointments"' in text
    # Nothing silently missing: every day's drawn and not-drawn appointments add up to what the day holds.
    days = response.context["days"]
    for d in days:
        held = TreatmentSession.objects.filter(starts_at__date=d.day).count()  # UTC dates: no session near midnight
        assert len(d.appointments) + d.not_drawn == held
    assert response.context["count"] == 4
    # The day view lists every one of Wednesday's.
    day = client.get("/calendar/?view=day&date=2026-11-04").content.decode()
    assert all(f"/sessions/{s.uuid}/" in day for s in wednesday)
    assert "Not every appointment" not in day


def test_with_a_clinician_chosen_the_notice_keeps_the_choice(login, clinician, book, monkeypatch):
    monkeypatch.setattr(present, "DAY_CAP", 1)
    book(4, 8), book(4, 9)
    text = login(clinician).get(WEEK + "&clinician=clinician").content.decode()
    assert '<a href="?view=day&amp;date=2026-11-04&amp;clinician=clinician">Wednesday 4 Nov (2)</a>' in text
    assert "or choose a clinician" not in text


def test_a_full_week_reads_in_no_more_queries_than_a_quiet_one(login, clinician, book, monkeypatch):
    monkeypatch.setattr(present, "DAY_CAP", 3)
    client = login(clinician)
    book(2, 9)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(WEEK).status_code == 200
        return len(queries)

    quiet = count()
    for n in range(4):  # Wednesday over the cap: counted, its rows not read
        book(4, 8 + n)
    assert count() == quiet
    for day in (3, 5, 6, 7, 8):  # every other day over too: the rows' statement is not sent at all
        for n in range(4):
            book(day, 8 + n)
    monday_full = [book(2, 10 + n) for n in range(3)]
    assert monday_full and count() == quiet - 1


def test_the_to_book_list_says_when_more_are_waiting(login, frontdesk, course, monkeypatch):
    monkeypatch.setattr("prolotrack.treatment.queries.UNBOOKED_SHOWN", 2)
    monkeypatch.setattr("prolotrack.treatment.views.calendar.today", lambda request: START + timedelta(days=120))
    text = login(frontdesk).get("/calendar/").content.decode()
    assert text.count("/appointment/?next=") == 2  # five planned sessions due or overdue, two listed
    assert "More are waiting: these are the 2 due first." in text
