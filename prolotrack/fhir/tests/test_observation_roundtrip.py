"""Observations come back as what they were: POSTed, they are kept and served as the same Observation (code, value,
effective time, subject, everything else); a pain severity that is a whole number 0-10 is also the patient's pain NRS
answer, and still reads back as the Observation; anything else is never rounded (docs/FHIR-IMPORT.md,
"Observations")."""

import copy
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.test import Client

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients.models import Observation

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
LOINC = "http://loinc.org"


def observation(patient: Any, code: str = "72514-3", **extra: Any) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "survey"}]}
        ],
        "code": {"coding": [{"system": LOINC, "code": code, "display": "Pain severity"}], "text": "Pain severity"},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "effectiveDateTime": "2025-03-04T10:15:00+00:00",
        "issued": "2025-03-04T10:20:00.000+00:00",
        "valueQuantity": {"value": 4, "unit": "{score}", "system": "http://unitsofmeasure.org", "code": "{score}"},
    }
    resource.update(extra)
    return resource


def post(client: Client, headers: dict[str, str], resource: dict[str, Any]) -> Any:
    return client.post("/fhir/Observation", data=orjson.dumps(resource), content_type=FHIR_JSON, headers=headers)


def read_back(client: Client, headers: dict[str, str], response: Any) -> dict[str, Any]:
    location = response["Location"].split("/fhir/")[1]
    assert location.startswith("Observation/")
    found = client.get("/fhir/" + location.split("/_history")[0], headers=headers)
    assert found.status_code == 200, found.content
    return orjson.loads(found.content)


def same_as_sent(sent: dict[str, Any], served: dict[str, Any], patient: Any) -> None:
    """Everything sent comes back unchanged, but id and meta (the server's) and the subject (the patient here)."""
    for name, value in sent.items():
        if name in ("id", "meta"):
            continue
        if name == "subject":
            assert served["subject"]["reference"] == f"Patient/{patient.uuid}"
            continue
        assert served[name] == value, name
    assert set(served) - set(sent) <= {"id", "meta"}


@pytest.fixture
def fhir(clinician: Any, api_token: Any) -> tuple[Client, dict[str, str]]:
    return Client(), api_token(clinician)


def test_a_whole_nrs_pain_observation_is_the_pain_answer_and_reads_back_as_the_observation(
    fhir: Any, patient: Any
) -> None:
    client, headers = fhir
    sent = observation(patient)
    response = post(client, headers, sent)
    assert response.status_code == 201, response.content
    served = read_back(client, headers, response)
    assert served["resourceType"] == "Observation"
    same_as_sent(sent, served, patient)
    # It counts as the product's pain answer: the NRS response of that day, its one answer the reported value.
    kept = Observation.objects.get(patient=patient)
    answer = kept.pain_answer
    assert answer is not None and answer.instrument == "nrs_pain" and answer.answers == {"average_week": 4}
    assert str(answer.authored_on) == "2025-03-04"
    # ...and is not served a second time as a score Observation.
    found = orjson.loads(client.get(f"/fhir/Observation?patient={patient.uuid}", headers=headers).content)
    assert [e["resource"]["id"] for e in found["entry"]] == [str(kept.uuid)]


@pytest.mark.parametrize("value", [0.42, 3.0793, 10.5, -1, 11])
def test_a_pain_value_that_is_not_a_whole_0_to_10_answer_is_kept_as_sent_never_rounded(
    fhir: Any, patient: Any, value: Any
) -> None:
    client, headers = fhir
    sent = observation(patient, valueQuantity={"value": value, "unit": "{score}"})
    response = post(client, headers, sent)
    assert response.status_code == 201, response.content
    served = read_back(client, headers, response)
    assert served["valueQuantity"]["value"] == value
    same_as_sent(sent, served, patient)
    assert not QuestionnaireResponse.objects.filter(patient=patient).exists()
    assert Observation.objects.get(patient=patient).pain_answer is None


def test_any_other_observation_is_kept_with_components_period_and_codes(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    sent = observation(
        patient,
        code="85354-9",
        effectiveDateTime=None,
        effectivePeriod={"start": "2024-11-02T08:00:00+01:00", "end": "2024-11-02T08:05:00+01:00"},
        valueQuantity=None,
        component=[
            {"code": {"coding": [{"system": LOINC, "code": "8480-6"}]},
             "valueQuantity": {"value": 128.5, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org",
                               "code": "mm[Hg]"}},
            {"code": {"coding": [{"system": LOINC, "code": "8462-4"}]},
             "valueQuantity": {"value": 81, "unit": "mm[Hg]", "system": "http://unitsofmeasure.org", "code": "mm[Hg]"}},
        ],
        encounter={"reference": "urn:uuid:4b5c1a1e-6b8a-4d3f-9d7c-1e2f3a4b5c6d"},
        meta={"profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-blood-pressure"]},
    )  # fmt: skip
    sent = {k: v for k, v in sent.items() if v is not None}
    response = post(client, headers, sent)
    assert response.status_code == 201, response.content
    served = read_back(client, headers, response)
    same_as_sent({k: v for k, v in sent.items() if k != "meta"}, served, patient)
    assert served["meta"]["profile"] == sent["meta"]["profile"]
    assert served["meta"]["versionId"] == "1"
    # Searchable by patient, code and date (a period: FHIR's prefixes over its range).
    for query in (
        f"patient={patient.uuid}&code={LOINC}|85354-9",
        "code=85354-9&date=2024-11-02",
        "date=ge2024-11-02T07:00:00Z&date=le2024-11-02T08:00:00Z",
        "date=sa2024-11-01",
        "date=eb2024-11-03",
        "category=survey",
    ):
        found = orjson.loads(client.get(f"/fhir/Observation?{query}", headers=headers).content)
        assert [e["resource"]["id"] for e in found.get("entry", [])] == [served["id"]], query
    for query in ("code=8480-6", "code=http://snomed.info/sct|85354-9", "date=2024-11-03", "date=sa2024-11-02"):
        found = orjson.loads(client.get(f"/fhir/Observation?{query}", headers=headers).content)
        assert not found.get("entry"), query


