"""Protocol templates from published trials (DOMAIN.md §4), and the course schedule built from one.

Templates are starting points a clinic copies and edits, not a standard of care. Where a trial detail is not in
DOMAIN.md the template carries a conservative default and says so in `review`. See docs/clinical/protocols.md.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from .agents import Agent, AgentConcentration, pct
from .anatomy import Region, landmark
from .dates import add_months
from .errors import ProtocolError, ScheduleError
from .quantities import as_whole_days


class OffsetUnit(StrEnum):
    """Name the unit of a session offset from the start of a course."""

    DAYS = "days"
    WEEKS = "weeks"
    MONTHS = "months"


@dataclass(frozen=True)
class SessionSpec:
    """Place one session at an offset from the first, and say whether it is given only as needed."""

    offset: int
    unit: OffsetUnit = OffsetUnit.WEEKS
    optional: bool = False

    def date_from(self, start: date) -> date:
        """Return the session date for a course starting on `start`."""
        if self.unit is OffsetUnit.DAYS:
            return start + timedelta(days=self.offset)
        if self.unit is OffsetUnit.WEEKS:
            return start + timedelta(weeks=self.offset)
        return add_months(start, self.offset)


@dataclass(frozen=True)
class SolutionSpec:
    """Describe a solution used by a protocol: agents at final concentrations and a typical volume."""

    label: str
    components: tuple[AgentConcentration, ...]
    volume_ml: Decimal | None
    volume_per: str
    note: str = ""


@dataclass(frozen=True)
class ProtocolTemplate:
    """Describe one trial protocol as editable data."""

    code: str
    name: str
    indication: str
    region: Region
    solutions: tuple[SolutionSpec, ...]
    landmarks: tuple[str, ...]
    sessions: tuple[SessionSpec, ...]
    source: str
    review: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        """Refuse templates whose landmarks or sessions do not make a usable plan."""
        for code in self.landmarks:
            site = landmark(code)
            if site.region is not self.region:
                raise ProtocolError(f"Template {self.code}: landmark {code} is not in region {self.region.value}.")
        if not self.sessions or self.sessions[0].optional or self.sessions[0].offset != 0:
            raise ProtocolError(f"Template {self.code}: the first session must be planned and at offset 0.")
        starts = date(2001, 1, 31)
        dates = [spec.date_from(starts) for spec in self.sessions]
        if dates != sorted(dates) or len(set(dates)) != len(dates):
            raise ProtocolError(f"Template {self.code}: session offsets must increase.")
        seen_optional = False
        for spec in self.sessions:
            if spec.offset < 0:
                raise ProtocolError(f"Template {self.code}: session offsets cannot be negative.")
            if seen_optional and not spec.optional:
                raise ProtocolError(f"Template {self.code}: a planned session cannot follow an optional one.")
            seen_optional = seen_optional or spec.optional

    @property
    def planned_sessions(self) -> int:
        """Return the number of sessions that are always given."""
        return sum(1 for spec in self.sessions if not spec.optional)


def _weeks(*weeks: int, optional: tuple[int, ...] = ()) -> tuple[SessionSpec, ...]:
    planned = tuple(SessionSpec(w, OffsetUnit.WEEKS) for w in weeks)
    return planned + tuple(SessionSpec(w, OffsetUnit.WEEKS, optional=True) for w in optional)


def _months(*months: int) -> tuple[SessionSpec, ...]:
    return tuple(SessionSpec(m, OffsetUnit.MONTHS) for m in months)


def _sol(
    label: str, parts: tuple[tuple[Agent, str], ...], volume: str | None, per: str, note: str = ""
) -> SolutionSpec:
    components = tuple(AgentConcentration(agent, pct(value)) for agent, value in parts)
    return SolutionSpec(label, components, None if volume is None else Decimal(volume), per, note)


D, LIDO, MEPI, MORR = Agent.DEXTROSE, Agent.LIDOCAINE, Agent.MEPIVACAINE, Agent.SODIUM_MORRHUATE
NO_ANAESTHETIC = "The anaesthetic and its concentration are not in DOMAIN.md: add the clinic's own choice."

TEMPLATES: tuple[ProtocolTemplate, ...] = (
    ProtocolTemplate(
        code="knee_oa_rabago",
        name="Knee osteoarthritis (Rabago)",
        indication="Knee osteoarthritis",
        region=Region.KNEE,
        solutions=(
            _sol("Intra-articular dextrose 25%", ((D, "25"),), "6", "joint"),
            _sol("Extra-articular dextrose 15%", ((D, "15"),), "0.5", "site", "Each tender ligament insertion."),
        ),
        landmarks=(
            "knee.intra_articular",
            "knee.mcl_femoral",
            "knee.mcl_tibial",
            "knee.lcl_femoral",
            "knee.lcl_fibular_head",
            "knee.pes_anserinus",
            "knee.patellar_tendon_inferior_pole",
            "knee.quadriceps_tendon_superior_pole",
            "knee.coronary_medial",
            "knee.coronary_lateral",
        ),
        # Trial weeks 1, 5, 9 (+13, 17 as needed): week 1 is the first session, so offsets 0, 4, 8 (+12, 16).
        sessions=_weeks(0, 4, 8, optional=(12, 16)),
        source="Rabago 2013, Ann Fam Med (DOMAIN.md §4)",
        review=(NO_ANAESTHETIC, "Landmarks are the DOMAIN.md knee list; pick the tender insertions per patient."),
    ),
    ProtocolTemplate(
        code="knee_oa_intra_articular",
        name="Knee osteoarthritis, intra-articular only",
        indication="Knee osteoarthritis",
        region=Region.KNEE,
        solutions=(
            _sol(
                "Intra-articular dextrose 25%",
                ((D, "25"),),
                "6",
                "joint",
                "Concentration and volume are the Rabago 2013 intra-articular values (DOMAIN.md §2).",
            ),
        ),
        landmarks=("knee.intra_articular",),
        sessions=_weeks(0, 4, 8, 16),
        source="PMC5952445 (DOMAIN.md §4)",
        review=(
            "DOMAIN.md gives no concentration or volume for this trial: 25% and 6 mL are template defaults.",
            NO_ANAESTHETIC,
        ),
    ),
    ProtocolTemplate(
        code="low_back_yelland",
        name="Chronic low back pain (Yelland)",
        indication="Chronic non-specific low back pain",
        region=Region.LUMBOPELVIC,
        solutions=(_sol("Glucose 20% / lignocaine 0.2%", ((D, "20"), (LIDO, "0.2")), None, "site"),),
        landmarks=(
            "lumbopelvic.supraspinous_l4_l5",
            "lumbopelvic.supraspinous_l5_s1",
            "lumbopelvic.interspinous_l4_l5",
            "lumbopelvic.interspinous_l5_s1",
            "lumbopelvic.iliolumbar",
            "lumbopelvic.long_dorsal_sacroiliac",
            "lumbopelvic.sacrotuberous",
            "lumbopelvic.facet_l4_l5",
            "lumbopelvic.facet_l5_s1",
        ),
        sessions=_weeks(0, 4, 8, optional=(12, 16, 20)),
        source="Yelland 2004, Spine (DOMAIN.md §4)",
        review=(
            "DOMAIN.md says only 'repeated over 6 months': 3 planned sessions 4 weeks apart plus 3 optional ones "
            "(6 in all, within 6 months; trials give 3-6 sessions 1-6 weeks apart, DOMAIN.md §4) is a template "
            "default.",
            "Volume per site is not in DOMAIN.md.",
        ),
    ),
    ProtocolTemplate(
        code="sacroiliac_kim",
        name="Sacroiliac joint pain (Kim)",
        indication="Sacroiliac joint pain",
        region=Region.LUMBOPELVIC,
        solutions=(_sol("Intra-articular dextrose 25%", ((D, "25"),), None, "joint"),),
        landmarks=("lumbopelvic.sacroiliac_joint",),
        # Every 2 weeks, at most 3: the first is planned, the next two only if still needed.
        sessions=_weeks(0, optional=(2, 4)),
        source="Kim 2010 (DOMAIN.md §4)",
        review=(
            "DOMAIN.md gives no concentration: 25% (the intra-articular value of DOMAIN.md §2) is a template default.",
            "Volume is not in DOMAIN.md.",
            NO_ANAESTHETIC,
        ),
    ),
    ProtocolTemplate(
        code="lateral_epicondylosis_scarpone",
        name="Lateral epicondylosis (Scarpone)",
        indication="Chronic lateral epicondylosis",
        region=Region.ELBOW,
        solutions=(
            _sol(
                "Sodium morrhuate 0.72% / dextrose 10.7%",
                ((MORR, "0.72"), (D, "10.7")),
                "0.5",
                "site",
                "Three sites: supracondylar ridge, lateral epicondyle, annular ligament. Concentrations are "
                "approximate in DOMAIN.md (~0.72%, ~10.7%).",
            ),
        ),
        landmarks=("elbow.supracondylar_ridge", "elbow.common_extensor_origin", "elbow.annular_ligament"),
        sessions=_weeks(0, 4, 8),
        source="Scarpone 2008 (DOMAIN.md §2, §4)",
        review=(NO_ANAESTHETIC,),
    ),
    ProtocolTemplate(
        code="achilles_yelland",
        name="Achilles mid-portion tendinosis (Yelland)",
        indication="Painful mid-portion Achilles tendinosis",
        region=Region.ANKLE_FOOT,
        solutions=(_sol("Glucose 20% / lignocaine 0.2%", ((D, "20"), (LIDO, "0.2")), None, "site"),),
        landmarks=("ankle_foot.achilles_paratendinous",),
        sessions=_weeks(0, 1, 2, 3, optional=(4, 5, 6, 7, 8, 9, 10, 11)),
        source="Yelland 2011, BJSM (DOMAIN.md §4)",
        review=(
            "DOMAIN.md says 'glucose + lignocaine' without concentrations: 20% / 0.2% (the same group's low back "
            "solution) is a template default.",
            "Weekly for up to 12 weeks: 4 planned and 8 optional sessions is a template default.",
            "Volume per site is not in DOMAIN.md.",
        ),
    ),
    ProtocolTemplate(
        code="rotator_cuff_bertrand",
        name="Rotator cuff tendinopathy (Bertrand)",
        indication="Chronic rotator cuff tendinopathy, with physiotherapy",
        region=Region.SHOULDER,
        solutions=(_sol("Dextrose 15% / lidocaine 0.1%", ((D, "15"), (LIDO, "0.1")), None, "site"),),
        landmarks=(
            "shoulder.supraspinatus",
            "shoulder.infraspinatus",
            "shoulder.subscapularis",
            "shoulder.biceps_long_head_groove",
        ),
        sessions=_months(0, 1, 2),
        source="Bertrand 2016 (DOMAIN.md §4)",
        review=(
            "DOMAIN.md gives no dextrose concentration: 15% (within the 12.5-20% enthesis range of DOMAIN.md §2) "
            "is a template default.",
            "Volume per site is not in DOMAIN.md. Injected on painful entheses only.",
        ),
    ),
    ProtocolTemplate(
        code="plantar_fasciitis_ryan",
        name="Plantar fasciitis (Ryan)",
        indication="Chronic plantar fasciitis",
        region=Region.ANKLE_FOOT,
        solutions=(
            _sol(
                "Dextrose 25% / lidocaine 0.5%",
                ((D, "25"), (LIDO, "0.5")),
                None,
                "site",
                "D50 mixed 1:1 with 1% lidocaine (DOMAIN.md §2); 27 G needle, ultrasound guided.",
            ),
        ),
        landmarks=("ankle_foot.plantar_fascia_origin",),
        sessions=_weeks(0, 6, 12),
        source="Ryan 2009 (DOMAIN.md §4)",
        review=(
            "DOMAIN.md says '25% dextrose/lidocaine': 0.5% lidocaine (D50 1:1 with 1% lidocaine) is a template "
            "default.",
            "Every 6 weeks, median 3 sessions: 3 planned sessions is a template default.",
        ),
    ),
    ProtocolTemplate(
        code="osgood_schlatter_topol",
        name="Osgood-Schlatter disease (Topol)",
        indication="Osgood-Schlatter disease (adolescents)",
        region=Region.KNEE,
        solutions=(_sol("Dextrose 12.5% in lidocaine 1%", ((D, "12.5"), (LIDO, "1")), None, "site", "27 G needle."),),
        landmarks=("knee.tibial_tuberosity", "knee.patellar_tendon_inferior_pole"),
        sessions=_months(0, 1, 2),
        source="Topol 2011, NCT01300754 (DOMAIN.md §2, §4)",
        review=(
            "Volume per site is not in DOMAIN.md.",
            "Adolescent patients: weigh every session and check the lidocaine total.",
        ),
    ),
    ProtocolTemplate(
        code="tmj_refai",
        name="TMJ hypermobility (Refai)",
        indication="Symptomatic temporomandibular joint hypermobility",
        region=Region.TMJ,
        solutions=(
            _sol("Dextrose 10%", ((D, "10"),), "2", "joint", "Given with 1 mL of 2% mepivacaine; 30 G needle."),
            _sol("Mepivacaine 2%", ((MEPI, "2"),), "1", "joint", "Given with 2 mL of 10% dextrose (3 mL per joint)."),
        ),
        landmarks=("tmj.joint_capsule",),
        sessions=_weeks(0, 6, 12, 18),
        source="Refai 2011 (DOMAIN.md §4)",
        review=("DOMAIN.md gives the two volumes separately: confirm whether they are drawn into one syringe.",),
    ),
)

_BY_CODE: dict[str, ProtocolTemplate] = {template.code: template for template in TEMPLATES}


def template(code: str) -> ProtocolTemplate:
    """Return the protocol template with this code."""
    try:
        return _BY_CODE[code]
    except (KeyError, TypeError):
        choices = ", ".join(_BY_CODE)
        raise ProtocolError(f"Unknown protocol template '{code}': choose one of {choices}.") from None


# --- Course schedule ---------------------------------------------------------------------------------------


class TimepointKind(StrEnum):
    """Name why an outcome questionnaire is due: baseline, at a session, or a follow-up."""

    BASELINE = "baseline"
    SESSION = "session"
    FOLLOW_UP = "follow_up"


class ReminderKind(StrEnum):
    """Name what a reminder is for."""

    APPOINTMENT = "appointment"
    NSAID_STOP = "nsaid_stop"
    QUESTIONNAIRE = "questionnaire"


@dataclass(frozen=True)
class FollowUp:
    """Place a follow-up timepoint at an offset after the last planned session."""

    code: str
    label: str
    amount: int
    unit: OffsetUnit

    def date_after(self, day: date) -> date:
        """Return the follow-up date after `day`."""
        return SessionSpec(self.amount, self.unit).date_from(day)


DEFAULT_FOLLOW_UPS: tuple[FollowUp, ...] = (
    FollowUp("follow_up_6w", "6 weeks after the last planned session", 6, OffsetUnit.WEEKS),
    FollowUp("follow_up_3m", "3 months after the last planned session", 3, OffsetUnit.MONTHS),
    FollowUp("follow_up_6m", "6 months after the last planned session", 6, OffsetUnit.MONTHS),
    FollowUp("follow_up_12m", "12 months after the last planned session", 12, OffsetUnit.MONTHS),
)


@dataclass(frozen=True)
class ScheduleSettings:
    """Hold the clinic settings that shape a schedule; defaults are product defaults unless sourced."""

    # Product default: two days' notice is enough to rebook without being forgotten.
    appointment_reminder_days: int = 2
    # DOMAIN.md §6: clinics stop NSAIDs 2-3 days to 2 weeks before; the product default is 3 days.
    nsaid_stop_days: int = 3
    nsaid_reminders: bool = True
    follow_ups: tuple[FollowUp, ...] = DEFAULT_FOLLOW_UPS

    def __post_init__(self) -> None:
        """Refuse settings outside sensible bounds."""
        as_whole_days(self.appointment_reminder_days, "Appointment reminder", 0, 30, ScheduleError)
        as_whole_days(self.nsaid_stop_days, "NSAID stop window", 0, 28, ScheduleError)
        codes = [f.code for f in self.follow_ups]
        if len(set(codes)) != len(codes):
            raise ScheduleError("Each follow-up timepoint needs its own code.")
        for follow_up in self.follow_ups:
            if follow_up.amount <= 0:
                raise ScheduleError(f"Follow-up '{follow_up.label}' must be after the last session.")


@dataclass(frozen=True)
class PlannedSession:
    """Give one planned session of a course: its number, date and whether it is optional."""

    number: int
    date: date
    optional: bool


@dataclass(frozen=True)
class OutcomeTimepoint:
    """Give one date on which outcome questionnaires are due."""

    code: str
    label: str
    kind: TimepointKind
    date: date
    optional: bool = False
    session_number: int | None = None


@dataclass(frozen=True)
class Reminder:
    """Give one reminder to send: what, when and what it refers to."""

    kind: ReminderKind
    date: date
    message: str
    session_number: int | None = None
    timepoint_code: str | None = None


@dataclass(frozen=True)
class Schedule:
    """Give a course plan: sessions, outcome timepoints and reminders, all dates computed from the start."""

    template_code: str
    start: date
    sessions: tuple[PlannedSession, ...]
    timepoints: tuple[OutcomeTimepoint, ...]
    reminders: tuple[Reminder, ...]

    @property
    def last_planned_session(self) -> PlannedSession:
        """Return the last non-optional session, the anchor of the follow-ups."""
        return [s for s in self.sessions if not s.optional][-1]


def schedule(template: ProtocolTemplate, start_date: date, settings: ScheduleSettings | None = None) -> Schedule:
    """Build the sessions, outcome timepoints and reminders of a course that starts on start_date."""
    if not isinstance(template, ProtocolTemplate):
        raise ScheduleError("Choose a protocol template to build a schedule.")
    if not isinstance(start_date, date) or isinstance(start_date, datetime):
        raise ScheduleError("Give the date (without a time) of the first session to build a schedule.")
    settings = settings or ScheduleSettings()

    sessions = tuple(
        PlannedSession(number=i, date=spec.date_from(start_date), optional=spec.optional)
        for i, spec in enumerate(template.sessions, start=1)
    )
    last_planned = [s for s in sessions if not s.optional][-1]

    # The baseline is the questionnaire at the first session, so session 1 has no separate timepoint.
    timepoints: list[OutcomeTimepoint] = [
        OutcomeTimepoint("baseline", "Baseline (first session)", TimepointKind.BASELINE, start_date, session_number=1)
    ]
    for session in sessions[1:]:
        timepoints.append(
            OutcomeTimepoint(
                f"session_{session.number}",
                f"Session {session.number}" + (" (if given)" if session.optional else ""),
                TimepointKind.SESSION,
                session.date,
                optional=session.optional,
                session_number=session.number,
            )
        )
    for follow_up in settings.follow_ups:
        timepoints.append(
            OutcomeTimepoint(
                follow_up.code, follow_up.label, TimepointKind.FOLLOW_UP, follow_up.date_after(last_planned.date)
            )
        )

    # Optional sessions are booked only when needed, so they get reminders once booked, not in the plan.
    reminders: list[Reminder] = []
    for session in sessions:
        if session.optional:
            continue
        reminders.append(
            Reminder(
                ReminderKind.APPOINTMENT,
                session.date - timedelta(days=settings.appointment_reminder_days),
                f"Prolotherapy session {session.number} on {session.date.isoformat()}.",
                session_number=session.number,
            )
        )
        if settings.nsaid_reminders and settings.nsaid_stop_days > 0:
            reminders.append(
                Reminder(
                    ReminderKind.NSAID_STOP,
                    session.date - timedelta(days=settings.nsaid_stop_days),
                    f"Stop anti-inflammatory painkillers (NSAIDs) from today until session {session.number} on "
                    f"{session.date.isoformat()}; the clinic will tell you when to restart.",
                    session_number=session.number,
                )
            )
    for timepoint in timepoints:
        if timepoint.optional:
            continue
        reminders.append(
            Reminder(
                ReminderKind.QUESTIONNAIRE,
                timepoint.date,
                f"Outcome questionnaire due: {timepoint.label}.",
                session_number=timepoint.session_number,
                timepoint_code=timepoint.code,
            )
        )
    reminders.sort(key=lambda r: (r.date, list(ReminderKind).index(r.kind)))

    return Schedule(
        template_code=template.code,
        start=start_date,
        sessions=sessions,
        timepoints=tuple(timepoints),
        reminders=tuple(reminders),
    )
