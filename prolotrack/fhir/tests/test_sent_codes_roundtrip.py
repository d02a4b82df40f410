"""What is written reads back the same (issue 12): the codings of a Condition, an AllergyIntolerance and a
MedicationStatement come back as sent (system, code, display), POSTed or in a transaction, and in every version;
a body weight sent in pounds (or to more places than 0.1 kg) reads back as sent while the registry keeps its kg
value for doses (docs/FHIR-IMPORT.md, "Round trip per type")."""

from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.test import Client

from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services
from prolotrack.patients.models import Allergy, Condition, Medication, WeightMeasurement

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
UCUM = "http://unitsofmeasure.org"
LOINC = "http://loinc.org"

CONDITION_CODINGS = [
    {"system": SNOMED, "code": "279039007", "display": "Low back pain (finding)"},
    {"system": ICD10CM, "code": "M54.50", "display": "Low back pain, unspecified"},
]
ALLERGY_CODINGS = [
    {"system": SNOMED, "code": "91936005", "display": "Allergy to penicillin (finding)"},
    {"system": ICD10CM, "code": "Z88.0", "display": "Allergy status to penicillin"},
]
MEDICATION_CODINGS = [{"system": RXNORM, "code": "310965", "display": "Ibuprofen 200 MG Oral Tablet"}]


def condition(patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": CONDITION_CODINGS, "text": "Low back pain"},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "onsetDateTime": "2024-05-01",
    }


def allergy(patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "AllergyIntolerance",
        "code": {"coding": ALLERGY_CODINGS, "text": "Penicillin"},
        "patient": {"reference": f"Patient/{patient.uuid}"},
        "criticality": "high",
    }


def medication(patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationStatement",
        "status": "active",
        "medicationCodeableConcept": {"coding": MEDICATION_CODINGS, "text": "Ibuprofen 200 mg"},
        "subject": {"reference": f"Patient/{patient.uuid}"},
    }


def weight(patient: Any, quantity: dict[str, Any], day: str = "2025-02-03") -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [
            {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/observation-category", "code": "vital-signs"}
                ]
            }
        ],
        "code": {"coding": [{"system": LOINC, "code": "29463-7", "display": "Body weight"}], "text": "Body weight"},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "effectiveDateTime": day,
        "valueQuantity": quantity,
    }


@pytest.fixture
def fhir(clinician: Any, api_token: Any) -> tuple[Client, dict[str, str]]:
    return Client(), api_token(clinician)


def get(client: Client, headers: dict[str, str], location: str) -> dict[str, Any]:
    path = "/fhir/" + location.split("/fhir/")[-1].split("/_history")[0]
    found = client.get(path, headers=headers)
    assert found.status_code == 200, found.content
    return orjson.loads(found.content)


def post(client: Client, headers: dict[str, str], resource: dict[str, Any]) -> dict[str, Any]:
    response = client.post(
        f"/fhir/{resource['resourceType']}", data=orjson.dumps(resource), content_type=FHIR_JSON, headers=headers
    )
    assert response.status_code == 201, response.content
    return get(client, headers, response["Location"])


