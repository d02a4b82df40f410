"""Treatment API: access per persona and clinic, and the whole path through JSON."""

from datetime import date, timedelta
from decimal import Decimal

import pytest

from prolotrack.treatment.models import AdverseEvent, Course
from prolotrack.treatment.tests.conftest import START

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")
VIEW = {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}


def _get(client, headers, url):
    return client.get(url, headers=headers)


@pytest.mark.parametrize("persona", ALL)
def test_reading_courses_and_sessions_by_role_and_clinic(client, personas, api_token, ready_session, persona):
    headers = api_token(personas[persona])
    patient = ready_session.patient
    for url in (
        f"/api/patients/{patient.uuid}/courses",
        f"/api/courses/{ready_session.course.uuid}",
        f"/api/sessions/{ready_session.uuid}",
        f"/api/patients/{patient.uuid}/adverse-events",
    ):
        response = _get(client, headers, url)
        assert response.status_code == VIEW[persona], url
        if response.status_code != 200:
            assert patient.family_name not in response.content.decode()


CALENDAR = {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 200}


@pytest.mark.parametrize("persona", ALL)
def test_the_calendar_by_role_and_clinic(client, personas, api_token, session, persona):
    response = client.get("/api/calendar", {"start": "2026-11-01"}, headers=api_token(personas[persona]))
    assert response.status_code == CALENDAR[persona]


def test_the_session_comes_with_sites_totals_and_blockers(client, clinician, api_token, ready_session):
    body = client.get(f"/api/sessions/{ready_session.uuid}", headers=api_token(clinician)).json()
    assert len(body["sites"]) == 8
    assert body["totals"]["injections"] == 8
    assert Decimal(str(body["totals"]["anaesthetic_mg"])) == Decimal("20")
    assert Decimal(str(body["totals"]["anaesthetic_max_mg"])) == Decimal("300")
    assert body["totals"]["status"] == "ok"
    assert body["signing_blockers"] == []
    assert {c["item"] for c in body["checklist"]} == {"meal", "consent", "skin_prep", "numbing", "time_out"}


def test_the_whole_path_through_json(client, clinician, colleague, api_token, weighed_patient):
    doc, nurse = api_token(clinician), api_token(colleague)
    course = client.post(
        f"/api/patients/{weighed_patient.uuid}/courses",
        {"protocol_id": "knee_oa_rabago", "indication": "Knee OA", "region": "knee", "side": "left",
         "start_on": START.isoformat(), "clinician": "clinician"},
        content_type="application/json", headers=doc,
    )  # fmt: skip
    assert course.status_code == 201, course.content
    session_id = course.json()["sessions"][0]["id"]
    url = f"/api/sessions/{session_id}"
    for item, answer in (
        ("meal", "yes"),
        ("consent", "yes"),
        ("skin_prep", "yes"),
        ("numbing", "na"),
        ("time_out", "yes"),
    ):
        assert (
            client.post(
                f"{url}/checklist", {"item": item, "answer": answer}, content_type="application/json", headers=nurse
            ).status_code
            == 200
        )
    solution = client.post(
        f"{url}/solutions",
        {"label": "A", "final_volume_ml": "10", "components": [
            {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "D1", "expiry": "2027-06-30"},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "L1", "expiry": "2027-06-30"}]},
        content_type="application/json", headers=nurse,
    )  # fmt: skip
    assert solution.status_code == 201, solution.content
    site = client.post(
        f"{url}/sites",
        {"solution": "A", "body_map": "knee_front", "x": "150", "y": "200", "side": "left", "volume_ml": "0.5",
         "label": "Pes anserinus"},
        content_type="application/json", headers=nurse,
    )  # fmt: skip
    assert site.status_code == 201, site.content
    blocked = client.post(f"{url}/sign", headers=doc)
    assert blocked.status_code == 409
    assert "Re-check screening" in blocked.json()["detail"]
    assert client.post(f"{url}/sign", headers=nurse).status_code == 403


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"protocol_id": "nope", "indication": "x", "region": "knee", "side": "left", "start_on": "2026-11-02"}, 422),
        ({"protocol_id": "", "indication": "x", "region": "elbowz", "side": "left", "start_on": "2026-11-02"}, 422),
        ({"protocol_id": "", "indication": "x", "region": "knee", "side": "left", "start_on": "soon"}, 422),
        ({"protocol_id": "", "indication": "", "region": "knee", "side": "left", "start_on": "2026-11-02"}, 422),
        (
            {
                "protocol_id": "",
                "indication": "x",
                "region": "knee",
                "side": "left",
                "start_on": "2026-11-02",
                "clinician": "ghost",
            },
            422,
        ),
    ],
    ids=["unknown protocol", "unknown region", "bad date", "no indication", "unknown clinician"],
)
def test_bad_course_requests_get_4xx_and_write_nothing(client, clinician, api_token, weighed_patient, payload, status):
    response = client.post(
        f"/api/patients/{weighed_patient.uuid}/courses",
        payload,
        content_type="application/json",
        headers=api_token(clinician),
    )
    assert response.status_code == status, response.content
    assert "detail" in response.json()
    assert not Course.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {
            "solution": "Z",
            "body_map": "knee_front",
            "x": "1",
            "y": "1",
            "side": "left",
            "volume_ml": "0.5",
            "label": "x",
        },
        {"solution": "A", "body_map": "moon", "x": "1", "y": "1", "side": "left", "volume_ml": "0.5", "label": "x"},
        {
            "solution": "A",
            "body_map": "knee_front",
            "x": "9999",
            "y": "1",
            "side": "left",
            "volume_ml": "0.5",
            "label": "x",
        },
        {
            "solution": "A",
            "body_map": "knee_front",
            "x": "1",
            "y": "1",
            "side": "left",
            "volume_ml": "-1",
            "label": "x",
        },
        {"solution": "A", "body_map": "knee_front", "x": "1", "y": "1", "side": "left", "volume_ml": "0.5"},
    ],
    ids=["unknown solution", "unknown map", "off the map", "negative volume", "no label"],
)
def test_bad_sites_get_4xx(client, clinician, api_token, session, solution, payload):
    response = client.post(
        f"/api/sessions/{session.uuid}/sites", payload, content_type="application/json", headers=api_token(clinician)
    )
    assert 400 <= response.status_code < 500, response.content


