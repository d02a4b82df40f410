"""Fixtures for documents: a signed knee session (the treatment workflow's fixtures), and helpers to read PDFs."""

import io
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader

from prolotrack.core.testing import actor_of
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
