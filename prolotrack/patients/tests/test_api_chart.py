"""The chart lists over the API (weights, conditions, medications, allergies, "no known allergies"): the same
services, permissions and audit actions as the chart pages."""

import json
from datetime import date, timedelta

import pytest

from prolotrack.audit.models import AuditEvent, RecordVersion

pytestmark = pytest.mark.django_db

ALL = ("clinician", "colleague", "frontdesk", "admin", "researcher", "outsider")
# Clinical lists: clinicians and nurses (clinics/roles.py); another clinic's patient is a 404.
CLINICAL = {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}

NEW = {
    "weights": {"measured_on": "2026-01-05", "weight_kg": "72.5", "note": "shoes off"},
    "conditions": {"description": "Knee osteoarthritis", "body_region": "knee", "laterality": "left"},
    "medications": {"name": "Ibuprofen", "drug_class": "nsaid", "dose": "400 mg"},
    "allergies": {"substance": "Latex", "reaction": "rash", "severity": "mild"},
}
CHANGE = {
    "weights": {"weight_kg": "71.0"},
    "conditions": {"clinical_status": "resolved"},
    "medications": {"status": "stopped"},
    "allergies": {"severity": "moderate"},
}
KIND = {"weights": "weight", "conditions": "condition", "medications": "medication", "allergies": "allergy"}


