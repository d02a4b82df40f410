"""The mutex row locks (a clinician's bookings, a patient's account) must not block the inserts that name the locked
row by foreign key. On PostgreSQL each such insert takes FOR KEY SHARE on the named row; a FOR UPDATE lock blocks it,
FOR NO KEY UPDATE does not (docs/ARCHITECTURE.md, "Row locks"). With FOR UPDATE, a booking holding its clinician and
waiting for the audit chain deadlocked against that clinician's read holding the chain and inserting its audit event.

Each test holds the lock in one thread and, in the main thread, writes what names the row with a 3 s lock timeout:
with plain FOR UPDATE both fail on PostgreSQL ("canceling statement due to lock timeout")."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from prolotrack.audit.services import record_read
from prolotrack.billing import services as billing_services
from prolotrack.booking import services as booking_services
from prolotrack.clinics.testing import actor_of
from prolotrack.core.testing import write_while_locked
from prolotrack.patients import services as patient_services

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_booking_holding_its_clinician_does_not_block_that_clinicians_audited_reads(clinician: Any) -> None:
    actor = actor_of(clinician)
    patient = patient_services.create_patient(
        actor, {"given_name": "Lock", "family_name": "Free", "date_of_birth": date(1980, 1, 1), "sex": "female"}
    )
    write_while_locked(
        lambda: booking_services._lock(clinician, None),
        lambda: record_read(actor, "patient.viewed", record=patient),  # an event naming the clinician as its user
    )


def test_money_moving_on_an_account_does_not_block_a_record_added_to_that_patient(clinician: Any) -> None:
    actor = actor_of(clinician)
    patient = patient_services.create_patient(
        actor, {"given_name": "Lock", "family_name": "Free", "date_of_birth": date(1980, 1, 1), "sex": "female"}
    )
    write_while_locked(
        lambda: billing_services._lock_account(patient),
        lambda: patient_services.add_child(
            actor, patient, "weight", {"measured_on": date(2025, 1, 1), "weight_kg": Decimal("70")}
        ),
    )
