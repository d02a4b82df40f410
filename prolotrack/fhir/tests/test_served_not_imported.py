"""Types ProloTrack serves from its own records but does not import (docs/FHIR-IMPORT.md, "Types served but not
imported"): Procedure (its prolotherapy sessions), CarePlan (its courses), DocumentReference (the documents it
generates), Practitioner (its staff), Organization (the clinic). Sent from another system, each is skipped with the
reason for its type, never changed to fit and never failing a Synthea transaction: the rest of the bundle imports,
and nothing of that type reads back (it would read back as something it is not). Alone, it is refused with the same
reason and nothing is written.

Data: the published Synthea R4 bundles of fixtures/synthea_r4 and, for DocumentReference (which those 2019 bundles do
not hold), the first five lines of the Synthea Bulk sample's DocumentReference file (fixtures/README.md).
"""

import gzip
import json
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.test import Client

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.fhir.inbound import SERVED_NOT_IMPORTED
from prolotrack.patients.models import Condition, Observation, Patient

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
BUNDLES = sorted((FIXTURES / "synthea_r4").glob("*.json.gz"))
DOCUMENTS = FIXTURES / "synthea_bulk_10_documents" / "DocumentReference.000.head5.ndjson.gz"
TYPES = ("Procedure", "CarePlan", "DocumentReference", "Practitioner", "Organization")
FHIR_JSON = "application/fhir+json"


def _bundle(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()))


def _documents() -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(DOCUMENTS.read_bytes()).splitlines() if line.strip()]


def synthea_bundle(resource_type: str) -> dict[str, Any]:
    """The first published bundle holding the type; for DocumentReference, the first bundle with the five published
    DocumentReferences added as entries (their subjects as published: a skipped entry's references are not followed)."""
    if resource_type == "DocumentReference":
        bundle = _bundle(BUNDLES[0])
        for document in _documents():
            bundle["entry"].append(
                {
                    "fullUrl": f"urn:uuid:{document['id']}",
                    "resource": document,
                    "request": {"method": "POST", "url": "DocumentReference"},
                }
            )
        return bundle
    for path in BUNDLES:
        bundle = _bundle(path)
        if any(e["resource"]["resourceType"] == resource_type for e in bundle["entry"]):
            return bundle
    raise AssertionError(f"no published bundle holds a {resource_type}")


def of_type(bundle: dict[str, Any], resource_type: str) -> list[dict[str, Any]]:
    return [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type]


def post(path: str, body: Any, headers: dict[str, str]) -> Any:
    return Client().post(path, data=orjson.dumps(body), content_type=FHIR_JSON, headers=headers)


def written() -> tuple[int, int, int]:
    return Patient.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count()


def test_every_type_has_its_reason_and_the_published_data_holds_each() -> None:
    assert set(SERVED_NOT_IMPORTED) == set(TYPES)
    for resource_type in TYPES:
        assert of_type(synthea_bundle(resource_type), resource_type)


@pytest.mark.parametrize("resource_type", TYPES)
def test_in_a_synthea_transaction_it_is_skipped_with_its_reason_and_the_rest_imports(
    resource_type: str, clinician: Any, api_token: Any, clinic: Any
) -> None:
    bundle = synthea_bundle(resource_type)
    headers = api_token(clinician)
    response = post("/fhir", bundle, headers)
    assert response.status_code == 200, response.content[:800]
    body = orjson.loads(response.content)
    reason = SERVED_NOT_IMPORTED[resource_type]
    sent = [i for i, e in enumerate(bundle["entry"]) if e["resource"]["resourceType"] == resource_type]
    for i in sent:
        answer = body["entry"][i]["response"]
        assert answer["status"] == "200 OK" and "location" not in answer
        issue = answer["outcome"]["issue"][0]
        assert issue["code"] == "not-supported" and issue["expression"] == [f"Bundle.entry[{i}].resource"]
        assert f"Not imported ({reason})." in issue["diagnostics"]
    summary = [i["diagnostics"] for i in body["entry"][0]["response"]["outcome"]["issue"]]
    assert f"{resource_type}: {len(sent)} skipped ({reason})." in summary
    # The rest of the bundle is in: its patient, conditions and observations.
    patient = Patient.objects.get(clinic=clinic)
    assert Condition.objects.filter(patient=patient).exists() and Observation.objects.filter(patient=patient).exists()
    # Nothing of the type reads back: not as a session, course, document, staff member or clinic.
    if resource_type in ("Procedure", "CarePlan", "DocumentReference"):
        found = Client().get(f"/fhir/{resource_type}?patient={patient.uuid}&_total=accurate", headers=headers)
        assert found.status_code == 200 and orjson.loads(found.content)["total"] == 0
    else:
        found = Client().get(f"/fhir/{resource_type}", headers=headers)
        assert found.status_code == 200
        served = orjson.loads(found.content).get("entry", [])
        assert served  # the clinic's own staff, or the clinic itself
        text = json.dumps(served)
        for resource in of_type(bundle, resource_type):
            assert resource["id"] not in text
            if resource_type == "Practitioner":
                assert all(name["family"] not in text for name in resource["name"])
            else:
                assert resource["name"] not in text


