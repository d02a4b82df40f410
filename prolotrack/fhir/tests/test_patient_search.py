"""Patient search by name, family, given, identifier, phone, email, gender, birthdate (issue 12): only matches, and
an unsupported parameter never widens the search to all patients under handling=strict."""

from typing import Any

import orjson
import pytest
from django.test import Client

pytestmark = pytest.mark.django_db

PEOPLE = [
    # given, family, birthDate, gender, phone, email
    ("Ada", "Okafor", "1970-03-04", "female", "+1 312 555 0100", "ada@example.org"),
    ("Adam Lee", "Okafor-Smith", "1982-11-30", "male", "", "adam@example.org"),
    ("Bea", "Lindqvist", "1970-03-04", "female", "+1 312 555 0199", ""),
    ("Carl", "Madsen", "2001-07-15", "other", "", ""),
]


@pytest.fixture
def people(clinician: Any, api_token: Any) -> tuple[Client, dict[str, str], dict[str, str]]:
    client = Client()
    headers = api_token(clinician)
    entries = []
    for i, (given, family, born, gender, phone, email) in enumerate(PEOPLE):
        telecom = [t for t in ({"system": "phone", "value": phone}, {"system": "email", "value": email}) if t["value"]]
        resource = {
            "resourceType": "Patient",
            "identifier": [{"system": "urn:test:mrn", "value": f"S-{i}"}],
            "name": [{"family": family, "given": given.split()}],
            "birthDate": born,
            "gender": gender,
        }
        if telecom:
            resource["telecom"] = telecom
        entries.append({"resource": resource, "request": {"method": "POST", "url": "Patient"}})
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    response = client.post("/fhir", data=orjson.dumps(bundle), content_type="application/fhir+json", headers=headers)
    assert response.status_code == 200, response.content[:300]
    ids = {}
    for entry, (given, *_rest) in zip(orjson.loads(response.content)["entry"], PEOPLE, strict=True):
        ids[given] = entry["response"]["location"].split("/")[1]
    return client, headers, ids


def _names(client: Client, headers: dict[str, str], query: str, **extra: str) -> list[str]:
    response = client.get(f"/fhir/Patient?{query}", headers={**headers, **extra})
    assert response.status_code == 200, response.content[:300]
    body = orjson.loads(response.content)
    return sorted(
        " ".join(e["resource"]["name"][0]["given"])
        for e in body.get("entry", [])
        if e["resource"]["resourceType"] == "Patient"
    )


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("name=okafor", ["Ada", "Adam Lee"]),
        ("name=OKAFOR-SMITH", ["Adam Lee"]),
        ("name=lee", ["Adam Lee"]),  # a later given name
        ("name=ada", ["Ada", "Adam Lee"]),  # starts with
        ("name:exact=Ada", ["Ada"]),
        ("name:contains=kaf", ["Ada", "Adam Lee"]),
        ("family=Okafor", ["Ada", "Adam Lee"]),
        ("family:exact=Okafor", ["Ada"]),
        ("given=bea", ["Bea"]),
        ("given=Lindqvist", []),
        ("name=ada,bea", ["Ada", "Adam Lee", "Bea"]),  # a comma is OR
        ("name=ada&name=lee", ["Adam Lee"]),  # repeated is AND
        ("identifier=S-2", ["Bea"]),
        ("identifier=urn:other|S-2", []),
        ("phone=%2B1 312 555 0199", ["Bea"]),
        ("email=ADA@example.org", ["Ada"]),
        ("telecom=adam@example.org", ["Adam Lee"]),
        ("gender=female", ["Ada", "Bea"]),
        ("gender=other", ["Carl"]),
        ("birthdate=1970-03-04", ["Ada", "Bea"]),
        ("birthdate=ge1982", ["Adam Lee", "Carl"]),
        ("birthdate=lt1971", ["Ada", "Bea"]),
        ("name=okafor&birthdate=1970-03-04", ["Ada"]),
        ("name=nobody", []),
    ],
)
def test_patient_search_returns_only_matches(people: Any, query: str, expected: list[str]) -> None:
    client, headers, _ = people
    assert _names(client, headers, query) == expected


def test_identifier_with_the_own_mrn_system_matches(people: Any) -> None:
    client, headers, ids = people
    read = orjson.loads(client.get(f"/fhir/Patient/{ids['Carl']}", headers=headers).content)
    ident = read["identifier"][0]
    assert _names(client, headers, f"identifier={ident['system']}|{ident['value']}") == ["Carl"]


def test_unknown_parameter_strict_is_refused_and_lenient_is_reported(people: Any) -> None:
    client, headers, _ = people
    strict = client.get("/fhir/Patient?nickname=ada", headers={**headers, "Prefer": "handling=strict"})
    assert strict.status_code == 400
    assert "nickname" in orjson.loads(strict.content)["issue"][0]["diagnostics"]
    lenient = orjson.loads(client.get("/fhir/Patient?nickname=ada", headers=headers).content)
    outcomes = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
    assert "nickname" in outcomes[0]["resource"]["issue"][0]["diagnostics"]


def test_an_unsupported_modifier_is_refused(people: Any) -> None:
    client, headers, _ = people
    response = client.get("/fhir/Patient?name:missing=true", headers=headers)
    assert response.status_code == 400


def test_total_and_summary_count(people: Any) -> None:
    client, headers, _ = people
    counted = orjson.loads(client.get("/fhir/Patient?gender=female&_summary=count", headers=headers).content)
    assert counted["total"] == 2
    assert "entry" not in counted
    accurate = orjson.loads(client.get("/fhir/Patient?_total=accurate&_count=1", headers=headers).content)
    assert accurate["total"] == 4
    assert len(accurate["entry"]) == 1
    plain = orjson.loads(client.get("/fhir/Patient?_count=1", headers=headers).content)
    assert "total" not in plain
