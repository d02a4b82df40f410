"""Writes of the treatment workflow: courses, bookings, checklists, solutions, sites, signing, amendments, adverse events.

Every function is one transaction that writes its version and audit rows (audit.services). A signed session is
locked: its note and everything in it change only through `amend`, which needs a reason and keeps the original.
"""

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from prolotrack.audit.services import (
    AccessDenied,
    Actor,
    ServiceError,
    create_record,
    mark_entered_in_error,
    only_fields,
    record_disclosure,
    update_record,
)
from prolotrack.clinical import planning
from prolotrack.clinical import queries as clinical_queries
from prolotrack.clinical import services as clinical_services
from prolotrack.clinics.roles import Permission, require_permission, roles_with
from prolotrack.core.access import require_same_clinic
from prolotrack.core.links import CHANNEL_PATIENT_LINK
from prolotrack.domain.agents import Agent, AgentConcentration, Concentration, Unit, parse_agent, pct
from prolotrack.domain.course import COURSE_CLOSE_REASONS
from prolotrack.domain.errors import DomainError
from prolotrack.domain.mixing import Component, Diluent, mix, parse_diluent
from prolotrack.domain.protocols import OffsetUnit, ProtocolTemplate, SessionSpec, schedule
from prolotrack.domain.reasons import AMENDMENT_REASONS, SESSION_CANCEL_REASONS, parse, reason_text
from prolotrack.domain.session import Answer, ChecklistItem, signing_blockers
from prolotrack.domain.stock import ExpiredStockError, RecallQuestion, Stock, check_in_date, parse_expiry
from prolotrack.patients.models import Patient
from prolotrack.treatment import hooks, queries
from prolotrack.treatment.models import (
    AdverseEvent,
    ChecklistEntry,
    Course,
    CourseStatus,
    CourseTimepoint,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)


def _domain(error: DomainError, field: str | None = None) -> ValidationError:
    return ValidationError({field: str(error)} if field else str(error))


# --- Courses ---------------------------------------------------------------------------------------------------


def _no_protocol(indication: str, region: str) -> ProtocolTemplate:
    """A one-session plan for a course started without a template."""
    return ProtocolTemplate(
        code="none",
        name="No protocol template",
        indication=indication or "Clinician's plan",
        # The course's region may be none of the landmark regions ("other"); a plan without a template reads only dates.
        region=region,  # type: ignore[arg-type]
        solutions=(),
        landmarks=(),
        sessions=(SessionSpec(0, OffsetUnit.WEEKS),),
        source="Clinician's plan (no template)",
    )


def create_course(
    actor: Actor,
    patient: Patient,
    *,
    protocol_id: str,
    indication: str,
    region: str,
    side: str,
    start_on: date,
    clinician: Any = None,
    screening: Any = None,
    note: str = "",
) -> Course:
    """Open a course from a protocol template (or none) and generate its sessions and outcome timepoints."""
    require_permission(actor, Permission.COURSE_MANAGE)
    require_same_clinic(actor, patient)
    if patient.is_entered_in_error:
        raise ServiceError("This patient record was marked entered in error; open the course on the correct record.")
    if screening is not None and (screening.patient_id != patient.pk or screening.clinic_id != patient.clinic_id):
        raise ServiceError("That screening belongs to another patient.")
    name = ""
    try:
        if protocol_id:
            try:
                entry = clinical_queries.find_protocol(patient.clinic, protocol_id)
            except clinical_queries.ProtocolNotFound as error:
                raise ValidationError({"protocol_id": str(error)}) from None
            plan, _ = planning.course_schedule(patient.clinic, entry, start_on)
            name = entry.name
            if entry.template is not None and entry.template.region.value != region:
                raise ValidationError(
                    {"region": f"The template is for the {entry.template.region.label.lower()}, not this region."}
                )
        else:
            plan = schedule(_no_protocol(indication, region), start_on, planning.schedule_settings(patient.clinic))
    except DomainError as error:
        raise _domain(error) from None
    with transaction.atomic():
        course = create_record(
            actor,
            Course(
                clinic=patient.clinic,
                patient=patient,
                protocol_id=protocol_id or "",
                protocol_name=name,
                indication=indication,
                region=region,
                side=side,
                started_on=start_on,
                clinician=clinician,
                screening=screening,
                note=note,
            ),
            "treatment.course.created",
            detail={"protocol": protocol_id or "none", "sessions": len(plan.sessions)},
        )
        for planned in plan.sessions:
            create_record(
                actor,
                TreatmentSession(
                    clinic=patient.clinic,
                    course=course,
                    patient=patient,
                    number=planned.number,
                    optional=planned.optional,
                    planned_on=planned.date,
                    clinician=clinician,
                ),
                "treatment.session.planned",
            )
        for point in plan.timepoints:
            create_record(
                actor,
                CourseTimepoint(
                    clinic=patient.clinic,
                    course=course,
                    patient=patient,
                    code=point.code,
                    label=point.label,
                    kind=point.kind.value,
                    due_on=point.date,
                    optional=point.optional,
                    session_number=point.session_number,
                ),
                "treatment.timepoint.planned",
            )
        hooks.course_changed(course.clinic_id, [course.pk])
    return course


