"""A course's "book your next session" link (docs/BOOKING.md, "Course links").

Staff who book (`schedule.manage`) make it on the course; the patient opens `/course-link/<token>/` with no login and
books the course's **next planned session** only: the clinic's prolotherapy-session type (its length and buffers),
the course's clinician (anyone who offers the type when the course names none), a free slot under the online rules,
and only in the window the course plan allows (`domain/course_booking.py`). The write is the staff's own:
`treatment.services.book_session` on that session (the session becomes booked, on the course page and the calendar,
with its reminders as if staff had booked it), after the slot was checked again under the clinician's lock.

It is built on the follow-up link's machinery (booking/patient_links.py): the token shown once and stored as its
SHA-256 (core/links.py), single use, expiring after the clinic's `booking_follow_up_link_days`, the patient's actor
(channel patient_link, no user), the failed-lookup limit and pages, the phone slot picker. Making a new link for a
course revokes the earlier ones; a course closed meanwhile, a consent withdrawn or a session booked by staff meanwhile
makes the open link say so and book nothing.

Once used, the link opens again as the **booked session's page** (`manage_state`, `manage_view`): the session, and
"Cancel this session" with the patient's reasons (the manage links', stored as the staff list's) until the clinic's
`booking_cancel_window_hours` before the start, through `treatment.services.set_attendance` (the staff's cancel),
after the link and the session were checked under row locks (`cancel_from_course_link`). It closes at the session's
start (expired), and when the session is cancelled, moved by staff, or the course closes (revoked).
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from prolotrack.audit.services import Actor, ServiceError, create_record, update_record
from prolotrack.booking import hooks, queries, services
from prolotrack.booking.models import AppointmentType, CourseLink, CourseLinkDelivery
from prolotrack.booking.patient_links import (
    LinkClosed,
    OutsideWindow,
    SlotTaken,
    _aware_start,
    cancel_reason,
    chosen,
    locked_open,
    patient_actor,
    patient_slots,
)
from prolotrack.clinical import planning
from prolotrack.clinical import queries as clinical_queries
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core import clinictime
from prolotrack.core.access import require_same_clinic
from prolotrack.core.links import LinkState, new_token, token_hash
from prolotrack.core.patient_words import REGION_WORDS, SIDE_WORDS
from prolotrack.domain import course_booking as rule
from prolotrack.domain.errors import DomainError
from prolotrack.treatment import hooks as treatment_hooks
from prolotrack.treatment import services as treatment_services
from prolotrack.treatment.models import Course, CourseStatus, SessionStatus, TreatmentSession

COURSE_LINK_PATH = "/course-link/{token}/"


class CourseLinkBlocked(ServiceError):
    """The link is open but books nothing now: the course ended, the consent, the session was booked meanwhile, or
    the window opens after the horizon. The message says it to the patient in plain words."""

    code = "course_link_blocked"


def course_link_path(token: str) -> str:
    return COURSE_LINK_PATH.format(token=token)


# --- The course's facts ---------------------------------------------------------------------------------------------


def next_session(course: Course) -> TreatmentSession | None:
    """The course's lowest-numbered planned session (what a new link books), or None."""
    return (
        course.sessions.filter(status=SessionStatus.PLANNED, entered_in_error_at__isnull=True)
        .order_by("number")
        .first()
    )


def _planned_dates(course: Course) -> dict[int, date]:
    """The session dates of the course's protocol template from its start (the protocol's intervals), or {}."""
    if not course.protocol_id:
        return {}
    try:
        entry = clinical_queries.find_protocol(course.clinic, course.protocol_id)
        plan, _settings = planning.course_schedule(course.clinic, entry, course.started_on)
    except (clinical_queries.ProtocolNotFound, DomainError):
        return {}
    return {s.number: s.date for s in plan.sessions}


def decide(course: Course, session: TreatmentSession) -> rule.Decision:
    """Whether the link may book `session` of `course` now, and its window of local days (domain/course_booking.py)."""
    tz = course.clinic.tz
    facts = [
        rule.CourseSession(
            s.number, s.status, timezone.localtime(s.starts_at, tz).date() if s.starts_at else s.planned_on
        )
        for s in course.sessions.filter(entered_in_error_at__isnull=True)
    ]
    return rule.decide(
        course_open=course.status == CourseStatus.OPEN,
        consent=treatment_hooks.consent_state(course.pk),
        sessions=facts,
        link_session=session.number,
        planned=_planned_dates(course),
        today=queries.clinic_today(course.clinic),
        max_days_ahead=course.clinic.config.booking_max_days_ahead,
    )


