"""Fields served back as sent, or served as US Core asks (issue 12, lossless round trips):

- an AllergyIntolerance's reactions come back as the HL7 R4 examples sent them (manifestation codings, severity,
  substance, description, onset, exposure route, note), POSTed or in a transaction, in every version, until staff
  change the reaction words or the severity (then they read from the chart's fields, the earlier version keeps them);
- the types ProloTrack serves but does not import carry their categories: CarePlan (US Core assess-plan + the local
  one), Procedure (the local therapeutic-injection category), DocumentReference (US Core clinical-note beside its
  type), and Practitioner and Organization their names (checked over a whole export of a clinic with a treatment
  history; the R4 JSON schema check of that export is test_json_schema.py)."""

import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from django.core.exceptions import ValidationError
from django.test import Client

from prolotrack.clinics.testing import actor_of
from prolotrack.fhir import bulk
from prolotrack.fhir.resources import TYPES
from prolotrack.patients import services
from prolotrack.patients.models import Allergy

pytestmark = pytest.mark.django_db

FHIR_JSON = "application/fhir+json"
EXAMPLES = Path(__file__).parent / "fixtures" / "hl7_r4_examples"
# The HL7 R4 examples with reactions (hl7.fhir.r4.examples, fixtures/README.md) and the severity the chart records:
# the most severe reaction's (example: severe and moderate), else from criticality (medication: high, no severity).
WITH_REACTIONS = {"AllergyIntolerance-example": "severe", "AllergyIntolerance-medication": "severe"}


def example(name: str, patient: Any) -> dict[str, Any]:
    resource = orjson.loads((EXAMPLES / f"{name}.json").read_bytes())
    resource.pop("id", None)
    resource["patient"] = {"reference": f"Patient/{patient.uuid}"}
    return resource


@pytest.fixture
def fhir(clinician: Any, api_token: Any) -> tuple[Client, dict[str, str]]:
    return Client(), api_token(clinician)


def read(client: Client, headers: dict[str, str], location: str) -> dict[str, Any]:
    path = "/fhir/" + location.split("/fhir/")[-1]
    found = client.get(path, headers=headers)
    assert found.status_code == 200, found.content
    return orjson.loads(found.content)


def send(client: Client, headers: dict[str, str], resource: dict[str, Any], how: str) -> dict[str, Any]:
    if how == "post":
        response = client.post(
            "/fhir/AllergyIntolerance", data=orjson.dumps(resource), content_type=FHIR_JSON, headers=headers
        )
        assert response.status_code == 201, response.content
        location = response["Location"]
    else:
        bundle = {
            "resourceType": "Bundle",
            "type": how,
            "entry": [{"resource": resource, "request": {"method": "POST", "url": "AllergyIntolerance"}}],
        }
        response = client.post("/fhir/", data=orjson.dumps(bundle), content_type=FHIR_JSON, headers=headers)
        assert response.status_code == 200, response.content
        entry = orjson.loads(response.content)["entry"][0]["response"]
        assert entry["status"] in ("201 Created", "200 OK"), entry
        location = entry["location"]
    return read(client, headers, location.split("/_history")[0])


@pytest.mark.parametrize("how", ["post", "transaction", "batch"])
@pytest.mark.parametrize(("name", "severity"), WITH_REACTIONS.items())
def test_reactions_of_the_hl7_examples_read_back_as_sent(
    fhir: Any, patient: Any, name: str, severity: str, how: str
) -> None:
    client, headers = fhir
    sent = example(name, patient)
    served = send(client, headers, copy.deepcopy(sent), how)
    assert served["resourceType"] == "AllergyIntolerance"
    assert served["reaction"] == sent["reaction"]  # manifestation codings, severity, substance... all as sent
    record = Allergy.objects.get(uuid=served["id"])
    # The chart's own fields are still read from them: the words of the manifestations, the severity.
    assert record.severity == severity
    displays = [c["display"] for r in sent["reaction"] for m in r["manifestation"] for c in m["coding"]]
    assert record.reaction == "; ".join(displays)


def test_a_re_import_of_the_same_reactions_writes_nothing_and_changed_ones_a_new_version(
    fhir: Any, patient: Any
) -> None:
    client, headers = fhir
    sent = example("AllergyIntolerance-example", patient)
    first = send(client, headers, copy.deepcopy(sent), "post")
    again = send(client, headers, copy.deepcopy(sent), "transaction")
    assert again["id"] == first["id"]
    assert again["meta"]["versionId"] == first["meta"]["versionId"]
    changed = copy.deepcopy(sent)
    changed["reaction"][1]["manifestation"][0]["coding"][0]["code"] = "271807003"  # Eruption of skin
    changed["reaction"][1]["manifestation"][0]["coding"][0]["display"] = "Eruption of skin"
    third = send(client, headers, changed, "transaction")
    assert third["meta"]["versionId"] == str(int(first["meta"]["versionId"]) + 1)
    assert third["reaction"] == changed["reaction"]
    old = read(client, headers, f"AllergyIntolerance/{first['id']}/_history/{first['meta']['versionId']}")
    assert old["reaction"] == sent["reaction"]


