"""Fixtures for documents: a signed knee session (the treatment workflow's fixtures), and helpers to read PDFs."""

import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from pypdf import PdfReader

from prolotrack.audit.services import create_record
from prolotrack.clinics.testing import actor_of
from prolotrack.outcomes.models import QuestionnaireResponse
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.tests.conftest import *  # noqa: F403 - the treatment workflow's fixtures, as they are


def pdf_text(data: bytes) -> str:
    """All the text of a PDF, pages joined, whitespace collapsed (what a reader would search)."""
    reader = PdfReader(io.BytesIO(data))
    return " ".join(" ".join((page.extract_text() or "").split()) for page in reader.pages)


@pytest.fixture
def signed_consent(clinician, course):
    """The course's treatment consent, signed with its PDF rendered at signing (so it is listed with its hash)."""
    from prolotrack.consent.testing import sign_for_course

    return sign_for_course(actor_of(clinician), course, render=True)


@pytest.fixture
def without_consent_rule(monkeypatch):
    """Sign without a consent: the consent rule is the consent feature's, tested there; these tests are about documents."""
    original = treatment_services.signing_blockers

    def blockers(state):
        return tuple(b for b in original(state) if "consent" not in b.lower())

    monkeypatch.setattr(treatment_services, "signing_blockers", blockers)


@pytest.fixture
def signed_session(clinician, ready_session, course, without_consent_rule):
    """Session 1 signed, with session 2 booked for 2026-11-30 09:30 in the clinic's time zone."""
    actor = actor_of(clinician)
    second = course.sessions.get(number=2)
    treatment_services.book_session(
        actor,
        second,
        starts_at=datetime(2026, 11, 30, 9, 30, tzinfo=ZoneInfo("America/Chicago")),
        clinician=clinician,
    )
    signed = treatment_services.sign_session(actor, ready_session)
    assert signed.planned_on == date(2026, 11, 2)
    return signed


@pytest.fixture
def answered(clinician, signed_session):
    """NRS pain 7 at baseline, 3 six weeks later (4 points, 57%: a responder, DOMAIN.md §8), and a bruise."""
    actor = actor_of(clinician)
    course = signed_session.course
    with transaction.atomic():
        for day, score in ((date(2026, 11, 2), "7"), (date(2026, 11, 16), "3")):
            create_record(
                actor,
                QuestionnaireResponse(
                    clinic=course.clinic,
                    patient=course.patient,
                    course=course,
                    instrument="nrs_pain",
                    status="completed",
                    answers={"pain": int(score)},
                    score=Decimal(score),
                    authored_on=day,
                    source="staff_paper",
                ),
                "outcomes.response.recorded",
            )
    treatment_services.record_adverse_event(
        actor,
        course.patient,
        {"event_type": "bruising", "onset_on": date(2026, 11, 3), "severity": "mild", "causality": "probable",
         "outcome": "resolved", "description": "Small bruise at site 1."},
        session=signed_session,
    )  # fmt: skip
    return signed_session