# Why staff cannot make a link now (the staff page, in English like every staff page).
STAFF_BLOCKED = {
    rule.Blocked.COURSE_CLOSED: "This course is closed: a link would book nothing.",
    rule.Blocked.CONSENT: "The course has no current treatment consent (withdrawn, or none since a session was done): "
    "a link would book nothing.",
    rule.Blocked.BOOKED: "A session of this course is already booked: its next visit is on the calendar.",
    rule.Blocked.NOT_NEXT: "This course has no planned session left to book.",
    rule.Blocked.NO_WINDOW: "The plan's interval puts the next session after the online horizon "
    "(booking_max_days_ahead): book it for the patient.",
}


def blocked_text(decision: rule.Decision) -> str:
    """What the patient's page says when the link books nothing (their language: gettext)."""
    texts = {
        rule.Blocked.COURSE_CLOSED: _("Your course of treatment has ended, so this link books nothing. Please contact the clinic."),
        rule.Blocked.CONSENT: _("This session cannot be booked online: the clinic needs to speak with you first. Please contact the clinic."),
        rule.Blocked.BOOKED: _("Your next session is already booked. The clinic's messages have the details."),
        rule.Blocked.NOT_NEXT: _("This link is for a session that is no longer your next one. Please use the clinic's latest link, or contact the clinic."),
        rule.Blocked.NO_WINDOW: _("Your next session cannot be booked online yet. Please contact the clinic."),
    }  # fmt: skip
    return texts[decision.blocked] if decision.blocked else ""


def session_kind(clinic: Any) -> AppointmentType:
    kind = queries.session_type(clinic)
    if kind is None:
        raise ValidationError(
            {"course": "Set up a prolotherapy session appointment type first (Appointment types): its length and "
             "buffers are the session's."}
        )  # fmt: skip
    return kind


def clinicians(course: Course, session: TreatmentSession, kind: AppointmentType) -> list[User]:
    """Who the link may book with: the session's (else the course's) clinician if they offer the session type; anyone
    who offers it when the course names no clinician."""
    offering = queries.offering_clinicians(course.clinic, kind)
    named = session.clinician_id or course.clinician_id
    return [c for c in offering if c.pk == named] if named else offering


# --- Staff: make the link -------------------------------------------------------------------------------------------


def create_course_link(
    actor: Actor, course: Any, *, delivery: str = CourseLinkDelivery.SHOWN
) -> tuple[CourseLink, str]:
    """A single-use "book your next session" link for the course's next planned session: (the link, its token, to
    show once). Earlier links of the course are revoked. `delivery` "message" queues it for the outbox (email, else
    SMS, in the patient's language), which makes a fresh token when it sends (the returned one is then not shown)."""
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    if not isinstance(course, Course):
        raise ValidationError({"course": "Choose a course."})
    require_same_clinic(actor, course)
    if delivery not in CourseLinkDelivery.values:
        raise ValidationError({"delivery": "Show the link or send it by message."})
    patient = course.patient
    if patient.is_entered_in_error or course.is_entered_in_error:
        raise ServiceError("This record was marked entered in error; send nothing from it.")
    if delivery == CourseLinkDelivery.MESSAGE and not (patient.email or patient.phone):
        raise ValidationError({"delivery": "The patient has no email address or mobile number: show the link instead."})
    session = next_session(course)
    if session is None:
        raise ServiceError("This course has no planned session left to book.")
    kind = session_kind(course.clinic)
    if not clinicians(course, session, kind):
        raise ValidationError({"course": f"The course's clinician does not offer {kind.name}: set up the offer first."})
    decision = decide(course, session)
    if decision.blocked is not None:
        raise ServiceError(STAFF_BLOCKED[decision.blocked])
    token = new_token()
    with transaction.atomic():
        revoke_course_links(actor, course, "Replaced by a new link.")
        link = create_record(
            actor,
            CourseLink(
                clinic=course.clinic, course=course, session=session, patient=patient, delivery=delivery,
                token_hash=token_hash(token),
                expires_at=timezone.now() + timedelta(days=course.clinic.config.booking_follow_up_link_days),
            ),
            "booking.course_link.created",
            detail={"course": str(course.uuid), "session": session.number, "delivery": delivery},
        )  # fmt: skip
        if delivery == CourseLinkDelivery.MESSAGE:
            hooks.course_link_requested.send(link.pk)
    return link, token


def revoke_course_links(actor: Actor, course: Course, reason: str) -> int:
    """Close the course's open links (in the caller's transaction), each a version with its audit row."""
    require_permission(actor, Permission.SCHEDULE_MANAGE)
    links = CourseLink.objects.filter(course=course, revoked_at__isnull=True, used_at__isnull=True)
    return services.revoke_links(actor, links, reason, "booking.course_link.revoked")


