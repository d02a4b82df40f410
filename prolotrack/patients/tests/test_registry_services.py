"""Registering and changing patients: versions, audit, stale edits, entered in error."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, RecordClosedError, ServiceError, StaleEditError
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services
from prolotrack.patients.models import Patient, WeightMeasurement


def test_registering_a_patient_writes_version_one_and_an_audit_row(clinician, patient):
    version = RecordVersion.objects.get(record_uuid=patient.uuid)
    assert version.version == 1
    assert version.data["family_name"] == "Lovelace"
    assert version.user == clinician
    event = AuditEvent.objects.get(action="patient.created")
    assert event.record_uuid == patient.uuid
    assert event.patient_uuid == patient.uuid
    assert event.user == clinician
    assert event.client_address == "127.0.0.1"


def test_a_patient_without_a_record_number_gets_the_next_pt_number(make_patient):
    first = make_patient(mrn="")
    second = make_patient(mrn="", given_name="Grace", family_name="Hopper")
    assert first.mrn == "PT-000001"
    assert second.mrn == "PT-000002"


def test_a_record_number_is_unique_within_a_clinic_but_not_across_clinics(make_patient, outsider):
    make_patient(mrn="A-1")
    with pytest.raises(ValidationError) as error:
        make_patient(mrn="A-1", given_name="Other")
    assert "record number" in str(error.value)
    other = make_patient(by=outsider, mrn="A-1")
    assert other.clinic != Patient.objects.get(mrn="A-1", clinic__name="Alpha Clinic").clinic


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("sex", "robot"),
        ("email", "not-an-email"),
        ("given_name", ""),
    ],
)
def test_bad_input_is_refused_and_writes_nothing(clinician, field, value):
    data = {"given_name": "Ada", "family_name": "Lovelace", "date_of_birth": date(1960, 1, 1), "sex": "female"}
    data[field] = value
    with pytest.raises(ValidationError), transaction.atomic():
        services.create_patient(actor_of(clinician), data)
    assert Patient.objects.count() == 0
    assert RecordVersion.objects.count() == 0
    assert AuditEvent.objects.filter(action="patient.created").count() == 0


def test_unknown_fields_are_refused(clinician):
    with pytest.raises(ValidationError, match="cannot be set"):
        services.create_patient(
            actor_of(clinician),
            {"given_name": "A", "family_name": "B", "date_of_birth": date(1960, 1, 1), "sex": "male", "clinic": 3},
        )


def test_an_edit_keeps_the_old_version_with_who_what_and_why(clinician, colleague, patient):
    updated = services.update_patient(
        actor_of(colleague), patient, {"phone": "555-0100"}, expected_version=1, reason="Patient called"
    )
    assert updated.version == 2
    versions = list(RecordVersion.objects.filter(record_uuid=patient.uuid).order_by("version"))
    assert [v.version for v in versions] == [1, 2]
    assert versions[0].data["phone"] == ""
    assert versions[1].changes == {"phone": ["", "555-0100"]}
    assert versions[1].user == colleague
    assert versions[1].reason == "Patient called"
    assert AuditEvent.objects.filter(action="patient.updated", user=colleague).count() == 1


def test_an_edit_that_changes_nothing_writes_nothing(clinician, patient):
    services.update_patient(actor_of(clinician), patient, {"family_name": "Lovelace"}, expected_version=1)
    assert RecordVersion.objects.filter(record_uuid=patient.uuid).count() == 1
    patient.refresh_from_db()
    assert patient.version == 1


def test_a_stale_edit_is_refused_and_the_first_edit_is_kept(clinician, colleague, patient):
    services.update_patient(actor_of(colleague), patient, {"phone": "111"}, expected_version=1)
    with pytest.raises(StaleEditError, match="Nothing was saved"):
        services.update_patient(actor_of(clinician), patient, {"phone": "222"}, expected_version=1)
    patient.refresh_from_db()
    assert patient.phone == "111"
    assert patient.version == 2


def test_a_blank_record_number_cannot_replace_an_existing_one(clinician, patient):
    with pytest.raises(ValidationError, match="cannot be blank"):
        services.update_patient(actor_of(clinician), patient, {"mrn": " "}, expected_version=1)


def test_entered_in_error_keeps_the_record_with_its_reason(clinician, patient):
    services.retire_patient(actor_of(clinician), patient, reason="Duplicate of PT-000009")
    retired = Patient.objects.get(pk=patient.pk)
    assert retired.is_entered_in_error
    assert retired.entered_in_error_reason == "Other (say why): Duplicate of PT-000009"
    assert RecordVersion.objects.filter(record_uuid=patient.uuid).count() == 2
    with pytest.raises(RecordClosedError):
        services.update_patient(actor_of(clinician), retired, {"phone": "1"}, expected_version=retired.version)


@pytest.mark.parametrize("reason", ["", "   ", "oops"])
def test_entered_in_error_needs_a_real_reason(clinician, patient, reason):
    with pytest.raises(ServiceError, match="Say why"):
        services.retire_patient(actor_of(clinician), patient, reason=reason)
    patient.refresh_from_db()
    assert not patient.is_entered_in_error


def test_child_records_are_versioned_and_retired_not_deleted(clinician, patient):
    actor = actor_of(clinician)
    weight = services.add_child(
        actor, patient, "weight", {"measured_on": date(2026, 1, 2), "weight_kg": Decimal("70.5")}
    )
    weight = services.edit_child(
        actor, weight, "weight", {"weight_kg": Decimal("71.0")}, expected_version=1, reason="Scale"
    )
    services.retire_child(actor, weight, "weight", reason="Wrong patient's scale reading")
    row = WeightMeasurement.objects.get(pk=weight.pk)
    assert row.weight_kg == Decimal("71.0")
    assert row.is_entered_in_error
    history = RecordVersion.objects.filter(record_uuid=weight.uuid).order_by("version")
    assert [v.action for v in history] == [
        "patient.weight.added",
        "patient.weight.updated",
        "patient.weight.entered_in_error",
    ]
    assert all(v.patient_uuid == patient.uuid for v in history)


@pytest.mark.parametrize("weight", [Decimal("0"), Decimal("-3"), Decimal("900")])
def test_implausible_weights_are_refused(clinician, patient, weight):
    with pytest.raises(ValidationError):
        services.add_child(
            actor_of(clinician), patient, "weight", {"measured_on": date(2026, 1, 2), "weight_kg": weight}
        )
    assert not WeightMeasurement.objects.exists()


def test_front_desk_cannot_write_clinical_records(frontdesk, patient):
    with pytest.raises(AccessDenied):
        services.add_child(actor_of(frontdesk), patient, "allergy", {"substance": "Latex", "severity": "mild"})


def test_researchers_cannot_register_patients(researcher):
    with pytest.raises(AccessDenied):
        services.create_patient(
            actor_of(researcher),
            {"given_name": "A", "family_name": "B", "date_of_birth": date(1960, 1, 1), "sex": "male"},
        )


def test_a_failed_audit_write_rolls_back_the_change(clinician, patient, monkeypatch):
    from prolotrack.audit import services as audit_services

    def broken(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(audit_services, "record_event", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        services.update_patient(actor_of(clinician), patient, {"phone": "999"}, expected_version=1)
    patient.refresh_from_db()
    assert patient.phone == ""
    assert RecordVersion.objects.filter(record_uuid=patient.uuid).count() == 1


def test_no_known_allergies_is_recorded_and_cleared_by_a_new_allergy(clinician, patient):
    actor = actor_of(clinician)
    patient = services.confirm_no_known_allergies(actor, patient, expected_version=1)
    assert patient.no_known_allergies
    with transaction.atomic():
        services.add_child(actor, patient, "allergy", {"substance": "Latex", "severity": "mild"})
    patient.refresh_from_db()
    assert not patient.no_known_allergies
    actions = list(RecordVersion.objects.filter(record_uuid=patient.uuid).values_list("action", flat=True))
    assert actions.count("patient.allergies.reviewed") == 2


def test_no_known_allergies_is_refused_while_allergies_are_recorded(clinician, patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        services.add_child(actor, patient, "allergy", {"substance": "Latex", "severity": "mild"})
    with pytest.raises(ServiceError, match="Latex"):
        services.confirm_no_known_allergies(actor, patient)
    patient.refresh_from_db()
    assert not patient.no_known_allergies


def test_front_desk_cannot_confirm_no_known_allergies(frontdesk, patient):
    with pytest.raises(AccessDenied):
        services.confirm_no_known_allergies(actor_of(frontdesk), patient)
