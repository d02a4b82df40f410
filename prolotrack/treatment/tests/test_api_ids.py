"""The API gives what a client needs to go on by API alone (issue 19): a booked session's clinician, and the ids of
a course's timepoints, so a questionnaire link for a timepoint can be created without the web pages."""

from datetime import date, datetime
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.db import transaction

from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services
from prolotrack.treatment.models import CourseTimepoint


def test_a_booked_session_names_its_clinician(client, clinician, patient, api_token):
    headers = api_token(clinician)
    course = client.post(
        f"/api/patients/{patient.uuid}/courses",
        {"indication": "Knee osteoarthritis", "region": "knee", "side": "right", "start_on": "2026-11-02",
         "clinician": clinician.username},
        content_type="application/json", headers=headers,
    ).json()  # fmt: skip
    first = course["sessions"][0]
    session = services.TreatmentSession.objects.get(uuid=first["id"])
    with transaction.atomic():
        services.book_session(
            actor_of(clinician), session, starts_at=datetime(2026, 11, 20, 9, 30, tzinfo=ZoneInfo("America/Chicago")),
            clinician=clinician,
        )  # fmt: skip
    body = client.get(f"/api/sessions/{session.uuid}", headers=headers).json()
    assert body["status"] == "booked" and body["clinician"] == clinician.username
    listed = client.get(f"/api/courses/{course['id']}", headers=headers).json()["sessions"][0]
    assert listed["clinician"] == body["clinician"]


def test_a_questionnaire_link_for_a_timepoint_by_api_alone(client, clinician, patient, api_token):
    headers = api_token(clinician)
    course = client.post(
        f"/api/patients/{patient.uuid}/courses",
        {"indication": "Knee osteoarthritis", "region": "knee", "side": "right", "start_on": "2026-11-02"},
        content_type="application/json", headers=headers,
    ).json()  # fmt: skip
    timepoints = client.get(f"/api/courses/{course['id']}", headers=headers).json()["timepoints"]
    assert all(t["id"] for t in timepoints)
    ids = {str(u) for u in CourseTimepoint.objects.filter(course__uuid=course["id"]).values_list("uuid", flat=True)}
    assert {t["id"] for t in timepoints} == ids
    follow_up = next(t for t in timepoints if t["kind"] == "follow_up")
    created = client.post(
        f"/api/patients/{patient.uuid}/questionnaire-links",
        {"timepoint_id": follow_up["id"], "delivery": "copied"},
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.content
    url = created.json()["url"]
    client.logout()
    page = client.get(urlsplit(url).path)
    assert page.status_code == 200
    assert date.fromisoformat(follow_up["due_on"]) > date(2026, 11, 2)