def update_course(actor: Actor, course: Course, data: Mapping[str, Any], *, expected_version: int) -> Course:
    """Change a course's indication, clinician or note."""
    require_permission(actor, Permission.COURSE_MANAGE)
    require_same_clinic(actor, course)
    allowed = {"indication", "clinician", "note"}
    only_fields(data, allowed)
    with transaction.atomic():
        updated = update_record(actor, course, data, "treatment.course.updated", expected_version=expected_version)
        hooks.course_changed(updated.clinic_id, [updated.pk])
        return updated


def close_course(
    actor: Actor,
    course: Course,
    status: str | None = None,
    *,
    reason: str,
    details: str = "",
    expected_version: int | None = None,
) -> Course:
    """Close a course: the outcome (completed / stopped early) is derived from the sessions done, never chosen.

    `reason` is a code of `domain.course.COURSE_CLOSE_REASONS` that fits the outcome; "other" needs `details`.
    A caller that names a `status` must name the derived one (a course with no session done cannot be marked
    completed). Sessions not yet done are cancelled and their queued reminders with them, in one transaction."""
    require_permission(actor, Permission.COURSE_MANAGE)
    require_same_clinic(actor, course)
    if course.status != CourseStatus.OPEN:
        raise ServiceError(f"This course is already {course.get_status_display().lower()}.")
    impact = queries.close_impact(course)
    derived = impact.outcome
    if status and status != derived.outcome.value:
        raise ValidationError(
            {
                "status": f"This course cannot close as {status}: {derived.describe()} It closes as {derived.outcome.value}."
            }
        )
    try:
        text = reason_text(COURSE_CLOSE_REASONS, reason, details, outcome=derived.outcome.value)
    except DomainError as error:
        raise ValidationError({"reason": str(error)}) from None
    with transaction.atomic():
        for session in impact.to_cancel:
            update_record(
                actor,
                session,
                {"status": SessionStatus.CANCELLED, "status_reason": f"Course closed: {text}"[:300]},
                "treatment.session.cancelled",
                expected_version=None,
                reason=f"Course closed: {text}",
            )
        hooks.cancel_reminders(actor, impact.to_cancel, f"The course was closed: {text}"[:300])
        closed = update_record(
            actor,
            course,
            {"status": derived.outcome.value, "stop_reason": text},
            f"treatment.course.{derived.outcome.value}",
            expected_version=expected_version,
            reason=text,
        )
        hooks.course_changed(closed.clinic_id, [closed.pk])
        return closed


def add_session(actor: Actor, course: Course, planned_on: date) -> TreatmentSession:
    """Add an extra session to an open course."""
    require_permission(actor, Permission.COURSE_MANAGE)
    require_same_clinic(actor, course)
    if course.status != CourseStatus.OPEN:
        raise ServiceError("Sessions can be added only to an open course.")
    with transaction.atomic():
        number = (course.sessions.aggregate(n=Max("number"))["n"] or 0) + 1
        session = create_record(
            actor,
            TreatmentSession(
                clinic=course.clinic,
                course=course,
                patient=course.patient,
                number=number,
                planned_on=planned_on,
                clinician=course.clinician,
            ),
            "treatment.session.planned",
        )
        hooks.course_changed(session.clinic_id, [session.course_id])
        return session


