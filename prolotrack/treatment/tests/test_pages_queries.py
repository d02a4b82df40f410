"""The treatment pages read in a fixed number of queries, however many sites, sessions, courses or appointments."""

from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.db import connection
from django.test.utils import CaptureQueriesContext

from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.tests.conftest import START

CHICAGO = ZoneInfo("America/Chicago")
LANDMARKS = ["knee.tibial_tuberosity", "knee.retinaculum_medial", "knee.retinaculum_lateral"]


def count(client, url, **headers):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200, response.content[:500]
    return len(queries)


def add_sites(clinician, session, solution, n):
    for i in range(n):
        services.add_site(
            actor_of(clinician), TreatmentSession.objects.get(pk=session.pk), solution=solution,
            body_map="knee_front", x=Decimal(0), y=Decimal(0), side="right", volume_ml=Decimal("0.5"),
            landmark=LANDMARKS[i % 3],
        )  # fmt: skip


def test_the_session_page_with_1_or_15_sites(login, clinician, session, solution):
    client = login(clinician)
    add_sites(clinician, session, solution, 1)
    one = count(client, f"/sessions/{session.uuid}/")
    add_sites(clinician, session, solution, 14)
    assert count(client, f"/sessions/{session.uuid}/") == one
    # The HTMX part that switches the map view too.
    part = count(client, f"/sessions/{session.uuid}/?map=knee_medial&part=work", HTTP_HX_REQUEST="true")
    assert part <= one


def test_the_course_page_with_3_or_12_sessions(login, clinician, course):
    client = login(clinician)
    actor = actor_of(clinician)
    for s in course.sessions.filter(number__gt=3):
        services.set_attendance(actor, s, "cancelled", reason="not_needed")
    three = count(client, f"/courses/{course.uuid}/")
    for n in range(7):
        services.add_session(actor, course, START + timedelta(weeks=20 + n))
    assert course.sessions.count() == 12
    assert count(client, f"/courses/{course.uuid}/") == three


def test_the_chart_and_its_cards_with_1_or_4_courses(login, clinician, course):
    client = login(clinician)
    patient = course.patient
    chart_one = count(client, f"/patients/{patient.uuid}/")
    cards_one = count(client, f"/patients/{patient.uuid}/treatment-cards/", HTTP_HX_REQUEST="true")
    for n in range(3):
        services.create_course(
            actor_of(clinician), patient, protocol_id="knee_oa_rabago", indication=f"Knee {n}", region="knee",
            side="left", start_on=START + timedelta(days=n), clinician=clinician,
        )  # fmt: skip
    services.record_adverse_event(
        actor_of(clinician), patient,
        {"event_type": "bruising", "onset_on": START, "severity": "mild", "causality": "possible",
         "description": "Small bruise."},
    )  # fmt: skip
    assert count(client, f"/patients/{patient.uuid}/") == chart_one
    assert count(client, f"/patients/{patient.uuid}/treatment-cards/", HTTP_HX_REQUEST="true") == cards_one


def test_the_calendar_with_1_or_20_appointments(login, clinician, make_patient, course):
    client = login(clinician)
    actor = actor_of(clinician)
    first = course.sessions.get(number=1)
    services.book_session(actor, first, starts_at=datetime(2026, 11, 2, 8, 0, tzinfo=CHICAGO), clinician=clinician)
    one = count(client, "/calendar/?date=2026-11-02")
    for n in range(19):
        patient = make_patient(given_name=f"P{n}")
        other = services.create_course(
            actor, patient, protocol_id="", indication="Plantar fascia", region="ankle_foot", side="left",
            start_on=START, clinician=clinician,
        )  # fmt: skip
        when = datetime(2026, 11, 2 + n % 5, 8 + n % 10, 0, tzinfo=CHICAGO)
        services.book_session(actor, other.sessions.get(), starts_at=when, clinician=clinician)
    assert count(client, "/calendar/?date=2026-11-02") == one
    assert count(client, "/calendar/?date=2026-11-02&view=day") <= one
