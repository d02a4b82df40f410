"""Demo reminders and calendar feeds: the scheduler's pass as of today, a few opt-outs, a feed per clinician.

Upcoming booked sessions get their reminders planned on the right days; those due by today are sent (to the
file-based outbox: .eml files and sms.jsonl under DATA_DIR/outbox/). Opt-outs are recorded before the pass, so their
messages show as skipped. Each demo clinician gets a calendar feed; the secret URLs are written once to
DATA_DIR/demo-calendar-feeds.txt (readable by the owner only), as the feed page would show them once.
"""

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone

from prolotrack.audit.services import Actor
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission, Role
from prolotrack.messaging import services
from prolotrack.messaging.models import Channel, MessageKind, OutboxMessage
from prolotrack.treatment.models import SessionStatus, TreatmentSession

# Which upcoming patients opt out of what (by their order among the booked): all SMS; pre-procedure email;
# appointment reminders by email and SMS.
OPT_OUTS: tuple[set[tuple[str, str]], ...] = (
    {(Channel.SMS.value, k.value) for k in MessageKind},
    {(Channel.EMAIL.value, MessageKind.PRE_PROCEDURE.value)},
    {(Channel.EMAIL.value, MessageKind.APPOINTMENT.value), (Channel.SMS.value, MessageKind.APPOINTMENT.value)},
)


HISTORY_DAYS = 14
# How far the appointment examples look for a free time from their day (two weeks: a demo choice).
SEARCH_DAYS = 14


def _now(clinic: Any, today: date) -> datetime:
    if today == timezone.localdate(timezone=clinic.tz):
        return timezone.now()
    return datetime.combine(today, time(9, 0), tzinfo=clinic.tz)


def _history(clinic: Any, today: date) -> None:
    for back in range(HISTORY_DAYS, 0, -1):
        services.run_pass(
            now=datetime.combine(today - timedelta(days=back), time(9, 0), tzinfo=clinic.tz), clinics=[clinic]
        )


def _questionnaire_examples(clinic: Any, today: date) -> int:
    """Make sure the demo shows both questionnaire emails (docs/MESSAGING.md promises them): if the seeded follow-ups
    gave none, move the next follow-up of two patients with an email, through the audited service as staff would,
    so one fell due two days ago ("due" sent) and one is past its overdue day ("overdue" sent yesterday)."""
    from prolotrack.treatment.models import CourseStatus, CourseTimepoint, TimepointKind
    from prolotrack.treatment.services import move_timepoint

    kinds = set(OutboxMessage.objects.filter(clinic=clinic).values_list("kind", flat=True))
    if {MessageKind.QUESTIONNAIRE_DUE, MessageKind.QUESTIONNAIRE_OVERDUE} <= kinds:
        return 0
    lead = members_with(clinic, Permission.SESSION_TREAT).filter(is_active=True).select_related("user").first()
    if lead is None:
        return 0
    actor = Actor(user=lead.user, clinic=clinic, role=Role.CLINICIAN, channel="system")
    candidates = (
        CourseTimepoint.objects.filter(
            clinic=clinic,
            kind=TimepointKind.FOLLOW_UP,
            due_on__gt=today,
            entered_in_error_at__isnull=True,
            course__status__in=[CourseStatus.COMPLETED, CourseStatus.OPEN],
            course__entered_in_error_at__isnull=True,
            patient__entered_in_error_at__isnull=True,
        )
        .exclude(patient__email="")
        .select_related("patient", "course")
        .order_by("course__status", "due_on", "id")  # completed courses first: their follow-ups come next anyway
    )
    overdue_after = clinic.config.questionnaire_overdue_days
    days = [today - timedelta(days=2), today - timedelta(days=overdue_after + 1)]
    moved, patients = 0, set()
    for timepoint in candidates:
        if not days:
            break
        if timepoint.patient_id in patients:
            continue
        patients.add(timepoint.patient_id)
        move_timepoint(actor, timepoint, days.pop(0))
        moved += 1
    return moved


