"""Each claim of the CapabilityStatement is exercised (issue 12): for every resource type, every search parameter
it lists is accepted under `Prefer: handling=strict` (a claimed parameter the server did not understand would be
refused there), every _include it lists works, and read, vread and history-instance answer where claimed."""

from typing import Any

import orjson
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

# A value of each FHIR search type that the parameter must accept (it may match nothing).
VALUES = {
    "date": "ge2000-01-01",
    "token": "active",
    "reference": "Patient/00000000-0000-4000-8000-000000000000",
    "string": "a",
    "uri": "http://example.org/x",
}
TOKENS = {
    "_id": "00000000-0000-4000-8000-000000000000",
    "code": "http://loinc.org|29463-7",
    "identifier": "urn:x|1",
    "gender": "female",
    "phone": "555",
    "email": "a@example.org",
    "telecom": "555",
    "category": "survey",
}


def _get(client: Client, headers: dict[str, str], url: str) -> Any:
    return client.get(url, headers={**headers, "Prefer": "handling=strict"})


def test_every_claimed_search_parameter_and_include_is_understood(
    history: Any, clinician: Any, admin_user: Any, api_token: Any
) -> None:
    client = Client()
    statement = orjson.loads(client.get("/fhir/metadata").content)
    headers = api_token(admin_user)  # Group and other administrator types
    clinician_headers = api_token(clinician)
    checked = 0
    for resource in statement["rest"][0]["resource"]:
        name = resource["type"]
        if name in ("Binary",):
            continue
        for param in resource.get("searchParam", []):
            value = TOKENS.get(param["name"], VALUES[param["type"]])
            url = f"/fhir/{name}?{param['name']}={value}"
            answers = [_get(client, h, url) for h in (clinician_headers, headers)]
            ok = [a for a in answers if a.status_code == 200]
            assert ok, (url, [(a.status_code, a.content[:200]) for a in answers])
            body = orjson.loads(ok[0].content)
            assert not [e for e in body.get("entry", []) if e["search"]["mode"] == "outcome"], url
            checked += 1
        for include in resource.get("searchInclude", []):
            answers = [_get(client, h, f"/fhir/{name}?_include={include}") for h in (clinician_headers, headers)]
            assert any(a.status_code == 200 for a in answers), (include, [a.status_code for a in answers])
            checked += 1
        for include in resource.get("searchRevInclude", []):
            url = f"/fhir/{name}?_revinclude={include}&_count=3"
            answers = [_get(client, h, url) for h in (clinician_headers, headers)]
            assert any(a.status_code == 200 for a in answers), (include, [a.status_code for a in answers])
            checked += 1
    assert checked > 80


def test_read_vread_and_history_answer_where_claimed(
    history: Any, clinician: Any, admin_user: Any, api_token: Any
) -> None:
    client = Client()
    statement = orjson.loads(client.get("/fhir/metadata").content)
    tokens = [api_token(clinician), api_token(admin_user)]
    for resource in statement["rest"][0]["resource"]:
        name = resource["type"]
        codes = {i["code"] for i in resource["interaction"]}
        if name in ("Binary",) or "search-type" not in codes:
            continue
        found = None
        for headers in tokens:
            response = client.get(f"/fhir/{name}?_count=1", headers=headers)
            entries = orjson.loads(response.content).get("entry", []) if response.status_code == 200 else []
            if entries:
                found = (headers, entries[0]["resource"])
                break
        if found is None:
            continue  # the demo history has none of this type (e.g. Group)
        headers, first = found
        url = f"/fhir/{name}/{first['id']}"
        assert client.get(url, headers=headers).status_code == 200, url
        if "vread" in codes:
            version = first["meta"]["versionId"]
            assert client.get(f"{url}/_history/{version}", headers=headers).status_code == 200, url
        if "history-instance" in codes:
            history_bundle = client.get(f"{url}/_history", headers=headers)
            assert history_bundle.status_code == 200, url
            assert orjson.loads(history_bundle.content)["entry"], url
        else:
            assert client.get(f"{url}/_history", headers=headers).status_code == 404, url
        if "patch" in codes:
            # An empty JSON Patch at the version read: the update path answers, and changes nothing.
            version = first["meta"]["versionId"]
            patched = client.patch(
                url, data=b"[]", content_type="application/json-patch+json",
                headers={**tokens[0], "If-Match": f'W/"{version}"'},
            )  # fmt: skip
            assert patched.status_code == 200, (url, patched.content[:300])
            assert patched["ETag"] == f'W/"{version}"', (url, "an empty patch wrote a new version")