def send(client, method, path, headers, body):
    return client.generic(method, path, json.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def added(client, clinician, api_token, patient):
    """One record of each list, added through the API as the clinician."""
    headers = api_token(clinician)
    return {
        plural: send(client, "POST", f"/api/patients/{patient.uuid}/{plural}", headers, body).json()
        for plural, body in NEW.items()
    }


@pytest.mark.parametrize("plural", NEW)
@pytest.mark.parametrize("persona", ALL)
def test_adding_by_role_and_clinic(client, personas, api_token, patient, plural, persona):
    response = send(client, "POST", f"/api/patients/{patient.uuid}/{plural}", api_token(personas[persona]), NEW[plural])
    expected = CLINICAL[persona]
    assert response.status_code == (201 if expected == 200 else expected), response.content
    count = getattr(patient, plural).count()
    assert count == (1 if expected == 200 else 0)
    if expected == 200:
        assert response.json()["version"] == 1
        assert AuditEvent.objects.filter(action=f"patient.{KIND[plural]}.added", patient_uuid=patient.uuid).count() == 1


@pytest.mark.parametrize("plural", NEW)
@pytest.mark.parametrize("persona", ALL)
def test_listing_by_role_and_clinic_is_audited(client, personas, api_token, patient, added, plural, persona):
    response = client.get(f"/api/patients/{patient.uuid}/{plural}", headers=api_token(personas[persona]))
    assert response.status_code == CLINICAL[persona]
    if response.status_code == 200:
        assert [r["id"] for r in response.json()] == [added[plural]["id"]]
        assert AuditEvent.objects.filter(
            action=f"patient.{KIND[plural]}.list.viewed", patient_uuid=patient.uuid
        ).exists()
    else:
        assert added[plural]["id"] not in response.content.decode()


@pytest.mark.parametrize("plural", NEW)
def test_an_update_with_the_version_read_saves_and_a_stale_one_is_409(
    client, clinician, api_token, patient, added, plural
):
    headers = api_token(clinician)
    path = f"/api/patients/{patient.uuid}/{plural}/{added[plural]['id']}"
    first = send(client, "PATCH", path, headers, {"version": 1, "reason": "re-measured", **CHANGE[plural]})
    assert first.status_code == 200, first.content
    assert first.json()["version"] == 2
    stale = send(client, "PATCH", path, headers, {"version": 1, "note": "late edit"})
    assert stale.status_code == 409
    assert stale.json()["code"] == "stale"
    versions = RecordVersion.objects.filter(action=f"patient.{KIND[plural]}.updated")
    assert versions.count() == 1 and versions.get().reason == "re-measured"


@pytest.mark.parametrize("plural", NEW)
@pytest.mark.parametrize("persona", ["clinician", "colleague", "frontdesk", "outsider"])
def test_entered_in_error_needs_the_permission_and_a_reason(
    client, personas, api_token, patient, added, plural, persona
):
    path = f"/api/patients/{patient.uuid}/{plural}/{added[plural]['id']}/entered-in-error"
    headers = api_token(personas[persona])
    short = send(client, "POST", path, headers, {"reason": "no"})
    assert short.status_code in (403, 404, 422)
    response = send(client, "POST", path, headers, {"reason": "entered on the wrong patient", "version": 1})
    allowed = {"clinician": 200, "colleague": 200, "frontdesk": 403, "outsider": 404}
    assert response.status_code == allowed[persona], response.content
    listed = client.get(f"/api/patients/{patient.uuid}/{plural}", headers=headers)
    if response.status_code == 200:
        assert response.json()["entered_in_error"] is True
        assert listed.json()[0]["entered_in_error"] is True  # still listed, struck through, never deleted


@pytest.mark.parametrize(
    ("plural", "field"),
    [("weights", "measured_on"), ("conditions", "onset_date"), ("medications", "last_dose_date")],
)
def test_dates_in_the_future_are_refused_as_on_the_pages(client, clinician, api_token, patient, plural, field):
    tomorrow = (date.today() + timedelta(days=2)).isoformat()
    response = send(
        client, "POST", f"/api/patients/{patient.uuid}/{plural}", api_token(clinician), {**NEW[plural], field: tomorrow}
    )
    assert response.status_code == 422
    assert field in response.json()["detail"]
    assert getattr(patient, plural).count() == 0


@pytest.mark.parametrize(
    ("plural", "body"),
    [
        ("weights", {"measured_on": "2026-01-05", "weight_kg": "401"}),
        ("weights", {"measured_on": "2026-01-05", "weight_kg": "1.9"}),
        ("conditions", {"description": "x", "body_region": "elbow-ish"}),
        ("medications", {"name": "X", "drug_class": "not-a-class"}),
        ("allergies", {"substance": "Latex", "severity": "deadly"}),
        ("allergies", {"substance": "La\x00tex", "severity": "mild"}),
        ("conditions", {"description": ""}),
    ],
)
def test_bad_records_get_422_and_write_nothing(client, clinician, api_token, patient, plural, body):
    response = send(client, "POST", f"/api/patients/{patient.uuid}/{plural}", api_token(clinician), body)
    assert response.status_code == 422, response.content
    assert getattr(patient, plural).count() == 0


def test_confirming_no_known_allergies_and_a_later_allergy_clears_it(client, clinician, api_token, patient):
    headers = api_token(clinician)
    confirmed = send(client, "POST", f"/api/patients/{patient.uuid}/no-known-allergies", headers, {"version": 1})
    assert confirmed.status_code == 200
    assert confirmed.json()["no_known_allergies"] is True
    assert AuditEvent.objects.filter(action="patient.allergies.reviewed", patient_uuid=patient.uuid).exists()
    send(client, "POST", f"/api/patients/{patient.uuid}/allergies", headers, NEW["allergies"])
    patient.refresh_from_db()
    assert patient.no_known_allergies is False
    refused = send(client, "POST", f"/api/patients/{patient.uuid}/no-known-allergies", headers, {})
    assert refused.status_code == 409  # an allergy is recorded: mark it entered in error first


def test_no_known_allergies_with_a_stale_version_is_409(client, clinician, api_token, patient):
    response = send(
        client, "POST", f"/api/patients/{patient.uuid}/no-known-allergies", api_token(clinician), {"version": 7}
    )
    assert response.status_code == 409
    patient.refresh_from_db()
    assert patient.no_known_allergies is False


@pytest.mark.parametrize("persona", ["frontdesk", "researcher", "outsider"])
def test_no_known_allergies_needs_the_clinical_permission(client, personas, api_token, patient, persona):
    response = send(
        client, "POST", f"/api/patients/{patient.uuid}/no-known-allergies", api_token(personas[persona]), {}
    )
    assert response.status_code in (403, 404)
    patient.refresh_from_db()
    assert patient.no_known_allergies is False


def test_a_record_of_another_patient_is_404(client, clinician, api_token, patient, make_patient, added):
    other = make_patient(family_name="Other", mrn="O-1")
    path = f"/api/patients/{other.uuid}/conditions/{added['conditions']['id']}"
    assert send(client, "PATCH", path, api_token(clinician), {"version": 1, "note": "x"}).status_code == 404
