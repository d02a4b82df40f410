"""Clinical records refuse every write path that would skip versioning and audit."""

import pytest

from prolotrack.core.records import HistoryBypassError
from prolotrack.patients.models import Patient, WeightMeasurement


def test_queryset_update_of_patients_is_refused(patient):
    with pytest.raises(HistoryBypassError, match="Bulk update"):
        Patient.objects.filter(pk=patient.pk).update(family_name="Changed")
    patient.refresh_from_db()
    assert patient.family_name == "Lovelace"


def test_queryset_delete_of_patients_is_refused(patient):
    with pytest.raises(HistoryBypassError, match="never deleted"):
        Patient.objects.all().delete()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_instance_delete_is_refused(patient):
    with pytest.raises(HistoryBypassError, match="entered in error"):
        patient.delete()
    assert Patient.objects.filter(pk=patient.pk).exists()


def test_direct_save_outside_a_service_is_refused(patient):
    patient.family_name = "Sneaky"
    with pytest.raises(HistoryBypassError, match="outside the service layer"):
        patient.save()
    patient.refresh_from_db()
    assert patient.family_name == "Lovelace"


def test_bulk_update_of_child_records_is_refused(patient):
    with pytest.raises(HistoryBypassError):
        WeightMeasurement.objects.bulk_update([], ["weight_kg"])
