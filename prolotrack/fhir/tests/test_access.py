"""Who may read what over FHIR: persona x endpoint. Another clinic's record is 404; researchers get nothing
identifiable (403 on every patient-data type)."""

from typing import Any

import pytest

from prolotrack.fhir.resources import TYPES
from prolotrack.patients.models import Patient

pytestmark = pytest.mark.django_db

C, N, F, A, R = "clinician", "colleague", "frontdesk", "admin", "researcher"
# Expected status of a read of one Alpha Clinic record of each type, by persona (outsider: always 404).
ALLOWED = {
    "Patient": {C, N, F, A},
    "Practitioner": {C, N, F, A},
    "Organization": {C, N, F, A, R},
    "Condition": {C, N},
    "AllergyIntolerance": {C, N},
    "MedicationStatement": {C, N},
    "MedicationRequest": {C, N},
    "Observation": {C, N},
    "QuestionnaireResponse": {C, N},
    "CarePlan": {C, N},
    "Appointment": {C, N, F, A},
    "Schedule": {C, N, F, A},
    "Procedure": {C, N},
    "BodyStructure": {C, N},
    "Medication": {C, N},
    "MedicationAdministration": {C, N},
    "AdverseEvent": {C, N},
    "Consent": {C, N},
    "DocumentReference": {C, N},
    "Group": {C, A},
}
IDENTIFIABLE = set(TYPES) - {"Organization"}


def test_the_table_covers_every_type() -> None:
    assert set(ALLOWED) == set(TYPES)


def test_researchers_read_no_identifiable_type() -> None:
    assert all(R not in ALLOWED[name] for name in IDENTIFIABLE)


def _any_id(name: str, clinic: Any) -> str:
    source = TYPES[name].sources[0]
    return str(source.queryset(clinic).values_list(source.id_path, flat=True).first())


@pytest.mark.parametrize("name", sorted(TYPES))
def test_read_and_search_by_persona(
    name: str, client: Any, history: Any, clinic: Any, personas: Any, api_token: Any
) -> None:
    record_id = _any_id(name, clinic)
    for persona, user in personas.items():
        headers = api_token(user)
        read = client.get(f"/fhir/{name}/{record_id}", headers=headers).status_code
        found = client.get(f"/fhir/{name}?_count=5", headers=headers)
        if persona == "outsider":
            # A clinician elsewhere: the type is readable, but Alpha's record does not exist for them.
            assert read == (404 if name in ALLOWED and C in ALLOWED[name] else 403), (name, persona)
            if found.status_code == 200:
                assert str(record_id) not in found.content.decode()
            continue
        expected = 200 if persona in ALLOWED[name] else 403
        assert read == expected, (name, persona, read)
        assert found.status_code == expected, (name, persona, found.status_code)


def test_metadata_is_open_but_data_needs_a_token(client: Any, history: Any, clinic: Any) -> None:
    assert client.get("/fhir/metadata").status_code == 200
    patient = Patient.objects.filter(clinic=clinic).first()
    assert client.get(f"/fhir/Patient/{patient.uuid}").status_code == 401
    assert client.get("/fhir/Patient").status_code == 401


def test_researcher_cannot_include_patients(client: Any, history: Any, researcher: Any, api_token: Any) -> None:
    response = client.get("/fhir/Organization?_include=Procedure:patient", headers=api_token(researcher))
    assert response.status_code == 200  # an include not defined on the type is ignored and reported
    assert b"Patient" not in response.content.replace(b"Patient/", b"")


def test_binary_pdf_by_persona(client: Any, history: Any, clinic: Any, personas: Any, api_token: Any) -> None:
    from prolotrack.documents.models import Document

    document = Document.objects.get(clinic=clinic)
    expected = {"clinician": 200, "colleague": 200, "frontdesk": 403, "admin": 403, "researcher": 403, "outsider": 404}
    for persona, user in personas.items():
        status = client.get(f"/fhir/Binary/{document.uuid}", headers=api_token(user)).status_code
        assert status == expected[persona], persona