@pytest.mark.parametrize(
    ("change", "kept"),
    [
        ({"note": "Seen by the clinician"}, True),  # says nothing about the reactions
        ({"severity": "mild"}, False),
        ({"reaction": "Hives"}, False),
    ],
)
def test_staff_changing_the_reaction_or_severity_clears_the_sent_reactions(
    fhir: Any, patient: Any, clinician: Any, change: dict[str, str], kept: bool
) -> None:
    client, headers = fhir
    sent = example("AllergyIntolerance-example", patient)
    served = send(client, headers, copy.deepcopy(sent), "post")
    record = Allergy.objects.get(uuid=served["id"])
    services.edit_child(actor_of(clinician), record, "allergy", change, expected_version=record.version)
    now = read(client, headers, f"AllergyIntolerance/{served['id']}")
    if kept:
        assert now["reaction"] == sent["reaction"]
    else:
        record.refresh_from_db()
        assert record.sent_reactions == []
        assert now["reaction"] == [{"manifestation": [{"text": record.reaction}], "severity": record.severity}]
        old = read(client, headers, f"AllergyIntolerance/{served['id']}/_history/{served['meta']['versionId']}")
        assert old["reaction"] == sent["reaction"]


@pytest.mark.parametrize(
    "sent_reactions",
    [
        "anaphylaxis",
        [{"severity": "severe"}],  # no manifestation
        [{"manifestation": "hives"}],
        [{"manifestation": []}] * 21,
        [{"manifestation": [{"text": "x" * 20_001}]}],
    ],
)
def test_the_service_refuses_sent_reactions_that_are_not_reactions(
    patient: Any, clinician: Any, sent_reactions: Any
) -> None:
    actor = actor_of(clinician)
    actor = type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, "fhir")
    data = {"substance": "Cashew nut", "severity": "severe", "sent_reactions": sent_reactions}
    with pytest.raises(ValidationError, match=r"[Rr]eactions"):
        services.add_child(actor, patient, "allergy", data)
    assert not Allergy.objects.filter(patient=patient).exists()


def test_forms_and_the_api_cannot_set_sent_reactions(patient: Any, clinician: Any) -> None:
    data = {"substance": "Cashew nut", "severity": "severe", "sent_reactions": [{"manifestation": []}]}
    with pytest.raises(ValidationError, match="cannot be set here"):
        services.add_child(actor_of(clinician), patient, "allergy", data)


US_CORE = "http://hl7.org/fhir/us/core/CodeSystem"


def _exported(name: str, clinic: Any) -> list[dict[str, Any]]:
    rtype = TYPES[name]
    out = []
    for source in rtype.sources:
        for chunk, _ in bulk.stream(rtype, source, clinic):
            out.extend(orjson.loads(line) for line in chunk.splitlines())
    return out


def _codes(concepts: list[dict[str, Any]]) -> set[tuple[str, str]]:
    return {(c["system"].rsplit("/", 1)[-1], c["code"]) for cc in concepts for c in cc["coding"]}


def test_served_types_carry_their_categories_and_names(history: Any, clinic: Any, fhir: Any) -> None:
    care_plans = _exported("CarePlan", clinic)
    procedures = _exported("Procedure", clinic)
    documents = _exported("DocumentReference", clinic)
    assert care_plans and procedures and documents
    for plan in care_plans:
        assert _codes(plan["category"]) == {
            ("careplan-category", "assess-plan"),
            ("care-plan-category", "prolotherapy-course"),
        }
        assert any(c["system"] == f"{US_CORE}/careplan-category" for cc in plan["category"] for c in cc["coding"])
    for procedure in procedures:
        assert _codes([procedure["category"]]) == {("procedure-category", "therapeutic-injection")}
    for document in documents:
        assert document["category"][0]["coding"][0]["system"] == f"{US_CORE}/us-core-documentreference-category"
        assert _codes(document["category"]) == {("us-core-documentreference-category", "clinical-note")}
        assert {c["code"] for c in document["type"]["coding"]} & {"34133-9", "11506-3"}
    # Names, read one by one as a client reads them.
    client, headers = fhir
    organization = read(client, headers, f"Organization/{clinic.uuid}")
    assert organization["name"] == clinic.name
    for practitioner in _exported("Practitioner", clinic):
        served = read(client, headers, f"Practitioner/{practitioner['id']}")
        assert served["name"][0]["text"]
