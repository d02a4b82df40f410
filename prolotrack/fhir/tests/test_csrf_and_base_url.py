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
