"""The batched writes behind the FHIR import: the services' batch variants, and an import through them."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.queries import verify_chains
from prolotrack.audit.services import AccessDenied, ServiceError
from prolotrack.clinics.testing import actor_of
from prolotrack.fhir.importer import ImportFailure, import_bundle
from prolotrack.fhir.tests.fixtures.synthea import transaction_bundle
from prolotrack.outcomes import services as outcomes
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.patients import services
from prolotrack.patients.models import Allergy, Patient, WeightMeasurement

MR = "http://terminology.hl7.org/CodeSystem/v2-0203"


def fhir_actor(user: Any) -> Any:
    actor = actor_of(user)
    return type(actor)(actor.user, actor.clinic, actor.role, actor.client_address, "fhir")


def row(**extra: Any) -> dict[str, Any]:
    values = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": date(1960, 5, 17), "sex": "female"}
    values.update(extra)
    return values


# --- the services' batch variants ---------------------------------------------------------------------------------


def test_create_patients_numbers_rows_without_a_record_number_after_the_others(clinician, make_patient):
    make_patient(mrn="PT-000003")
    with transaction.atomic():
        made = services.create_patients(actor_of(clinician), [row(), row(mrn="PT-000007"), row(), row(mrn="X-1")])
    assert [p.mrn for p in made] == ["PT-000008", "PT-000007", "PT-000009", "X-1"]
    assert all(p.pk and p.version == 1 for p in made)
    assert AuditEvent.objects.filter(action="patient.created").count() == 5
    assert verify_chains()[0] == []


def test_create_patients_refuses_a_taken_or_repeated_record_number_and_writes_nothing(clinician, make_patient):
    make_patient(mrn="A-1")
    before = Patient.objects.count(), AuditEvent.objects.count()
    for rows in ([row(mrn="B-1"), row(mrn="A-1")], [row(mrn="B-1"), row(mrn="B-1")]):
        with pytest.raises(ValidationError) as caught, transaction.atomic():
            services.create_patients(actor_of(clinician), rows)
        assert "already has this record number" in str(caught.value)
    assert (Patient.objects.count(), AuditEvent.objects.count()) == before


@pytest.mark.parametrize("who", ["clinician", "colleague", "frontdesk", "admin_user", "researcher"])
def test_batch_variants_check_permissions_like_the_single_ones(request, who, patient):
    actor = actor_of(request.getfixturevalue(who))
    weight = {"measured_on": date(2026, 1, 1), "weight_kg": 70}
    calls = [
        (
            lambda: services.create_patient(actor, row(mrn="S-1")),
            lambda: services.create_patients(actor, [row(mrn="B-1")]),
        ),
        (
            lambda: services.add_child(actor, patient, "weight", weight),
            lambda: services.add_children(actor, "weight", [(patient, weight)]),
        ),
        (
            lambda: outcomes.record_response(
                actor, patient, "nrs_pain", {"average_week": 5}, authored_on=date(2026, 1, 1)
            ),
            lambda: outcomes.record_responses(actor, "nrs_pain", [(patient, {"average_week": 5}, date(2026, 1, 2))]),
        ),
    ]
    for single, batch in calls:
        answers = []
        for call in (single, batch):
            try:
                with transaction.atomic():
                    call()
                answers.append("written")
            except AccessDenied:
                answers.append("refused")
        assert answers[0] == answers[1]


def test_add_children_clears_no_known_allergies_and_refuses_a_retired_patient(clinician, patient, make_patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        patient = services.confirm_no_known_allergies(actor, patient)
    assert patient.no_known_allergies
    rows = [(patient, {"substance": "Latex", "severity": "severe"}), (patient, {"substance": "Iodine"})]
    rows[1][1]["severity"] = "mild"
    with transaction.atomic():
        made = services.add_children(actor, "allergy", rows)
    assert [a.substance for a in Allergy.objects.filter(pk__in=[a.pk for a in made]).order_by("pk")] == [
        "Latex",
        "Iodine",
    ]
    patient.refresh_from_db()
    assert not patient.no_known_allergies
    assert AuditEvent.objects.filter(action="patient.allergies.reviewed").count() == 2  # confirmed, then cleared
    other = make_patient(mrn="R-1")
    with transaction.atomic():
        other = services.retire_patient(actor, other, reason="Registered twice")
    with pytest.raises(ServiceError, match="entered in error"), transaction.atomic():
        services.add_children(actor, "weight", [(other, {"measured_on": date(2026, 1, 1), "weight_kg": 70})])


def test_record_responses_score_like_record_response_and_refuse_another_clinics_patient(clinician, patient, outsider):
    actor = actor_of(clinician)
    with transaction.atomic():
        one = outcomes.record_response(actor, patient, "nrs_pain", {"average_week": 6}, authored_on=date(2026, 1, 1))
        many = outcomes.record_responses(actor, "nrs_pain", [(patient, {"average_week": 6}, date(2026, 1, 2))])
    fields = ("status", "answers", "score", "subscores", "source", "instrument")
    assert [getattr(one, f) for f in fields] == [getattr(many[0], f) for f in fields]
    events = AuditEvent.objects.filter(action="questionnaire_response.created").order_by("seq")
    assert [e.detail for e in events] == [{"instrument": "nrs_pain", "status": one.status, "source": "staff_paper"}] * 2
    with transaction.atomic():
        stranger = services.create_patient(actor_of(outsider), row(mrn="B-9"))
    with pytest.raises(AccessDenied), transaction.atomic():
        outcomes.record_responses(actor, "nrs_pain", [(stranger, {"average_week": 6}, date(2026, 1, 2))])


# --- an import through them ---------------------------------------------------------------------------------------


def test_a_bundle_import_writes_in_batches_with_an_intact_chain(clinician, clinic):
    def run(patients: int, seed: int) -> tuple[int, int, list[Any]]:
        with CaptureQueriesContext(connection) as queries:
            result = import_bundle(fhir_actor(clinician), transaction_bundle(patients=patients, seed=seed))
        created = [o for o in result.outcomes if o.result == "created"]
        return len(queries), len(created), created

    few_queries, few_created, _ = run(3, 11)
    many_queries, many_created, created = run(9, 12)
    assert many_created - few_created > 100
    # A couple of queries per new patient (its record-number lookup and unique check); none per other record.
    assert many_queries - few_queries <= 2 * 6 + 2
    for outcome in created:
        record = outcome.record
        assert outcome.location == f"{outcome.location.split('/')[0]}/{record.uuid}/_history/1"
        assert outcome.etag == 'W/"1"' and record.pk is not None
        assert RecordVersion.objects.filter(record_uuid=record.uuid, version=1).count() == 1
        assert AuditEvent.objects.filter(record_uuid=record.uuid, channel="fhir").count() == 1
    assert verify_chains()[0] == []
    call_command("verify_audit_chain")


def patient_entry(mrn: str, full_url: str, given: str = "Ngozi", if_none_exist: str | None = None) -> dict[str, Any]:
    resource = {
        "resourceType": "Patient",
        "identifier": [{"type": {"coding": [{"system": MR, "code": "MR"}]}, "system": "urn:x", "value": mrn}],
        "name": [{"family": "Okafor", "given": [given]}],
        "birthDate": "1971-03-04",
        "gender": "female",
    }
    request = {"method": "POST", "url": "Patient"}
    if if_none_exist:
        request["ifNoneExist"] = if_none_exist
    return {"fullUrl": full_url, "resource": resource, "request": request}


def weight_entry(subject: str, value: float, day: str = "2024-05-01") -> dict[str, Any]:
    resource = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "29463-7"}]},
        "subject": {"reference": subject},
        "effectiveDateTime": day,
        "valueQuantity": {"value": value, "system": "http://unitsofmeasure.org", "code": "kg"},
    }
    return {"resource": resource, "request": {"method": "POST", "url": "Observation"}}


def test_entries_naming_a_record_of_the_same_bundle_find_it_as_one_at_a_time_did(clinician, clinic):
    a, b = "urn:uuid:11111111-1111-4111-8111-111111111111", "urn:uuid:22222222-2222-4222-8222-222222222222"
    c = "urn:uuid:33333333-3333-4333-8333-333333333333"
    data = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            patient_entry("MRN-1", a),
            patient_entry("MRN-1", b, given="Ada"),  # the same record number: updates the first
            patient_entry("MRN-9", c, if_none_exist="identifier=urn:x|MRN-1"),  # finds the first: unchanged
            weight_entry(a, 80),
            weight_entry(b, 81),  # same patient and day: updates the weight just added
            weight_entry(c, 82, day="2024-06-01"),
        ],
    }
    result = import_bundle(fhir_actor(clinician), data)
    assert [o.result for o in result.outcomes] == ["created", "updated", "unchanged", "created", "updated", "created"]
    patient = Patient.objects.get(clinic=clinic)
    assert (patient.given_name, patient.version) == ("Ada", 2)
    weights = list(WeightMeasurement.objects.filter(patient=patient).order_by("measured_on"))
    assert [(w.weight_kg, w.version) for w in weights] == [(Decimal("81.0"), 2), (Decimal("82.0"), 1)]
    assert result.outcomes[4].etag == 'W/"2"'
    assert verify_chains()[0] == []


def test_a_refused_entry_in_a_batch_is_named_and_nothing_is_kept(clinician, clinic):
    a = "urn:uuid:11111111-1111-4111-8111-111111111111"
    data = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [patient_entry("MRN-1", a), weight_entry(a, 80), weight_entry(a, 900, day="2024-07-01")],
    }
    with pytest.raises(ImportFailure) as caught:
        import_bundle(fhir_actor(clinician), data)
    assert caught.value.issues[0].expression == "Bundle.entry[2].resource.valueQuantity"
    assert not Patient.objects.exists() and not WeightMeasurement.objects.exists()
    assert not QuestionnaireResponse.objects.exists() and not AuditEvent.objects.filter(channel="fhir").exists()
