"""Demo outcome answers: months of NRS pain, PGIC and a region instrument (KOOS JR for the knee, ODI for the back) at
each course's timepoints, through the outcomes service, so the trajectory cards and the clinic dashboard tell a story.

Synthetic and seeded. Who responds follows the trials summarised in DOMAIN.md §9 (docs/DASHBOARD.md, "Demo data"):
more responders in knee osteoarthritis (Rabago 2013) and rotator cuff tendinopathy (Bertrand 2016: 59% vs 27%) than in
chronic low back pain (Dagenais 2007, Cochrane: no better than control injections) or lateral epicondylosis (2019 RCT:
no difference at 52 weeks). A responder's pain falls over the sessions by about 40-70% of the baseline; a
non-responder's by 0-20%. Some questionnaires are missed (about one in eight after baseline), and nothing is answered
for a session that did not happen or a follow-up not yet due.
"""

import random
from datetime import date, timedelta
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.clinics.queries import members_with
from prolotrack.clinics.roles import Permission, Role
from prolotrack.domain.instruments import definition
from prolotrack.outcomes.models import ResponseSource
from prolotrack.outcomes.services import record_response
from prolotrack.treatment.models import Course, CourseStatus, SessionStatus, TimepointKind

# Chance that a course responds, by indication (DOMAIN.md §9); others take DEFAULT_RESPONSE.
RESPONSE_BY_INDICATION = {
    "Knee osteoarthritis": 0.62,
    "Rotator cuff tendinopathy": 0.59,
    "Mid-portion Achilles tendinopathy": 0.55,
    "Plantar fasciitis": 0.55,
    "Chronic low back pain": 0.38,
    "Sacroiliac joint pain": 0.45,
    "Lateral epicondylosis (tennis elbow)": 0.42,
}
DEFAULT_RESPONSE = 0.5
MISSED = 0.12  # questionnaires after baseline left unanswered
REGION_INSTRUMENT = {"knee": "koos_jr", "lumbopelvic": "odi"}
SOURCES = (
    (ResponseSource.PATIENT_LINK, 0.7),
    (ResponseSource.CLINIC_TABLET, 0.18),
    (ResponseSource.STAFF_PAPER, 0.12),
)


def _clamp(value: float, low: int, high: int) -> int:
    return max(low, min(high, round(value)))


def _source(rng: random.Random) -> str:
    roll = rng.random()
    for source, share in SOURCES:
        roll -= share
        if roll < 0:
            return source
    return ResponseSource.PATIENT_LINK


def _nrs(rng: random.Random, level: float) -> dict[str, int]:
    average = _clamp(level, 0, 10)
    return {
        "now": _clamp(average + rng.choice((-1, 0, 0, 1)), 0, 10),
        "average_week": average,
        "worst_week": _clamp(average + rng.choice((1, 1, 2, 3)), 0, 10),
    }


def _pgic(rng: random.Random, relief: float) -> dict[str, int]:
    """PGIC from the share of baseline pain relieved: 1-2 for most at 40% or more, 3-4 around 10-30%."""
    if relief >= 0.45:
        value = rng.choice((1, 2, 2, 2, 3))
    elif relief >= 0.3:
        value = rng.choice((2, 2, 3, 3))
    elif relief >= 0.1:
        value = rng.choice((3, 3, 4))
    else:
        value = rng.choice((3, 4, 4, 4, 5))
    return {"pgic": value}


def _items(rng: random.Random, code: str, severity: float) -> dict[str, int]:
    """Answers to a licensed instrument's items at a severity from 0 (none) to 1 (worst); item texts are not needed."""
    found = definition(code)
    out = {}
    for item in found.items:
        low, high = item.minimum or 0, item.maximum or 4
        out[item.link_id] = _clamp(low + severity * (high - low) + rng.gauss(0, 0.6), low, high)
    return out


def seed_outcomes(clinic: Any, *, today: date, seed: int = 11) -> dict[str, int]:
    """Answer the demo clinic's due timepoints for every course with a session done; return what was recorded."""
    rng = random.Random(seed)
    clinician = members_with(clinic, Permission.SESSION_TREAT).select_related("user").order_by("id")[0].user
    actor = Actor(user=clinician, clinic=clinic, role=Role.CLINICIAN, channel="system")
    counts = {"responses": 0, "missed": 0, "courses": 0}
    courses = (
        Course.objects.filter(clinic=clinic, entered_in_error_at__isnull=True)
        .select_related("patient", "clinic")
        .prefetch_related("sessions", "timepoints")
        .order_by("id")
    )
    for course in courses:
        sessions = sorted(course.sessions.all(), key=lambda s: s.number)
        done = {s.number for s in sessions if s.status == SessionStatus.DONE}
        if 1 not in done:
            continue
        counts["courses"] += 1
        planned = max(1, len([s for s in sessions if not s.optional]))
        responder = rng.random() < RESPONSE_BY_INDICATION.get(course.indication, DEFAULT_RESPONSE)
        baseline = min(9.0, max(4.0, rng.gauss(6.6, 1.2)))
        relief_at_end = rng.uniform(0.4, 0.7) if responder else rng.uniform(-0.05, 0.2)
        severity = min(0.85, max(0.35, rng.gauss(0.55, 0.1)))
        region_code = REGION_INSTRUMENT.get(course.region)
        for timepoint in sorted(course.timepoints.all(), key=lambda t: (t.due_on, t.pk)):
            if timepoint.optional or timepoint.due_on > today:
                continue
            if timepoint.kind == TimepointKind.SESSION and timepoint.session_number not in done:
                continue
            if timepoint.kind == TimepointKind.FOLLOW_UP and course.status != CourseStatus.COMPLETED:
                continue
            if timepoint.kind != TimepointKind.BASELINE and rng.random() < MISSED:
                counts["missed"] += 1
                continue
            if timepoint.kind == TimepointKind.FOLLOW_UP:
                progress = 1.0
                day = min(today, timepoint.due_on + timedelta(days=rng.randint(0, 6)))
            else:
                progress = ((timepoint.session_number or 1) - 1) / planned
                day = timepoint.due_on
            relief = relief_at_end * progress
            if timepoint.code == "follow_up_12m" and responder and rng.random() < 0.25:
                relief *= 0.6  # some responders slip back by a year
            level = baseline * (1 - relief) + rng.gauss(0, 0.5)
            answers = [("nrs_pain", _nrs(rng, level))]
            if region_code:
                answers.append((region_code, _items(rng, region_code, severity * (1 - relief))))
            if timepoint.kind != TimepointKind.BASELINE:
                answers.append(("pgic", _pgic(rng, relief)))
            source = _source(rng)
            for code, values in answers:
                record_response(
                    actor, course.patient, code, values, authored_on=day, timepoint=timepoint, source=source
                )
                counts["responses"] += 1
    return counts
