"""Registry pages do their job: register, edit, stale edits, audit of reads, constant queries."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services
from prolotrack.patients.models import Patient

VALID = {
    "mrn": "",
    "given_name": "Grace",
    "family_name": "Hopper",
    "date_of_birth": "1956-12-09",
    "sex": "female",
    "email": "",
    "phone": "",
    "address_line": "",
    "city": "",
    "region": "",
    "postal_code": "",
    "country": "",
}


def test_registering_a_patient_lands_on_the_chart(client, login, clinician):
    login(clinician)
    response = client.post("/patients/new/", VALID)
    patient = Patient.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/patients/{patient.uuid}/"
    assert patient.mrn == "PT-000001"
    assert patient.created_by == clinician


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("date_of_birth", "2999-01-01", "is in the future"),
        ("date_of_birth", "1850-01-01", "older than 130 years"),
        ("date_of_birth", "not a date", "Enter a valid date"),
        ("family_name", "", "This field is required"),
        ("sex", "robot", "Select a valid choice"),
        ("email", "nope", "valid email"),
    ],
)
def test_a_bad_registration_shows_the_error_and_saves_nothing(client, login, clinician, field, value, message):
    login(clinician)
    response = client.post("/patients/new/", {**VALID, field: value})
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Patient.objects.exists()


def test_a_duplicate_record_number_is_explained(client, login, clinician, make_patient):
    make_patient(mrn="X-1")
    login(clinician)
    response = client.post("/patients/new/", {**VALID, "mrn": "X-1"})
    assert response.status_code == 400
    assert "already has this record number" in response.content.decode()
    assert Patient.objects.count() == 1


def test_a_stale_edit_form_is_refused_with_a_clear_message(client, login, clinician, colleague, patient):
    with transaction.atomic():
        services.update_patient(actor_of(colleague), patient, {"phone": "555-1111"}, expected_version=1)
    login(clinician)
    data = {
        **VALID,
        "given_name": patient.given_name,
        "family_name": patient.family_name,
        "date_of_birth": "1960-05-17",
        "mrn": patient.mrn,
        "phone": "555-2222",
        "version": "1",
        "change_reason": "",
    }
    response = client.post(f"/patients/{patient.uuid}/edit/", data)
    assert response.status_code == 400
    assert "Nothing was saved" in response.content.decode()
    patient.refresh_from_db()
    assert patient.phone == "555-1111"


def test_viewing_a_chart_is_audited_with_the_client_address(client, login, clinician, patient):
    login(clinician)
    client.get(f"/patients/{patient.uuid}/", REMOTE_ADDR="10.1.2.3")
    event = AuditEvent.objects.get(action="patient.chart.viewed")
    assert event.user == clinician
    assert event.patient_uuid == patient.uuid
    assert event.client_address == "10.1.2.3"
    assert event.channel == "web"


def test_adding_an_allergy_from_the_chart(client, login, clinician, patient):
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/allergy/add/",
        {
            "allergy-substance": "Lidocaine",
            "allergy-reaction": "Hives",
            "allergy-severity": "moderate",
            "allergy-note": "",
        },
    )
    assert response.status_code == 302
    assert patient.allergies.get().substance == "Lidocaine"


def test_an_unknown_record_kind_is_a_404(client, login, clinician, patient):
    login(clinician)
    assert client.post(f"/patients/{patient.uuid}/tattoo/add/", {}).status_code == 404


def _fill(patient, actor, n):
    for i in range(n):
        services.add_child(actor, patient, "weight", {"measured_on": date(2025, 1, 1 + i), "weight_kg": Decimal("70")})
        services.add_child(actor, patient, "medication", {"name": f"Drug {i}", "drug_class": "other"})
        services.add_child(actor, patient, "allergy", {"substance": f"Thing {i}", "severity": "mild"})
        services.add_child(actor, patient, "condition", {"description": f"Problem {i}"})


def test_the_chart_uses_the_same_number_of_queries_however_long_the_record(client, login, clinician, make_patient):
    actor = actor_of(clinician)
    small, large = make_patient(), make_patient(given_name="Big")
    with transaction.atomic():
        _fill(small, actor, 1)
        _fill(large, actor, 12)
    login(clinician)
    counts = []
    for p in (small, large):
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"/patients/{p.uuid}/").status_code == 200
        counts.append(len(ctx.captured_queries))
    assert counts[0] == counts[1]


def test_searching_the_list_is_audited_with_the_search_text(client, login, clinician, patient):
    login(clinician)
    client.get("/patients/", {"q": "love"})
    event = AuditEvent.objects.get(action="patient.searched")
    assert (event.user, event.detail["search"]) == (clinician, "love")


def test_the_chart_tells_never_asked_from_no_known_allergies(client, login, clinician, patient):
    login(clinician)
    assert "Not yet asked" in client.get(f"/patients/{patient.uuid}/").content.decode()
    response = client.post(f"/patients/{patient.uuid}/no-known-allergies/", {"version": "1"})
    assert response.status_code == 302
    body = client.get(f"/patients/{patient.uuid}/").content.decode()
    patient.refresh_from_db()
    local = timezone.localtime(patient.no_known_allergies_at, patient.clinic.tz).strftime("%Y-%m-%d %H:%M")
    # Who confirmed it, when (clinic time) and how.
    assert f"No known allergies (asked and confirmed by {clinician} (clinician), {local} " in body
    assert "; form: asked and confirmed)" in body
    assert "Not yet asked" not in body


def test_pages_show_times_in_the_clinics_time_zone(client, login, clinician, patient):
    from django.utils import timezone

    login(clinician)
    body = client.get(f"/patients/{patient.uuid}/").content.decode()
    chicago = timezone.localtime(patient.updated_at, clinic_tz(patient)).strftime("%Y-%m-%d %H:%M")
    assert chicago in body


def clinic_tz(patient):
    return patient.clinic.tz
