""" "No known allergy" never becomes an allergy: FHIR import, the form and the service set the chart's confirmation."""

from typing import Any

import pytest
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.testing import actor_of
from prolotrack.domain.concepts import NO_KNOWN_ALLERGY_SNOMED, SNOMED
from prolotrack.fhir import inbound
from prolotrack.fhir.importer import import_bundle
from prolotrack.fhir.tests.test_import_bundle import entry, fhir_actor, patient_resource
from prolotrack.patients import services
from prolotrack.patients.models import Allergy, Patient

pytestmark = pytest.mark.django_db

NKA_CODES = sorted(NO_KNOWN_ALLERGY_SNOMED)
NKA_TEXTS = ["NKA", "nkda", "No known allergies", "NO KNOWN DRUG ALLERGIES", "no  known allergy", "N.K.A."]


def nka_resource(subject: str, *, code: str | None = None, text: str | None = None) -> dict[str, Any]:
    concept: dict[str, Any] = {}
    if code:
        concept["coding"] = [{"system": SNOMED, "code": code, "display": NO_KNOWN_ALLERGY_SNOMED[code]}]
    if text:
        concept["text"] = text
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical", "code": "active"}
            ]
        },
        "verificationStatus": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification", "code": "confirmed"}
            ]
        },
        "code": concept,
        "patient": {"reference": subject},
    }


def bundle(*resources: dict[str, Any]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [entry(patient_resource(), "urn:uuid:p1"), *[entry(r) for r in resources]],
    }


CASES = [{"code": c} for c in NKA_CODES] + [{"text": t} for t in NKA_TEXTS] + [{"code": NKA_CODES[0], "text": "None"}]


@pytest.mark.parametrize("case", CASES, ids=lambda c: str(c))
def test_fhir_nka_sets_the_confirmation_with_who_when_and_which_code(clinician, clinic, case):
    # The defect: these were imported as an allergy whose substance was "No known allergy".
    result = import_bundle(fhir_actor(clinician), bundle(nka_resource("urn:uuid:p1", **case)))
    patient = Patient.objects.get(clinic=clinic)
    assert not Allergy.objects.filter(clinic=clinic).exists()
    assert patient.no_known_allergies is True
    assert patient.no_known_allergies_at is not None
    assert patient.no_known_allergies_by.startswith(str(clinician))
    assert patient.no_known_allergies_source.startswith("FHIR import")
    if "code" in case:
        assert case["code"] in patient.no_known_allergies_source
    outcome = result.outcomes[1]
    assert outcome.resource_type == "Patient" and "not as an allergy" in outcome.issues[0].diagnostics
    assert AuditEvent.objects.filter(action="patient.allergies.reviewed", record_uuid=patient.uuid).exists()


def test_a_real_allergy_in_the_same_bundle_wins(clinician, clinic):
    lidocaine = nka_resource("urn:uuid:p1", text="Lidocaine")
    import_bundle(fhir_actor(clinician), bundle(nka_resource("urn:uuid:p1", code="716186003"), lidocaine))
    patient = Patient.objects.get(clinic=clinic)
    assert list(Allergy.objects.filter(clinic=clinic).values_list("substance", flat=True)) == ["Lidocaine"]
    assert patient.no_known_allergies is False and patient.no_known_allergies_at is None


def test_a_real_allergy_recorded_later_clears_the_confirmation(clinician, clinic):
    import_bundle(fhir_actor(clinician), bundle(nka_resource("urn:uuid:p1", code="409137002")))
    patient = Patient.objects.get(clinic=clinic)
    with transaction.atomic():
        services.add_child(actor_of(clinician), patient, "allergy", {"substance": "Latex", "severity": "mild"})
    patient.refresh_from_db()
    assert patient.no_known_allergies is False
    assert patient.no_known_allergies_by == "" and patient.no_known_allergies_source == ""