def book_session(
    actor: Actor,
    session: TreatmentSession,
    *,
    starts_at: datetime,
    clinician: Any,
    duration_minutes: int = 45,
    expected_version: int | None = None,
) -> TreatmentSession:
    """Book (or rebook) a session as an appointment with a clinician at a time. Staff need schedule.manage; a patient
    acting through the course's link (channel patient_link, no user) has no role: booking/course_links.py checks the
    link, the course, the window and the slot under the clinician's lock before it calls here."""
    if actor.channel != CHANNEL_PATIENT_LINK or actor.user is not None:
        require_permission(actor, Permission.SCHEDULE_MANAGE)
    require_same_clinic(actor, session)
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED):
        raise ServiceError(f"A {session.get_status_display().lower()} session cannot be booked.")
    if timezone.is_naive(starts_at):
        raise ValidationError({"starts_at": "Give the appointment time with its time zone."})
    if (
        clinician is None
        or not clinician.memberships.filter(
            clinic=session.clinic, role__in=roles_with(Permission.SESSION_TREAT), is_active=True
        ).exists()
    ):
        raise ValidationError({"clinician": "Choose a clinician of this clinic."})
    with transaction.atomic():
        # An assessment or follow-up of the booking app holding that time refuses the session (docs/BOOKING.md,
        # "Double booking"), and where the clinic says so its hours, breaks, time off and other course sessions too
        # ("Course sessions under the availability rules"): the hook locks the clinician as the booking app's own
        # bookings do, then looks.
        clashes = hooks.appointment_clashes(session.clinic, clinician, starts_at, duration_minutes, session)
        if clashes:
            raise ValidationError({"starts_at": " ".join(clashes)})
        booked = update_record(
            actor,
            session,
            {
                "starts_at": starts_at,
                "planned_on": timezone.localtime(starts_at, session.clinic.tz).date(),
                "clinician": clinician,
                "duration_minutes": duration_minutes,
                "status": SessionStatus.BOOKED,
            },
            "treatment.session.booked",
            expected_version=expected_version,
        )
        hooks.course_changed(booked.clinic_id, [booked.course_id])
        return booked


def set_attendance(
    actor: Actor,
    session: TreatmentSession,
    status: str,
    *,
    reason: str,
    details: str = "",
    expected_version: int | None = None,
) -> TreatmentSession:
    """Mark a planned or booked session cancelled or a no-show, with a reason from the list ("other" needs details).

    Its queued reminders are cancelled in the same transaction. Staff need schedule.manage; a patient acting through
    the course's link (channel patient_link, no user) may only cancel: booking/course_links.py checks the link (under
    a row lock), the session it booked and the cancellation window before it calls here."""
    if actor.channel != CHANNEL_PATIENT_LINK or actor.user is not None:
        require_permission(actor, Permission.SCHEDULE_MANAGE)
    elif status != SessionStatus.CANCELLED:
        raise AccessDenied("A patient's link may only cancel a session.")
    require_same_clinic(actor, session)
    if status not in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ValidationError({"status": "Mark a session cancelled or no-show."})
    if session.status not in (SessionStatus.PLANNED, SessionStatus.BOOKED):
        raise ServiceError(f"A {session.get_status_display().lower()} session cannot be marked {status}.")
    try:
        text = reason_text(SESSION_CANCEL_REASONS, reason, details)
    except DomainError as error:
        raise ValidationError({"reason": str(error)}) from None
    with transaction.atomic():
        updated = update_record(
            actor,
            session,
            {"status": status, "status_reason": text[:300]},
            f"treatment.session.{status}",
            expected_version=expected_version,
            reason=text,
        )
        hooks.cancel_reminders(actor, [updated], f"The session was marked {status}: {text}"[:300])
        hooks.course_changed(updated.clinic_id, [updated.course_id])
        return updated


