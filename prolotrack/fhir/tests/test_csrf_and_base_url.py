"""FHIR clients send bearer tokens, not cookies: writes must not be refused by CSRF, at /fhir and /fhir/."""

from typing import Any

import orjson
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

BUNDLE = {
    "resourceType": "Bundle",
    "type": "transaction",
    "entry": [
        {
            "fullUrl": "urn:uuid:6b0c1a52-2d3e-4a3c-9d0e-0a1b2c3d4e5f",
            "resource": {
                "resourceType": "Patient",
                "identifier": [{"system": "urn:test:mrn", "value": "CSRF-1"}],
                "name": [{"family": "Okafor", "given": ["Ada"]}],
                "birthDate": "1970-03-04",
                "gender": "female",
            },
            "request": {"method": "POST", "url": "Patient"},
        }
    ],
}


@pytest.mark.parametrize("path", ["/fhir", "/fhir/"])
def test_a_transaction_posted_with_a_token_passes_csrf_at_the_base_url(
    path: str, clinician: Any, api_token: Any
) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        path,
        data=orjson.dumps(BUNDLE),
        content_type="application/fhir+json",
        headers=api_token(clinician),
    )
    assert response.status_code == 200, response.content[:500]
    body = orjson.loads(response.content)
    assert body["resourceType"] == "Bundle"
    assert body["type"] == "transaction-response"
    assert body["entry"][0]["response"]["status"].startswith("201")


def _created_patient(client: Client, headers: dict[str, str]) -> dict[str, Any]:
    response = client.post("/fhir", data=orjson.dumps(BUNDLE), content_type="application/fhir+json", headers=headers)
    location = orjson.loads(response.content)["entry"][0]["response"]["location"]
    read = client.get("/fhir/" + location.split("/_history")[0], headers=headers)
    assert read.status_code == 200
    return orjson.loads(read.content)


def test_put_delete_patch_and_post_search_are_not_refused_by_csrf(clinician: Any, api_token: Any) -> None:
    """Each answered Django's CSRF 403 HTML page before issue 12; now each is FHIR JSON with its own status."""
    client = Client(enforce_csrf_checks=True)
    headers = api_token(clinician)
    patient = _created_patient(client, headers)
    url = f"/fhir/Patient/{patient['id']}"
    patient["telecom"] = [{"system": "email", "value": "ada@example.org"}]

    put = client.put(
        url, data=orjson.dumps(patient), content_type="application/fhir+json", headers={**headers, "If-Match": 'W/"1"'}
    )
    assert put.status_code == 200, put.content[:300]
    assert orjson.loads(put.content)["meta"]["versionId"] == "2"

    search = client.post(
        "/fhir/Patient/_search", data="family=Okafor", content_type="application/x-www-form-urlencoded", headers=headers
    )
    assert search.status_code == 200, search.content[:300]
    assert [e["resource"]["id"] for e in orjson.loads(search.content)["entry"]] == [patient["id"]]

    patch = client.patch(url, data=b"{}", content_type="application/json", headers=headers)
    assert patch.status_code == 428  # served (issue 12): If-Match is required, answered as FHIR, not a CSRF page
    assert patch["Content-Type"].startswith("application/fhir+json")
    assert "If-Match" in orjson.loads(patch.content)["issue"][0]["diagnostics"]

    delete = client.delete(url, headers=headers)
    assert delete.status_code == 200, delete.content[:300]
    assert client.get(url, headers=headers).status_code == 410


def test_delete_with_a_stale_if_match_is_refused_and_marks_nothing(clinician: Any, api_token: Any) -> None:
    from prolotrack.patients.models import Patient

    client = Client(enforce_csrf_checks=True)
    headers = api_token(clinician)
    patient = _created_patient(client, headers)
    response = client.delete(f"/fhir/Patient/{patient['id']}", headers={**headers, "If-Match": 'W/"7"'})
    assert response.status_code == 412
    assert Patient.objects.get(uuid=patient["id"]).entered_in_error_at is None


def test_delete_without_a_token_is_401_json(clinician: Any) -> None:
    client = Client(enforce_csrf_checks=True)
    response = client.delete("/fhir/Patient/6b0c1a52-2d3e-4a3c-9d0e-0a1b2c3d4e5f")
    assert response.status_code == 401
    assert orjson.loads(response.content)["resourceType"] == "OperationOutcome"
