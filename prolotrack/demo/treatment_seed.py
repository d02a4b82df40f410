"""Demo treatment history: courses in every state, signed sessions with sites on the map, bookings, adverse events.

Everything goes through the treatment services, so the demo data is versioned and audited like real work and
breaks the same rules (a patient with an unresolved contraindication is stopped, not treated).
"""

import random
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission, Role
from prolotrack.demo.consent_seed import consent_for_course
from prolotrack.domain.errors import DomainError
from prolotrack.domain.protocols import template as protocol_template
from prolotrack.patients.models import Condition, Patient
from prolotrack.treatment import maps, queries, services
from prolotrack.treatment.models import Course, CourseStatus, SessionStatus, TreatmentSession

# Complaint -> built-in protocol (DOMAIN.md §4); regions without a trial template start a course without one.
PROTOCOL_FOR = {
    "Knee osteoarthritis": "knee_oa_rabago",
    "Osgood-Schlatter disease": "osgood_schlatter_topol",
    "Chronic low back pain": "low_back_yelland",
    "Sacroiliac joint pain": "sacroiliac_kim",
    "Lateral epicondylosis (tennis elbow)": "lateral_epicondylosis_scarpone",
    "Mid-portion Achilles tendinopathy": "achilles_yelland",
    "Rotator cuff tendinopathy": "rotator_cuff_bertrand",
    "Plantar fasciitis": "plantar_fasciitis_ryan",
    "TMJ hypermobility": "tmj_refai",
}
CHECKS = (("meal", "yes"), ("consent", "yes"), ("skin_prep", "yes"), ("numbing", "na"), ("time_out", "yes"))
# (reason code of domain.course.COURSE_CLOSE_REASONS, details)
STOP_REASONS = (
    ("lost_to_follow_up", "Moved out of the area"),
    ("other_treatment", "Chose surgery after the first session"),
    ("cost", "Could not take time off work"),
)


def _slot(rng: random.Random, day: date, tz: Any) -> datetime:
    """A weekday appointment between 08:00 and 16:30 on or after `day`."""
    while day.weekday() >= 5:
        day += timedelta(days=1)
    minutes = rng.randrange(0, 18) * 30
    return datetime.combine(day, time(8, 0), tzinfo=tz) + timedelta(minutes=minutes)


def _fresh(session: TreatmentSession) -> TreatmentSession:
    return TreatmentSession.objects.select_related("course", "patient", "clinic").get(pk=session.pk)