def move_timepoint(
    actor: Actor, timepoint: CourseTimepoint, due_on: date, *, expected_version: int | None = None
) -> CourseTimepoint:
    """Change when an outcome timepoint is due."""
    require_permission(actor, Permission.COURSE_MANAGE)
    require_same_clinic(actor, timepoint)
    with transaction.atomic():
        moved = update_record(
            actor, timepoint, {"due_on": due_on}, "treatment.timepoint.moved", expected_version=expected_version
        )
        hooks.course_changed(moved.clinic_id, [moved.course_id])
        return moved


# --- The session record ------------------------------------------------------------------------------------------


def _recordable(actor: Actor, session: TreatmentSession) -> None:
    require_permission(actor, Permission.SESSION_RECORD)
    require_same_clinic(actor, session)
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ServiceError(
            f"This session is marked {session.get_status_display().lower()}: nothing can be recorded on it."
        )


def _ensure_weight(actor: Actor, session: TreatmentSession) -> TreatmentSession:
    """Fill the session's weight from the latest measurement, once."""
    if session.weight_kg is not None or session.is_signed:
        return session
    latest = queries.latest_weight(session.patient)
    if latest is None:
        return session
    return update_record(actor, session, {"weight_kg": latest}, "treatment.session.weight_taken", expected_version=None)


def _amendment_reason(text: str) -> str:
    """An amendment's reason from the list (domain/reasons.py), as "code" or "code: details"; stored as its label."""
    try:
        return parse(AMENDMENT_REASONS, text)
    except DomainError as error:
        raise ValidationError({"amendment_reason": str(error)}) from None


def update_session_record(
    actor: Actor,
    session: TreatmentSession,
    data: Mapping[str, Any],
    *,
    expected_version: int | None,
    reason: str = "",
    amendment: bool = False,
) -> TreatmentSession:
    """Record the session's weight, sedation, observations, instructions and note (an amendment once signed)."""
    _recordable(actor, session)
    allowed = {
        "weight_kg", "sedation", "body_map", "vasovagal", "bleeding", "last_signs",
        "observation_note", "instructions_given", "instructions_note", "note",
    }  # fmt: skip
    only_fields(data, allowed)
    if amendment:
        require_permission(actor, Permission.SESSION_AMEND)
        reason = _amendment_reason(reason)
    action = "treatment.session.amended" if amendment else "treatment.session.recorded"
    with transaction.atomic():
        return update_record(
            actor, session, data, action, expected_version=expected_version, reason=reason, amendment=amendment
        )


def tick(actor: Actor, session: TreatmentSession, item: str, answer: str, *, note: str = "") -> ChecklistEntry:
    """Tick one pre-procedure check, in the acting staff member's name."""
    _recordable(actor, session)
    try:
        item_enum = ChecklistItem(item)
        answer_enum = Answer(answer)
    except ValueError:
        raise ValidationError({"answer": "Choose a checklist item and answer yes, no or not applicable."}) from None
    with transaction.atomic():
        existing = session.checklist.filter(item=item_enum.value, entered_in_error_at__isnull=True).first()
        if existing is not None:
            return update_record(
                actor, existing, {"answer": answer_enum.value, "note": note}, "treatment.checklist.ticked",
                expected_version=None,
            )  # fmt: skip
        return create_record(
            actor,
            ChecklistEntry(
                clinic=session.clinic,
                session=session,
                patient=session.patient,
                item=item_enum.value,
                answer=answer_enum.value,
                note=note,
            ),
            "treatment.checklist.ticked",
        )


