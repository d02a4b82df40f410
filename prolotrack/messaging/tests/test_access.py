"""Every messaging page and endpoint, for every persona: who may use it; the outsider gets a 404 for Alpha's records."""

from datetime import date

import pytest

from prolotrack.accounts.testing import mark_verified
from prolotrack.messaging import services
from prolotrack.messaging.models import OutboxMessage
from prolotrack.messaging.tests.conftest import at

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")


def table(clinician, colleague, frontdesk, admin, researcher, outsider=404):
    return dict(zip(ALL, (clinician, colleague, frontdesk, admin, researcher, outsider), strict=True))


OUTBOX = table(200, 200, 200, 200, 403, 200)  # the outsider sees their own clinic's (empty) outbox
OUTBOX_RECORD = table(200, 200, 200, 200, 403)
PREFS = table(200, 200, 200, 200, 403)
PREFS_POST = table(302, 302, 302, 302, 403)
FEED_PAGE = table(200, 200, 200, 403, 403, 200)
ICS = table(200, 200, 200, 200, 403)

PAGES = [
    ("/outbox/", "get", OUTBOX),
    ("/outbox/?status=sent&kind=nsaid_stop&date_from=2026-11-01", "get", OUTBOX),
    ("/outbox/{m}/", "get", OUTBOX_RECORD),
    ("/patients/{p}/messages/", "get", OUTBOX_RECORD),
    ("/patients/{p}/messages/preferences/", "get", PREFS),
    ("/patients/{p}/messages/preferences/", "post", PREFS_POST),
    ("/account/calendar-feed/", "get", FEED_PAGE),
    ("/account/calendar-feed/", "post", table(200, 200, 200, 403, 403, 200)),
    ("/sessions/{s}/appointment.ics", "get", ICS),
]


@pytest.fixture
def message(booked):
    services.run_pass(now=at(date(2026, 11, 10)))
    return OutboxMessage.objects.filter(session=booked).first()


@pytest.mark.parametrize(("path", "method", "expected"), PAGES)
def test_pages(client, personas, path, method, expected, message, booked):
    url = path.format(m=message.uuid, p=booked.patient.uuid, s=booked.uuid)
    for name, user in personas.items():
        client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
        mark_verified(client, user)
        data = {"action": "create"} if "calendar-feed" in url else {}
        response = client.get(url) if method == "get" else client.post(url, data)
        assert response.status_code == expected[name], (name, url, response.status_code)
        client.logout()


API = [
    ("/api/patients/{p}/messages", OUTBOX_RECORD),
    ("/api/outbox", table(200, 200, 200, 200, 403, 200)),
    ("/api/outbox?status=queued&channel=sms", table(200, 200, 200, 200, 403, 200)),
]


@pytest.mark.parametrize(("path", "expected"), API)
def test_api(client, personas, api_token, path, expected, message, booked):
    url = path.format(p=booked.patient.uuid)
    for name, user in personas.items():
        response = client.get(url, headers=api_token(user))
        assert response.status_code == expected[name], (name, url, response.status_code, response.content)


def test_api_without_a_token_is_401(client, booked):
    assert client.get(f"/api/patients/{booked.patient.uuid}/messages").status_code == 401
    assert client.get("/api/outbox").status_code == 401


def test_the_outsider_sees_none_of_alphas_messages(client, outsider, api_token, message):
    body = client.get("/api/outbox", headers=api_token(outsider)).json()
    assert body["items"] == []


def test_api_lists_the_patients_messages(client, clinician, api_token, message, booked):
    rows = client.get(f"/api/patients/{booked.patient.uuid}/messages", headers=api_token(clinician)).json()
    assert len(rows) == 5 and {r["status"] for r in rows} == {"queued"}
    appointment = next(r for r in rows if r["kind"] == "appointment_reminder" and r["channel"] == "email")
    assert appointment["attachments"] == []  # written when sent, from the facts of that moment
    assert appointment["session_id"] == str(booked.uuid) and appointment["scheduled_for"] == "2026-11-18"
    services.run_pass(now=at(date(2026, 11, 18)))
    rows = client.get(f"/api/patients/{booked.patient.uuid}/messages", headers=api_token(clinician)).json()
    appointment = next(r for r in rows if r["kind"] == "appointment_reminder" and r["channel"] == "email")
    assert appointment["status"] == "sent" and appointment["attachments"] == ["appointment-2026-11-20.ics"]


def test_api_outbox_filters_and_refuses_bad_input(client, clinician, api_token, message):
    headers = api_token(clinician)
    sms = client.get("/api/outbox?channel=sms", headers=headers).json()["items"]
    assert len(sms) == 2 and all(r["channel"] == "sms" for r in sms)
    assert client.get("/api/outbox?date_from=2026-11-18&date_to=2026-11-18", headers=headers).json()["items"]
    bad = client.get("/api/outbox?date_from=2026-11-20&date_to=2026-11-01", headers=headers)
    assert bad.status_code == 422 and "swap" in bad.json()["detail"]
    assert client.get("/api/outbox?status=lost", headers=headers).status_code == 422
    assert client.get("/api/outbox?page=0", headers=headers).status_code == 422
