"""Fixtures for reminders: a patient with email and phone, a knee course, its first session booked in Chicago time."""

import sys
import types
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.test import override_settings

from prolotrack.clinics.testing import actor_of
from prolotrack.messaging import services as messaging_services
from prolotrack.messaging.backends import LocmemSMSBackend
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.testing import knee_course

CHICAGO = ZoneInfo("America/Chicago")
START = date(2026, 11, 2)
# Session 1 is booked for Friday 20 November 2026, 09:30 in Chicago (15:30 UTC).
SESSION_AT = datetime(2026, 11, 20, 9, 30, tzinfo=CHICAGO)
REAL_AWAITING = messaging_services._awaiting_timepoints


@pytest.fixture(autouse=True)
def _locmem_sms():
    LocmemSMSBackend.outbox.clear()
    with override_settings(PROLOTRACK_SMS_BACKEND="prolotrack.messaging.backends.LocmemSMSBackend"):
        yield
    LocmemSMSBackend.outbox.clear()


@pytest.fixture
def contact_patient(make_patient):
    return make_patient(email="ada@example.org", phone="(312) 555-0101")


@pytest.fixture
def course(clinician, contact_patient):
    return knee_course(clinician, contact_patient, START)


@pytest.fixture
def book(clinician):
    def do(session, when=SESSION_AT):
        with transaction.atomic():
            return treatment_services.book_session(
                actor_of(clinician), session, starts_at=when, clinician=clinician, duration_minutes=45
            )

    return do


@pytest.fixture
def booked(course, book):
    return book(course.sessions.get(number=1))


def at(day: date, hour: int = 8, minute: int = 0) -> datetime:
    """A moment on a Chicago day."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=CHICAGO)


@pytest.fixture(autouse=True)
def _no_questionnaires(monkeypatch):
    """Session reminder tests see no questionnaire due (the fake_outcomes fixture supplies some)."""
    monkeypatch.setattr("prolotrack.messaging.services._awaiting_timepoints", lambda clinic, today: [])


@pytest.fixture
def fake_outcomes(monkeypatch):
    """Stand-ins for the outcomes feature's link service and awaiting-timepoints query."""
    created = []
    awaiting: list = []

    def create_link(actor, patient, *, timepoint=None, instruments=None, delivery="copied"):
        created.append({"patient": patient, "timepoint": timepoint, "delivery": delivery, "role": actor.role})
        return object(), f"/q/token-{len(created)}/"

    try:
        import prolotrack.outcomes.services as outcome_services
    except ImportError:
        outcome_services = types.ModuleType("prolotrack.outcomes.services")
        monkeypatch.setitem(sys.modules, "prolotrack.outcomes.services", outcome_services)
    monkeypatch.setattr(outcome_services, "create_link", create_link, raising=False)
    monkeypatch.setattr("prolotrack.messaging.services._awaiting_timepoints", lambda clinic, today: list(awaiting))
    return types.SimpleNamespace(created=created, awaiting=awaiting)


@pytest.fixture(autouse=True)
def _passes_report_no_errors(monkeypatch):
    """A pass catches a clinic's planning error so other clinics still get theirs; tests must see none."""
    real = messaging_services.run_pass

    def checked(**kwargs):
        report = real(**kwargs)
        assert report.errors == [], report.errors
        return report

    monkeypatch.setattr(messaging_services, "run_pass", checked)
