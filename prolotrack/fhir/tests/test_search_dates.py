"""Date search follows FHIR: a resource without the element searched never matches (issue 12: Procedure?date
returned not-done procedures, which have no performed[x])."""

from typing import Any

import orjson
import pytest
from django.test import Client

from prolotrack.treatment.models import TreatmentSession

pytestmark = pytest.mark.django_db


def _all(client: Client, headers: dict[str, str], url: str) -> list[dict[str, Any]]:
    out = []
    while url:
        body = orjson.loads(client.get(url, headers=headers).content)
        out += [e["resource"] for e in body.get("entry", []) if e["search"]["mode"] == "match"]
        url = next((link["url"].split("testserver", 1)[1] for link in body["link"] if link["relation"] == "next"), "")
    return out


def test_procedure_date_search_leaves_out_procedures_not_performed(
    history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    client, headers = Client(), api_token(clinician)
    not_done = TreatmentSession.objects.filter(clinic=clinic, status__in=("cancelled", "no_show", "planned", "booked"))
    assert not_done.exists()  # the data has procedures that were not performed
    found = _all(client, headers, "/fhir/Procedure?date=ge1900-01-01&_count=200")
    assert found
    assert all("performedDateTime" in p for p in found), [p["status"] for p in found if "performedDateTime" not in p]
    done = TreatmentSession.objects.filter(clinic=clinic, status="done").count()
    assert len(found) == done
    everything = _all(client, headers, "/fhir/Procedure?_count=200")
    assert len(everything) > len(found)


def test_procedure_date_prefixes_compare_the_performed_date(
    history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    client, headers = Client(), api_token(clinician)
    session = TreatmentSession.objects.filter(clinic=clinic, status="done").order_by("planned_on").first()
    day = session.planned_on.isoformat()
    on_day = _all(client, headers, f"/fhir/Procedure?date={day}&_count=200")
    assert session.uuid.hex in {p["id"].replace("-", "") for p in on_day}
    assert all(p["performedDateTime"][:10] == day or p["performedDateTime"].startswith(day) for p in on_day)
    before = _all(client, headers, f"/fhir/Procedure?date=lt{day}&_count=200")
    assert before == []  # it is the earliest performed session


def test_category_search_on_observation_and_condition(
    history: Any, clinic: Any, clinician: Any, api_token: Any
) -> None:
    from prolotrack.patients.models import Condition

    client, headers = Client(), api_token(clinician)
    vitals = _all(client, headers, "/fhir/Observation?category=vital-signs&_count=200")
    surveys = _all(
        client,
        headers,
        "/fhir/Observation?category=http://terminology.hl7.org/CodeSystem/observation-category|survey&_count=200",
    )
    assert vitals and surveys
    assert {o["code"]["coding"][0]["code"] for o in vitals} == {"29463-7"}
    assert all(o["category"][0]["coding"][0]["code"] == "survey" for o in surveys)
    both = _all(client, headers, "/fhir/Observation?category=vital-signs,survey&_count=500")
    assert len(both) == len(vitals) + len(surveys)
    assert _all(client, headers, "/fhir/Observation?category=laboratory") == []
    problems = _all(client, headers, "/fhir/Condition?category=problem-list-item&_count=200")
    assert len(problems) == Condition.objects.filter(clinic=clinic).count()
    complaints = _all(client, headers, "/fhir/Condition?category=complaint&_count=200")
    assert len(complaints) == Condition.objects.filter(clinic=clinic, category="complaint").count()
    assert _all(client, headers, "/fhir/Condition?category=encounter-diagnosis") == []