def rescreen_for_the_day(
    actor: Actor, session: TreatmentSession, *, day_of_flags: Iterable[str] = (), pregnancy: str | None = None
) -> TreatmentSession:
    """Re-run screening for the session's date (NSAID window, new medications, infection, pregnancy) and link it."""
    _recordable(actor, session)
    course = session.course
    agents = queries.planned_agents(session) or {Agent.DEXTROSE.value, Agent.LIDOCAINE.value}
    side = course.side if course.side in ("left", "right", "bilateral", "midline") else "midline"
    try:
        procedure = planning.planned_procedure(
            day=session.planned_on,
            region=course.region,
            side=side,
            site=course.indication,
            agents=agents,
            sedation=session.sedation,
        )
    except DomainError as error:
        raise _domain(error) from None
    with transaction.atomic():
        screening = clinical_services.screen_patient(
            actor, session.patient, procedure, day_of_flags=day_of_flags, pregnancy=pregnancy
        )
        return update_record(
            actor,
            session,
            {"day_screening": screening},
            "treatment.session.rescreened",
            expected_version=None,
        )


def _mix(final_volume_ml: Decimal, components: Sequence[Mapping[str, Any]], diluent: str) -> Any:
    try:
        return mix(
            final_volume_ml,
            [
                Component(
                    agent=parse_agent(c["agent"]),
                    target=pct(c["target_pct"]),
                    stock=pct(c["stock_pct"]),
                )
                for c in components
            ],
            parse_diluent(diluent) if diluent else Diluent.SODIUM_CHLORIDE_0_9,
        )
    except DomainError as error:
        raise _domain(error) from None
    except (KeyError, TypeError):
        raise ValidationError("Each component needs an agent, a target % and a stock %.") from None


class ExpiredStockRefused(ValidationError):
    """A stock past its expiry on the session date (domain/stock.py); `index` is its place in the components, so a
    form can put the message next to that stock's expiry field. The API answers it as any ValidationError (422)."""

    def __init__(self, message: str, *, index: int) -> None:
        super().__init__({"components": message}, code="expired_stock")
        self.index = index


def _product(agent: object) -> str:
    """The agent's code when it is one the product knows (a typed alias read as its agent), else the text as given."""
    try:
        return parse_agent(agent).value
    except DomainError:
        return str(agent or "")


def _in_date(components: Sequence[Mapping[str, Any]], session: TreatmentSession) -> list[date | None]:
    """The components' expiry dates, read as dates; a stock past its expiry on the session date is refused.

    The session date is `planned_on`, which booking keeps equal to the appointment's day in the clinic's zone."""
    expiries: list[date | None] = []
    stocks = []
    for c in components:
        try:
            expiry = parse_expiry(c.get("expiry"))
        except DomainError as error:
            raise _domain(error, "components") from None
        expiries.append(expiry)
        stocks.append(Stock(product=_product(c.get("agent")), lot=str(c.get("lot") or ""), expiry=expiry))
    try:
        check_in_date(stocks, session.planned_on)
    except ExpiredStockError as error:
        raise ExpiredStockRefused(str(error), index=error.index) from None
    return expiries


def add_solution(
    actor: Actor,
    session: TreatmentSession,
    *,
    label: str,
    final_volume_ml: Decimal,
    components: Sequence[Mapping[str, Any]],
    diluent: str = "",
    diluent_lot: str = "",
    with_epinephrine: bool = False,
    amendment_reason: str = "",
) -> PreparedSolution:
    """Record a solution prepared for the session, computed by the mixing calculator, with lots and expiry dates."""
    _recordable(actor, session)
    label = (label or "").strip().upper()
    if not label:
        raise ValidationError({"label": "Give the solution a label (A, B, …) as written on the syringe."})
    if session.solutions.filter(label=label, entered_in_error_at__isnull=True).exists():
        raise ValidationError({"label": f"Solution {label} is already recorded in this session: use another label."})
    expiries = _in_date(components, session)
    result = _mix(final_volume_ml, components, diluent)
    stored = []
    for c, mixed, expiry in zip(components, result.components, expiries, strict=True):
        stored.append(
            {
                "agent": mixed.agent.value,
                "target_pct": str(mixed.target.percent),
                "stock_pct": str(mixed.stock.percent),
                "stock_volume_ml": str(mixed.stock_volume_ml),
                "amount_mg": str(mixed.amount_mg),
                "lot": (c.get("lot") or "").strip(),
                "expiry": expiry.isoformat() if expiry is not None else "",
            }
        )
    amending = bool(amendment_reason)
    if amending:
        require_permission(actor, Permission.SESSION_AMEND)
        amendment_reason = _amendment_reason(amendment_reason)
    with transaction.atomic():
        session = _ensure_weight(actor, session)
        prepared = create_record(
            actor,
            PreparedSolution(
                clinic=session.clinic,
                session=session,
                patient=session.patient,
                label=label,
                final_volume_ml=result.final_volume_ml,
                diluent=result.diluent.value,
                diluent_volume_ml=result.diluent_volume_ml,
                diluent_lot=diluent_lot.strip(),
                with_epinephrine=with_epinephrine,
                components=stored,
            ),
            "treatment.solution.amended" if amending else "treatment.solution.prepared",
            reason=amendment_reason,
            amendment=amending,
        )
        hooks.course_changed(session.clinic_id, [session.course_id])
        return prepared