def transaction(client: Client, headers: dict[str, str], resources: list[dict[str, Any]]) -> list[dict[str, Any]]:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [{"resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for r in resources],
    }
    response = client.post("/fhir/", data=orjson.dumps(bundle), content_type=FHIR_JSON, headers=headers)
    assert response.status_code == 200, response.content
    entries = orjson.loads(response.content)["entry"]
    return [get(client, headers, e["response"]["location"]) for e in entries]


def codes(concept: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(c["system"], c["code"], c.get("display", "")) for c in concept.get("coding", [])]


def sent_codes(codings: list[dict[str, str]]) -> list[tuple[str, str, str]]:
    return [(c["system"], c["code"], c["display"]) for c in codings]


@pytest.mark.parametrize("how", ["post", "transaction"])
def test_condition_allergy_and_medication_codings_read_back_as_sent(fhir: Any, patient: Any, how: str) -> None:
    client, headers = fhir
    sent = [condition(patient), allergy(patient), medication(patient)]
    served = [post(client, headers, r) for r in sent] if how == "post" else transaction(client, headers, sent)
    read_condition, read_allergy, read_medication = served
    assert read_condition["resourceType"] == "Condition"
    assert codes(read_condition["code"]) == sent_codes(CONDITION_CODINGS)
    assert read_condition["code"]["text"] == "Low back pain"
    assert read_allergy["resourceType"] == "AllergyIntolerance"
    assert codes(read_allergy["code"]) == sent_codes(ALLERGY_CODINGS)
    assert read_medication["resourceType"] == "MedicationStatement"
    assert codes(read_medication["medicationCodeableConcept"]) == sent_codes(MEDICATION_CODINGS)
    # Screening still reads the codes (the "system|code" tokens beside the codings).
    assert Condition.objects.get(patient=patient).codes == [f"{SNOMED}|279039007", f"{ICD10CM}|M54.50"]
    assert Allergy.objects.get(patient=patient).codes == [f"{SNOMED}|91936005", f"{ICD10CM}|Z88.0"]
    assert Medication.objects.get(patient=patient).drug_class == "nsaid"


def test_a_screening_flag_coding_is_served_beside_the_sent_codings(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    sent = condition(patient)
    sent["code"] = {
        "coding": [{"system": SNOMED, "code": "363346000", "display": "Malignant neoplastic disease (disorder)"}],
        "text": "Cancer",
    }
    served = post(client, headers, sent)
    assert codes(served["code"])[0] == (SNOMED, "363346000", "Malignant neoplastic disease (disorder)")
    flag = Condition.objects.get(patient=patient).screening_flag
    assert flag, "the SNOMED code should raise a screening flag"
    assert served["code"]["coding"][1]["code"] == flag
    # Read back into ProloTrack (a re-import of its own export), the flag coding is not kept twice.
    served.pop("meta")
    served["note"] = [{"text": "Seen again."}]
    response = client.put(
        f"/fhir/Condition/{served['id']}",
        data=orjson.dumps(served),
        content_type=FHIR_JSON,
        headers={**headers, "If-Match": 'W/"1"'},
    )
    assert response.status_code == 200, response.content
    again = get(client, headers, f"Condition/{served['id']}")
    assert again["meta"]["versionId"] == "2"
    assert codes(again["code"]) == codes(served["code"])


def test_changed_codings_make_a_new_version_and_the_old_version_keeps_its_own(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    first = post(client, headers, condition(patient))
    changed = {**first, "code": {"coding": CONDITION_CODINGS[:1], "text": "Low back pain"}}
    changed.pop("meta")
    response = client.put(
        f"/fhir/Condition/{first['id']}",
        data=orjson.dumps(changed),
        content_type=FHIR_JSON,
        headers={**headers, "If-Match": 'W/"1"'},
    )
    assert response.status_code == 200, response.content
    now = get(client, headers, f"Condition/{first['id']}")
    assert now["meta"]["versionId"] == "2"
    assert codes(now["code"]) == sent_codes(CONDITION_CODINGS[:1])
    old = client.get(f"/fhir/Condition/{first['id']}/_history/1", headers=headers)
    assert old.status_code == 200, old.content
    assert codes(orjson.loads(old.content)["code"]) == sent_codes(CONDITION_CODINGS)


def test_too_many_codings_are_refused_with_the_reason(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    sent = condition(patient)
    sent["code"] = {"coding": [{"system": SNOMED, "code": str(100000 + i)} for i in range(21)], "text": "Many"}
    response = client.post("/fhir/Condition", data=orjson.dumps(sent), content_type=FHIR_JSON, headers=headers)
    assert response.status_code in (400, 422), response.content
    assert "at most 20" in response.content.decode()
    assert not Condition.objects.filter(patient=patient).exists()


POUNDS = {"value": 156.5, "unit": "lb", "system": UCUM, "code": "[lb_av]"}


@pytest.mark.parametrize(
    ("quantity", "kg"),
    [
        (POUNDS, Decimal("71.0")),
        ({"value": 156.5, "unit": "lbs"}, Decimal("71.0")),
        ({"value": 71234, "unit": "g", "system": UCUM, "code": "g"}, Decimal("71.2")),
        ({"value": 71.26, "unit": "kg", "system": UCUM, "code": "kg"}, Decimal("71.3")),
    ],
)
def test_a_weight_not_in_whole_tenths_of_kg_reads_back_as_sent_and_doses_use_kg(
    fhir: Any, patient: Any, quantity: dict[str, Any], kg: Decimal
) -> None:
    client, headers = fhir
    served = post(client, headers, weight(patient, quantity))
    assert served["valueQuantity"] == quantity
    assert served["code"]["coding"][0]["code"] == "29463-7"
    assert WeightMeasurement.objects.get(patient=patient).weight_kg == kg


def test_a_weight_in_kg_reads_back_in_kg_and_keeps_nothing_beside(fhir: Any, patient: Any) -> None:
    client, headers = fhir
    quantity = {"value": 71.4, "unit": "kg", "system": UCUM, "code": "kg"}
    served = post(client, headers, weight(patient, quantity))
    assert served["valueQuantity"] == quantity
    assert WeightMeasurement.objects.get(patient=patient).sent_quantity == {}


def test_a_weight_edited_since_reads_in_kg_not_the_stale_pounds(fhir: Any, patient: Any, clinician: Any) -> None:
    client, headers = fhir
    served = post(client, headers, weight(patient, POUNDS))
    record = WeightMeasurement.objects.get(uuid=served["id"])
    services.edit_child(fhir_actor_for(clinician), record, "weight", {"weight_kg": Decimal("70.2")}, expected_version=1)
    again = get(client, headers, f"Observation/{served['id']}")
    assert again["valueQuantity"] == {"value": 70.2, "unit": "kg", "system": UCUM, "code": "kg"}
    # Version 1 still reads as it was sent.
    old = orjson.loads(client.get(f"/fhir/Observation/{served['id']}/_history/1", headers=headers).content)
    assert old["valueQuantity"] == POUNDS


def fhir_actor_for(user: Any) -> Any:
    actor = actor_of(user)
    return type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, "fhir")


@pytest.mark.parametrize(
    "sent_quantity",
    [{"value": 1, "unit": "lb", "colour": "red"}, {"value": True, "unit": "lb"}, {"value": 1, "unit": 5}],
)
def test_the_service_refuses_a_sent_quantity_that_is_not_one(patient: Any, clinician: Any, sent_quantity: Any) -> None:
    from django.core.exceptions import ValidationError

    data = {"measured_on": patient.created_at.date(), "weight_kg": Decimal(70), "sent_quantity": sent_quantity}
    with pytest.raises(ValidationError):
        services.add_child(fhir_actor_for(clinician), patient, "weight", data)


def medication_request(patient: Any) -> dict[str, Any]:
    return {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"coding": MEDICATION_CODINGS, "text": "Ibuprofen 200 mg"},
        "subject": {"reference": f"Patient/{patient.uuid}"},
        "authoredOn": "2025-01-02",
    }


def _sent_request(
    how: str, client: Client, headers: dict[str, str], sent: dict[str, Any], other: dict[str, Any]
) -> str:
    """Send a MedicationRequest alone, or as the first entry of a batch or transaction (beside `other`): its
    Location."""
    if how == "alone":
        response = client.post(
            "/fhir/MedicationRequest", data=orjson.dumps(sent), content_type=FHIR_JSON, headers=headers
        )
        assert response.status_code == 201, response.content
        return str(response["Location"])
    bundle = {
        "resourceType": "Bundle",
        "type": how,
        "entry": [{"resource": r, "request": {"method": "POST", "url": r["resourceType"]}} for r in (sent, other)],
    }
    response = client.post("/fhir/", data=orjson.dumps(bundle), content_type=FHIR_JSON, headers=headers)
    assert response.status_code == 200, response.content
    entries = orjson.loads(response.content)["entry"]
    assert [e["response"]["status"] for e in entries] == ["201 Created", "201 Created"], entries
    assert "served back as this MedicationRequest" in orjson.dumps(entries[0]).decode()
    return str(entries[0]["response"]["location"])


@pytest.mark.parametrize("how", ["alone", "batch", "transaction"])
def test_a_medication_request_is_kept_on_the_list_and_reads_back_as_the_request(
    fhir: Any, patient: Any, how: str
) -> None:
    """One rule for a MedicationRequest however it is sent: the medicine goes on the chart's medication list (what
    screening reads) and the record reads back as the MedicationRequest it came as (docs/FHIR-IMPORT.md)."""
    client, headers = fhir
    sent = {**medication_request(patient), "dosageInstruction": [{"text": "200 mg three times a day"}]}
    location = _sent_request(how, client, headers, sent, condition(patient))
    assert location.split("/fhir/")[-1].startswith("MedicationRequest/")
    served = get(client, headers, location)
    assert served["resourceType"] == "MedicationRequest"
    for element in ("status", "intent", "authoredOn", "subject", "dosageInstruction"):
        assert served[element] == sent[element], element
    assert codes(served["medicationCodeableConcept"]) == sent_codes(MEDICATION_CODINGS)
    assert served["medicationCodeableConcept"]["text"] == sent["medicationCodeableConcept"]["text"]
    medication = Medication.objects.get(patient=patient)
    assert (medication.name, medication.status, medication.drug_class) == ("Ibuprofen 200 mg", "active", "nsaid")
    # Searched as what it is, and not served twice.
    found = orjson.loads(client.get(f"/fhir/MedicationRequest?patient={patient.uuid}", headers=headers).content)
    assert [e["resource"]["id"] for e in found["entry"]] == [served["id"]]
    statements = orjson.loads(client.get(f"/fhir/MedicationStatement?patient={patient.uuid}", headers=headers).content)
    assert not statements.get("entry")
    missing = client.get(f"/fhir/MedicationStatement/{served['id']}", headers=headers)
    assert missing.status_code == 404


@pytest.mark.parametrize(
    ("sent_status", "chart_status", "served_status"),
    [
        ("active", "active", "active"),
        ("on-hold", "active", "on-hold"),
        ("completed", "stopped", "completed"),
        ("stopped", "stopped", "stopped"),
    ],
)
def test_a_medication_request_status_reads_back_as_sent(
    fhir: Any, patient: Any, sent_status: str, chart_status: str, served_status: str
) -> None:
    client, headers = fhir
    sent = {**medication_request(patient), "status": sent_status}
    served = get(client, headers, _sent_request("alone", client, headers, sent, {}))
    assert served["status"] == served_status
    assert Medication.objects.get(patient=patient).status == chart_status


def test_a_medication_request_stopped_on_the_chart_reads_stopped(fhir: Any, patient: Any, clinician: Any) -> None:
    """Staff stopping the medicine: the request reads stopped (not the active status it was sent with); a PUT and a
    DELETE of the MedicationRequest go through the same services as the statement's."""
    client, headers = fhir
    served = get(client, headers, _sent_request("alone", client, headers, medication_request(patient), {}))
    record = Medication.objects.get(uuid=served["id"])
    services.edit_child(actor_of(clinician), record, "medication", {"status": "stopped"}, expected_version=1)
    assert get(client, headers, f"MedicationRequest/{served['id']}")["status"] == "stopped"
    current = get(client, headers, f"MedicationRequest/{served['id']}")
    changed = {**current, "note": [{"text": "Take with food"}]}
    response = client.put(
        f"/fhir/MedicationRequest/{served['id']}",
        data=orjson.dumps(changed),
        content_type=FHIR_JSON,
        headers={**headers, "If-Match": f'W/"{current["meta"]["versionId"]}"'},
    )
    assert response.status_code == 200, response.content
    assert orjson.loads(response.content)["resourceType"] == "MedicationRequest"
    record.refresh_from_db()
    assert record.note == "Take with food"
    deleted = client.delete(f"/fhir/MedicationRequest/{served['id']}", headers=headers)
    assert deleted.status_code in (200, 204), deleted.content
    assert get(client, headers, f"MedicationRequest/{served['id']}")["status"] == "entered-in-error"


def test_forms_and_the_api_do_not_set_what_another_system_sent(patient: Any, clinician: Any) -> None:
    data = {"description": "Knee pain", "codings": [{"system": SNOMED, "code": "30989003"}]}
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="cannot be set here"):
        services.add_child(actor_of(clinician), patient, "condition", data)
    via_fhir = services.add_child(fhir_actor_for(clinician), patient, "condition", data)
    assert via_fhir.codings == [{"system": SNOMED, "code": "30989003"}]


@pytest.mark.parametrize(
    ("kind", "model", "concept", "change"),
    [
        ("condition", Condition, "code", {"description": "Knee osteoarthritis"}),
        ("allergy", Allergy, "code", {"substance": "Latex"}),
        ("medication", Medication, "medicationCodeableConcept", {"name": "Paracetamol"}),
    ],
)
def test_staff_renaming_an_entry_clears_the_codings_another_system_sent(
    fhir: Any, patient: Any, clinician: Any, kind: str, model: Any, concept: str, change: dict[str, str]
) -> None:
    client, headers = fhir
    resource = {"condition": condition, "allergy": allergy, "medication": medication}[kind](patient)
    served = post(client, headers, resource)
    record = model.objects.get(uuid=served["id"])
    assert record.codings
    # A note changes nothing the codings name: they stay.
    services.edit_child(actor_of(clinician), record, kind, {"note": "seen"}, expected_version=record.version)
    record.refresh_from_db()
    assert record.codings
    # A new name does: the old codes are not served beside the new words, and the earlier version keeps them.
    services.edit_child(actor_of(clinician), record, kind, change, expected_version=record.version)
    record.refresh_from_db()
    assert record.codings == []
    again = get(client, headers, f"{served['resourceType']}/{served['id']}")
    sent = {c[1] for c in codes(served[concept])}
    assert not sent & {c[1] for c in codes(again.get(concept, {}))}
    old = orjson.loads(client.get(f"/fhir/{served['resourceType']}/{served['id']}/_history/1", headers=headers).content)
    assert sent <= {c[1] for c in codes(old[concept])}


def test_a_medicine_reads_as_one_type_only_and_a_later_statement_makes_it_a_statement(fhir: Any, patient: Any) -> None:
    """A medicine that came as a MedicationRequest is not a MedicationStatement too: PUT or DELETE under the other
    type answers 404 and writes nothing. The patient's own statement about it, sent later, says more than the order:
    the record then reads back as that MedicationStatement (and no longer as the request)."""
    client, headers = fhir
    served = get(client, headers, _sent_request("alone", client, headers, medication_request(patient), {}))
    as_statement = {**medication(patient), "id": served["id"], "status": "active"}
    put = client.put(
        f"/fhir/MedicationStatement/{served['id']}",
        data=orjson.dumps(as_statement),
        content_type=FHIR_JSON,
        headers={**headers, "If-Match": 'W/"1"'},
    )
    assert put.status_code == 404, put.content
    assert client.delete(f"/fhir/MedicationStatement/{served['id']}", headers=headers).status_code == 404
    record = Medication.objects.get(uuid=served["id"])
    assert (record.version, record.sent_as, record.entered_in_error_at) == (1, "MedicationRequest", None)

    statement = {**medication(patient), "dosage": [{"text": "200 mg when needed"}]}
    response = client.post(
        "/fhir/MedicationStatement", data=orjson.dumps(statement), content_type=FHIR_JSON, headers=headers
    )
    assert response.status_code == 200, response.content  # matched the medicine on the list
    assert "/MedicationStatement/" in response["Location"]
    now = get(client, headers, response["Location"])
    assert (now["resourceType"], now["id"], now["dosage"]) == ("MedicationStatement", served["id"], statement["dosage"])
    assert client.get(f"/fhir/MedicationRequest/{served['id']}", headers=headers).status_code == 404