def _perform(actor: Actor, session: TreatmentSession, rng: random.Random, dextrose_pct: str) -> bool:
    """Record and sign one session; return False when screening for the day stops it."""
    for item, answer in CHECKS:
        services.tick(actor, session, item, answer)
    session = services.rescreen_for_the_day(actor, _fresh(session))
    if queries.unresolved_contraindications(session.day_screening):
        return False
    # A batch of each stock lasts the clinic a quarter, so every patient treated in a quarter got the same lots and the
    # demo has lots to recall (docs/clinical/lot-recall.md). The three draws keep the seed's random sequence unchanged.
    rng.randint(1000, 9999), rng.randint(100, 999), rng.randint(10, 99)
    day = session.planned_on
    quarter_start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    batch = f"{day:%y}Q{(day.month - 1) // 3 + 1}"
    solution = services.add_solution(
        actor,
        _fresh(session),
        label="A",
        final_volume_ml=Decimal("20"),
        components=[
            {"agent": "dextrose", "target_pct": dextrose_pct, "stock_pct": "50", "lot": f"D50-{batch}",
             "expiry": quarter_start + timedelta(days=400)},
            {"agent": "lidocaine", "target_pct": "0.5", "stock_pct": "2", "lot": f"LID-{batch}",
             "expiry": quarter_start + timedelta(days=300)},
        ],
        diluent_lot=f"NS-{batch}",
    )  # fmt: skip
    course = session.course
    drawing = _best_map(course)
    side = course.side if course.side in ("left", "right") else "right"
    wanted = [lm.code for lm in maps.landmarks_on(drawing)]
    chosen = [c for c in _template_landmarks(course) if c in wanted] or wanted[:6]
    points = [(code, maps.position(drawing, code, side)) for code in chosen]
    # A session has 4-10 injections: repeat along the landmarks with small offsets (fanning at an enthesis).
    target = rng.randint(max(4, len(points)), 10)
    n = 0
    while n < target:
        code, (x, y) = points[n % len(points)]
        jitter = (n // len(points)) * 9
        is_joint = "intra_articular" in code or "joint" in code
        volume = Decimal("3") if is_joint and n < len(points) else Decimal("0.5")
        services.add_site(
            actor,
            _fresh(session),
            solution=solution,
            body_map=drawing.code,
            x=Decimal(str(round(min(max(x + jitter, 1), drawing.width - 1), 1))),
            y=Decimal(str(round(min(max(y + jitter, 1), drawing.height - 1), 1))),
            side=course.side,
            volume_ml=volume,
            landmark=code if jitter == 0 else "",
            label="" if jitter == 0 else f"Fanning near site {n % len(points) + 1}",
            needle_gauge=27,
            guidance="ultrasound" if is_joint else "landmark",
        )
        n += 1
    services.update_session_record(
        actor,
        _fresh(session),
        {"instructions_given": True, "body_map": drawing.code, "observation_note": "Tolerated well."},
        expected_version=None,
    )
    services.sign_session(actor, _fresh(session))
    return True


def _template_landmarks(course: Course) -> tuple[str, ...]:
    if not course.protocol_id:
        return ()
    try:
        return protocol_template(course.protocol_id).landmarks
    except DomainError:  # a clinic template: fall back to the map's landmarks
        return ()


def _best_map(course: Course) -> maps.BodyMap:
    wanted = set(_template_landmarks(course))
    options = maps.maps_for(course.region)
    return max(options, key=lambda m: len(wanted & set(m.positions)))


def seed_treatment(clinic: Any, *, today: date, seed: int = 4, limit: int = 90) -> dict[str, int]:
    """Give part of the demo clinic's patients a treatment history up to `today`."""
    rng = random.Random(seed)
    clinicians = [m.user for m in members_with(clinic, Permission.SESSION_TREAT).select_related("user").order_by("id")]
    counts = {"courses": 0, "signed_sessions": 0, "booked": 0, "adverse_events": 0, "stopped": 0}
    complaints = (
        Condition.objects.filter(clinic=clinic, category="complaint", entered_in_error_at__isnull=True)
        .select_related("patient")
        .order_by("patient__mrn")
    )
    for index, complaint in enumerate(complaints[:limit]):
        patient: Patient = complaint.patient
        clinician = clinicians[index % len(clinicians)]
        actor = Actor(user=clinician, clinic=clinic, role=Role.CLINICIAN, channel="system")
        protocol = PROTOCOL_FOR.get(complaint.description, "")
        kind = index % 10  # 0-2 completed, 3-6 in progress, 7 stopped, 8 not started, 9 none
        if kind == 9:
            continue
        side = complaint.laterality if complaint.laterality in ("left", "right", "bilateral", "midline") else "midline"
        first_gap = _first_gap(protocol)
        if kind <= 2 or kind == 7:
            start = today - timedelta(days=rng.randint(200, 330))
        elif kind <= 6:
            start = today + timedelta(days=rng.randint(1, 12)) - timedelta(days=first_gap)
        else:
            start = today + timedelta(days=rng.randint(2, 14))
        course = services.create_course(
            actor, patient, protocol_id=protocol, indication=complaint.description, region=complaint.body_region,
            side=side, start_on=start, clinician=clinician,
        )  # fmt: skip
        counts["courses"] += 1
        plan = list(course.sessions.filter(optional=False).order_by("number"))
        to_do = {0: len(plan), 1: len(plan), 2: len(plan), 7: 1}.get(kind, 1 if kind <= 6 else 0)
        if to_do:  # no session is signed without a current consent (docs/CONSENT.md)
            consent_for_course(actor, course, counts.get("consents", 0))
            counts["consents"] = counts.get("consents", 0) + 1
        dextrose = "20" if course.region == "lumbopelvic" else "15"
        stopped = False
        for number, session in enumerate(plan, start=1):
            if session.planned_on > today + timedelta(days=21):
                break
            booked = services.book_session(
                actor, session, starts_at=_slot(rng, session.planned_on, clinic.tz), clinician=clinician
            )
            if booked.planned_on >= today:
                counts["booked"] += 1
                break
            if number > to_do:
                break
            if rng.random() < 0.04:
                services.set_attendance(actor, _fresh(booked), SessionStatus.NO_SHOW, reason="Did not attend")
                continue
            if not _perform(actor, _fresh(booked), rng, dextrose):
                _close(actor, course, ("contraindication", "Screening on the day found a contraindication."))
                counts["stopped"] += 1
                stopped = True
                break
            counts["signed_sessions"] += 1
            if rng.random() < 0.12:
                _adverse_event(actor, _fresh(booked), rng, today)
                counts["adverse_events"] += 1
        if stopped:
            continue
        if kind <= 2:
            # The outcome follows from the sessions done: a missed session makes it "stopped early".
            counts["stopped"] += _close(actor, course, ("resolved", "")) == CourseStatus.STOPPED
        elif kind == 7:
            counts["stopped"] += _close(actor, course, rng.choice(STOP_REASONS)) == CourseStatus.STOPPED
    return counts


def _close(actor: Actor, course: Course, reason: tuple[str, str]) -> str:
    """Close a course through the service; its outcome is derived there, so a reason that does not fit it (a course
    whose sessions were in fact all done) becomes 'Planned sessions done'."""
    course = Course.objects.get(pk=course.pk)
    if queries.close_impact(course).outcome.outcome.value == CourseStatus.COMPLETED:
        reason = ("plan_done", "")
    return services.close_course(actor, course, reason=reason[0], details=reason[1]).status


def _first_gap(protocol: str) -> int:
    """Days from the first to the second planned session of a protocol (7 when there is none)."""
    if not protocol:
        return 0
    sessions = [s for s in protocol_template(protocol).sessions if not s.optional]
    if len(sessions) < 2:
        return 0
    start = date(2026, 1, 1)
    return (sessions[1].date_from(start) - start).days


def _adverse_event(actor: Actor, session: TreatmentSession, rng: random.Random, today: date) -> None:
    kind, severity, description = rng.choice(
        [
            ("pain_flare", "moderate", "Pain flare at the injected sites, settled with acetaminophen."),
            ("pain_flare", "mild", "Soreness for two days after the session."),
            ("bruising", "mild", "Bruise at one injection site."),
            ("vasovagal", "mild", "Light-headed after the injections; recovered lying down within minutes."),
        ]
    )
    onset = min(session.planned_on + timedelta(days=0 if kind == "vasovagal" else 1), today)
    site = session.sites.filter(entered_in_error_at__isnull=True).first()
    services.record_adverse_event(
        actor,
        session.patient,
        {"event_type": kind, "onset_on": onset, "severity": severity, "serious": False, "causality": "probable",
         "outcome": "resolved", "description": description},
        session=session,
        site=site if kind != "vasovagal" else None,
    )  # fmt: skip