def solution_concentrations(solution: PreparedSolution) -> tuple[AgentConcentration, ...]:
    """The final concentrations of a stored solution, as the domain reads them."""
    return tuple(
        AgentConcentration(Agent(c["agent"]), Concentration(Decimal(c["target_pct"]), Unit.PERCENT))
        for c in solution.components
    )


def add_site(
    actor: Actor,
    session: TreatmentSession,
    *,
    solution: PreparedSolution,
    body_map: str,
    x: Decimal,
    y: Decimal,
    side: str,
    volume_ml: Decimal,
    landmark: str = "",
    label: str = "",
    depth_mm: Decimal | None = None,
    needle_gauge: int | None = None,
    guidance: str = "landmark",
    amendment_reason: str = "",
) -> tuple[InjectionSite, Any]:
    """Place one injection on the map; refuse it if the session's anaesthetic would go over the limit.

    Returns the site and the session's new totals (with any warnings).
    """
    _recordable(actor, session)
    if solution.session_id != session.pk or solution.is_entered_in_error:
        raise ValidationError({"solution": "Choose a solution prepared in this session."})
    label = (label or "").strip()
    if landmark:
        found = queries.landmark_label(landmark, session.course.region)
        if found is None:
            raise ValidationError(
                {"landmark": f"'{landmark}' is not a landmark of this region: pick one from the map."}
            )
        label = label or found
    if not label:
        raise ValidationError({"label": "Name the site (a free point needs a short description)."})
    queries.check_point(body_map, x, y, session.course.region)
    amending = bool(amendment_reason)
    if amending:
        require_permission(actor, Permission.SESSION_AMEND)
        amendment_reason = _amendment_reason(amendment_reason)
    with transaction.atomic():
        session = _ensure_weight(actor, session)
        number = (session.sites.aggregate(n=Max("number"))["n"] or 0) + 1
        site = InjectionSite(
            clinic=session.clinic,
            session=session,
            patient=session.patient,
            solution=solution,
            number=number,
            landmark=landmark,
            label=label,
            side=side,
            body_map=body_map,
            x=x,
            y=y,
            volume_ml=volume_ml,
            depth_mm=depth_mm,
            needle_gauge=needle_gauge,
            guidance=guidance,
        )
        totals = queries.totals(session, extra=site)
        refusals = list(totals.blocks)
        drawn = sum(
            (v for v in solution.sites.filter(entered_in_error_at__isnull=True).values_list("volume_ml", flat=True)),
            Decimal(0),
        )
        if drawn + Decimal(volume_ml) > solution.final_volume_ml:
            refusals.append(
                f"Solution {solution.label} was made up to {solution.final_volume_ml:.2f} mL and {drawn:.2f} mL is "
                f"already charted from it ({solution.final_volume_ml - drawn:.2f} mL left): record another syringe first."
            )
        if refusals:
            raise ServiceError("Not added: " + " ".join(refusals))
        site = create_record(
            actor,
            site,
            "treatment.site.amended" if amending else "treatment.site.added",
            reason=amendment_reason,
            amendment=amending,
        )
    return site, totals


