"""Real Synthea R4 data as published (fixtures/README.md): 20 transaction bundles through POST /fhir, and a Bulk
NDJSON sample through `manage.py import_fhir`. Every patient, condition, allergy, medication and weight they hold
gets in; social findings stay off the problem list; every other Observation is kept as sent, and pain-severity
values that are not whole 0-10 answers are kept as Observations only, never rounded.

Before issue 12 each of these bundles was refused whole ("a pain NRS score is a whole number from 0 to 10").
The expected counts are computed here from the bundles by the documented matching rules (docs/FHIR-IMPORT.md,
"Matching"), not copied from the importer.
"""

import gzip
import json
from collections import defaultdict
from io import StringIO
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.management import call_command
from django.test import Client

from prolotrack.fhir.inbound import SOCIAL_CODES
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients.models import Allergy, Condition, Medication, Observation, Patient, WeightMeasurement

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures"
BUNDLES = sorted((FIXTURES / "synthea_r4").glob("*.json.gz"))
LOINC = "http://loinc.org"


def load(path: Path) -> dict[str, Any]:
    return json.loads(gzip.decompress(path.read_bytes()))


def _codes(concept: dict[str, Any] | None, system: str) -> set[str]:
    return {c.get("code") for c in (concept or {}).get("coding", []) if c.get("system") == system}


def _text(concept: dict[str, Any]) -> str:
    if concept.get("text"):
        return concept["text"].strip()
    return next((c["display"].strip() for c in concept.get("coding", []) if c.get("display")), "")


def expected(bundle: dict[str, Any]) -> dict[str, Any]:
    """What the bundle holds in ProloTrack's terms, by the documented rules."""
    conditions: set[tuple[str, str]] = set()
    social = 0
    allergies: set[str] = set()
    medications: set[str] = set()
    weights: set[str] = set()
    pain_not_nrs = 0
    pain_nrs: set[str] = set()
    kept: set[Any] = set()  # the match key of a kept Observation: its codings and effective[x] as written
    for item in bundle["entry"]:
        r = item["resource"]
        kind = r["resourceType"]
        if kind == "Condition":
            if _codes(r["code"], "http://snomed.info/sct") & set(SOCIAL_CODES):
                social += 1
                continue
            onset = (r.get("onsetDateTime") or "")[:10]
            conditions.add((_text(r["code"]).casefold(), onset))
        elif kind == "AllergyIntolerance":
            allergies.add(_text(r["code"]).casefold())
        elif kind in ("MedicationRequest", "MedicationStatement"):
            if r["status"] not in ("entered-in-error", "cancelled", "draft"):
                medications.add(_text(r["medicationCodeableConcept"]).casefold())
        elif kind == "Observation":
            codes = _codes(r["code"], LOINC)
            when = (r.get("effectiveDateTime") or r.get("issued"))[:10]
            if "29463-7" in codes:
                weights.add(when)
                continue
            if r["status"] not in ("entered-in-error", "cancelled"):
                codings = tuple((c.get("system"), c.get("code")) for c in r["code"].get("coding", []))
                kept.add((codings, r.get("effectiveDateTime") or str(r.get("effectivePeriod"))))
            if "72514-3" in codes:
                value = r["valueQuantity"]["value"]
                if value == int(value) and 0 <= value <= 10:
                    pain_nrs.add(when)
                else:
                    pain_not_nrs += 1
    return {
        "conditions": len(conditions),
        "social": social,
        "allergies": len(allergies),
        "medications": len(medications),
        "weights": len(weights),
        "pain_nrs": len(pain_nrs),
        "pain_not_nrs": pain_not_nrs,
        "observations": len(kept),
    }


def test_the_sample_is_twenty_published_bundles_with_the_variety_it_was_chosen_for() -> None:
    assert len(BUNDLES) == 20
    totals: dict[str, int] = defaultdict(int)
    for path in BUNDLES:
        for key, value in expected(load(path)).items():
            totals[key] += value
    assert totals["allergies"] > 0
    assert totals["medications"] > 0
    assert totals["pain_not_nrs"] > 0  # Synthea's fractional pain severities (e.g. 0.18, 3.079)


