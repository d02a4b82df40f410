"""Registrations at the same moment each get their own PT- number (found by bench/durability.py on PostgreSQL: two
requests read the same highest number and the second was refused as a duplicate record number, 422).

transaction=True: the registrations commit from two threads, each with its own connection, as two requests do."""

import threading
from datetime import date
from typing import Any

import pytest
from django.db import connections

from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services
from prolotrack.patients.models import Patient

PER_THREAD = 6


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_all_succeed_with_distinct_numbers(clinician: Any) -> None:
    actor = actor_of(clinician)
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def register(name: str) -> None:
        try:
            start.wait(10)
            for n in range(PER_THREAD):
                values = {"given_name": f"{name}{n}", "family_name": "Race", "date_of_birth": date(1980, 1, 1)}
                services.create_patient(actor, {**values, "sex": "male"})
        except BaseException as error:  # reported below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=register, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert errors == []
    numbers = list(Patient.objects.filter(family_name="Race").values_list("mrn", flat=True))
    assert len(numbers) == len(set(numbers)) == 2 * PER_THREAD