def retire_session_item(
    actor: Actor, record: Any, *, reason: str, amendment: bool = False, expected_version: int | None = None
) -> Any:
    """Mark a site, solution or checklist entry entered in error (as an amendment once the session is signed)."""
    _recordable(actor, record.session)
    if amendment:
        require_permission(actor, Permission.SESSION_AMEND)
    kind = record._meta.model_name
    if isinstance(record, PreparedSolution) and record.sites.filter(entered_in_error_at__isnull=True).exists():
        raise ServiceError("Sites still use this solution: mark them entered in error first.")
    with transaction.atomic():
        retired = mark_entered_in_error(
            actor,
            record,
            f"treatment.{kind}.entered_in_error",
            reason=reason,
            expected_version=expected_version,
            amendment=amendment,
        )
        if isinstance(record, PreparedSolution):  # sites and checklist entries are not in the dashboard's facts
            hooks.course_changed(record.clinic_id, [record.session.course_id])
        return retired


def early_signing_problem(session: TreatmentSession, now: datetime, early_reason: str) -> str:
    """Why signing now, before the booked start (less the clinic's margin), is refused; "" when it may go ahead.

    A signature attests to care given (docs/SETTINGS.md, `sign_early_margin_minutes`): a note signed days before the
    session is refused unless the clinician states why, and that reason is recorded with the signature.
    """
    if session.starts_at is None:
        return ""
    margin = timedelta(minutes=session.clinic.config.sign_early_margin_minutes)
    if now >= session.starts_at - margin:
        return ""
    if len(" ".join((early_reason or "").split())) >= 5:
        return ""
    start = timezone.localtime(session.starts_at, session.clinic.tz)
    return (
        f"This session is booked for {start:%Y-%m-%d %H:%M %Z}: a note is signed once the session has taken place "
        f"(from {session.clinic.config.sign_early_margin_minutes} minutes before its start). If it really took place "
        "earlier, give the reason for signing now (at least 5 characters); it is recorded with the signature."
    )


def sign_session(
    actor: Actor,
    session: TreatmentSession,
    *,
    expected_version: int | None = None,
    early_reason: str = "",
    now: datetime | None = None,
) -> TreatmentSession:
    """Sign the session note as the treating clinician; it is then locked.

    Signing before the booked start less the clinic's margin is refused unless `early_reason` says why (recorded
    on the signature's audit row and version).
    """
    require_permission(actor, Permission.SESSION_SIGN)
    require_same_clinic(actor, session)
    if session.status in (SessionStatus.CANCELLED, SessionStatus.NO_SHOW):
        raise ServiceError(f"A {session.get_status_display().lower()} session cannot be signed.")
    now = now or timezone.now()
    early_reason = " ".join((early_reason or "").split())
    with transaction.atomic():
        current = TreatmentSession.objects.select_for_update(no_key=True).select_related("clinic").get(pk=session.pk)
        problem = early_signing_problem(current, now, early_reason)
        if problem:
            raise ValidationError({"early_reason": problem})
        early = current.starts_at is not None and now < current.starts_at
        blockers = signing_blockers(queries.signing_state(current))
        if blockers:
            raise ServiceError("Cannot sign yet: " + " ".join(blockers))
        signed = update_record(
            actor,
            current,
            {
                "signed_at": timezone.now(),
                "signed_by": actor.user,
                "status": SessionStatus.DONE,
            },
            "treatment.session.signed",
            expected_version=expected_version,
            reason=f"Signed before the booked start: {early_reason}" if early and early_reason else "",
        )
        # Once the signature is committed: the visit summary PDF is queued (docs/DOCUMENTS.md) and the invoice drafted
        # (docs/BILLING.md), each on its own; neither can undo or hold back the signature.
        hooks.session_signed.send(actor, signed.pk)
        hooks.course_changed(signed.clinic_id, [signed.course_id])
        return signed


# --- Adverse events ---------------------------------------------------------------------------------------------

AE_FIELDS = (
    "event_type", "onset_on", "severity", "serious", "causality", "outcome", "description", "lot",
)  # fmt: skip


