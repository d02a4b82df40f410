"""Every mapper's output validates against the FHIR R4B models of fhir.resources, over realistic rows."""

from typing import Any

import orjson
import pytest
from django.db import transaction
from fhir.resources.R4B import get_fhir_model_class

from prolotrack.clinics.testing import actor_of
from prolotrack.domain.instruments import DEFINITIONS
from prolotrack.fhir import mappers
from prolotrack.fhir.resources import DUMP_OPTION, TYPES
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Condition, WeightMeasurement

pytestmark = pytest.mark.django_db


def validate(resource: dict[str, Any]) -> Any:
    """Validate as a client would read it: through JSON."""
    data = orjson.loads(orjson.dumps(resource))
    return get_fhir_model_class(data["resourceType"]).model_validate(data)


def resources_of(name: str, clinic: Any) -> list[dict[str, Any]]:
    out = []
    for source in TYPES[name].sources:
        rows = list(source.queryset(clinic).order_by("pk").values(*source.fields))
        out += source.map_rows(rows)
    return out


@pytest.mark.parametrize("name", sorted(TYPES))
def test_every_resource_of_every_type_validates(name: str, history: Any, clinic: Any) -> None:
    resources = resources_of(name, clinic)
    assert resources, f"no {name} in the test data"
    for resource in resources:
        model = validate(resource)
        assert model.id == str(resource["id"])


def test_every_instrument_validates_as_a_questionnaire() -> None:
    for code in DEFINITIONS:
        validate(mappers.questionnaire(code))


def test_procedure_carries_both_codes_body_site_with_laterality_and_target_structures(
    history: Any, clinic: Any
) -> None:
    done = [p for p in resources_of("Procedure", clinic) if p["status"] == "completed"]
    assert done
    procedure = done[0]
    codes = {(c["system"], c["code"]) for c in procedure["code"]["coding"]}
    assert (mappers.HCPCS, "M0076") in codes
    assert (mappers.CS_PROCEDURE, "prolotherapy") in codes
    targets = [e for e in procedure["extension"] if e["url"] == mappers.EXT_TARGET_BODY_STRUCTURE]
    assert len(targets) >= 4
    assert all(t["valueReference"]["reference"].startswith("BodyStructure/") for t in targets)
    site = procedure["bodySite"][0]
    assert site["coding"][0]["system"] == mappers.CS_REGION


def test_medication_has_ingredient_strengths_and_batch(history: Any, clinic: Any) -> None:
    med = resources_of("Medication", clinic)[0]
    dextrose = med["ingredient"][0]
    assert dextrose["itemCodeableConcept"]["coding"][0]["code"] == "dextrose"
    assert dextrose["strength"]["denominator"]["value"] == 100
    assert dextrose["strength"]["numerator"]["code"] == "g"
    assert med["batch"]["lotNumber"].startswith("D50-")
    assert med["ingredient"][-1]["isActive"] is False  # the diluent


def test_medication_administration_is_part_of_the_session_procedure(history: Any, clinic: Any) -> None:
    admin = resources_of("MedicationAdministration", clinic)[0]
    assert admin["partOf"][0]["reference"].startswith("Procedure/")
    assert admin["medicationReference"]["reference"].startswith("Medication/")
    assert admin["dosage"]["dose"]["code"] == "mL"


def test_body_structure_has_landmark_side_and_map_position(history: Any, clinic: Any) -> None:
    site = next(b for b in resources_of("BodyStructure", clinic) if "coding" in b["location"])
    assert site["location"]["coding"][0]["system"] == mappers.CS_LANDMARK
    assert site["locationQualifier"][0]["coding"][0]["system"] == mappers.SNOMED
    position = site["extension"][0]
    assert {e["url"] for e in position["extension"]} == {"map", "x", "y"}


def test_observations_are_weights_with_loinc_and_scores_with_pain_loinc(history: Any, clinic: Any) -> None:
    observations = resources_of("Observation", clinic)
    codes = {c["code"] for o in observations for c in o["code"]["coding"]}
    assert "29463-7" in codes
    assert "72514-3" in codes
    weight = next(o for o in observations if o["code"]["coding"][0]["code"] == "29463-7")
    assert weight["valueQuantity"]["system"] == mappers.UCUM


def test_meta_carries_record_version_and_last_updated(history: Any, clinic: Any, clinician: Any) -> None:
    condition = Condition.objects.filter(clinic=clinic).first()
    patient_services.edit_child(
        actor_of(clinician), condition, "condition", {"note": "Worse on stairs."}, expected_version=condition.version
    )
    condition.refresh_from_db()
    assert condition.version == 2
    resource = next(r for r in resources_of("Condition", clinic) if r["id"] == condition.uuid)
    assert resource["meta"]["versionId"] == str(condition.version)
    assert resource["meta"]["lastUpdated"] == condition.updated_at


def test_entered_in_error_weight_says_so(history: Any, clinic: Any, clinician: Any) -> None:
    from prolotrack.audit.services import mark_entered_in_error

    weight = WeightMeasurement.objects.filter(clinic=clinic).first()
    with transaction.atomic():
        mark_entered_in_error(actor_of(clinician), weight, "weight.entered_in_error", reason="Wrong patient")
    resource = next(r for r in resources_of("Observation", clinic) if r["id"] == weight.uuid)
    assert resource["status"] == "entered-in-error"
    validate(resource)


@pytest.mark.parametrize("name", sorted(TYPES))
def test_the_exports_raw_rows_map_to_the_same_json_as_the_orm_rows(name: str, history: Any, clinic: Any) -> None:
    """Bulk export reads rows through a raw cursor (Source.fetch_raw); the resources must not differ."""
    for source in TYPES[name].sources:
        qs = source.queryset(clinic).order_by("pk")
        orm = [orjson.loads(orjson.dumps(r)) for r in source.map_rows(list(qs.values(*source.fields)))]
        raw = [orjson.loads(orjson.dumps(r, option=DUMP_OPTION)) for r in source.map_rows(source.fetch_raw(qs))]
        assert raw == orm
