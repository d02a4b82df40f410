"""Search: `_sort` (date, -date, _lastUpdated) across a type's sources with paging by next links, unknown sort keys
refused under handling=strict, `_revinclude` of the references served, Condition `code` token search."""

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import orjson
import pytest
from django.db import transaction
from django.test import Client

from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
STRICT = {"Prefer": "handling=strict"}


def observation(patient: Any, code: str, when: str, value: float) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "Observation",
            "status": "final",
            "code": {"coding": [{"system": "http://loinc.org", "code": code}]},
            "subject": {"reference": f"Patient/{patient.uuid}"},
            "effectiveDateTime": when,
            "valueQuantity": {"value": value, "unit": "1"},
        },
        "request": {"method": "POST", "url": "Observation"},
    }


@pytest.fixture
def chart(clinician: Any, api_token: Any, patient: Any) -> tuple[Client, dict[str, str], Any]:
    """Weights (dates) and kept Observations (instants) of one patient, interleaved in time."""
    client, headers = Client(), api_token(clinician)
    with transaction.atomic():
        for day, kg in ((date(2025, 1, 5), "70.0"), (date(2025, 3, 1), "71.0"), (date(2024, 12, 1), "69.0")):
            patient_services.add_child(
                actor_of(clinician), patient, "weight", {"measured_on": day, "weight_kg": Decimal(kg)}
            )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            observation(patient, "8310-5", "2025-02-01T09:00:00Z", 37.0),
            observation(patient, "8867-4", "2025-01-05T12:00:00Z", 61),
            observation(patient, "8310-5", "2024-06-01T09:00:00Z", 36.8),
        ],
    }
    response = client.post("/fhir", data=orjson.dumps(bundle), content_type=FHIR_JSON, headers=headers)
    assert response.status_code == 200, response.content
    return client, headers, patient


def effective(resource: dict[str, Any]) -> str:
    return str(resource["effectiveDateTime"])[:10]


def walk(client: Client, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    """Every resource of a search, following next links."""
    out: list[dict[str, Any]] = []
    while url:
        body = orjson.loads(client.get(url, headers=headers).content)
        out += [e["resource"] for e in body.get("entry", []) if e["search"]["mode"] == "match"]
        url = next((link["url"].split("testserver")[-1] for link in body["link"] if link["relation"] == "next"), "")
    return out


@pytest.mark.parametrize("count", [1, 2, 50])
def test_sort_by_date_across_sources_and_pages(chart: Any, count: int) -> None:
    client, headers, patient = chart
    up = walk(client, headers, f"/fhir/Observation?patient={patient.uuid}&_sort=date&_count={count}")
    days = [effective(r) for r in up]
    assert days == ["2024-06-01", "2024-12-01", "2025-01-05", "2025-01-05", "2025-02-01", "2025-03-01"]
    # On the same day the weight (a date: local midnight) comes before the instant at noon UTC.
    assert up[2]["code"]["coding"][0]["code"] == "29463-7"
    down = walk(client, headers, f"/fhir/Observation?patient={patient.uuid}&_sort=-date&_count={count}")
    assert [effective(r) for r in down] == sorted(days, reverse=True)
    assert len({r["id"] for r in down}) == 6


def test_sort_by_last_updated(chart: Any) -> None:
    client, headers, patient = chart
    found = walk(client, headers, f"/fhir/Observation?patient={patient.uuid}&_sort=-_lastUpdated&_count=4")
    stamps = [r["meta"]["lastUpdated"] for r in found]
    assert len(found) == 6 and stamps == sorted(stamps, reverse=True)


def test_an_unknown_sort_key_is_refused_when_strict_and_reported_otherwise(chart: Any) -> None:
    client, headers, _ = chart
    strict = client.get("/fhir/Observation?_sort=value-quantity", headers={**headers, **STRICT})
    assert strict.status_code == 400
    assert "value-quantity" in strict.content.decode()
    lenient = orjson.loads(client.get("/fhir/Observation?_sort=value-quantity", headers=headers).content)
    outcome = lenient["entry"][-1]
    assert (
        outcome["search"]["mode"] == "outcome"
        and "_sort=value-quantity" in outcome["resource"]["issue"][0]["diagnostics"]
    )
    assert client.get("/fhir/Observation?_sort=date,_lastUpdated", headers={**headers, **STRICT}).status_code == 400


def test_revinclude_adds_the_resources_that_point_at_the_page(chart: Any, clinician: Any) -> None:
    client, headers, patient = chart
    body = orjson.loads(
        client.get(
            f"/fhir/Patient?_id={patient.uuid}&_revinclude=Observation:patient", headers={**headers, **STRICT}
        ).content
    )
    modes = [(e["resource"]["resourceType"], e["search"]["mode"]) for e in body["entry"]]
    assert modes.count(("Patient", "match")) == 1
    assert modes.count(("Observation", "include")) == 6
    # Not one the server serves (no Provenance here): refused when strict, as the CapabilityStatement lists none.
    assert client.get("/fhir/Patient?_revinclude=Provenance:target", headers={**headers, **STRICT}).status_code == 400
    assert client.get("/fhir/Patient?_revinclude=Observation:foo", headers={**headers, **STRICT}).status_code == 400


def test_condition_code_token_search(clinician: Any, api_token: Any, patient: Any) -> None:
    client, headers = Client(), api_token(clinician)
    with transaction.atomic():
        add = patient_services.add_child
        actor = actor_of(clinician)
        add(actor, patient, "condition", {"description": "Knee OA", "codes": ["http://snomed.info/sct|239873007"]})
        add(actor, patient, "condition", {"description": "Diabetes", "screening_flag": "diabetes",
                                          "codes": ["http://hl7.org/fhir/sid/icd-10-cm|E11.9"]})  # fmt: skip

    def found(query: str) -> list[str]:
        body = orjson.loads(client.get(f"/fhir/Condition?{query}", headers={**headers, **STRICT}).content)
        return sorted(e["resource"]["code"]["text"] for e in body.get("entry", []))

    assert found("code=http://snomed.info/sct|239873007") == ["Knee OA"]
    assert found("code=239873007") == ["Knee OA"]
    assert found("code=http://hl7.org/fhir/sid/icd-10-cm|E11.9,239873007") == ["Diabetes", "Knee OA"]
    assert found("code=http://loinc.org|239873007") == []
    assert found("code=23987") == []
    assert found("code=diabetes") == ["Diabetes"]


def test_careplan_date_is_its_open_period(history: Any, clinician: Any, api_token: Any) -> None:
    """CarePlan.period has a start only (a course records no end): FHIR's prefixes over an open period."""
    from prolotrack.treatment.models import Course

    client, headers = Client(), api_token(clinician)
    course = Course.objects.order_by("started_on", "pk").first()
    start = course.started_on

    def ids(query: str) -> set[str]:
        body = orjson.loads(client.get(f"/fhir/CarePlan?_count=500&{query}", headers=headers).content)
        return {e["resource"]["id"] for e in body.get("entry", [])}

    day = start.isoformat()
    assert str(course.uuid) not in ids(f"date={day}")  # an open period is never contained
    assert str(course.uuid) in ids(f"date=gt{day}")  # it reaches beyond any day after its start
    assert str(course.uuid) in ids("date=ge2099-01-01")
    assert str(course.uuid) in ids(f"date=sa{(start - timedelta(days=1)).isoformat()}")
    assert str(course.uuid) not in ids(f"date=sa{day}")
    assert str(course.uuid) not in ids(f"date=lt{day}")
    assert str(course.uuid) not in ids("date=eb2099-01-01")
