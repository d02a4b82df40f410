"""The patients API: bearer tokens, clinic scoping, roles, paging, errors."""

import pytest
from django.core.management import call_command
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.models import ApiToken, Membership
from prolotrack.clinics.services import revoke_api_token

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")
LIST = {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 200}
READ = {"clinician": 200, "colleague": 200, "frontdesk": 200, "admin": 200, "researcher": 403, "outsider": 404}


@pytest.mark.parametrize("persona", ALL)
def test_reading_a_patient_by_role_and_clinic(client, personas, api_token, patient, persona):
    response = client.get(f"/api/patients/{patient.uuid}", headers=api_token(personas[persona]))
    assert response.status_code == READ[persona]
    if response.status_code == 200:
        assert response.json()["id"] == str(patient.uuid)
    else:
        assert patient.family_name not in response.content.decode()


@pytest.mark.parametrize("persona", ALL)
def test_searching_by_role_and_clinic(client, personas, api_token, patient, persona):
    response = client.get("/api/patients", {"search": "love"}, headers=api_token(personas[persona]))
    assert response.status_code == LIST[persona]
    if response.status_code == 200:
        ids = [p["id"] for p in response.json()["items"]]
        assert ids == ([str(patient.uuid)] if persona != "outsider" else [])


@pytest.mark.parametrize("persona", ALL)
def test_changing_a_patient_by_role_and_clinic(client, personas, api_token, patient, persona):
    response = client.patch(
        f"/api/patients/{patient.uuid}",
        {"version": 1, "phone": "555-0199"},
        content_type="application/json",
        headers=api_token(personas[persona]),
    )
    assert response.status_code == READ[persona]
    patient.refresh_from_db()
    assert patient.phone == ("555-0199" if READ[persona] == 200 else "")


def test_clinical_details_come_only_to_clinical_roles(client, api_token, clinician, frontdesk, patient):
    clinical = client.get(f"/api/patients/{patient.uuid}", headers=api_token(clinician)).json()
    desk = client.get(f"/api/patients/{patient.uuid}", headers=api_token(frontdesk)).json()
    assert clinical["allergies"] == []
    assert desk["allergies"] is None


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer pt_wrong"}, {"Authorization": "Basic abc"}],
    ids=["none", "unknown token", "wrong scheme"],
)
def test_requests_without_a_valid_token_get_401(client, patient, headers):
    response = client.get(f"/api/patients/{patient.uuid}", headers=headers)
    assert response.status_code == 401
    assert "bearer token" in response.json()["detail"]


def test_a_revoked_token_stops_working(client, clinician, patient, api_token):
    headers = api_token(clinician)
    assert client.get("/api/patients", headers=headers).status_code == 200
    revoke_api_token(ApiToken.objects.get())
    assert client.get("/api/patients", headers=headers).status_code == 401


def test_a_deactivated_membership_stops_its_token(client, clinician, patient, api_token):
    headers = api_token(clinician)
    membership = Membership.objects.get(user=clinician)
    membership.is_active = False
    membership.save()
    assert client.get("/api/patients", headers=headers).status_code == 401


def test_search_results_are_paginated(client, clinician, api_token, make_patient):
    for i in range(60):
        make_patient(given_name=f"P{i:02d}", mrn=f"M{i:02d}")
    page1 = client.get("/api/patients", headers=api_token(clinician)).json()
    page2 = client.get("/api/patients", {"page": 2}, headers=api_token(clinician)).json()
    assert page1["count"] == 60
    assert len(page1["items"]) == 50
    assert len(page2["items"]) == 10
    assert not {p["id"] for p in page1["items"]} & {p["id"] for p in page2["items"]}


def test_registering_through_the_api(client, clinician, api_token):
    response = client.post(
        "/api/patients",
        {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1956-12-09", "sex": "female"},
        content_type="application/json",
        headers=api_token(clinician),
    )
    assert response.status_code == 201
    body = response.json()
    assert body["mrn"] == "PT-000001"
    assert body["version"] == 1
    assert AuditEvent.objects.filter(action="patient.created", channel="api").count() == 1


@pytest.mark.parametrize(
    ("payload", "status"),
    [
        ({"given_name": "G", "family_name": "H", "date_of_birth": "1956-12-09", "sex": "robot"}, 422),
        ({"given_name": "G", "family_name": "H", "date_of_birth": "yesterday", "sex": "female"}, 422),
        ({"given_name": "", "family_name": "H", "date_of_birth": "1956-12-09", "sex": "female"}, 422),
        ({"family_name": "H"}, 422),
    ],
    ids=["bad sex code", "bad date", "empty name", "missing fields"],
)
def test_bad_registrations_get_422_and_write_nothing(client, clinician, api_token, payload, status):
    from prolotrack.patients.models import Patient

    response = client.post("/api/patients", payload, content_type="application/json", headers=api_token(clinician))
    assert response.status_code == status
    assert "detail" in response.json()
    assert not Patient.objects.exists()


def test_a_stale_api_update_gets_409(client, clinician, api_token, patient):
    headers = api_token(clinician)
    first = client.patch(
        f"/api/patients/{patient.uuid}", {"version": 1, "phone": "1"}, content_type="application/json", headers=headers
    )
    second = client.patch(
        f"/api/patients/{patient.uuid}", {"version": 1, "phone": "2"}, content_type="application/json", headers=headers
    )
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.json()["code"] == "stale"
    patient.refresh_from_db()
    assert patient.phone == "1"


def test_api_reads_are_audited_on_the_api_channel(client, clinician, api_token, patient):
    client.get(f"/api/patients/{patient.uuid}", headers=api_token(clinician), REMOTE_ADDR="10.0.0.7")
    event = AuditEvent.objects.get(action="patient.chart.viewed")
    assert (event.user, event.channel, event.client_address) == (clinician, "api", "10.0.0.7")


def test_the_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    assert "/api/patients" in schema.json()["paths"]
    assert client.get("/api/docs").status_code == 200


def test_create_api_token_prints_a_token_that_acts_as_the_user(client, clinician, patient, capsys):
    call_command("create_api_token", "clinician")
    token = capsys.readouterr().out.strip()
    assert token.startswith("pt_")
    response = client.get(f"/api/patients/{patient.uuid}", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    stored = ApiToken.objects.get()
    assert stored.token_hash != token
    assert token not in stored.hint or len(stored.hint) < len(token)


def test_create_api_token_refuses_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user"), transaction.atomic():
        call_command("create_api_token", "ghost")