def test_adverse_events_through_the_api(client, clinician, api_token, signed_session):
    site = signed_session.sites.first()
    response = client.post(
        f"/api/patients/{signed_session.patient.uuid}/adverse-events",
        {"event_type": "bruising", "onset_on": (START + timedelta(days=1)).isoformat(), "severity": "mild",
         "causality": "probable", "description": "Bruise at the pes anserinus", "site_id": str(site.uuid)},
        content_type="application/json", headers=api_token(clinician),
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["solution"] == "A"
    assert body["session_id"] == str(signed_session.uuid)
    bad = client.post(
        f"/api/patients/{signed_session.patient.uuid}/adverse-events",
        {"event_type": "alien", "onset_on": date(2026, 11, 3).isoformat(), "severity": "mild",
         "causality": "probable", "description": "x"},
        content_type="application/json", headers=api_token(clinician),
    )  # fmt: skip
    assert bad.status_code == 422
    later = signed_session.course.sessions.get(number=2)
    not_yet = client.post(
        f"/api/patients/{signed_session.patient.uuid}/adverse-events",
        {"event_type": "bruising", "onset_on": (START + timedelta(days=1)).isoformat(), "severity": "mild",
         "causality": "probable", "description": "Bruise", "session_id": str(later.uuid)},
        content_type="application/json", headers=api_token(clinician),
    )  # fmt: skip
    assert not_yet.status_code == 422 and "has not been done and signed" in not_yet.content.decode()
    assert AdverseEvent.objects.count() == 1


def test_an_amendment_through_the_api_takes_a_reason_from_the_list(client, clinician, api_token, signed_session):
    site = {"solution": "A", "body_map": "knee_front", "landmark": "knee.tibial_tuberosity", "x": "1", "y": "1",
            "side": "right", "volume_ml": "0.5"}  # fmt: skip
    url = f"/api/sessions/{signed_session.uuid}/sites"
    before = signed_session.sites.count()
    free = client.post(
        url, {**site, "amendment_reason": "Forgot this one"}, content_type="application/json",
        headers=api_token(clinician),
    )  # fmt: skip
    assert free.status_code == 422 and "Choose a reason from the list" in str(free.json()["detail"])
    assert signed_session.sites.count() == before
    listed = client.post(
        url, {**site, "amendment_reason": "late_entry: charted after the patient left"},
        content_type="application/json", headers=api_token(clinician),
    )  # fmt: skip
    assert listed.status_code == 201, listed.content
    assert signed_session.sites.count() == before + 1