@pytest.mark.parametrize("resource_type", TYPES)
def test_in_a_batch_each_entry_is_skipped_with_its_reason(resource_type: str, clinician: Any, api_token: Any) -> None:
    resources = of_type(synthea_bundle(resource_type), resource_type)[:3]
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": r, "request": {"method": "POST", "url": resource_type}} for r in resources],
    }
    before = Patient.objects.count(), RecordVersion.objects.count()
    response = post("/fhir", batch, api_token(clinician))
    assert response.status_code == 200, response.content[:800]
    body = orjson.loads(response.content)
    assert body["type"] == "batch-response" and len(body["entry"]) == len(resources)
    for entry in body["entry"]:
        assert entry["response"]["status"] == "200 OK" and "location" not in entry["response"]
        assert SERVED_NOT_IMPORTED[resource_type] in entry["response"]["outcome"]["issue"][0]["diagnostics"]
    assert (Patient.objects.count(), RecordVersion.objects.count()) == before


@pytest.mark.parametrize("resource_type", TYPES)
def test_alone_it_is_refused_with_its_reason_and_nothing_is_written(
    resource_type: str, clinician: Any, api_token: Any
) -> None:
    resource = of_type(synthea_bundle(resource_type), resource_type)[0]
    headers = api_token(clinician)
    before = written()
    response = post(f"/fhir/{resource_type}", resource, headers)
    assert response.status_code == 422, response.content[:800]
    issue = orjson.loads(response.content)["issue"][0]
    assert issue["code"] == "not-supported" and SERVED_NOT_IMPORTED[resource_type] in issue["diagnostics"]
    assert written() == before
    for method in ("put", "delete"):
        call = getattr(Client(), method)
        answer = call(
            f"/fhir/{resource_type}/{resource['id']}",
            data=orjson.dumps(resource),
            content_type=FHIR_JSON,
            headers={**headers, "If-Match": 'W/"1"'},
        )
        assert answer.status_code == 405, (method, answer.content[:500])
        assert SERVED_NOT_IMPORTED[resource_type] in orjson.loads(answer.content)["issue"][0]["diagnostics"]
    assert written() == before


@pytest.mark.parametrize("resource_type", ["Procedure", "CarePlan"])
def test_a_served_session_or_course_is_not_changed_by_put_or_patch(
    resource_type: str, history: Any, clinician: Any, api_token: Any
) -> None:
    """PUT and PATCH of a Procedure or CarePlan ProloTrack serves (a session, a course) answer 405 with the reason."""
    from prolotrack.treatment.models import Course, TreatmentSession

    model = TreatmentSession if resource_type == "Procedure" else Course
    record = model.objects.order_by("id").first()
    headers = api_token(clinician)
    read = Client().get(f"/fhir/{resource_type}/{record.uuid}", headers=headers)
    assert read.status_code == 200
    resource = orjson.loads(read.content)
    etag = read.headers["ETag"]
    before = written()
    put = Client().put(
        f"/fhir/{resource_type}/{record.uuid}",
        data=orjson.dumps(resource),
        content_type=FHIR_JSON,
        headers={**headers, "If-Match": etag},
    )
    patch = Client().patch(
        f"/fhir/{resource_type}/{record.uuid}",
        data=orjson.dumps({"status": "completed"}),
        content_type="application/merge-patch+json",
        headers={**headers, "If-Match": etag},
    )
    for answer in (put, patch):
        assert answer.status_code == 405, answer.content[:500]
        assert SERVED_NOT_IMPORTED[resource_type] in orjson.loads(answer.content)["issue"][0]["diagnostics"]
    # No record or version written; the PATCH's read of the resource it would patch is audited, as every read is.
    assert written()[:2] == before[:2]
    added = AuditEvent.objects.order_by("-id")[: written()[2] - before[2]]
    assert [e.action for e in added] == [f"fhir.{resource_type.lower()}.read"]
    assert model.objects.get(pk=record.pk).version == record.version
