"""PATCH /fhir/<Type>/<id>: JSON Patch (RFC 6902) or merge patch applied to the resource as served, then written as a
PUT of the result (same services: version and audit rows); If-Match required and checked."""

from typing import Any

import orjson
import pytest
from django.test import Client

from prolotrack.audit.models import RecordVersion
from prolotrack.patients.models import Condition, Observation, Patient

pytestmark = pytest.mark.django_db

JSON_PATCH = "application/json-patch+json"


def patch(
    client: Client, headers: dict[str, str], path: str, body: Any, if_match: str | None, ctype: str = JSON_PATCH
) -> Any:
    extra = {**headers, **({"If-Match": if_match} if if_match else {})}
    return client.patch(path, data=orjson.dumps(body), content_type=ctype, headers=extra)


@pytest.fixture
def fhir(clinician: Any, api_token: Any) -> tuple[Client, dict[str, str]]:
    return Client(), api_token(clinician)


def test_json_patch_updates_a_patient_through_the_service_with_a_version_row(fhir: Any, patient: Patient) -> None:
    client, headers = fhir
    ops = [{"op": "add", "path": "/telecom", "value": [{"system": "phone", "value": "555-0100"}]}]
    response = patch(client, headers, f"/fhir/Patient/{patient.uuid}", ops, 'W/"1"')
    assert response.status_code == 200, response.content
    assert response["ETag"] == 'W/"2"'
    body = orjson.loads(response.content)
    assert body["telecom"] == [{"system": "phone", "value": "555-0100"}]
    patient.refresh_from_db()
    assert patient.phone == "555-0100" and patient.version == 2
    row = RecordVersion.objects.get(record_uuid=patient.uuid, version=2)
    assert row.changes == {"phone": ["", "555-0100"]}


@pytest.mark.parametrize(
    ("if_match", "ops", "status"),
    [
        (None, [], 428),
        ('W/"7"', [{"op": "replace", "path": "/gender", "value": "male"}], 412),
        ('W/"1"', [{"op": "test", "path": "/gender", "value": "male"}], 409),
        ('W/"1"', [{"op": "replace", "path": "/nothere/0", "value": 1}], 422),
        ('W/"1"', [{"op": "replace", "path": "/id", "value": "x"}], 422),
        ('W/"1"', [{"op": "replace", "path": "/birthDate", "value": "not a date"}], 422),
        ('W/"1"', {"op": "replace"}, 400),
    ],
)
def test_a_refused_patch_writes_nothing(fhir: Any, patient: Patient, if_match: Any, ops: Any, status: int) -> None:
    client, headers = fhir
    response = patch(client, headers, f"/fhir/Patient/{patient.uuid}", ops, if_match)
    assert response.status_code == status, response.content
    assert orjson.loads(response.content)["resourceType"] == "OperationOutcome"
    patient.refresh_from_db()
    assert patient.version == 1


def test_a_patch_in_another_media_type_is_refused(fhir: Any, patient: Patient) -> None:
    client, headers = fhir
    response = patch(client, headers, f"/fhir/Patient/{patient.uuid}", [], 'W/"1"', ctype="text/plain")
    assert response.status_code == 415


def test_merge_patch_of_a_condition_and_of_a_kept_observation(fhir: Any, patient: Patient) -> None:
    client, headers = fhir
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": {"resourceType": "Condition", "subject": {"reference": f"Patient/{patient.uuid}"},
                          "code": {"text": "Chronic low back pain"}}, "request": {"method": "POST", "url": "Condition"}},
            {"resource": {"resourceType": "Observation", "status": "final", "subject": {"reference": f"Patient/{patient.uuid}"},
                          "code": {"coding": [{"system": "http://loinc.org", "code": "8310-5"}]},
                          "effectiveDateTime": "2025-01-02", "valueQuantity": {"value": 37.1, "unit": "Cel"}},
             "request": {"method": "POST", "url": "Observation"}},
        ],
    }  # fmt: skip
    assert (
        client.post(
            "/fhir", data=orjson.dumps(bundle), content_type="application/fhir+json", headers=headers
        ).status_code
        == 200
    )
    condition = Condition.objects.get(patient=patient)
    response = patch(
        client, headers, f"/fhir/Condition/{condition.uuid}", {"note": [{"text": "Worse on stairs"}]}, 'W/"1"',
        ctype="application/merge-patch+json",
    )  # fmt: skip
    assert response.status_code == 200, response.content
    condition.refresh_from_db()
    assert condition.note == "Worse on stairs" and condition.version == 2

    kept = Observation.objects.get(patient=patient)
    ops = [{"op": "add", "path": "/interpretation", "value": [{"text": "normal"}]}]
    response = patch(client, headers, f"/fhir/Observation/{kept.uuid}", ops, 'W/"1"')
    assert response.status_code == 200, response.content
    kept.refresh_from_db()
    assert kept.version == 2 and kept.resource["interpretation"] == [{"text": "normal"}]
    assert kept.resource["valueQuantity"] == {"value": 37.1, "unit": "Cel"}


def test_patch_needs_the_import_permission(patient: Patient, frontdesk: Any, api_token: Any) -> None:
    response = patch(Client(), api_token(frontdesk), f"/fhir/Patient/{patient.uuid}", [], 'W/"1"')
    assert response.status_code == 403


# RFC 7396, Appendix A: (target, patch, result).
RFC_7396 = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize(("target", "merge", "result"), RFC_7396)
def test_merge_patch_follows_rfc_7396(target: Any, merge: Any, result: Any) -> None:
    from prolotrack.fhir.write_views import _merge_patch

    assert _merge_patch(target, merge) == result