def issue_token(link: CourseLink) -> str:
    """At send time (messaging): a fresh token for the link's message, so the live link is only in the patient's
    copy; the earlier token stops. The link's path."""
    token = new_token()
    with transaction.atomic():
        update_record(
            Actor.system(link.clinic), link, {"token_hash": token_hash(token)}, "booking.course_link.token_issued",
            expected_version=None,
        )  # fmt: skip
    return course_link_path(token)


# --- The patient's page ---------------------------------------------------------------------------------------------


def course_link(token: str) -> CourseLink | None:
    return CourseLink.by_token(
        token, CourseLink.objects.select_related("clinic", "course", "course__clinic", "session", "patient")
    )


@dataclass(frozen=True)
class CourseLinkView:
    """What the patient's page shows: the course's region and side, session N of M, with whom, the window; or why
    it books nothing. Nothing of any other patient."""

    region: str
    side: str
    number: int
    of: int
    clinician: str
    first: date | None
    last: date | None
    first_text: str  # the first day, written out in the patient's language
    blocked: str
    kind: AppointmentType | None
    allowed: list[User]


def link_view(link: CourseLink) -> CourseLinkView:
    course, session = link.course, link.session
    kind = queries.session_type(link.clinic)
    decision = decide(course, session)
    allowed = clinicians(course, session, kind) if kind is not None else []
    blocked = blocked_text(decision) or (
        "" if allowed else _("Your next session cannot be booked online yet. Please contact the clinic.")
    )
    total = course.sessions.filter(entered_in_error_at__isnull=True).exclude(status=SessionStatus.CANCELLED).count()
    return CourseLinkView(
        region=str(REGION_WORDS.get(course.region, course.region)),
        side=str(SIDE_WORDS.get(course.side, "")) if course.side not in ("na", "") else "",
        number=session.number,
        of=total,
        clinician=str(allowed[0]) if len(allowed) == 1 else "",
        first=decision.first,
        last=decision.last,
        first_text=written_day(decision.first) if decision.first else "",
        blocked=blocked,
        kind=kind,
        allowed=allowed,
    )  # fmt: skip


def slots(link: CourseLink, view: CourseLinkView, day: date, now: datetime | None = None) -> list[queries.FreeSlot]:
    """Free slots of the session type on one local day inside the window, with the allowed clinician(s)."""
    if view.blocked or view.kind is None or view.first is None or view.last is None:
        return []
    if not view.first <= day <= view.last:
        return []
    clinician = view.allowed[0] if len(view.allowed) == 1 else None
    return patient_slots(link.clinic, view.kind, day, day, clinician=clinician, now=now)


def book_from_course_link(
    link: CourseLink, *, starts_at: Any, clinician: Any, client_address: str | None = None
) -> TreatmentSession:
    """Book the course's next session in the chosen free slot through `treatment.services.book_session` (the staff's
    write), close the link. A closed link raises LinkClosed; a course that ended, a consent, a session booked
    meanwhile CourseLinkBlocked; a time that is not free (or outside the window) SlotTaken. Nothing is written then."""
    start = _aware_start(starts_at)
    actor = patient_actor(link.clinic, client_address)
    with transaction.atomic():
        current = locked_open(link, "clinic", "course", "patient")
        session = TreatmentSession.objects.select_for_update(no_key=True, of=("self",)).get(pk=current.session_id)
        course = Course.objects.select_related("clinic").get(pk=current.course_id)
        decision = decide(course, session)
        if decision.blocked is not None or decision.first is None or decision.last is None:
            raise CourseLinkBlocked(blocked_text(decision))
        kind = session_kind(course.clinic)
        who = chosen(clinicians(course, session, kind), clinician)
        if not decision.first <= timezone.localtime(start, course.clinic.tz).date() <= decision.last:
            raise SlotTaken(_("That time is not free. Please choose another."))
        services.lock_clinician(who)
        reasons, _room = queries.refusals(
            course.clinic, kind, who, start, now=timezone.now(), rules=queries.online_rules(course.clinic)
        )
        if reasons:
            raise SlotTaken(_("That time was just taken. Please choose another."))
        try:
            booked = treatment_services.book_session(
                actor, session, starts_at=start, clinician=who, duration_minutes=kind.duration_minutes
            )
        except ValidationError:
            raise SlotTaken(_("That time was just taken. Please choose another.")) from None
        update_record(
            actor, current, {"used_at": timezone.now(), "booked_starts_at": booked.starts_at},
            "booking.course_link.used", expected_version=None,
        )  # fmt: skip
        hooks.course_session_booked.send(current.pk)
    return booked