def _appointment_examples(clinic: Any, today: date) -> int:
    """Follow-up appointments booked by the front desk for two patients with an email address, confirmed with their
    manage link and .ics (docs/MESSAGING.md, "Appointments"). The clinic's usual week and types are set up first when
    it has none (booking/testing.set_up_week)."""
    from prolotrack.booking import patient_links
    from prolotrack.booking import queries as booking_queries
    from prolotrack.booking import services as booking
    from prolotrack.booking.models import AppointmentKind, AppointmentType
    from prolotrack.booking.testing import next_weekday, set_up_week
    from prolotrack.demo.billing_seed import seed_actor
    from prolotrack.patients.models import Patient

    clinicians = [m.user for m in members_with(clinic, Permission.SESSION_TREAT).select_related("user")]
    if not clinicians or not members_with(clinic, Permission.SCHEDULE_MANAGE).exists():
        return 0
    has_types = AppointmentType.objects.filter(clinic=clinic).exists()
    if not has_types and not members_with(clinic, Permission.CLINIC_MANAGE).exists():
        return 0  # a clinic without an administrator (a test's small clinic) sets up no booking
    if not has_types:
        set_up_week(seed_actor(clinic, Permission.CLINIC_MANAGE), clinicians)
    kind = AppointmentType.objects.filter(clinic=clinic, kind=AppointmentKind.FOLLOW_UP, active=True).first()
    if kind is None:
        return 0
    desk = seed_actor(clinic, Permission.SCHEDULE_MANAGE)
    patients = Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True).exclude(email="")
    queued = 0
    for number, patient in enumerate(patients.order_by("id")[:2]):
        # The first free time from a Tuesday (Wednesday) at least three days ahead: a fixed 10:00 on it was taken by a
        # seeded session on some days, and the demo then had no confirmation to show (found at 17:50 in Chicago).
        day = next_weekday(clinic, 1 + number, at_least=3)
        free = booking_queries.free_slots(
            clinic, kind, day, day + timedelta(days=SEARCH_DAYS - 1), clinician=clinicians[0], limit=1
        )
        if not free:
            continue
        try:
            visit = booking.book_appointment(
                desk, patient=patient, appointment_type=kind, clinician=clinicians[0], starts_at=free[0].start
            )
        except booking.SlotUnavailable:
            continue
        queued += patient_links.send_confirmation(visit)
    return queued


def _course_link_example(clinic: Any, today: date) -> int:
    """A course's "book your next session" link sent by email (docs/BOOKING.md, "Course links"): every open course of
    the seeded demo has its next session booked already, so a new knee course is opened, from next week, for a
    patient with an email address and no course yet, and its first session's link is sent, as staff would after the
    assessment. Planned at once (the seed's transaction commits only at its end); the link's after-commit event plans
    it again when the seed commits and finds it planned (the outbox's key: one row, nothing logged)."""
    from prolotrack.booking import course_links
    from prolotrack.booking import queries as booking_queries
    from prolotrack.demo.billing_seed import seed_actor
    from prolotrack.messaging import course_links as messages
    from prolotrack.patients.models import Patient
    from prolotrack.treatment import services as treatment_services
    from prolotrack.treatment.models import Course

    clinicians = [m.user for m in members_with(clinic, Permission.SESSION_TREAT).select_related("user")]
    if not clinicians or booking_queries.session_type(clinic) is None:
        return 0
    if not members_with(clinic, Permission.COURSE_MANAGE).exists():
        return 0
    with_course = Course.objects.filter(clinic=clinic).values("patient_id")
    patients = list(
        Patient.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
        .exclude(email="")
        .exclude(pk__in=with_course)
        .order_by("id")[:2]
    )
    planned = 0
    for n, patient in enumerate(patients):
        course = treatment_services.create_course(
            seed_actor(clinic, Permission.COURSE_MANAGE), patient, protocol_id="knee_oa_rabago",
            indication="Knee osteoarthritis", region="knee", side="left", start_on=today + timedelta(days=7),
            clinician=clinicians[0],
        )  # fmt: skip
        link, _token = course_links.create_course_link(
            seed_actor(clinic, Permission.SCHEDULE_MANAGE), course, delivery="message"
        )
        planned += int(messages.plan(link.pk))
        if n == 1:  # the second patient has booked from it already: the session's confirmation
            planned += _book_from_link(link)
    return planned


