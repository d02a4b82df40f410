"""A signed session's invoice is drafted automatically once the signature is committed (docs/BILLING.md, "Automatic
draft on signing"): through the treatment.session_signed event, by the system, once, only with a fee schedule, and
never at the signature's expense."""

import logging
from dataclasses import replace
from typing import Any

import pytest

from prolotrack.audit.models import AuditEvent
from prolotrack.billing import queries, services
from prolotrack.billing.models import Invoice, InvoiceStatus
from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services as treatment
from prolotrack.treatment.models import TreatmentSession


def sign(clinician: User, session: Any, capture: Any) -> TreatmentSession:
    """Sign as the clinician, running what follows the commit (the visit summary, the draft) as production does."""
    with capture(execute=True):
        treatment.sign_session(actor_of(clinician), session)
    return TreatmentSession.objects.get(pk=session.pk)


def test_signing_drafts_the_invoice_from_the_session_by_the_system(
    clinician: User, recorded_session: Any, fees: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    session = sign(clinician, recorded_session, django_capture_on_commit_callbacks)
    invoice = Invoice.objects.get(session=session)
    assert invoice.status == InvoiceStatus.DRAFT and invoice.number is None
    lines = queries.invoice_lines(invoice)
    assert [(line.code, line.description, line.quantity) for line in lines] == [
        ("M0076", "Prolotherapy (knee, right)", 1),
        ("M0076", "Prolotherapy (knee, left)", 1),
    ]
    assert invoice.total == 500
    event = AuditEvent.objects.get(action="billing.invoice.drafted", record_uuid=invoice.uuid)
    assert event.user is None and event.channel == "system"
    assert event.detail["automatic"] is True and event.detail["signed_by"] == clinician.pk


def test_a_signature_by_the_system_drafts_nothing(
    clinician: User, recorded_session: Any, fees: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    """The demo seed and scripts loading past records sign as the system: no draft for every old session."""
    seeder = replace(actor_of(clinician), channel="system")
    with django_capture_on_commit_callbacks(execute=True):
        treatment.sign_session(seeder, recorded_session)
    session = TreatmentSession.objects.get(pk=recorded_session.pk)
    assert session.is_signed and not Invoice.objects.filter(session=session).exists()
    assert queries.sessions_to_charge(session.patient) == [session]


def test_signing_again_or_amending_never_drafts_twice(
    clinician: User,
    frontdesk: User,
    recorded_session: Any,
    fees: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
) -> None:
    session = sign(clinician, recorded_session, django_capture_on_commit_callbacks)
    first = Invoice.objects.get(session=session)
    assert services.draft_invoice_for_session(actor_of(clinician), session.pk) is None  # the event sent again
    with django_capture_on_commit_callbacks(execute=True):
        treatment.update_session_record(
            actor_of(clinician),
            session,
            {"note": "Tolerated well."},
            expected_version=session.version,
            reason="omission",
            amendment=True,
        )
    assert list(Invoice.objects.filter(session=session)) == [first]
    # A draft the front desk discarded stays discarded: the session is then charged by hand, if at all.
    services.discard_draft(actor_of(frontdesk), first, reason="Charged on the package instead")
    assert services.draft_invoice_for_session(actor_of(clinician), session.pk) is None
    assert Invoice.objects.filter(session=session).count() == 1


def test_without_a_fee_schedule_nothing_is_drafted(
    clinician: User, recorded_session: Any, django_capture_on_commit_callbacks: Any
) -> None:
    session = sign(clinician, recorded_session, django_capture_on_commit_callbacks)
    assert session.is_signed
    assert not Invoice.objects.filter(session=session).exists()
    assert not AuditEvent.objects.filter(action__startswith="billing.").exists()


def test_a_failure_to_draft_never_blocks_or_undoes_the_signature(
    clinician: User,
    recorded_session: Any,
    fees: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Invoice:
        raise RuntimeError("the fee schedule could not be read")

    monkeypatch.setattr(services, "_draft_lines", broken)
    caplog.set_level(logging.ERROR)
    session = sign(clinician, recorded_session, django_capture_on_commit_callbacks)
    assert session.is_signed and session.signed_by == clinician
    assert AuditEvent.objects.filter(action="treatment.session.signed", record_uuid=session.uuid).exists()
    assert not Invoice.objects.filter(session=session).exists()
    assert "Could not draft the invoice of signed session" in caplog.text
    # The session waits on the account's "signed sessions not yet charged", to be drafted by hand.
    assert session in queries.sessions_to_charge(session.patient)


def test_a_failure_inside_the_draft_leaves_no_half_invoice(
    clinician: User,
    recorded_session: Any,
    fees: dict[str, Any],
    django_capture_on_commit_callbacks: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Invoice:
        raise RuntimeError("the totals could not be computed")

    monkeypatch.setattr(services, "_recompute", broken)
    session = sign(clinician, recorded_session, django_capture_on_commit_callbacks)
    assert session.is_signed
    assert not Invoice.objects.filter(session=session).exists()
    assert not AuditEvent.objects.filter(action__startswith="billing.invoice").exists()


def test_a_signature_rolled_back_drafts_nothing(
    clinician: User, recorded_session: Any, fees: dict[str, Any], django_capture_on_commit_callbacks: Any
) -> None:
    from django.db import transaction

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(RuntimeError), transaction.atomic():
        treatment.sign_session(actor_of(clinician), recorded_session)
        raise RuntimeError("the request failed after signing")
    assert not Invoice.objects.filter(session=recorded_session).exists()
