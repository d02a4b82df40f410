"""Round trip: what the read side exports (prolotrack/fhir/mappers.py) imports back unchanged, here or elsewhere."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.db import transaction

from prolotrack.clinics.testing import actor_of
from prolotrack.fhir.importer import import_bundle
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.outcomes.services import record_response
from prolotrack.patients import services as patient_services
from prolotrack.patients.models import Allergy, Condition, Medication, Patient, WeightMeasurement

mappers = pytest.importorskip("prolotrack.fhir.mappers")
pytestmark = pytest.mark.django_db

KEEP = {
    Patient: ("mrn", "given_name", "family_name", "date_of_birth", "sex", "email", "phone", "address_line", "city",
              "region", "postal_code", "country"),
    Condition: ("category", "description", "screening_flag", "body_region", "laterality", "onset_date", "chronicity",
                "clinical_status", "prior_treatments", "note"),
    Medication: ("name", "drug_class", "dose", "status", "last_dose_date", "note"),
    Allergy: ("substance", "reaction", "severity", "note"),
    WeightMeasurement: ("measured_on", "weight_kg", "note"),
}  # fmt: skip


def fhir(user: Any) -> Any:
    actor = actor_of(user)
    return type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, "fhir")


@pytest.fixture
def chart(clinician: Any, make_patient: Any) -> Patient:
    patient = make_patient(
        mrn="RT-1", email="ada@example.org", phone="555-0199", address_line="1 Analytical Way", city="London",
        region="Greater London", postal_code="N1 9GU", country="UK",
    )  # fmt: skip
    actor = actor_of(clinician)
    with transaction.atomic():
        add = patient_services.add_child
        add(actor, patient, "weight", {"measured_on": date(2025, 3, 1), "weight_kg": Decimal("61.4"), "note": "shoes"})
        add(actor, patient, "condition", {
            "description": "Medial knee pain", "category": "complaint", "body_region": "knee", "laterality": "left",
            "onset_date": date(2024, 6, 1), "chronicity": "chronic", "prior_treatments": "Physiotherapy, 6 weeks",
            "note": "Worse on stairs",
        })  # fmt: skip
        add(actor, patient, "condition", {"description": "Type 2 diabetes", "category": "comorbidity",
                                          "screening_flag": "diabetes"})  # fmt: skip
        add(actor, patient, "medication", {"name": "Naproxen 500 mg", "drug_class": "nsaid", "dose": "twice daily",
                                           "status": "stopped", "last_dose_date": date(2025, 2, 20)})  # fmt: skip
        add(actor, patient, "allergy", {"substance": "Lidocaine", "reaction": "Hives", "severity": "moderate"})
        record_response(actor, patient, "nrs_pain", {"now": 3, "average_week": 5, "worst_week": 8},
                        authored_on=date(2025, 3, 1))  # fmt: skip
    return patient


def export_bundle(patient: Patient) -> dict[str, Any]:
    """The patient's records as the read side renders them, POSTed in a transaction Bundle."""
    resources = [mappers.patient(Patient.objects.filter(pk=patient.pk).values(*mappers.PATIENT_FIELDS).get())]
    for model, fields, render in (
        (Condition, mappers.CONDITION_FIELDS, mappers.condition),
        (Medication, mappers.MEDICATION_STATEMENT_FIELDS, mappers.medication_statement),
        (Allergy, mappers.ALLERGY_FIELDS, mappers.allergy),
        (WeightMeasurement, mappers.WEIGHT_FIELDS, mappers.weight_observation),
    ):
        resources += [render(r) for r in model.objects.filter(patient=patient).values(*fields)]
    responses = QuestionnaireResponse.objects.filter(patient=patient).values(*mappers.RESPONSE_FIELDS)
    resources += [mappers.score_observation(r) for r in responses]
    import orjson

    resources = orjson.loads(orjson.dumps(resources))  # as a client receives them: JSON
    return {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": f"{r['resourceType']}/{r['id']}" if r["resourceType"] == "Patient" else None,
             "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources
        ],
    }  # fmt: skip


def values(model: type, **where: Any) -> list[dict[str, Any]]:
    return sorted(
        (dict(row) for row in model.objects.filter(**where).values(*KEEP[model])), key=lambda d: sorted(d.items())
    )


def snapshot(clinic: Any) -> dict[str, Any]:
    return {model.__name__: values(model, clinic=clinic) for model in KEEP}


def test_reimport_into_the_same_clinic_changes_nothing(clinician: Any, clinic: Any, chart: Patient) -> None:
    bundle = export_bundle(chart)
    before = snapshot(clinic)
    result = import_bundle(fhir(clinician), bundle)
    assert {o.result for o in result.outcomes} == {"unchanged"}, [(o.resource_type, o.result) for o in result.outcomes]
    assert snapshot(clinic) == before
    assert Patient.objects.get(pk=chart.pk).version == 1


def test_import_into_another_clinic_copies_every_field(
    clinician: Any, outsider: Any, clinic: Any, other_clinic: Any, chart: Patient
) -> None:
    import_bundle(fhir(outsider), export_bundle(chart))
    assert snapshot(other_clinic) == snapshot(clinic)
    copied = QuestionnaireResponse.objects.get(clinic=other_clinic)
    assert copied.score == Decimal("5") and copied.answers == {"average_week": 5}