# --- Staff's page ---------------------------------------------------------------------------------------------------


def staff_view(course: Course) -> dict[str, Any]:
    """What the staff page shows before a link is made: the session a link would book and its window, or why none
    can be made, and the course's links so far (their state)."""
    session = next_session(course)
    why = ""
    decision = None
    if session is None:
        why = STAFF_BLOCKED[rule.Blocked.NOT_NEXT]
    else:
        decision = decide(course, session)
        why = STAFF_BLOCKED[decision.blocked] if decision.blocked else ""
    links = list(CourseLink.objects.filter(course=course).select_related("session")[:10])
    return {
        "session": session,
        "decision": decision,
        "why": why,
        "links": links,
        "days": course.clinic.config.booking_follow_up_link_days,
    }


def written_day(day: date) -> str:
    """'Tuesday 22 December 2026' ('martes, 22 de diciembre de 2026'): the patient's written day (core/clinictime.py)."""
    return clinictime.written_day(day)


def booked_view(link: CourseLink, session: TreatmentSession) -> dict[str, Any]:
    """The booked page: the session as the manage pages show an appointment (booking/manage/_appointment.html)."""
    clinic = link.clinic
    assert session.starts_at is not None, "a booked session has its start"
    starts = timezone.localtime(session.starts_at, clinic.tz)
    return {
        "clinic": clinic,
        "type_name": _("Prolotherapy session %(number)s: %(region)s")
        % {"number": session.number, "region": REGION_WORDS.get(link.course.region, link.course.region)},
        "clinician": str(session.clinician),
        "starts": starts,
        "ends": starts + timedelta(minutes=session.duration_minutes),
        "address": clinic.config.address,
        "phone": clinic.config.contact_phone,
    }


# --- Once used: the booked session's page ---------------------------------------------------------------------------


def manage_state(link: CourseLink, now: datetime | None = None) -> str:
    """A link not yet used: its own state. A used one opens (OPEN) as the page of the session it booked while that
    session is still booked at the start it booked, in an open course, until the start (then EXPIRED); a session
    cancelled, moved by staff or entered in error, or a course closed, make it REVOKED."""
    now = now or timezone.now()
    if link.used_at is None or link.revoked_at is not None or link.booked_starts_at is None:
        return link.state(now)
    session, course = link.session, link.course
    if (
        session.is_entered_in_error
        or session.status != SessionStatus.BOOKED
        or session.starts_at != link.booked_starts_at
        or course.status != CourseStatus.OPEN
        or link.patient.is_entered_in_error
    ):
        return LinkState.REVOKED
    return LinkState.EXPIRED if now >= link.booked_starts_at else LinkState.OPEN


def change_deadline(session: TreatmentSession) -> datetime:
    """The last moment the patient may cancel online: the start minus the clinic's `booking_cancel_window_hours`
    (the manage links' setting, docs/SETTINGS.md)."""
    assert session.starts_at is not None, "a booked session has its start"
    return session.starts_at - timedelta(hours=session.clinic.config.booking_cancel_window_hours)


def may_change(session: TreatmentSession, now: datetime | None = None) -> bool:
    """Before the deadline (the deadline itself is too late), for a booked session."""
    return session.status == SessionStatus.BOOKED and (now or timezone.now()) < change_deadline(session)


def manage_view(link: CourseLink, now: datetime | None = None) -> dict[str, Any]:
    """The booked session's page: the booked page's summary, whether it may still be cancelled online, until when."""
    session, clinic = link.session, link.clinic
    return {
        **booked_view(link, session),
        "kind": queries.session_type(clinic),
        "email": clinic.config.contact_email,
        "may_change": may_change(session, now),
        "deadline": timezone.localtime(change_deadline(session), clinic.tz),
        "window_hours": clinic.config.booking_cancel_window_hours,
    }


def locked_booked(link: CourseLink, too_late: str) -> CourseLink:
    """Inside the transaction: a used link and the session it booked again under row locks, for the patient's cancel
    or move; LinkClosed unless the link is still open on what is committed, OutsideWindow (saying `too_late`) once
    the clinic's cancellation window has begun."""
    current = (
        CourseLink.objects.select_for_update(of=("self",)).select_related("clinic", "course", "patient").get(pk=link.pk)
    )
    current.session = (
        TreatmentSession.objects.select_for_update(no_key=True, of=("self",))
        .select_related("clinic", "clinician")
        .get(pk=current.session_id)
    )
    state = manage_state(current)
    if current.used_at is None or state != LinkState.OPEN:
        raise LinkClosed(state if state != LinkState.OPEN else LinkState.REVOKED)
    if not may_change(current.session):
        raise OutsideWindow(too_late)
    return current


