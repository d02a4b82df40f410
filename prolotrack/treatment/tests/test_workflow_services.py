"""The treatment workflow through its services: course, booking, checklist, solution, sites, signing, amendments, AEs."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, RecordClosedError, ServiceError, update_record
from prolotrack.clinics.testing import actor_of
from prolotrack.patients import services as patient_services
from prolotrack.treatment import queries, services
from prolotrack.treatment.models import (
    AdverseEvent,
    Course,
    CourseTimepoint,
    InjectionSite,
    SessionStatus,
    TreatmentSession,
)
from prolotrack.treatment.tests.conftest import START


def fresh(record):
    return record.__class__.objects.get(pk=record.pk)


def test_a_course_from_the_knee_template_plans_sessions_and_timepoints(course):
    sessions = list(course.sessions.order_by("number"))
    # Rabago 2013 (DOMAIN.md §4): weeks 1, 5, 9, with 13 and 17 as needed; the first session is the start date.
    assert [(s.planned_on, s.optional) for s in sessions] == [
        (START, False),
        (START + timedelta(weeks=4), False),
        (START + timedelta(weeks=8), False),
        (START + timedelta(weeks=12), True),
        (START + timedelta(weeks=16), True),
    ]
    codes = list(CourseTimepoint.objects.filter(course=course).values_list("code", flat=True))
    assert codes[0] == "baseline"
    assert {"6w", "3m", "6m", "12m"} <= set(codes) or len(codes) >= 6
    assert course.protocol_name
    assert AuditEvent.objects.filter(action="treatment.course.created").count() == 1


def test_a_course_without_a_template_has_one_session(clinician, weighed_patient):
    course = services.create_course(
        actor_of(clinician), weighed_patient, protocol_id="", indication="Plantar fascia", region="ankle_foot",
        side="left", start_on=START,
    )  # fmt: skip
    assert course.sessions.count() == 1


@pytest.mark.parametrize(
    ("protocol", "region", "message"),
    [("no_such_template", "knee", "No protocol template"), ("tmj_refai", "knee", "for the temporomandibular")],
)
def test_a_bad_course_request_is_refused_and_writes_nothing(clinician, weighed_patient, protocol, region, message):
    with pytest.raises(ValidationError, match=message):
        services.create_course(
            actor_of(clinician), weighed_patient, protocol_id=protocol, indication="x", region=region, side="left",
            start_on=START,
        )  # fmt: skip
    assert not Course.objects.exists()
    assert not TreatmentSession.objects.exists()


def test_only_clinicians_open_courses(colleague, weighed_patient):
    with pytest.raises(AccessDenied):
        services.create_course(
            actor_of(colleague), weighed_patient, protocol_id="", indication="x", region="knee", side="left",
            start_on=START,
        )  # fmt: skip


def test_booking_sets_time_clinician_and_status(clinician, frontdesk, session):
    when = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("America/Chicago"))
    booked = services.book_session(actor_of(frontdesk), session, starts_at=when, clinician=clinician)
    assert booked.status == SessionStatus.BOOKED
    assert booked.starts_at == when
    assert booked.clinician == clinician


def test_booking_with_a_non_clinician_is_refused(colleague, frontdesk, session):
    when = datetime(2026, 11, 2, 9, 30, tzinfo=ZoneInfo("America/Chicago"))
    with pytest.raises(ValidationError, match="Choose a clinician"):
        services.book_session(actor_of(frontdesk), session, starts_at=when, clinician=colleague)
    assert fresh(session).status == SessionStatus.PLANNED


def test_a_no_show_cannot_be_recorded_on(clinician, session):
    services.set_attendance(actor_of(clinician), session, SessionStatus.NO_SHOW, reason="did_not_attend")
    with pytest.raises(ServiceError, match="marked no-show"):
        services.tick(actor_of(clinician), fresh(session), "meal", "yes")


def test_the_solution_is_computed_by_the_mixing_calculator(solution):
    parts = {c["agent"]: c for c in solution.components}
    assert parts["dextrose"]["stock_volume_ml"] == "3.00"
    assert parts["lidocaine"]["stock_volume_ml"] == "2.50"
    assert solution.diluent_volume_ml == Decimal("4.50")
    assert Decimal(parts["lidocaine"]["amount_mg"]) == Decimal("50")
    assert parts["lidocaine"]["lot"] == "LID-88"


def test_the_session_takes_the_latest_weight_when_a_solution_is_prepared(session, solution):
    assert fresh(session).weight_kg == Decimal("70.0")


def test_an_expired_lot_is_refused(clinician, session):
    with pytest.raises(ValidationError, match="expired"):
        services.add_solution(
            actor_of(clinician), session, label="B", final_volume_ml=Decimal("5"),
            components=[{"agent": "dextrose", "target_pct": "25", "stock_pct": "50", "lot": "OLD", "expiry": date(2026, 1, 1)}],
        )  # fmt: skip


def test_an_impossible_mix_is_refused_with_the_calculators_message(clinician, session):
    with pytest.raises(ValidationError, match="above the stock"):
        services.add_solution(
            actor_of(clinician), session, label="B", final_volume_ml=Decimal("5"),
            components=[{"agent": "dextrose", "target_pct": "60", "stock_pct": "50"}],
        )  # fmt: skip


def test_sites_sum_into_running_totals(ready_session):
    totals = queries.totals(ready_session)
    assert totals.injections == 8
    assert totals.volume_ml == Decimal("4.0")
    assert totals.dextrose_g == Decimal("0.6")
    assert totals.anaesthetic_mg == Decimal("20.0")


def test_a_site_that_would_exceed_the_anaesthetic_limit_is_refused(clinician, session, solution):
    actor = actor_of(clinician)
    # 50 kg patient: plain lidocaine limit 225 mg (DOMAIN.md §3). 0.5% = 5 mg/mL.
    services.update_session_record(actor, fresh(session), {"weight_kg": Decimal("50")}, expected_version=None)
    big = services.add_solution(
        actor, fresh(session), label="B", final_volume_ml=Decimal("60"),
        components=[{"agent": "dextrose", "target_pct": "15", "stock_pct": "50"},
                    {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2"}],
    )  # fmt: skip
    for _ in range(4):
        services.add_site(
            actor, fresh(session), solution=big, body_map="knee_front", x=Decimal(100), y=Decimal(100),
            side="right", volume_ml=Decimal("10"), label="IA",
        )  # fmt: skip
    with pytest.raises(ServiceError, match="Not added"):
        services.add_site(
            actor, fresh(session), solution=big, body_map="knee_front", x=Decimal(100), y=Decimal(100),
            side="right", volume_ml=Decimal("10"), label="IA",
        )  # fmt: skip
    assert InjectionSite.objects.filter(session=session).count() == 4
    assert queries.totals(fresh(session)).anaesthetic_mg == Decimal("200.0")


def test_a_site_outside_the_drawing_or_at_another_regions_landmark_is_refused(clinician, session, solution):
    actor = actor_of(clinician)
    with pytest.raises(ValidationError):
        services.add_site(
            actor, session, solution=solution, body_map="knee_front", x=Decimal("-5"), y=Decimal("100"),
            side="right", volume_ml=Decimal("0.5"), label="x",
        )  # fmt: skip
    with pytest.raises(ValidationError, match="not a landmark of this region"):
        services.add_site(
            actor, session, solution=solution, body_map="knee_front", x=Decimal("100"), y=Decimal("100"),
            side="right", volume_ml=Decimal("0.5"), landmark="shoulder.ac_joint",
        )  # fmt: skip
    with pytest.raises(ValidationError, match="not of this course's region"):
        services.add_site(
            actor, session, solution=solution, body_map="tmj_side", x=Decimal("100"), y=Decimal("100"),
            side="right", volume_ml=Decimal("0.5"), label="x",
        )  # fmt: skip
    assert not InjectionSite.objects.exists()


def test_signing_lists_what_is_missing(clinician, session):
    with pytest.raises(ServiceError) as error:
        services.sign_session(actor_of(clinician), session)
    message = str(error.value)
    assert "Re-check screening" in message
    assert "Checklist not ticked" in message
    assert "No solution recorded" in message
    assert fresh(session).signed_at is None


def test_an_unresolved_contraindication_blocks_signing(clinician, ready_session):
    actor = actor_of(clinician)
    services.rescreen_for_the_day(actor, ready_session, day_of_flags=["acute_fracture"])
    with pytest.raises(ServiceError, match="Unresolved contraindication"):
        services.sign_session(actor, fresh(ready_session))


def test_a_signed_session_is_locked_and_corrected_only_by_amendment(clinician, ready_session):
    actor = actor_of(clinician)
    signed = services.sign_session(actor, ready_session)
    assert signed.status == SessionStatus.DONE
    assert signed.signed_by == clinician
    with pytest.raises(RecordClosedError, match="signed and locked"):
        services.update_session_record(actor, fresh(signed), {"note": "late"}, expected_version=None)
    site = InjectionSite.objects.filter(session=signed).first()
    with pytest.raises(RecordClosedError):
        services.retire_session_item(actor, site, reason="Charted twice by mistake")
    with pytest.raises(ValidationError, match="Choose a reason from the list"):
        services.update_session_record(
            actor, fresh(signed), {"note": "x"}, expected_version=None, amendment=True, reason="oops"
        )
    with pytest.raises(ValidationError, match="Choose a reason from the list"):
        services.update_session_record(
            actor, fresh(signed), {"note": "x"}, expected_version=None, amendment=True,
            reason="Added the phone follow-up the same evening",
        )  # fmt: skip
    with pytest.raises(ValidationError, match="at least 5 characters"):
        services.update_session_record(
            actor, fresh(signed), {"note": "x"}, expected_version=None, amendment=True, reason="other"
        )
    amended = services.update_session_record(
        actor, fresh(signed), {"note": "Patient reported mild dizziness after leaving"}, expected_version=None,
        amendment=True, reason="omission: Added the phone follow-up the same evening",
    )  # fmt: skip
    assert amended.note.startswith("Patient reported")
    versions = RecordVersion.objects.filter(record_uuid=signed.uuid).order_by("version")
    assert versions.last().action == "treatment.session.amended"
    assert versions.last().reason == "Adding something left out: Added the phone follow-up the same evening"
    assert any(v.data["note"] == "" for v in versions)  # the original is kept


def test_nurses_record_but_do_not_sign_or_amend(colleague, ready_session):
    with pytest.raises(AccessDenied):
        services.sign_session(actor_of(colleague), ready_session)


def test_adverse_event_links_session_site_solution_and_lot(clinician, signed_session):
    site = InjectionSite.objects.filter(session=signed_session).first()
    event = services.record_adverse_event(
        actor_of(clinician),
        signed_session.patient,
        {"event_type": "pain_flare", "onset_on": START + timedelta(days=1), "severity": "moderate",
         "serious": False, "causality": "probable", "outcome": "recovering", "description": "Flare for 48 h"},
        site=site,
    )  # fmt: skip
    assert event.session == signed_session
    assert event.solution == site.solution
    assert event.lot == "D50-2231, LID-88"
    assert event.course == signed_session.course


def test_an_adverse_event_before_its_session_or_in_the_future_is_refused(clinician, signed_session):
    base = {"event_type": "bruising", "severity": "mild", "serious": False, "causality": "possible",
            "outcome": "resolved", "description": "Bruise"}  # fmt: skip
    for onset in (START - timedelta(days=1), date(2999, 1, 1)):
        with pytest.raises(ValidationError):
            services.record_adverse_event(
                actor_of(clinician), signed_session.patient, {**base, "onset_on": onset}, session=signed_session
            )
    assert not AdverseEvent.objects.exists()


def test_stopping_a_course_needs_a_reason_and_cancels_what_is_left(clinician, course):
    actor = actor_of(clinician)
    with pytest.raises(ValidationError, match="Choose a reason"):
        services.close_course(actor, course, reason="")
    with pytest.raises(ValidationError, match="at least 5"):
        services.close_course(actor, course, reason="other", details="no")
    services.close_course(actor, course, reason="other", details="Moved away")
    statuses = set(course.sessions.values_list("status", flat=True))
    assert statuses == {SessionStatus.CANCELLED}
    assert fresh(course).status == "stopped" and fresh(course).stop_reason == "Other (say why): Moved away"


def test_a_course_with_no_session_done_cannot_be_closed_as_completed(clinician, course):
    """Service level, so the API and every other caller get the rule: the outcome is derived, not chosen."""
    actor = actor_of(clinician)
    with pytest.raises(ValidationError, match="cannot close as completed"):
        services.close_course(actor, course, "completed", reason="resolved")
    with pytest.raises(ValidationError, match="does not explain"):
        services.close_course(actor, course, reason="plan_done")
    assert fresh(course).status == "open"
    assert set(course.sessions.values_list("status", flat=True)) == {SessionStatus.PLANNED}


def test_a_course_whose_required_sessions_were_all_signed_closes_as_completed(clinician, course):
    actor = actor_of(clinician)
    required = [s for s in course.sessions.all() if not s.optional]
    for s in required:
        # The signing itself is tested elsewhere; here only its result matters: done and signed.
        with transaction.atomic():
            update_record(
                actor, s, {"status": SessionStatus.DONE, "signed_at": timezone.now(), "signed_by": clinician},
                "treatment.session.signed", expected_version=None,
            )  # fmt: skip
    impact = queries.close_impact(fresh(course))
    assert impact.outcome.outcome.value == "completed" and impact.outcome.done == len(required)
    closed = services.close_course(actor, fresh(course), reason="plan_done")
    assert closed.status == "completed" and closed.stop_reason == "Planned sessions done"


def test_cancelling_a_session_needs_a_reason_from_the_list(clinician, session):
    actor = actor_of(clinician)
    with pytest.raises(ValidationError, match="Choose a reason"):
        services.set_attendance(actor, session, SessionStatus.CANCELLED, reason="")
    with pytest.raises(ValidationError, match="at least 5"):
        services.set_attendance(actor, session, SessionStatus.CANCELLED, reason="other")
    done = services.set_attendance(actor, session, SessionStatus.CANCELLED, reason="clinic")
    assert done.status_reason == "Clinic cancelled (staff, room or equipment)"


def test_screening_for_the_day_uses_the_nsaid_window(clinician, weighed_patient, session):
    with transaction.atomic():
        patient_services.add_child(
            actor_of(clinician), weighed_patient, "medication",
            {"name": "Ibuprofen", "drug_class": "nsaid", "last_dose_date": START - timedelta(days=1)},
        )  # fmt: skip
    rescreened = services.rescreen_for_the_day(actor_of(clinician), session)
    codes = [f["code"] for f in rescreened.day_screening.findings]
    assert any("nsaid" in c for c in codes)


def test_a_site_cannot_draw_more_than_its_syringe_holds(clinician, session, solution):
    actor = actor_of(clinician)
    services.add_site(
        actor, fresh(session), solution=solution, body_map="knee_front", x=Decimal(100), y=Decimal(100),
        side="right", volume_ml=Decimal("9.5"), label="IA",
    )  # fmt: skip
    with pytest.raises(ServiceError, match=r"Not added: Solution A was made up to 10\.00 mL and 9\.50 mL is already"):
        services.add_site(
            actor, fresh(session), solution=solution, body_map="knee_front", x=Decimal(100), y=Decimal(100),
            side="right", volume_ml=Decimal("1"), label="IA",
        )  # fmt: skip
    assert InjectionSite.objects.filter(session=session).count() == 1


def test_an_adverse_event_cannot_follow_a_session_that_has_not_happened(clinician, ready_session):
    """Issue 11: the form offered sessions not yet done. The service refuses them, so the API does too."""
    base = {"event_type": "bruising", "onset_on": START + timedelta(days=1), "severity": "mild", "serious": False,
            "causality": "possible", "outcome": "resolved", "description": "Bruise"}  # fmt: skip
    later = ready_session.course.sessions.get(number=2)
    for session in (ready_session, later):
        with pytest.raises(ValidationError, match="has not been done and signed"):
            services.record_adverse_event(actor_of(clinician), ready_session.patient, base, session=session)
    site = ready_session.sites.first()
    with pytest.raises(ValidationError, match="has not been done and signed"):
        services.record_adverse_event(actor_of(clinician), ready_session.patient, base, site=site)
    assert not AdverseEvent.objects.exists()
