"""A stock FHIR client (fhirpy, pinned in requirements-dev.txt) against the live test server: search by name, paging
by next links, count, read, follow a reference, update with If-Match, delete -> entered-in-error.

Before issue 12 every PUT/DELETE on /fhir/<Type>/<id> and POST /fhir/<Type>/_search got Django's CSRF 403 HTML page,
so `save()` and `delete()` failed here.
"""

from typing import Any

import pytest
import requests
from fhirpy import SyncFHIRClient
from fhirpy.base.exceptions import MultipleResourcesFound, ResourceNotFound

from prolotrack.patients.models import Condition, Patient

pytestmark = pytest.mark.django_db(transaction=True)


def _bundle(count: int) -> dict[str, Any]:
    entries: list[dict[str, Any]] = []
    for i in range(count):
        full_url = f"urn:uuid:00000000-0000-4000-8000-{i:012d}"
        entries.append(
            {
                "fullUrl": full_url,
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:test:mrn", "value": f"FP-{i}"}],
                    "name": [{"family": "Okafor" if i % 2 == 0 else "Lindqvist", "given": [f"Ada{i}"]}],
                    "birthDate": f"19{50 + i}-03-04",
                    "gender": "female",
                },
                "request": {"method": "POST", "url": "Patient"},
            }
        )
        entries.append(
            {
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": full_url},
                    "code": {"text": "Chronic low back pain"},
                    "clinicalStatus": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                                "code": "active",
                            }
                        ]
                    },
                    "onsetDateTime": "2024-01-10",
                },
                "request": {"method": "POST", "url": "Condition"},
            }
        )
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


@pytest.fixture
def server(live_server: Any, clinician: Any, api_token: Any) -> tuple[str, str]:
    headers = api_token(clinician)
    base = f"{live_server.url}/fhir"
    response = requests.post(
        base, json=_bundle(7), headers={**headers, "Content-Type": "application/fhir+json"}, timeout=30
    )
    assert response.status_code == 200, response.text[:500]
    return base, headers["Authorization"]


def test_fhirpy_searches_pages_counts_reads_and_follows_references(server: tuple[str, str]) -> None:
    base, authorization = server
    client = SyncFHIRClient(base, authorization=authorization)

    okafors = client.resources("Patient").search(name="okaf").fetch_all()
    assert sorted(p["name"][0]["given"][0] for p in okafors) == ["Ada0", "Ada2", "Ada4", "Ada6"]
    assert client.resources("Patient").search(family="Lindqvist").count() == 3
    assert client.resources("Patient").search(given="Ada3").fetch()[0]["name"][0]["family"] == "Lindqvist"

    # Paging: 7 patients two to a page, followed by the client through the Bundle's next links.
    paged = client.resources("Patient").limit(2).fetch_all()
    assert len(paged) == 7
    assert len({p.id for p in paged}) == 7
    assert client.resources("Patient").count() == 7

    condition = client.resources("Condition").search(patient=okafors[0].id).first()
    assert condition is not None
    patient = condition["subject"].to_resource()  # follow the reference: a read
    assert patient.id == okafors[0].id
    assert client.reference("Patient", patient.id).to_resource()["birthDate"] == patient["birthDate"]


def test_fhirpy_search_by_post(server: tuple[str, str]) -> None:
    base, authorization = server
    response = requests.post(
        f"{base}/Patient/_search",
        data={"family": "Okafor", "_count": "10"},
        headers={"Authorization": authorization, "Accept": "application/fhir+json"},
        timeout=30,
    )
    assert response.status_code == 200, response.text[:300]
    assert len(response.json()["entry"]) == 4


