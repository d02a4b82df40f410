"""A week too full to draw: a day over present.DAY_CAP is not drawn, and the page says so (never a silent gap).

DAY_CAP is lowered here so a few bookings fill a day;
docs/PERFORMANCE.md, "The calendar's week and the session record (session 10)"."""

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from prolotrack.clinics.models import Membership
from prolotrack.clinics.roles import Role
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write
from prolotrack.treatment import present, services
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.tests.conftest import START
from prolotrack.treatment.tests.test_pages_queries import CHICAGO

WEEK = "/calendar/?date=2026-11-02"


@pytest.fixture
def book(clinician, make_patient):
    """book(day, hour): a new patient's one-session course booked then with the clinician."""
    made = []

    def book(day: int, hour: int, with_: Any = None) -> TreatmentSession:
        patient = make_patient(given_name=f"P{len(made)}")
        course = services.create_course(
            actor_of(clinician), patient, protocol_id="", indication="Plantar fascia", region="ankle_foot",
            side="left", start_on=START, clinician=clinician,
        )  # fmt: skip
        when = datetime(2026, 11, day, hour, 0, tzinfo=CHICAGO)
        made.append(
            services.book_session(
                actor_of(clinician), course.sessions.get(), starts_at=when, clinician=with_ or clinician
            )
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
    assert "Open a day to see its appointments, or choose a clinician." in text
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


DAY = "/calendar/?view=day&date=2026-11-04"


def test_a_whole_clinic_day_over_the_list_cap_is_shown_by_clinician(
    login, clinician, make_member, clinic, book, monkeypatch
):
    """Past present.DAY_LIST_CAP the whole clinic's day is a line per clinician with a count and a link; the
    appointments with no clinician to choose (none, or one no longer active) are listed in full: every appointment
    is counted or listed, none silently left out."""
    monkeypatch.setattr(present, "DAY_LIST_CAP", 3)
    lee = make_member("lee", Role.CLINICIAN, clinic)
    gone = make_member("gone", Role.CLINICIAN, clinic)
    mine = [book(4, 8 + n) for n in range(3)]
    theirs = [book(4, 13, with_=lee)]
    left = book(4, 9, with_=gone)
    Membership.objects.filter(user=gone).update(is_active=False)
    unassigned = book(4, 10)
    with transaction.atomic(), service_write():  # the model allows a session with no clinician: an imported one
        unassigned.clinician = None
        unassigned.save(update_fields=["clinician"])
    other_day = book(5, 9)
    response = login(clinician).get(DAY)
    text = response.content.decode()
    assert response.context["count"] == 6
    assert "This day holds 6 appointments, more than 3: too many to read as one list." in text
    lines = [
        (line.username, line.count, f"{line.first:%H:%M}", f"{line.last:%H:%M}")
        for line in response.context["by_clinician"]
    ]
    assert lines == [("clinician", 3, "08:00", "10:00"), ("lee", 1, "13:00", "13:00")]
    assert '<a href="?view=day&amp;date=2026-11-04&amp;clinician=lee">Lee</a>' in text
    # The clinicians' own appointments are not listed here; the two with no clinician to choose are.
    listed = set(re.findall(r'href="/sessions/([0-9a-f-]{36})/"', text))
    assert listed == {str(left.uuid), str(unassigned.uuid)}
    assert "No clinician to choose" in text
    assert not {str(s.uuid) for s in [*mine, *theirs, other_day]} & listed
    # A clinician's day lists theirs whole, whatever the cap.
    own = login(clinician).get(DAY + "&clinician=clinician").content.decode()
    assert set(re.findall(r'href="/sessions/([0-9a-f-]{36})/"', own)) == {str(s.uuid) for s in mine}
    assert "By clinician" not in own


def test_a_day_within_the_list_cap_is_one_list(login, clinician, book, monkeypatch):
    monkeypatch.setattr(present, "DAY_LIST_CAP", 3)
    booked = [book(4, 8 + n) for n in range(3)]
    response = login(clinician).get(DAY)
    assert response.context["by_clinician"] is None
    listed = set(re.findall(r'href="/sessions/([0-9a-f-]{36})/"', response.content.decode()))
    assert listed == {str(s.uuid) for s in booked}


def test_a_day_shown_by_clinician_reads_no_more_queries_however_busy(
    login, clinician, make_member, clinic, book, monkeypatch
):
    monkeypatch.setattr(present, "DAY_LIST_CAP", 2)
    client = login(clinician)
    for n in range(3):
        book(4, 8 + n)

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get(DAY).status_code == 200
        return len(queries)

    three = count()
    lee = make_member("lee", Role.CLINICIAN, clinic)
    for n in range(6):
        book(4, 8 + n, with_=lee)
    assert count() == three