@pytest.mark.parametrize("path", BUNDLES, ids=[p.name.split("_")[0] + "_" + p.name.split("_")[1] for p in BUNDLES])
def test_a_published_synthea_bundle_imports_with_everything_it_holds(
    path: Path, clinician: Any, api_token: Any, clinic: Any
) -> None:
    bundle = load(path)
    want = expected(bundle)
    response = Client().post(
        "/fhir", data=orjson.dumps(bundle), content_type="application/fhir+json", headers=api_token(clinician)
    )
    assert response.status_code == 200, response.content[:800]
    body = orjson.loads(response.content)
    assert body["type"] == "transaction-response"
    assert len(body["entry"]) == len(bundle["entry"])

    patient = Patient.objects.get(clinic=clinic)
    source = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Patient")
    assert patient.date_of_birth.isoformat() == source["birthDate"]
    assert patient.family_name == source["name"][0]["family"]
    assert Condition.objects.filter(patient=patient).count() == want["conditions"]
    assert Allergy.objects.filter(patient=patient).count() == want["allergies"]
    assert Medication.objects.filter(patient=patient).count() == want["medications"]
    assert WeightMeasurement.objects.filter(patient=patient).count() == want["weights"]
    assert QuestionnaireResponse.objects.filter(patient=patient).count() == want["pain_nrs"]
    # Every other Observation is kept as sent; nothing rounded: a fractional severity is kept with its value, and its
    # entry says it is not a pain NRS answer.
    assert Observation.objects.filter(patient=patient).count() == want["observations"]
    assert Observation.objects.filter(patient=patient, pain_answer__isnull=False).count() == want["pain_nrs"]
    sent = sorted(
        str(e["resource"]["valueQuantity"]["value"])
        for e in bundle["entry"]
        if e["resource"]["resourceType"] == "Observation" and "72514-3" in _codes(e["resource"]["code"], LOINC)
    )
    stored = sorted(
        str(o.resource["valueQuantity"]["value"])
        for o in Observation.objects.filter(patient=patient, code_tokens__contains="|72514-3 ")
    )
    assert set(stored) <= set(sent) and bool(stored) == bool(sent)  # each value kept exactly as one was sent
    notes = " ".join(i["diagnostics"] for e in body["entry"] for i in e["response"].get("outcome", {}).get("issue", []))
    if want["pain_not_nrs"]:
        assert "not a whole number from 0 to 10" in notes and "never rounded" in notes
    descriptions = list(Condition.objects.filter(patient=patient).values_list("description", flat=True))
    assert not [d for d in descriptions if "employment" in d.lower() or "social isolation" in d.lower()]


def test_the_bulk_ndjson_sample_imports_and_keeps_social_findings_off_the_problem_list(
    clinician: Any, clinic: Any, tmp_path: Path
) -> None:
    folder = tmp_path / "bulk"
    folder.mkdir()
    resources: dict[str, list[dict[str, Any]]] = {}
    for gz in sorted((FIXTURES / "synthea_bulk_10").glob("*.ndjson.gz")):
        raw = gzip.decompress(gz.read_bytes())
        (folder / gz.name.removesuffix(".gz")).write_bytes(raw)
        resources[gz.name.split(".")[0]] = [json.loads(line) for line in raw.splitlines() if line.strip()]
    out = StringIO()
    call_command("import_fhir", str(folder), "--user", "clinician", stdout=out, stderr=StringIO())

    assert Patient.objects.filter(clinic=clinic).count() == len(resources["Patient"])
    by_patient: dict[str, dict[str, set[Any]]] = defaultdict(lambda: defaultdict(set))
    social = 0
    for r in resources["Condition"]:
        ref = r["subject"]["reference"]
        if _codes(r["code"], "http://snomed.info/sct") & set(SOCIAL_CODES):
            social += 1
            continue
        by_patient[ref]["conditions"].add((_text(r["code"]).casefold(), (r.get("onsetDateTime") or "")[:10]))
    for r in resources["AllergyIntolerance"]:
        by_patient[r["patient"]["reference"]]["allergies"].add(_text(r["code"]).casefold())
    for r in resources["MedicationRequest"]:
        by_patient[r["subject"]["reference"]]["medications"].add(_text(r["medicationCodeableConcept"]).casefold())
    assert social > 200  # "Full-time employment (finding)" alone is 212 of them
    total = {k: sum(len(v[k]) for v in by_patient.values()) for k in ("conditions", "allergies", "medications")}
    assert Condition.objects.filter(clinic=clinic).count() == total["conditions"]
    assert Allergy.objects.filter(clinic=clinic).count() == total["allergies"]
    assert Medication.objects.filter(clinic=clinic).count() == total["medications"]
    assert not Condition.objects.filter(clinic=clinic, description__icontains="employment").exists()
    assert Condition.objects.filter(clinic=clinic, description="Chronic low back pain (finding)").exists()


def _request(status: str, authored: str) -> dict[str, Any]:
    return {
        "resource": {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": {"text": "Warfarin Sodium 5 MG Oral Tablet"},
            "subject": {"reference": "urn:uuid:11111111-1111-4111-8111-111111111111"},
            "authoredOn": authored,
        },
        "request": {"method": "POST", "url": "MedicationRequest"},
    }


@pytest.mark.parametrize(
    ("statuses", "expected"),
    [
        (("stopped", "active"), "active"),
        (("active", "stopped"), "active"),  # any active order: taking (the cautious reading for screening)
        (("stopped", "completed"), "stopped"),
        (("active",), "active"),
    ],
)
def test_medication_requests_for_one_medicine_are_one_medication(
    statuses: tuple[str, ...], expected: str, clinician: Any, api_token: Any, clinic: Any
) -> None:
    patient = {
        "fullUrl": "urn:uuid:11111111-1111-4111-8111-111111111111",
        "resource": {
            "resourceType": "Patient",
            "identifier": [{"system": "urn:x", "value": "MR-1"}],
            "name": [{"family": "Okafor", "given": ["Ada"]}],
            "birthDate": "1970-03-04",
        },
        "request": {"method": "POST", "url": "Patient"},
    }
    entries = [patient, *(_request(s, f"202{i}-01-01") for i, s in enumerate(statuses))]
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    client, headers = Client(), api_token(clinician)
    for _ in range(2):  # a re-import changes nothing
        response = client.post(
            "/fhir", data=orjson.dumps(bundle), content_type="application/fhir+json", headers=headers
        )
        assert response.status_code == 200, response.content[:300]
    medication = Medication.objects.get(clinic=clinic)
    assert (medication.status, medication.drug_class, medication.version) == (expected, "anticoagulant", 1)