def test_nka_for_a_patient_with_allergies_changes_nothing_and_says_so(clinician, clinic):
    import_bundle(fhir_actor(clinician), bundle(nka_resource("urn:uuid:p1", text="Penicillin")))
    result = import_bundle(fhir_actor(clinician), bundle(nka_resource("urn:uuid:p1", text="NKDA")))
    patient = Patient.objects.get(clinic=clinic)
    assert patient.no_known_allergies is False
    assert Allergy.objects.filter(clinic=clinic).count() == 1
    assert "not applied" in result.outcomes[1].issues[0].diagnostics
    assert AuditEvent.objects.filter(action="patient.allergies.nka_not_applied").exists()


@pytest.mark.parametrize("text", NKA_TEXTS)
@pytest.mark.parametrize("channel", ["web", "api"])
def test_the_service_turns_an_nka_entry_into_the_confirmation_on_every_channel(clinician, patient, text, channel):
    actor = actor_of(clinician)
    actor = type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, channel)
    with transaction.atomic():
        result = services.add_child(actor, patient, "allergy", {"substance": text, "severity": "mild"})
    assert isinstance(result, Patient) and result.no_known_allergies
    assert result.no_known_allergies_source.startswith({"web": "form", "api": "API"}[channel])
    assert not Allergy.objects.filter(patient=patient).exists()


@pytest.mark.parametrize("code", NKA_CODES)
def test_the_bulk_service_refuses_an_nka_row_as_an_allergy(clinician, patient, code):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError, match="not an allergy"), transaction.atomic():
        services.add_children(
            actor_of(clinician),
            "allergy",
            [(patient, {"substance": "X", "codes": [f"{SNOMED}|{code}"], "severity": "mild"})],
        )


def test_the_allergy_form_records_nkda_as_the_confirmation(client, login, clinician, patient):
    login(clinician)
    response = client.post(
        f"/patients/{patient.uuid}/allergy/add/", {"allergy-substance": "NKDA", "allergy-severity": "mild"}
    )
    assert response.status_code in (302, 303), response.content.decode()[:500]
    patient.refresh_from_db()
    assert patient.no_known_allergies and not Allergy.objects.filter(patient=patient).exists()
    assert patient.no_known_allergies_source == "form: entry 'NKDA'"
    chart = " ".join(client.get(f"/patients/{patient.uuid}/").content.decode().split())
    assert f"No known allergies (asked and confirmed by {patient.no_known_allergies_by}, " in chart
    assert "form: entry &#x27;NKDA&#x27;)" in chart


def _respell(text: str, cases: list[bool]) -> str:
    return "".join(c.upper() if up else c for c, up in zip(text, cases + [False] * len(text), strict=False))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    base=st.sampled_from(["nka", "nkda", "no known allergies", "no known drug allergies", "no known allergy"]),
    cases=st.lists(st.booleans(), max_size=30),
    gap=st.text(alphabet=" \t", min_size=1, max_size=3),
    pad=st.text(alphabet=" \n", max_size=2),
)
def test_fhir_mapping_of_any_nka_spelling_is_never_an_allergy(base, cases, gap, pad):
    text = pad + _respell(base, cases).replace(" ", gap) + pad
    mapped = inbound.map_resource(nka_resource("Patient/1", text=text), "Bundle.entry[0].resource")
    assert isinstance(mapped, inbound.Mapped) and mapped.kind == "no_known_allergies"


@pytest.mark.parametrize("text", ["Lidocaine", "Peanut", "Latex"])
def test_real_allergies_still_map_to_allergies(text):
    mapped = inbound.map_resource(nka_resource("Patient/1", text=text), "x")
    assert isinstance(mapped, inbound.Mapped) and mapped.kind == "allergy"


@pytest.mark.parametrize("body", [{"substance": "NKDA"}, {"substance": "x", "codes": [f"{SNOMED}|428607008"]}])
def test_the_api_records_an_nka_allergy_entry_as_the_confirmation(client, api_token, clinician, patient, body):
    response = client.post(
        f"/api/patients/{patient.uuid}/allergies",
        {"severity": "mild", **body},
        content_type="application/json",
        headers=api_token(clinician),
    )
    assert response.status_code == 200, response.content
    assert response.json()["no_known_allergies"] is True
    patient.refresh_from_db()
    assert patient.no_known_allergies_source.startswith("API: ")
    assert not Allergy.objects.filter(patient=patient).exists()