def cancel_from_course_link(
    link: CourseLink, *, reason: Any, details: Any = "", client_address: str | None = None
) -> TreatmentSession:
    """Cancel the session the link booked with the patient's reason (the manage links' list), before the clinic's
    cancellation window, through `treatment.services.set_attendance` (the staff's cancel: reminders cancelled,
    audited), on the patient channel; the link is closed in the same transaction. Refused input writes nothing
    (ValidationError naming the field); a closed link raises LinkClosed, a late one OutsideWindow."""
    chosen_reason, note = cancel_reason(reason, details)
    actor = patient_actor(link.clinic, client_address)
    with transaction.atomic():
        current = locked_booked(link, _("This session can no longer be cancelled online. Please call the clinic."))
        cancelled = treatment_services.set_attendance(
            actor, current.session, SessionStatus.CANCELLED, reason=chosen_reason.staff_code, details=note,
            expected_version=None,
        )  # fmt: skip
        update_record(
            actor, current, {"revoked_at": timezone.now(), "revoked_reason": "The patient cancelled the session."},
            "booking.course_link.session_cancelled", expected_version=None,
        )  # fmt: skip
    return cancelled


# --- Once used: move the session to another time in the plan's window ----------------------------------------------


def move_window(link: CourseLink) -> rule.Decision:
    """The window the plan allows the booked session in (domain/course_booking.py), as if it were still planned."""
    course, session = link.course, link.session
    tz = course.clinic.tz
    facts = [
        rule.CourseSession(
            s.number, "planned" if s.pk == session.pk else s.status,
            timezone.localtime(s.starts_at, tz).date() if s.starts_at else s.planned_on,
        )
        for s in course.sessions.filter(entered_in_error_at__isnull=True)
    ]  # fmt: skip
    return rule.decide(
        course_open=course.status == CourseStatus.OPEN, consent=treatment_hooks.consent_state(course.pk),
        sessions=facts, link_session=session.number, planned=_planned_dates(course),
        today=queries.clinic_today(course.clinic), max_days_ahead=course.clinic.config.booking_max_days_ahead,
    )  # fmt: skip


def move_slots(link: CourseLink, day: date, now: datetime | None = None) -> list[queries.FreeSlot]:
    """Free slots of the session type with the session's clinician on one local day inside the plan's window, its own
    time left out."""
    window, kind, session = move_window(link), queries.session_type(link.clinic), link.session
    if window.blocked or kind is None or window.first is None or window.last is None:
        return []
    if not window.first <= day <= window.last:
        return []
    return patient_slots(link.clinic, kind, day, day, clinician=session.clinician, now=now, leave_out=session.starts_at)


def move_from_course_link(link: CourseLink, *, starts_at: Any, client_address: str | None = None) -> TreatmentSession:
    """Move the session the link booked to another free time of its clinician inside the plan's window, before the
    cancellation window closes, through `treatment.services.book_session` (the staff's rebook); the link follows the
    new start and a new confirmation is queued. A time not free raises SlotTaken; nothing is written then."""
    start = _aware_start(starts_at)
    actor = patient_actor(link.clinic, client_address)
    with transaction.atomic():
        current = locked_booked(link, _("This session can no longer be changed online. Please call the clinic."))
        window = move_window(current)
        kind = session_kind(current.clinic)
        who = current.session.clinician
        if window.blocked is not None or window.first is None or window.last is None or who is None:
            raise CourseLinkBlocked(blocked_text(window) or _("Please contact the clinic."))
        if not window.first <= timezone.localtime(start, current.clinic.tz).date() <= window.last:
            raise SlotTaken(_("That time is not free. Please choose another."))
        services.lock_clinician(who)
        if start not in {s.start for s in move_slots(current, timezone.localtime(start, current.clinic.tz).date())}:
            raise SlotTaken(_("That time was just taken. Please choose another."))
        try:
            moved = treatment_services.book_session(
                actor, current.session, starts_at=start, clinician=who, duration_minutes=kind.duration_minutes
            )
        except ValidationError:
            raise SlotTaken(_("That time was just taken. Please choose another.")) from None
        update_record(
            actor, current, {"booked_starts_at": moved.starts_at}, "booking.course_link.session_moved",
            expected_version=None,
        )  # fmt: skip
        hooks.course_session_booked.send(current.pk)
    return moved
