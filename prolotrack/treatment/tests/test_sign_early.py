"""A session note is signed once the session has taken place: signing days ahead is refused or needs a reason
(issue 19: a session booked for 2026-12-09 was signed through the API on 2026-12-06)."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.clinics.testing import actor_of
from prolotrack.treatment import services
from prolotrack.treatment.models import SessionStatus, TreatmentSession


@pytest.fixture(autouse=True)
def _screened_for_any_day(monkeypatch):
    """The ready session was screened for its planned day; booking it elsewhere would only add that blocker."""
    real = services.signing_blockers
    monkeypatch.setattr(services, "signing_blockers", lambda state: [b for b in real(state) if "screening" not in b])


def _book(clinician, session, starts_at):
    with transaction.atomic():
        return services.book_session(actor_of(clinician), session, starts_at=starts_at, clinician=clinician)


def test_signing_days_before_the_session_is_refused(clinician, ready_session):
    session = _book(clinician, ready_session, timezone.now() + timedelta(days=3))
    with pytest.raises(ValidationError, match="give the reason for signing now"):
        services.sign_session(actor_of(clinician), session)
    assert TreatmentSession.objects.get(pk=session.pk).signed_at is None


def test_signing_early_with_a_stated_reason_records_the_reason(clinician, ready_session):
    session = _book(clinician, ready_session, timezone.now() + timedelta(days=3))
    signed = services.sign_session(actor_of(clinician), session, early_reason="Seen as a walk-in on Sunday")
    assert signed.status == SessionStatus.DONE
    version = RecordVersion.objects.get(action="treatment.session.signed", record_uuid=signed.uuid)
    assert version.reason == "Signed before the booked start: Seen as a walk-in on Sunday"
    assert AuditEvent.objects.filter(action="treatment.session.signed", record_uuid=signed.uuid).exists()


def test_signing_within_the_clinics_margin_or_after_needs_no_reason(clinician, ready_session):
    start = timezone.now() + timedelta(days=3)
    session = _book(clinician, ready_session, start)
    problem = services.early_signing_problem
    assert problem(session, start - timedelta(minutes=61), "")  # the default margin is 60 minutes
    assert problem(session, start - timedelta(minutes=60), "") == ""
    assert problem(session, start + timedelta(hours=2), "") == ""
    assert problem(session, start - timedelta(days=2), "abc")  # a reason of fewer than 5 characters is no reason
    clinic = session.clinic
    clinic.settings = {**clinic.settings, "sign_early_margin_minutes": 0}
    clinic.save()
    session.refresh_from_db()
    assert problem(session, start - timedelta(minutes=1), "")


def test_the_api_refuses_an_early_signature_and_accepts_one_with_a_reason(client, clinician, api_token, ready_session):
    session = _book(clinician, ready_session, timezone.now() + timedelta(days=3))
    url = f"/api/sessions/{session.uuid}/sign"
    refused = client.post(url, headers=api_token(clinician))
    assert refused.status_code in (400, 422) and "reason for signing now" in refused.content.decode()
    assert TreatmentSession.objects.get(pk=session.pk).signed_at is None
    signed = client.post(url + "?early_reason=Patient+seen+early+by+arrangement", headers=api_token(clinician))
    assert signed.status_code == 200 and signed.json()["status"] == "done"
