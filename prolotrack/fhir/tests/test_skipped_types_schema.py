"""The resource types an import skips are checked against HL7's R4 JSON schema first (fast), and only when it
refuses one do the R4B models decide, with their messages (docs/FHIR-IMPORT.md, PERFORMANCE.md): what the models
refused is still refused with the same message, and nothing they accepted is refused now."""

import copy
import gzip
from pathlib import Path
from typing import Any

import orjson
import pytest

from prolotrack.fhir import inbound

SYNTHEA = sorted((Path(__file__).parent / "fixtures" / "synthea_r4").glob("*.json.gz"))[0]


def _first(resource_type: str) -> dict[str, Any]:
    bundle = orjson.loads(gzip.decompress(SYNTHEA.read_bytes()))
    return copy.deepcopy(next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == resource_type))


def _models_issues(resource: dict[str, Any]) -> list[str]:
    """What the R4B models alone say (the check before the schema came first)."""
    cls = inbound.model_class(resource["resourceType"])
    try:
        cls.model_validate(resource)
    except Exception as exc:  # any refusal counts here
        return [str(exc)]
    return []


CAPABILITY = {
    "resourceType": "CapabilityStatement",
    "status": "active",
    "date": "2026-01-01",
    "kind": "instance",
    "fhirVersion": "4.0.1",  # valid R4; the published schema (built from 4.0.0) lists no 4.0.1
    "format": ["json"],
    "implementation": {"description": "another server"},
}


@pytest.mark.parametrize(
    ("resource", "schema_ok", "accepted"),
    [
        (_first("Claim"), True, True),
        (_first("ExplanationOfBenefit"), True, True),
        (_first("Encounter"), True, True),
        ({**_first("Claim"), "created": "yesterday"}, False, False),
        ({**_first("Encounter"), "status": 3}, False, False),
        ({**_first("Encounter"), "colour": "blue"}, False, False),  # an element R4 does not have
        (CAPABILITY, False, True),  # the schema refuses, the models accept: still accepted
    ],
)
def test_skipped_types_are_refused_exactly_when_the_models_refuse_them(
    resource: dict[str, Any], schema_ok: bool, accepted: bool
) -> None:
    assert resource["resourceType"] not in inbound.MAPPERS  # a type the import skips
    assert inbound.r4_schema().is_valid(resource) is schema_ok
    assert (not _models_issues(resource)) is accepted
    issues = inbound.validate(resource, "Bundle.entry[3].resource")
    assert (not issues) is accepted
    if not accepted:
        assert all(i.severity == "error" and i.expression for i in issues)
