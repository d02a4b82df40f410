"""The HL7 FHIR R4 examples (npm hl7.fhir.r4.examples 4.0.1, CC0; fixtures/README.md) of the types ProloTrack
imports: each imports, is skipped with its reason, or is refused with a clear reason naming the element to fix.
Nothing in between: never a 500, never a refusal without a FHIRPath."""

import json
from pathlib import Path
from typing import Any

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.fhir.importer import ImportFailure, import_bundle

pytestmark = pytest.mark.django_db

FOLDER = Path(__file__).parent / "fixtures" / "hl7_r4_examples"
EXAMPLES = sorted(FOLDER.glob("*.json"))
PATIENTS = [p for p in EXAMPLES if p.name.startswith("Patient-")]
OTHERS = [p for p in EXAMPLES if not p.name.startswith("Patient-")]


def fhir_actor(user: Any) -> Any:
    actor = actor_of(user)
    return type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, "fhir")


def _entry(resource: dict[str, Any]) -> dict[str, Any]:
    return {"resource": resource, "request": {"method": "POST", "url": resource["resourceType"]}}


def outcome_of(actor: Any, resources: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """("imported" | "skipped" | "refused", details) for the last resource, the others being its patients."""
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [_entry(r) for r in resources]}
    try:
        result = import_bundle(actor, bundle, dry_run=True)
    except ImportFailure as failure:
        return "refused", [i.as_fhir() for i in failure.issues]
    last = result.outcomes[-1]
    if last.result == "skipped":
        return "skipped", [{"diagnostics": last.reason}]
    return "imported", [{"diagnostics": last.result}]


IMPORTABLE_PATIENTS: list[dict[str, Any]] = []


def _patients(actor: Any) -> list[dict[str, Any]]:
    """The patient examples that import (dry run), found once per test session."""
    if not IMPORTABLE_PATIENTS:
        for path in PATIENTS:
            resource = json.loads(path.read_text())
            if outcome_of(actor, [resource])[0] == "imported":
                IMPORTABLE_PATIENTS.append(resource)
    return IMPORTABLE_PATIENTS


def test_the_examples_are_the_published_ones() -> None:
    assert len(PATIENTS) >= 10
    assert {p.name.split("-")[0] for p in OTHERS} == {
        "AllergyIntolerance", "Condition", "MedicationRequest", "MedicationStatement", "Observation",
    }  # fmt: skip


@pytest.mark.parametrize("path", PATIENTS, ids=[p.stem for p in PATIENTS])
def test_each_patient_example_imports_or_is_refused_with_a_reason(path: Path, clinician: Any) -> None:
    status, details = outcome_of(fhir_actor(clinician), [json.loads(path.read_text())])
    assert status in ("imported", "refused"), details
    if status == "refused":
        assert all(d["diagnostics"] and d.get("expression") for d in details), details


@pytest.mark.parametrize("path", OTHERS, ids=[p.stem for p in OTHERS])
def test_each_clinical_example_imports_is_skipped_or_refused_with_a_reason(path: Path, clinician: Any) -> None:
    actor = fhir_actor(clinician)
    patients = _patients(actor)
    resource = json.loads(path.read_text())
    status, details = outcome_of(actor, [*patients, resource])
    assert all(d["diagnostics"] for d in details), details
    if status == "refused":
        # The refusal is about this example (the last entry), and names where.
        where = f"Bundle.entry[{len(patients)}]"
        assert all((d.get("expression") or [""])[0].startswith(where) for d in details), details


EXPECTED = {
    # The ones that map, imported by their subject (one of the patient examples).
    "Condition-example": "imported",
    "AllergyIntolerance-example": "imported",
    "Observation-example": "imported",  # body weight 185 [lb_av]
    # Their subject, Patient/pat1, is refused (no birthDate), so they are refused as published ("resolves to no
    # Patient"); pointed at Patient/example they import: MedicationStatement-example001's medication is the
    # contained Medication #med0309 (refused before issue 12).
    "MedicationStatement-example001": "imported",
    "MedicationRequest-medrx0301": "imported",
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_the_examples_that_map_are_imported(name: str, clinician: Any) -> None:
    actor = fhir_actor(clinician)
    patients = _patients(actor)
    resource = json.loads((FOLDER / f"{name}.json").read_text())
    if resource.get("subject", {}).get("reference") == "Patient/pat1":
        status, details = outcome_of(actor, [*patients, resource])
        assert status == "refused"
        assert "Patient/pat1" in details[0]["diagnostics"]
        resource["subject"]["reference"] = "Patient/example"
    status, details = outcome_of(actor, [*patients, resource])
    assert status == EXPECTED[name], details


def test_a_contained_medication_is_resolved(clinician: Any) -> None:
    from prolotrack.patients.models import Medication

    actor = fhir_actor(clinician)
    resource = json.loads((FOLDER / "MedicationStatement-example001.json").read_text())
    resource["subject"]["reference"] = "Patient/example"
    medication = resource["contained"][0]
    assert resource["medicationReference"]["reference"] == "#med0309"
    patient = json.loads((FOLDER / "Patient-example.json").read_text())
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": [_entry(patient), _entry(resource)]}
    import_bundle(actor, bundle)
    names = list(Medication.objects.values_list("name", flat=True))
    assert names == [medication["code"]["coding"][0]["display"]]

    resource["medicationReference"]["reference"] = "#nothere"
    with pytest.raises(ImportFailure, match="names no contained Medication"):
        import_bundle(actor, {"resourceType": "Bundle", "type": "transaction", "entry": [_entry(resource)]})
