"""create_records: many new records in one go, with the same versions and audit chain as one at a time."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from prolotrack.audit.models import AuditChain, AuditEvent, RecordVersion
from prolotrack.audit.queries import verify_chains
from prolotrack.audit.services import RecordClosedError, create_record, create_records, record_event
from prolotrack.clinics.testing import actor_of
from prolotrack.patients.models import Patient, WeightMeasurement
from prolotrack.treatment.models import ChecklistEntry, TreatmentSession


def _weights(patient, n, start=1):
    return [
        WeightMeasurement(
            clinic=patient.clinic, patient=patient, measured_on=date(2026, 1, i), weight_kg=Decimal(70 + i)
        )
        for i in range(start, start + n)
    ]


def _versions(records):
    rows = RecordVersion.objects.filter(record_uuid__in=[r.uuid for r in records])
    return {
        str(v.record_uuid): (v.version, v.action, v.reason, v.changes, v.patient_uuid, v.user_id, v.data) for v in rows
    }


def _comparable(version_rows, records):
    """Version rows keyed by position, with each record's own uuid and key taken out of its data."""
    out = []
    for record in records:
        number, action, reason, changes, patient_uuid, user_id, data = version_rows[str(record.uuid)]
        data = {k: v for k, v in data.items() if k != "uuid"}
        out.append((number, action, reason, changes, patient_uuid, user_id, data))
    return out


