"""The Outcomes card, page, chart downloads and GET /api/patients/{id}/outcomes: access per persona and content."""

import re
from datetime import timedelta

import pytest
from django.test import Client

from prolotrack.accounts.testing import mark_verified
from prolotrack.audit.models import AuditEvent
from prolotrack.outcomes.tests.test_trajectory import knee  # noqa: F401 (fixture)

pytestmark = pytest.mark.django_db

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")
# outcomes.view: clinicians and nurses; another clinic's patient is a 404.
VIEW = dict(zip(ALL, (200, 200, 403, 403, 403, 404), strict=True))

PAGES = [
    "/patients/{p}/outcomes/",
    "/patients/{p}/outcomes/nrs_pain.svg",
    "/patients/{p}/outcomes/nrs_pain.png",
]


@pytest.mark.parametrize("path", PAGES)
def test_pages_per_persona(personas, patient, knee, path):  # noqa: F811
    for name, user in personas.items():
        client = Client()
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        mark_verified(client, user)
        response = client.get(path.format(p=patient.uuid))
        assert response.status_code == VIEW[name], (name, path, response.status_code)


def test_api_per_persona(personas, patient, knee, api_token):  # noqa: F811
    for name, user in personas.items():
        response = Client().get(f"/api/patients/{patient.uuid}/outcomes", headers=api_token(user))
        assert response.status_code == VIEW[name], (name, response.status_code, response.content)
    assert Client().get(f"/api/patients/{patient.uuid}/outcomes").status_code == 401


def test_card_shows_status_change_and_charts(login, clinician, patient, knee):  # noqa: F811
    client = login(clinician)
    response = client.get(f"/patients/{patient.uuid}/outcomes/", headers={"HX-Request": "true"})
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html  # the card alone for HTMX
    assert "Responder" in html
    assert "improved by 3 (37.5%)" in html
    # The charts are images loaded from the download URLs of this course (not drawn inside the card: it stays fast).
    course = f"?course={knee.uuid}"
    assert f'src="/patients/{patient.uuid}/outcomes/nrs_pain.svg{course}"' in html
    assert html.count(f'.svg{course}" alt=') == 2
    for src in re.findall(r'<img src="([^"]+)"', html):
        chart = client.get(src.replace("&amp;", "&"))
        assert chart.status_code == 200 and chart["Content-Type"] == "image/svg+xml"
    assert AuditEvent.objects.filter(action="outcomes.trajectory.viewed", patient_uuid=patient.uuid).exists()


def test_chart_page_loads_the_card(login, clinician, patient):
    html = login(clinician).get(f"/patients/{patient.uuid}/").content.decode()
    assert f'hx-get="/patients/{patient.uuid}/outcomes/"' in html


def test_downloads_are_attachments(login, clinician, patient, knee):  # noqa: F811
    client = login(clinician)
    svg = client.get(f"/patients/{patient.uuid}/outcomes/nrs_pain.svg")
    assert svg["Content-Type"] == "image/svg+xml"
    assert "attachment" in svg["Content-Disposition"]
    png = client.get(f"/patients/{patient.uuid}/outcomes/nrs_pain.png")
    assert png.content.startswith(b"\x89PNG")
    assert client.get(f"/patients/{patient.uuid}/outcomes/koos_jr.svg").status_code == 404
    assert (
        client.get(f"/patients/{patient.uuid}/outcomes/?course=00000000-0000-0000-0000-000000000000").status_code == 404
    )
    assert client.get(f"/patients/{patient.uuid}/outcomes/?course=not-a-uuid").status_code == 404


def test_api_series_and_status(clinician, patient, knee, api_token):  # noqa: F811
    body = Client().get(f"/api/patients/{patient.uuid}/outcomes", headers=api_token(clinician)).json()
    assert body["course"]["id"] == str(knee.uuid)
    assert [s["number"] for s in body["sessions"]] == [1, 2, 3]
    nrs = body["series"][0]
    assert nrs["instrument"] == "nrs_pain"
    assert [p["score"] for p in nrs["points"]] == ["8.00", "7.00", "6.00", "5.00"]
    assert nrs["change"] == {"absolute": "-3.00", "improvement": "3.00", "percent": "37.5"}
    assert nrs["responder"] is True and nrs["mcid_boundary"] == "6.00"
    assert body["responder"] == {"responder": True, "basis": "score"}
    assert body["non_responder"]["status"] == "responding"
    other = Client().get(
        f"/api/patients/{patient.uuid}/outcomes?course=00000000-0000-0000-0000-000000000000",
        headers=api_token(clinician),
    )
    assert other.status_code == 404


def test_the_card_loads_in_a_fixed_number_of_queries(login, clinician, patient, knee):  # noqa: F811
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from prolotrack.outcomes.testing import answer, session_day, set_session

    client = login(clinician)
    url = f"/patients/{patient.uuid}/outcomes/"
    client.get(url, headers={"HX-Request": "true"})
    with CaptureQueriesContext(connection) as before:
        client.get(url, headers={"HX-Request": "true"})
    set_session(clinician, knee, 4)
    for weeks in range(1, 6):
        answer(clinician, patient, "nrs_pain", 4, session_day(knee, 4) + timedelta(weeks=weeks), course=knee)
        answer(clinician, patient, "pgic", 2, session_day(knee, 4) + timedelta(weeks=weeks), course=knee)
    with CaptureQueriesContext(connection) as after:
        client.get(url, headers={"HX-Request": "true"})
    assert len(after) == len(before)
