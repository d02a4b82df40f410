"""Fixtures for the research export: patients full of distinctive identifiers, with treatment, events and outcomes."""

import zipfile
from collections.abc import Callable
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.services import create_record, update_record
from prolotrack.clinics.testing import actor_of
from prolotrack.consent.models import Consent
from prolotrack.consent.services import withdraw_consent
from prolotrack.consent.testing import sign_research
from prolotrack.outcomes.models import QuestionnaireResponse, ResponseSource, ResponseStatus
from prolotrack.patients import services as patient_services
from prolotrack.research import services as research_services
from prolotrack.research.models import ExportJob
from prolotrack.treatment import services as treatment_services

COURSE_START = date(2024, 3, 11)
AE_ONSET = date(2024, 3, 13)
OUTCOME_DAY = date(2024, 6, 17)
BOOKED_AT = datetime(2024, 3, 12, 9, 30, tzinfo=ZoneInfo("America/Chicago"))


def sign_research_consent(by: Any, patient: Any, *, withdrawn: bool = False) -> Consent:
    """Through the consent app's own signing and withdrawal services."""
    actor = actor_of(by)
    consent = sign_research(actor, patient, render=False)
    if withdrawn:
        consent = withdraw_consent(actor, consent, reason="No longer wishes to take part")
    return consent


@pytest.fixture
def treated(clinician: Any, make_patient: Callable[..., Any]) -> Callable[..., Any]:
    """A patient with distinctive identifiers, a knee course with a booked, recorded session, an adverse event
    whose description names the patient, and a completed outcome. `consent`: "signed", "withdrawn" or None."""

    def make(by: Any = None, consent: str | None = "signed", **fields: Any) -> Any:
        by = by or clinician
        indication = fields.pop("indication", "Knee osteoarthritis")
        patient = make_patient(by=by, **fields)
        actor = actor_of(by)
        with transaction.atomic():
            patient_services.add_child(
                actor, patient, "weight", {"measured_on": COURSE_START - timedelta(days=3), "weight_kg": Decimal("81")}
            )
        course = treatment_services.create_course(
            actor,
            patient,
            protocol_id="knee_oa_rabago",
            indication=indication,
            region="knee",
            side="left",
            start_on=COURSE_START,
            note=f"Free-text course note mentioning {patient.full_name} and MRN {patient.mrn}",
        )
        session = course.sessions.get(number=1)
        session = treatment_services.book_session(actor, session, starts_at=BOOKED_AT, clinician=by)
        session = treatment_services.update_session_record(
            actor,
            session,
            {"note": f"Procedure note for {patient.full_name}, phone {patient.phone}", "vasovagal": True},
            expected_version=session.version,
        )
        solution = treatment_services.add_solution(
            actor,
            session,
            label="A",
            final_volume_ml=Decimal("10"),
            components=[
                {"agent": "dextrose", "target_pct": "15", "stock_pct": "50", "lot": "LOT-7781-D", "expiry": date(2027, 6, 30)},
                {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": "LOT-5521-L", "expiry": date(2027, 1, 31)},
            ],
            diluent_lot="NS-9981",
        )  # fmt: skip
        site, _ = treatment_services.add_site(
            actor,
            session.__class__.objects.get(pk=session.pk),
            solution=solution,
            body_map="knee_front",
            x=Decimal("100"),
            y=Decimal("100"),
            side="left",
            volume_ml=Decimal("1.5"),
            landmark="knee.intra_articular",
        )
        treatment_services.add_site(
            actor,
            session.__class__.objects.get(pk=session.pk),
            solution=solution,
            body_map="knee_front",
            x=Decimal("120"),
            y=Decimal("90"),
            side="left",
            volume_ml=Decimal("0.5"),
            label=f"Tender spot shown by {patient.given_name}",
        )
        # An adverse event follows only a session that happened (done and signed); the signing gate itself is tested
        # in the treatment app, so this shortcut records its result.
        with transaction.atomic():
            session = update_record(
                actor, session.__class__.objects.get(pk=session.pk),
                {"status": "done", "signed_at": BOOKED_AT, "signed_by": by}, "test.session.signed",
                expected_version=None,
            )  # fmt: skip
        treatment_services.record_adverse_event(
            actor,
            patient,
            {
                "event_type": "pain_flare",
                "onset_on": AE_ONSET,
                "severity": "mild",
                "serious": False,
                "causality": "probable",
                "outcome": "resolved",
                "description": f"{patient.full_name} called from {patient.phone} about knee pain",
            },
            session=session,
            site=site,
        )
        timepoint = course.timepoints.order_by("due_on").first()
        with transaction.atomic():
            create_record(
                actor,
                QuestionnaireResponse(
                    clinic=patient.clinic,
                    patient=patient,
                    course=course,
                    timepoint=timepoint,
                    instrument="womac",
                    status=ResponseStatus.COMPLETED,
                    answers={"comment": f"My name is {patient.full_name}"},
                    score=Decimal("42.50"),
                    authored_on=OUTCOME_DAY,
                    completed_at=timezone.now(),
                    source=ResponseSource.STAFF_PAPER,
                ),
                "outcomes.response.recorded",
            )
        if consent is not None:
            sign_research_consent(by, patient, withdrawn=consent == "withdrawn")
        return patient

    return make


@pytest.fixture
def run_export() -> Callable[..., ExportJob]:
    """Start an export as a user and return the finished job (tasks run inline in tests)."""

    def run(user: Any, **request: Any) -> ExportJob:
        job = research_services.start_export(actor_of(user), research_services.ExportRequest(**request))
        job.refresh_from_db()
        return job

    return run


def members(job: ExportJob) -> dict[str, bytes]:
    with zipfile.ZipFile(research_services.open_file(job)) as archive:
        return {name: archive.read(name) for name in archive.namelist()}
