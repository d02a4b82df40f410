"""Saved cohorts: made by record number (clinic-scoped, audited), read as FHIR Groups, exported by Group/[id]/$export."""

from io import StringIO
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command

from prolotrack.audit.services import AccessDenied
from prolotrack.clinics.testing import actor_of
from prolotrack.fhir.models import Cohort
from prolotrack.fhir.services import create_cohort

pytestmark = pytest.mark.django_db


def test_cohort_of_record_numbers_is_saved_and_audited(make_patient: Any, clinician: Any) -> None:
    a = make_patient(mrn="A1")
    b = make_patient(mrn="B2", given_name="Bo")
    cohort = create_cohort(actor_of(clinician), name="Knees", mrns=["A1", "B2", "A1"])
    assert cohort.patient_uuids == [str(a.uuid), str(b.uuid)]
    assert cohort.version == 1


def test_unknown_or_other_clinics_numbers_are_refused_and_nothing_is_written(
    make_patient: Any, clinician: Any, outsider: Any
) -> None:
    make_patient(mrn="A1")
    make_patient(by=outsider, mrn="X9")
    with pytest.raises(ValidationError) as caught:
        create_cohort(actor_of(clinician), name="Mixed", mrns=["A1", "X9"])
    assert "X9" in str(caught.value)
    assert not Cohort.objects.exists()


def test_roles_without_cohort_manage_are_refused(make_patient: Any, colleague: Any) -> None:
    make_patient(mrn="A1")
    with pytest.raises(AccessDenied):
        create_cohort(actor_of(colleague), name="Knees", mrns=["A1"])


def test_command_prints_the_group_id(make_patient: Any, clinician: Any) -> None:
    make_patient(mrn="A1")
    out = StringIO()
    call_command("create_cohort", "clinician", "Knees", "A1", stdout=out)
    assert out.getvalue().startswith(f"Group/{Cohort.objects.get().uuid}")
    with pytest.raises(CommandError, match="Z0"):
        call_command("create_cohort", "clinician", "Bad", "Z0")