def record_adverse_event(
    actor: Actor,
    patient: Patient,
    data: Mapping[str, Any],
    *,
    session: TreatmentSession | None = None,
    site: InjectionSite | None = None,
    solution: PreparedSolution | None = None,
) -> AdverseEvent:
    """Record an adverse event, linked to the session, site, solution and lot it followed."""
    require_permission(actor, Permission.ADVERSE_EVENT_RECORD)
    require_same_clinic(actor, patient)
    only_fields(data, AE_FIELDS)
    for linked in (session, site, solution):
        if linked is not None and linked.patient_id != patient.pk:
            raise ValidationError("The linked session, site or solution belongs to another patient.")
    if site is not None and session is not None and site.session_id != session.pk:
        raise ValidationError({"site": "That site is not part of the chosen session."})
    if solution is not None and session is not None and solution.session_id != session.pk:
        raise ValidationError({"solution": "That solution is not part of the chosen session."})
    session = session or (site.session if site else solution.session if solution else None)
    solution = solution or (site.solution if site else None)
    if session is not None and (
        session.status != SessionStatus.DONE or session.signed_at is None or session.is_entered_in_error
    ):
        raise ValidationError(
            {
                "session": f"Session {session.number} (planned {session.planned_on:%Y-%m-%d}) has not been done and "
                "signed: an adverse event is linked only to a session that happened. Sign its note first, or record "
                "the event without a session."
            }
        )
    onset = data.get("onset_on")
    if isinstance(onset, date):
        if session is not None and onset < session.planned_on:
            raise ValidationError(
                {
                    "onset_on": f"Onset is before session {session.number} ({session.planned_on:%Y-%m-%d}) that it "
                    "is linked to: choose a session done on or before the onset."
                }
            )
        if onset > clinical_queries.clinic_today(patient.clinic):
            raise ValidationError({"onset_on": "Onset cannot be in the future."})
    values = dict(data)
    if not values.get("lot") and solution is not None:
        values["lot"] = ", ".join(c["lot"] for c in solution.components if c.get("lot"))
    with transaction.atomic():
        event = create_record(
            actor,
            AdverseEvent(
                clinic=patient.clinic,
                patient=patient,
                course=session.course if session else None,
                session=session,
                site=site,
                solution=solution,
                **values,
            ),
            "treatment.adverse_event.recorded",
            detail={"type": values.get("event_type"), "serious": bool(values.get("serious"))},
        )
        hooks.course_changed(event.clinic_id, [session.course_id if session is not None else None])
        return event


def update_adverse_event(
    actor: Actor, event: AdverseEvent, data: Mapping[str, Any], *, expected_version: int, reason: str = ""
) -> AdverseEvent:
    """Follow an adverse event over time (outcome, severity, causality)."""
    require_permission(actor, Permission.ADVERSE_EVENT_RECORD)
    require_same_clinic(actor, event)
    only_fields(data, AE_FIELDS)
    with transaction.atomic():
        updated = update_record(
            actor, event, data, "treatment.adverse_event.updated", expected_version=expected_version, reason=reason
        )
        session = updated.session
        course_ids = [updated.course_id, session.course_id if session is not None else None]
        hooks.course_changed(updated.clinic_id, course_ids)
        return updated


# --- Lot recall ----------------------------------------------------------------------------------------------------


def recall_lot(actor: Actor, question: RecallQuestion, *, output: str = "page") -> list[queries.RecallRow]:
    """Everyone who received a recalled stock (treatment.queries.recall), audited as a disclosure: one event per
    patient named (so each patient's accounting of disclosures lists it), one naming nobody when none received it.
    A question that cannot be asked is refused by field, and nothing is written."""
    require_permission(actor, Permission.LOT_RECALL)
    problems = question.problems()
    if problems:
        raise ValidationError(problems)
    rows = queries.recall(actor.clinic, question)
    detail = {
        "product": question.product,
        "lot": question.lot.strip(),
        "expires_from": question.expires_from.isoformat() if question.expires_from else "",
        "expires_to": question.expires_to.isoformat() if question.expires_to else "",
        "output": output,
        "rows": len(rows),
    }
    action = "treatment.recall.exported" if output == "csv" else "treatment.recall.viewed"
    with transaction.atomic():
        record_disclosure(actor, action, [row.patient for row in rows], detail=detail)
    return rows