def test_fhirpy_updates_with_if_match_and_deletes_to_entered_in_error(server: tuple[str, str]) -> None:
    base, authorization = server
    client = SyncFHIRClient(base, authorization=authorization)
    patient = client.resources("Patient").search(given="Ada1").get()
    version = patient["meta"]["versionId"]

    writer = SyncFHIRClient(base, authorization=authorization, extra_headers={"If-Match": f'W/"{version}"'})
    changed = writer.resource("Patient", **patient.serialize())
    changed["telecom"] = [{"system": "phone", "value": "+1 312 555 0101"}]
    changed.save()
    assert changed["meta"]["versionId"] == str(int(version) + 1)
    assert Patient.objects.get(uuid=patient.id).phone == "+1 312 555 0101"
    assert client.resources("Patient").search(phone="+1 312 555 0101").get().id == patient.id

    # The same If-Match again is stale now: refused, nothing written.
    stale = writer.resource("Patient", **patient.serialize())
    stale["telecom"] = [{"system": "phone", "value": "+1 312 555 0999"}]
    with pytest.raises(MultipleResourcesFound, match="conflict"):  # fhirpy's name for any 412 answer
        stale.save()
    assert Patient.objects.get(uuid=patient.id).phone == "+1 312 555 0101"

    condition = client.resources("Condition").search(patient=patient.id).get()
    client.delete(condition)
    kept = Condition.objects.get(uuid=condition.id)
    assert kept.entered_in_error_at is not None  # kept, marked, never erased
    again = client.reference("Condition", condition.id).to_resource()
    assert again["verificationStatus"]["coding"][0]["code"] == "entered-in-error"

    client.delete("Patient", patient.id)
    assert Patient.objects.get(uuid=patient.id).entered_in_error_at is not None
    with pytest.raises(ResourceNotFound):
        client.reference("Patient", patient.id).to_resource()  # 410 Gone


def test_fhirpy_patches_with_if_match_through_the_update_service(server: tuple[str, str]) -> None:
    """fhirpy's patch() sends the changed elements as a JSON object (a merge patch); a JSON Patch goes through the
    client's own request method with its media type. Both write a version and an audit row, as PUT does."""
    from prolotrack.audit.models import AuditEvent

    base, authorization = server
    client = SyncFHIRClient(base, authorization=authorization)
    patient = client.resources("Patient").search(given="Ada5").get()
    version = int(patient["meta"]["versionId"])
    writer = SyncFHIRClient(base, authorization=authorization, extra_headers={"If-Match": f'W/"{version}"'})
    patched = writer.patch("Patient", patient.id, telecom=[{"system": "email", "value": "ada5@example.org"}])
    assert patched["meta"]["versionId"] == str(version + 1)
    assert Patient.objects.get(uuid=patient.id).email == "ada5@example.org"
    assert AuditEvent.objects.filter(action="patient.updated", record_uuid=patient.id).count() == 1

    # Stale: the same If-Match again is refused (412, fhirpy's MultipleResourcesFound), nothing written.
    with pytest.raises(MultipleResourcesFound):
        writer.patch("Patient", patient.id, gender="male")
    assert Patient.objects.get(uuid=patient.id).sex == "female"

    json_patch = [
        {"op": "test", "path": "/gender", "value": "female"},
        {"op": "replace", "path": "/name/0/family", "value": "Okafor-Lindqvist"},
    ]
    done = client._do_request(
        "patch", f"Patient/{patient.id}", data=json_patch,
        extra_headers={"Content-Type": "application/json-patch+json", "If-Match": f'W/"{version + 1}"'},
    )  # fmt: skip
    assert done["name"][0]["family"] == "Okafor-Lindqvist"
    assert Patient.objects.get(uuid=patient.id).version == version + 2


def test_fhirpy_reads_back_the_hl7_examples_reactions_as_sent(server: tuple[str, str]) -> None:
    """The HL7 R4 AllergyIntolerance example (reaction manifestation codings, severities, substance, exposure route)
    saved with fhirpy and read back with it: the reactions and the code's codings are as sent (issue 12)."""
    import json
    from pathlib import Path

    base, authorization = server
    client = SyncFHIRClient(base, authorization=authorization)
    patient = client.resources("Patient").search(given="Ada5").get()
    sent = json.loads((Path(__file__).parent / "fixtures/hl7_r4_examples/AllergyIntolerance-example.json").read_text())
    del sent["id"]
    sent["patient"] = {"reference": f"Patient/{patient.id}"}
    created = client.resource("AllergyIntolerance", **json.loads(json.dumps(sent)))
    created.save()
    served = client.reference("AllergyIntolerance", created.id).to_resource().serialize()
    assert served["reaction"] == sent["reaction"]
    assert served["code"]["coding"] == sent["code"]["coding"]
