"""Stored files are checked against the SHA-256 recorded when they were stored, every time they are served.

A consent PDF, a visit summary, a progress report or an uploaded image whose bytes no longer match their hash was
changed outside the app (a direct database or disk edit, corruption). It is not served: the caller answers 409, the
mismatch is audited (`document.integrity_failed`) and the clinic's administrators are emailed (docs/DOCUMENTS.md).
"""

import hashlib
import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction

from prolotrack.audit import hooks
from prolotrack.audit.services import Actor, ServiceError, record_event

log = logging.getLogger(__name__)


class IntegrityMismatch(ServiceError):
    """The stored bytes do not match their recorded hash."""

    code = "integrity_mismatch"


def verified(data: bytes, expected: str, *, actor: Actor, record: Any, what: str) -> bytes:
    """`data` if its SHA-256 is `expected`; otherwise audit, alert the clinic's administrators and refuse."""
    found = hashlib.sha256(data).hexdigest()
    if expected and found == expected:
        return data
    patient = getattr(record, "patient", None)
    with transaction.atomic():
        record_event(
            actor,
            "document.integrity_failed",
            record=record,
            patient_uuid=getattr(patient, "uuid", None),
            detail={"what": what, "expected_sha256": expected, "found_sha256": found, "size": len(data)},
        )
    log.error("Stored %s %s fails its integrity check (expected %s, found %s)", what, record.uuid, expected, found)
    alert_admins(record.clinic, what, record)
    raise IntegrityMismatch(
        f"The stored {what} does not match the SHA-256 recorded when it was stored, so it is not shown: it may have "
        "been changed outside ProloTrack. The clinic's administrators have been alerted; keep the paper or "
        "earlier copy until they have checked it."
    )


def alert_admins(clinic: Any, what: str, record: Any) -> int:
    """Email every active member of the clinic who reads the audit trail (its administrators) and has an address;
    returns how many were written to."""
    addresses = hooks.alert_addresses(clinic)
    if not addresses:
        return 0
    body = (
        f"A stored {what} (record {record.uuid}) in {clinic.name} no longer matches the SHA-256 recorded when it was "
        "stored, and ProloTrack refused to serve it. Check the database and backups for changes made outside the "
        "app; the audit log has the event document.integrity_failed with both hashes."
    )
    sent = send_mail(
        f"ProloTrack: a stored {what} failed its integrity check",
        body,
        settings.DEFAULT_FROM_EMAIL,
        addresses,
        fail_silently=True,
    )
    return sent and len(addresses)
