"""Version rows and audit events are inserted with one `executemany` of prepared values (`_insert_rows`), not
Django's bulk insert compiler (docs/PERFORMANCE.md, FHIR import): the database must hold exactly what `bulk_create`
wrote, and the chain must verify."""

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from django.db import transaction
from django.forms.models import model_to_dict

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.queries import verify_chains
from prolotrack.audit.services import Actor, _insert_rows, record_events

pytestmark = pytest.mark.django_db


def _version(clinic: Any, user: Any, **extra: Any) -> dict[str, Any]:
    values = {
        "record_type": "patients.observation",
        "record_uuid": uuid.uuid4(),
        "version": 1,
        "clinic_id": clinic.pk,
        "patient_uuid": uuid.uuid4(),
        "user_id": user.pk,
        "at": datetime(2026, 12, 7, 6, 30, 1, 123456, tzinfo=UTC),
        "action": "patient.observation.added",
        "reason": "",
        "data": {"resource": {"valueQuantity": {"value": 0.18, "unit": "{score}"}}, "text": "Ünïcode ✓", "n": None},
        "changes": {},
    }
    values.update(extra)
    return values


def _read(model: Any, pk: int) -> dict[str, Any]:
    row = model_to_dict(model.objects.get(pk=pk))
    row.pop("id")
    return row


def test_a_raw_insert_writes_what_bulk_create_writes(clinic, clinician):
    raw = [_version(clinic, clinician), _version(clinic, clinician, user_id=None, patient_uuid=None, reason="why\nnot")]
    with transaction.atomic():
        _insert_rows(RecordVersion, raw)
        twins = [
            RecordVersion(**{**row, "record_uuid": uuid.uuid4()}) for row in raw
        ]  # the same values through the ORM
        RecordVersion.objects.bulk_create(twins)
    by_orm = {v.record_uuid: v for v in twins}
    stored = list(RecordVersion.objects.order_by("id"))
    assert len(stored) == 4
    for written, twin in zip(stored[:2], twins, strict=True):
        ours, theirs = _read(RecordVersion, written.pk), _read(RecordVersion, by_orm[twin.record_uuid].pk)
        ours.pop("record_uuid"), theirs.pop("record_uuid")
        assert ours == theirs
    assert stored[0].at == raw[0]["at"] and stored[0].data == raw[0]["data"]


@pytest.mark.parametrize(
    ("address", "stored"),
    [("::ffff:10.0.0.1", "::ffff:10.0.0.1"), ("fe80::1%eth0", "fe80::1"), ("2001:DB8::1", "2001:db8::1"),
     ("10.0.0.1", "10.0.0.1"), ("not an address", None)],
)  # fmt: skip
def test_batched_events_read_back_as_computed_and_the_chain_verifies(clinic, clinician, patient, address, stored):
    """An IPv4-mapped or zoned IPv6 address is hashed as the column stores it (it was not, and the chain then failed
    to verify)."""
    actor = Actor(user=clinician, clinic=clinic, role="clinician", client_address=address, channel="fhir")
    with transaction.atomic():
        events = record_events(
            actor, "patient.viewed", records=[patient, patient], details=[{"a": 1}, {"b": "ü", "c": [1.5, None]}]
        )
    rows = list(AuditEvent.objects.filter(chain_key=f"clinic:{clinic.pk}").order_by("seq"))
    assert [e.hash for e in rows[-2:]] == [e.hash for e in events]
    for written, computed in zip(rows[-2:], events, strict=True):
        assert written.canonical() == computed.canonical()  # the stored row hashes to the hash it carries
        assert written.client_address == computed.client_address == stored
    assert verify_chains()[0] == []