def test_a_re_import_changes_nothing_and_a_newer_send_is_a_new_version(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    sent = observation(patient, code="8310-5", valueQuantity={"value": 37.2, "unit": "Cel"})
    first = post(client, headers, sent)
    assert first.status_code == 201
    again = post(client, headers, sent)
    assert again.status_code == 200 and again["ETag"] == 'W/"1"'
    changed = copy.deepcopy(sent)
    changed["valueQuantity"]["value"] = 37.9
    newer = post(client, headers, changed)
    assert newer.status_code == 200 and newer["ETag"] == 'W/"2"'
    kept = Observation.objects.get(patient=patient)
    assert kept.resource["valueQuantity"]["value"] == 37.9
    versions = RecordVersion.objects.filter(record_uuid=kept.uuid).order_by("version")
    assert [v.data["resource"]["valueQuantity"]["value"] for v in versions] == [37.2, 37.9]
    assert AuditEvent.objects.filter(action="patient.observation.updated", record_uuid=kept.uuid).count() == 1
    # vread serves the first version as it was.
    old = orjson.loads(client.get(f"/fhir/Observation/{kept.uuid}/_history/1", headers=headers).content)
    assert old["valueQuantity"]["value"] == 37.2


def test_delete_marks_the_observation_and_its_pain_answer_entered_in_error(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    response = post(client, headers, observation(patient))
    kept = Observation.objects.get(patient=patient)
    gone = client.delete(f"/fhir/Observation/{kept.uuid}", headers=headers)
    assert gone.status_code == 200, gone.content
    kept.refresh_from_db()
    assert kept.entered_in_error_at is not None
    assert kept.pain_answer.entered_in_error_at is not None
    served = read_back(client, headers, response)
    assert served["status"] == "entered-in-error"


def test_an_update_may_not_change_the_pain_answer(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    post(client, headers, observation(patient))
    changed = observation(patient, valueQuantity={"value": 6, "unit": "{score}"})
    response = post(client, headers, changed)
    assert response.status_code == 409, response.content
    assert Observation.objects.get(patient=patient).pain_answer.answers == {"average_week": 4}


def test_a_second_pain_report_of_the_day_is_kept_but_is_not_a_second_answer(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    assert post(client, headers, observation(patient)).status_code == 201
    later = observation(patient, effectiveDateTime="2025-03-04T18:00:00+00:00", valueQuantity={"value": 7})
    response = post(client, headers, later)
    assert response.status_code == 201, response.content
    assert Observation.objects.filter(patient=patient).count() == 2
    assert QuestionnaireResponse.objects.filter(patient=patient).count() == 1
    assert read_back(client, headers, response)["valueQuantity"] == {"value": 7}


def test_a_batch_reports_per_entry_and_a_transaction_keeps_fractional_pain(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    entries = [
        observation(patient, valueQuantity={"value": 0.18}),
        observation(patient, code="72166-2", subject={"reference": "Patient/00000000-0000-0000-0000-000000000000"}),
        observation(patient, code="29463-7", effectiveDateTime="2025-03-01", valueQuantity={"value": 61, "unit": "kg",
                    "system": "http://unitsofmeasure.org", "code": "kg"}),
    ]  # fmt: skip
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": r, "request": {"method": "POST", "url": "Observation"}} for r in entries],
    }
    response = client.post("/fhir", data=orjson.dumps(bundle), content_type=FHIR_JSON, headers=headers)
    assert response.status_code == 200
    statuses = [e["response"]["status"] for e in orjson.loads(response.content)["entry"]]
    assert statuses == ["201 Created", "422 Unprocessable Entity", "201 Created"]
    kept = Observation.objects.get(patient=patient)
    assert Decimal(str(kept.resource["valueQuantity"]["value"])) == Decimal("0.18")
    bundle["type"] = "transaction"
    del bundle["entry"][1]
    response = client.post("/fhir", data=orjson.dumps(bundle), content_type=FHIR_JSON, headers=headers)
    assert response.status_code == 200, response.content


def test_an_observation_without_a_patient_is_skipped_with_its_reason(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    sent = observation(patient)
    del sent["subject"]
    response = post(client, headers, sent)
    assert response.status_code == 422
    assert "no subject" in response.content.decode()
