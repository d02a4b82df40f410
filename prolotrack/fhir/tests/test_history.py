"""_history and vread from the product's version rows; If-None-Match answers 304; every write's Location resolves.

Before issue 12 `GET .../_history/N` answered 404 although every write answered with such a Location."""

import json
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import orjson
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"


def _post(client: Client, headers: dict[str, str], bundle: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/fhir", data=orjson.dumps(bundle), content_type="application/fhir+json", headers=headers)
    assert response.status_code == 200, response.content[:500]
    return orjson.loads(response.content)


def test_every_location_a_transaction_answers_resolves(clinician: Any, api_token: Any) -> None:
    client, headers = Client(), api_token(clinician)
    body = _post(client, headers, json.loads((FIXTURES / "synthea_transaction.json").read_text()))
    locations = [e["response"]["location"] for e in body["entry"] if e["response"].get("location")]
    assert len(locations) > 50
    for location in locations:
        assert "/_history/" in location
        response = client.get(f"/fhir/{location}", headers=headers)
        assert response.status_code == 200, (location, response.content[:300])
        resource = orjson.loads(response.content)
        assert f"{resource['resourceType']}/{resource['id']}" == location.split("/_history/")[0]
        assert resource["meta"]["versionId"] == location.rsplit("/", 1)[1]


def test_history_and_vread_show_each_version_as_it_was(clinician: Any, api_token: Any) -> None:
    client, headers = Client(), api_token(clinician)
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "resource": {
                    "resourceType": "Patient",
                    "identifier": [{"system": "urn:test:mrn", "value": "H-1"}],
                    "name": [{"family": "Okafor", "given": ["Ada"]}],
                    "birthDate": "1970-03-04",
                    "telecom": [{"system": "phone", "value": "555-0100"}],
                },
                "request": {"method": "POST", "url": "Patient"},
            }
        ],
    }
    location = _post(client, headers, bundle)["entry"][0]["response"]["location"]
    url = "/fhir/" + location.split("/_history")[0]
    current = orjson.loads(client.get(url, headers=headers).content)
    current["telecom"] = [{"system": "phone", "value": "555-0199"}]
    put = client.put(
        url, data=orjson.dumps(current), content_type="application/fhir+json", headers={**headers, "If-Match": 'W/"1"'}
    )
    assert put.status_code == 200
    assert put["Location"].endswith("/_history/2")

    history = orjson.loads(client.get(f"{url}/_history", headers=headers).content)
    assert history["type"] == "history"
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert [e["resource"]["telecom"][0]["value"] for e in history["entry"]] == ["555-0199", "555-0100"]
    assert history["entry"][1]["request"]["method"] == "POST"

    first = client.get(f"{url}/_history/1", headers=headers)
    assert first.status_code == 200
    assert first["ETag"] == 'W/"1"'
    assert orjson.loads(first.content)["telecom"][0]["value"] == "555-0100"
    assert client.get(f"{url}/_history/3", headers=headers).status_code == 404
    assert client.get(urlparse(put["Location"]).path, headers=headers).status_code == 200


def test_if_none_match_answers_304_only_for_the_current_version(clinician: Any, api_token: Any) -> None:
    client, headers = Client(), api_token(clinician)
    bundle = json.loads((FIXTURES / "synthea_transaction.json").read_text())
    location = _post(client, headers, bundle)["entry"][0]["response"]["location"]
    url = "/fhir/" + location.split("/_history")[0]
    same = client.get(url, headers={**headers, "If-None-Match": 'W/"1"'})
    assert same.status_code == 304
    assert same.content == b""
    assert same["ETag"] == 'W/"1"'
    assert client.get(url, headers={**headers, "If-None-Match": 'W/"2"'}).status_code == 200
    assert client.get(url, headers={**headers, "If-None-Match": "1"}).status_code == 304  # fhirpy sends the bare id
    assert client.get(f"{url}/_history/1", headers={**headers, "If-None-Match": 'W/"1"'}).status_code == 304


def test_history_of_another_clinics_record_is_404(
    clinician: Any, api_token: Any, make_member: Any, other_clinic: Any
) -> None:
    client = Client()
    body = _post(client, api_token(clinician), json.loads((FIXTURES / "synthea_transaction.json").read_text()))
    location = body["entry"][0]["response"]["location"]
    stranger = make_member("stranger", "clinician", other_clinic)
    response = client.get(f"/fhir/{location}", headers=api_token(stranger))
    assert response.status_code == 404
    assert (
        client.get("/fhir/" + location.split("/_history")[0] + "/_history", headers=api_token(stranger)).status_code
        == 404
    )
