"""Every treatment page and POST endpoint, for every persona: who may use it, and the outsider gets a 404."""

from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services
from prolotrack.treatment.models import AdverseEvent

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")


def table(clinician, colleague, frontdesk, admin, researcher, outsider=404):
    return dict(zip(ALL, (clinician, colleague, frontdesk, admin, researcher, outsider), strict=True))


VIEW = table(200, 200, 403, 403, 403)
MANAGE_FORM = table(200, 403, 403, 403, 403)
# A POST with an empty body: the permission is checked first, then the form refuses (400), writing nothing.
MANAGE_POST = table(400, 403, 403, 403, 403)
SCHEDULE_FORM = table(200, 200, 200, 403, 403)
SCHEDULE_POST = table(400, 400, 400, 403, 403)
RECORD_POST = table(400, 400, 403, 403, 403)
SIGN_POST = table(400, 403, 403, 403, 403)
AE_FORM = table(200, 200, 403, 403, 403)
CALENDAR = table(200, 200, 200, 200, 403, 200)

# path template, method, {persona: status}
PAGES = [
    ("/patients/{p}/treatment-cards/", "get", VIEW),
    ("/patients/{p}/courses/", "get", VIEW),
    ("/patients/{p}/courses/new/", "get", MANAGE_FORM),
    ("/patients/{p}/courses/new/", "post", MANAGE_POST),
    ("/patients/{p}/adverse-events/", "get", VIEW),
    ("/patients/{p}/adverse-events/new/", "get", AE_FORM),
    ("/patients/{p}/adverse-events/new/", "post", table(400, 400, 403, 403, 403)),
    ("/adverse-events/{e}/", "get", AE_FORM),
    ("/adverse-events/{e}/", "post", table(400, 400, 403, 403, 403)),
    ("/courses/{c}/", "get", VIEW),
    ("/courses/{c}/sessions/add/", "post", MANAGE_POST),
    ("/courses/{c}/close/", "get", MANAGE_FORM),
    ("/courses/{c}/close/", "post", MANAGE_POST),
    ("/timepoints/{t}/", "post", MANAGE_POST),
    ("/calendar/", "get", CALENDAR),
    ("/calendar/?view=day&date=2026-11-02", "get", CALENDAR),
    ("/sessions/{s}/", "get", VIEW),
    ("/sessions/{s}/appointment/", "get", SCHEDULE_FORM),
    ("/sessions/{s}/appointment/", "post", SCHEDULE_POST),
    ("/sessions/{s}/attendance/", "get", SCHEDULE_FORM),
    ("/sessions/{s}/attendance/?status=no_show", "get", SCHEDULE_FORM),
    ("/sessions/{s}/attendance/", "post", SCHEDULE_POST),
    ("/sessions/{s}/details/", "post", RECORD_POST),
    ("/sessions/{s}/observations/", "post", RECORD_POST),
    ("/sessions/{s}/checklist/", "post", RECORD_POST),
    ("/sessions/{s}/rescreen/", "post", RECORD_POST),
    ("/sessions/{s}/solutions/", "post", RECORD_POST),
    ("/sessions/{s}/solutions/preview/", "post", table(200, 200, 403, 403, 403)),
    ("/sessions/{s}/sites/", "post", RECORD_POST),
    ("/sessions/{s}/site/{site}/entered-in-error/", "get", table(200, 200, 403, 403, 403)),
    ("/sessions/{s}/site/{site}/entered-in-error/", "post", RECORD_POST),
    ("/sessions/{s}/sign/", "post", SIGN_POST),
]


@pytest.fixture
def records(clinician, session, solution):
    actor = actor_of(clinician)
    site, _ = services.add_site(
        actor, session, solution=solution, body_map="knee_front", x=Decimal(200), y=Decimal(272), side="right",
        volume_ml=Decimal("0.5"),
        landmark="knee.patellar_tendon_inferior_pole",
    )  # fmt: skip
    event = services.record_adverse_event(
        actor,
        session.patient,
        {
            "event_type": "bruising",
            "onset_on": date(2026, 11, 3),
            "severity": "mild",
            "causality": "probable",
            "description": "Small bruise at site 1.",
        },
    )  # fmt: skip  (not linked: the session is not signed, and only a session done can be linked)
    when = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("America/Chicago"))
    services.book_session(actor, session, starts_at=when, clinician=clinician)
    return {
        "p": session.patient.uuid,
        "c": session.course.uuid,
        "s": session.uuid,
        "site": site.uuid,
        "e": event.uuid,
        "t": session.course.timepoints.first().uuid,
    }


@pytest.mark.parametrize(("path", "method", "expected"), PAGES, ids=[f"{m} {p}" for p, m, _ in PAGES])
@pytest.mark.parametrize("persona", ALL)
def test_every_page_by_role_and_clinic(login, personas, records, path, method, expected, persona):
    client = login(personas[persona])
    before = AdverseEvent.objects.count()
    url = path.format(**records)
    response = client.get(url) if method == "get" else client.post(url, {})
    assert response.status_code == expected[persona], response.content[:2000]
    assert AdverseEvent.objects.count() == before
    if response.status_code in (403, 404):
        assert b"Lovelace" not in response.content


@pytest.mark.parametrize("persona", ALL)
def test_the_calendar_shows_no_clinical_detail_to_the_front_desk(login, personas, records, persona):
    response = login(personas[persona]).get("/calendar/?date=2026-11-02")
    if response.status_code != 200:
        return
    content = response.content.decode()
    if persona == "outsider":
        assert "Lovelace" not in content
    elif persona in ("frontdesk", "admin"):
        assert "Lovelace" in content
        assert "Knee osteoarthritis" not in content
    else:
        assert "Knee osteoarthritis" in content
