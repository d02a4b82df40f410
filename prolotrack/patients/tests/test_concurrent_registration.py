"""Registrations at the same moment each get their own PT- number (found by bench/durability.py on PostgreSQL: two
requests read the same highest number and the second was refused as a duplicate record number, 422).

transaction=True: the registrations commit from two threads, each with its own connection, as two requests do."""

from collections.abc import Callable
from datetime import date
from typing import Any

import pytest

from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import race
from prolotrack.patients import services
from prolotrack.patients.models import Patient

PER_THREAD = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_all_succeed_with_distinct_numbers(clinician: Any) -> None:
    actor = actor_of(clinician)

    def register(thread: int, go: Callable[[], None]) -> None:
        go()
        for n in range(PER_THREAD):
            values = {"given_name": f"{'AB'[thread]}{n}", "family_name": "Race", "date_of_birth": date(1980, 1, 1)}
            services.create_patient(actor, {**values, "sex": "male"})

    race(2, register)
    numbers = list(Patient.objects.filter(family_name="Race").values_list("mrn", flat=True))
    assert len(numbers) == len(set(numbers)) == 2 * PER_THREAD


@pytest.mark.django_db(transaction=True)
def test_a_registration_holding_the_record_number_lock_does_not_block_other_writes_to_the_clinic(clinician: Any):
    """The record-number lock must not stop the clinic's other inserts (each takes FOR KEY SHARE on the clinic row on
    PostgreSQL): with FOR UPDATE, a read's audit event waited for it while holding the clinic's audit chain, and the
    registration then waited for the chain: deadlock (found by bench/load.py)."""
    from prolotrack.audit.services import record_read
    from prolotrack.core.testing import write_while_locked

    actor = actor_of(clinician)
    patient = services.create_patient(
        actor, {"given_name": "Lock", "family_name": "Free", "date_of_birth": date(1980, 1, 1), "sex": "female"}
    )
    write_while_locked(
        lambda: services._locked_next_mrn(actor.clinic),
        lambda: record_read(actor, "patient.viewed", record=patient),  # inserts an event naming the clinic
    )