def test_a_batch_writes_what_one_at_a_time_writes(clinician, patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        singles = [create_record(actor, w, "patient.weight.added", detail={"n": 1}) for w in _weights(patient, 3)]
    with transaction.atomic():
        batch = create_records(actor, _weights(patient, 3), "patient.weight.added", detail={"n": 1})
    assert all(r.pk is not None and r.version == 1 for r in batch)
    assert [r.pk for r in batch] == sorted(r.pk for r in batch)
    saved = list(WeightMeasurement.objects.filter(pk__in=[r.pk for r in batch]).order_by("pk"))
    assert [(w.uuid, w.version, w.created_by_id, w.weight_kg) for w in saved] == [
        (w.uuid, 1, clinician.pk, w.weight_kg) for w in batch
    ]
    assert _comparable(_versions(singles), singles) == _comparable(_versions(batch), batch)
    events = list(AuditEvent.objects.filter(record_uuid__in=[r.uuid for r in batch]).order_by("seq"))
    assert [e.record_uuid for e in events] == [r.uuid for r in batch]
    assert {(e.action, e.channel, e.role, e.user_id, e.patient_uuid, str(e.detail)) for e in events} == {
        ("patient.weight.added", "web", actor.role, clinician.pk, patient.uuid, "{'n': 1}")
    }
    chain = AuditChain.objects.get(key=f"clinic:{patient.clinic_id}")
    assert chain.seq == AuditEvent.objects.filter(chain_key=chain.key).count()
    assert chain.last_hash == AuditEvent.objects.get(chain_key=chain.key, seq=chain.seq).hash
    assert verify_chains()[0] == []
    call_command("verify_audit_chain")
    # The chain goes on as usual after a batch.
    with transaction.atomic():
        create_record(actor, _weights(patient, 1, start=20)[0], "patient.weight.added")
        record_event(actor, "patient.viewed", record=patient)
    assert verify_chains()[0] == []


def test_a_batch_costs_a_constant_number_of_statements(clinician, patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        create_records(actor, _weights(patient, 2), "patient.weight.added")  # the chain exists from here on
    counts = []
    for n in (3, 30):
        with transaction.atomic(), CaptureQueriesContext(connection) as queries:
            create_records(actor, _weights(patient, n, start=1), "patient.weight.added")
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert counts[0] <= 8  # savepoint, records, release, versions, chain lock, events, chain update


def test_a_rolled_back_batch_leaves_nothing(clinician, patient):
    actor = actor_of(clinician)
    before = (WeightMeasurement.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count())
    with pytest.raises(RuntimeError, match="boom"), transaction.atomic():
        create_records(actor, _weights(patient, 5), "patient.weight.added")
        raise RuntimeError("boom")
    assert (WeightMeasurement.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count()) == before
    assert verify_chains()[0] == []


def test_an_invalid_record_refuses_the_whole_batch(clinician, patient):
    actor = actor_of(clinician)
    records = _weights(patient, 3)
    records[2].weight_kg = None
    before = WeightMeasurement.objects.count(), AuditEvent.objects.count()
    with pytest.raises(ValidationError), transaction.atomic():
        create_records(actor, records, "patient.weight.added")
    assert (WeightMeasurement.objects.count(), AuditEvent.objects.count()) == before


def test_unique_constraints_are_checked_against_the_database_and_within_the_batch(clinician, make_patient):
    actor = actor_of(clinician)
    existing = make_patient(mrn="MRN-1")

    def patient(mrn):
        return Patient(
            clinic=existing.clinic,
            mrn=mrn,
            given_name="A",
            family_name="B",
            date_of_birth=date(1970, 1, 1),
            sex="female",
        )

    with pytest.raises(ValidationError, match="already has this record number"), transaction.atomic():
        create_records(actor, [patient("MRN-2"), patient("MRN-1")], "patient.created")
    with pytest.raises(ValidationError, match="already has this record number"), transaction.atomic():
        create_records(actor, [patient("MRN-3"), patient("MRN-3")], "patient.created")
    assert not Patient.objects.filter(mrn__in=["MRN-2", "MRN-3"]).exists()
    with transaction.atomic():
        made = create_records(actor, [patient("MRN-4"), patient("MRN-5")], "patient.created")
    assert [p.mrn for p in Patient.objects.filter(pk__in=[p.pk for p in made]).order_by("pk")] == ["MRN-4", "MRN-5"]


def test_a_locked_parent_is_refused_like_create_record(clinician, patient):
    actor = actor_of(clinician)
    signed = TreatmentSession(clinic=patient.clinic, signed_at=timezone.now())

    def entry():
        return ChecklistEntry(clinic=patient.clinic, patient=patient, session=signed, item="consent", answer="yes")

    before = ChecklistEntry.objects.count(), AuditEvent.objects.count()
    with pytest.raises(RecordClosedError), transaction.atomic():
        create_record(actor, entry(), "treatment.checklist.ticked")
    with pytest.raises(RecordClosedError), transaction.atomic():
        create_records(actor, [entry()], "treatment.checklist.ticked")
    assert (ChecklistEntry.objects.count(), AuditEvent.objects.count()) == before


def test_a_batch_takes_unsaved_records_of_one_model(clinician, patient):
    actor = actor_of(clinician)
    with transaction.atomic():
        assert create_records(actor, [], "patient.weight.added") == []
        saved = create_records(actor, _weights(patient, 1), "patient.weight.added")
        with pytest.raises(RuntimeError, match="unsaved"):
            create_records(actor, saved, "patient.weight.added")
        with pytest.raises(RuntimeError, match="one model"):
            create_records(actor, [*_weights(patient, 1), Patient(clinic=patient.clinic)], "x")


def test_record_event_starts_a_new_chain_and_locks_an_existing_one_with_one_query(clinician, patient, other_clinic):
    actor = actor_of(clinician)
    with transaction.atomic():
        record_event(actor, "patient.viewed", record=patient, clinic=other_clinic)  # no chain yet: created
    assert AuditChain.objects.get(key=f"clinic:{other_clinic.pk}").seq == 1
    with transaction.atomic(), CaptureQueriesContext(connection) as queries:
        record_event(actor, "patient.viewed", record=patient)
    chain_reads = [q for q in queries if "audit_auditchain" in q["sql"].lower() and "select" in q["sql"].lower()]
    assert len(chain_reads) == 1
    assert verify_chains()[0] == []
