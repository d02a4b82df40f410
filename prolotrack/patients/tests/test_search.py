from datetime import date

import pytest
from django.db import transaction

from prolotrack.clinics.testing import actor_of
from prolotrack.patients import queries, services


@pytest.fixture
def registry(make_patient):
    return {
        "ada": make_patient(mrn="K-100", given_name="Ada", family_name="Lovelace", date_of_birth=date(1960, 5, 17)),
        "grace": make_patient(mrn="K-200", given_name="Grace", family_name="Hopper", date_of_birth=date(1956, 12, 9)),
        "alan": make_patient(mrn="Z-300", given_name="Alan", family_name="Turing", date_of_birth=date(1960, 5, 17)),
    }


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", {"ada", "grace", "alan"}),
        ("love", {"ada"}),
        ("HOPPER", {"grace"}),
        ("Lovelace, Ada", {"ada"}),
        ("ada lovelace", {"ada"}),
        ("K-", {"ada", "grace"}),
        ("Z-300", {"alan"}),
        ("1960-05-17", {"ada", "alan"}),
        ("17/05/1960", {"ada", "alan"}),
        ("nobody", set()),
    ],
)
def test_search_by_name_record_number_or_birth_date(clinic, registry, text, expected):
    found = {p.uuid for p in queries.search_patients(clinic, text)}
    assert found == {registry[name].uuid for name in expected}


def test_search_never_returns_another_clinics_patients(other_clinic, registry):
    assert list(queries.search_patients(other_clinic, "")) == []


def test_patients_entered_in_error_are_left_out_of_search(clinician, clinic, registry):
    with transaction.atomic():
        services.retire_patient(actor_of(clinician), registry["ada"], reason="Duplicate registration")
    assert registry["ada"].uuid not in {p.uuid for p in queries.search_patients(clinic, "")}