def _book_from_link(link: Any) -> int:
    """Book the link's session at its first free time, as the patient would, and plan its confirmation at once (the
    booking's after-commit event plans it too when the seed commits: planned once, the outbox's key)."""
    from prolotrack.booking import course_links
    from prolotrack.messaging import course_links as messages

    view = course_links.link_view(link)
    if view.blocked or view.first is None or view.last is None:
        return 0
    day = view.first
    while day <= view.last:
        free = course_links.slots(link, view, day)
        if free:
            course_links.book_from_course_link(link, starts_at=free[0].start, clinician=free[0].clinician)
            return messages.plan_confirmation(link.pk)
        day += timedelta(days=1)
    return 0


def seed_messaging(clinic: Any, *, today: date, site_url: str | None = None) -> dict[str, int]:
    """Opt-outs, one scheduler pass as of `today`, and a calendar feed per clinician (feed addresses on the site
    address, PROLOTRACK_SITE_URL, which `make run` sets from its HOST and PORT)."""
    from prolotrack.core.site import site_url as site_address

    site_url = site_url or site_address()
    front = (
        members_with(clinic, Permission.SCHEDULE_MANAGE, lacking=Permission.PATIENT_VIEW_CLINICAL)
        .select_related("user")
        .first()
    )
    desk = Actor(user=front.user if front else None, clinic=clinic, role=Role.FRONT_DESK, channel="system")
    upcoming = (
        TreatmentSession.objects.filter(
            clinic=clinic, status=SessionStatus.BOOKED, planned_on__gt=today, entered_in_error_at__isnull=True
        )
        .select_related("patient")
        .order_by("planned_on", "id")
    )
    patients = []
    for session in upcoming:
        if session.patient not in patients and session.patient.email:
            patients.append(session.patient)
    for patient, pairs in zip(patients[1::5], OPT_OUTS, strict=False):
        services.set_opt_outs(desk, patient, pairs)
    # The scheduler as if it had run each morning of the last two weeks: questionnaire reminders that fell due then
    # were sent then (and, still unanswered a week later, the overdue ones); today's pass last.
    _history(clinic, today)
    if _questionnaire_examples(clinic, today):
        _history(clinic, today)  # the moved follow-ups get their "due" and "overdue" emails on their days
    _appointment_examples(clinic, today)
    _course_link_example(clinic, today)
    report = services.run_pass(now=_now(clinic, today), clinics=[clinic])
    lines = []
    for membership in members_with(clinic, Permission.SESSION_TREAT).select_related("user"):
        actor = Actor(user=membership.user, clinic=clinic, role=membership.role, channel="system")
        _feed, token = services.create_feed_token(actor)
        lines.append(f"{membership.user.username}: {site_url}/calendar/feed/{token}.ics")
    path = Path(settings.DATA_DIR) / "demo-calendar-feeds.txt"
    path.write_text("Calendar feed URLs of the demo clinicians (shown once; revoke on /account/calendar-feed/):\n"
                    + "\n".join(lines) + "\n")  # fmt: skip
    path.chmod(0o600)
    return {
        "planned": report.planned,
        "sent": report.sent,
        "skipped": report.skipped,
        "opted_out_patients": min(len(patients[1::5]), len(OPT_OUTS)),
        "feeds": len(lines),
    }
