"""A FHIR-imported chart entry reaches screening: the importer stores the codes the screening rules read."""

from prolotrack.clinical.tests.conftest import *  # noqa: F403 - the screening API fixtures (call)
from prolotrack.clinical.tests.test_screening_chart import EVALUATE, codes, finding, procedure
from prolotrack.domain.concepts import SNOMED
from prolotrack.fhir.importer import import_bundle
from prolotrack.fhir.tests.test_import_bundle import entry, fhir_actor, patient_resource
from prolotrack.patients.models import Patient


def test_a_fhir_imported_cellulitis_of_the_left_knee_blocks_screening(call, clinician, clinic):
    # End to end, as a Synthea-style record arrives: before, the import kept only the words and screening said
    # "eligible" for the left knee.
    condition = {
        "resourceType": "Condition",
        "clinicalStatus": {
            "coding": [{"system": "http://terminology.hl7.org/CodeSystem/condition-clinical", "code": "active"}]
        },
        "code": {"coding": [{"system": SNOMED, "code": "128045006", "display": "Cellulitis"}], "text": "Cellulitis"},
        "bodySite": [
            {"coding": [{"system": SNOMED, "code": "72696002", "display": "Knee region"}], "text": "Left knee"}
        ],
        "subject": {"reference": "urn:uuid:p1"},
        "onsetDateTime": "2025-03-01",
    }
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [entry(patient_resource(), "urn:uuid:p1"), entry(condition)],
    }
    import_bundle(fhir_actor(clinician), bundle)
    patient = Patient.objects.get(clinic=clinic)
    left = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure("left")}).json()
    assert left["decision"] == "not_eligible"
    assert (
        "Cellulitis (onset 2025-03-01), on the chart since"
        in finding(left, "contraindication.infection_at_site")["reason"]
    )
    right = call(clinician, EVALUATE, {"patient_id": str(patient.uuid), "procedure": procedure("right")}).json()
    assert "caution.infection_elsewhere" in codes(right)
