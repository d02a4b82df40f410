from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal
from uuid import UUID

from ninja import Field, Schema

from prolotrack.core.limits import limit_field
from prolotrack.domain.limits import (
    CONCENTRATION_PCT,
    NEEDLE_DEPTH_MM,
    NEEDLE_GAUGE,
    SITE_VOLUME_ML,
    SOLUTION_VOLUME_ML,
)
from prolotrack.treatment.models import AdverseEvent, Course, CourseTimepoint, InjectionSite, TreatmentSession


class SessionSummary(Schema):
    id: UUID = Field(alias="uuid")
    number: int
    optional: bool
    planned_on: date
    starts_at: datetime | None
    duration_minutes: int
    status: str
    clinician: str | None = None
    signed_at: datetime | None
    entered_in_error: bool = Field(alias="is_entered_in_error")

    @staticmethod
    def resolve_clinician(obj: object) -> str | None:
        # The session endpoints return a dict built from this schema; reading it back must keep the clinician
        # (issue 19: GET /api/sessions/{id} said "clinician": null for booked sessions).
        user = obj.get("clinician") if isinstance(obj, dict) else getattr(obj, "clinician", None)
        if user is None or isinstance(user, str):
            return user
        return user.get_username()


class TimepointOut(Schema):
    id: UUID = Field(alias="uuid", description="Use as timepoint_id to create a questionnaire link for it.")
    code: str
    label: str
    kind: str
    due_on: date
    optional: bool
    session_number: int | None


class CourseOut(Schema):
    id: UUID = Field(alias="uuid")
    patient_id: UUID
    protocol_id: str
    protocol_name: str
    indication: str
    region: str
    side: str
    status: str
    stop_reason: str
    started_on: date
    version: int
    sessions: list[SessionSummary]
    timepoints: list[TimepointOut]

    @staticmethod
    def resolve_patient_id(obj: Course) -> UUID:
        return obj.patient.uuid

    @staticmethod
    def resolve_sessions(obj: Course) -> list[TreatmentSession]:
        return list(obj.sessions.all())

    @staticmethod
    def resolve_timepoints(obj: Course) -> list[CourseTimepoint]:
        return list(obj.timepoints.all())


class CourseIn(Schema):
    protocol_id: str = Field("", description="Built-in template code, a clinic template id, or empty for no template.")
    indication: str = Field(..., min_length=1, max_length=200)
    region: str
    side: str
    start_on: date
    clinician: str | None = Field(None, description="Username of the responsible clinician.")
    screening_id: UUID | None = None
    note: str = Field("", max_length=2000)


class ComponentOut(Schema):
    agent: str
    target_pct: Decimal
    stock_pct: Decimal
    stock_volume_ml: Decimal
    amount_mg: Decimal
    lot: str
    expiry: str


class SolutionOut(Schema):
    id: UUID = Field(alias="uuid")
    label: str
    final_volume_ml: Decimal
    diluent: str
    diluent_volume_ml: Decimal
    diluent_lot: str
    with_epinephrine: bool
    components: list[ComponentOut]
    entered_in_error: bool = Field(alias="is_entered_in_error")


class SiteOut(Schema):
    id: UUID = Field(alias="uuid")
    number: int
    landmark: str
    label: str
    side: str
    body_map: str
    x: Decimal
    y: Decimal
    volume_ml: Decimal
    depth_mm: Decimal | None
    needle_gauge: int | None
    guidance: str
    solution: str
    entered_in_error: bool = Field(alias="is_entered_in_error")

    @staticmethod
    def resolve_solution(obj: InjectionSite) -> str:
        return obj.solution.label


class AgentTotal(Schema):
    agent: str
    mg: Decimal
    g: Decimal


class TotalsOut(Schema):
    injections: int
    volume_ml: Decimal
    dextrose_g: Decimal
    anaesthetic_mg: Decimal
    agents: list[AgentTotal]
    anaesthetic_max_mg: Decimal | None
    combined_fraction_of_limit: Decimal | None
    status: Literal["ok", "warn", "block"]
    warnings: list[str]
    blocks: list[str]


class ChecklistOut(Schema):
    item: str
    answer: str
    note: str
    ticked_by: str | None
    ticked_at: datetime


class SessionOut(SessionSummary):
    course_id: UUID
    patient_id: UUID
    sedation: str
    weight_kg: Decimal | None
    vasovagal: bool
    bleeding: bool
    last_signs: bool
    observation_note: str
    instructions_given: bool
    instructions_note: str
    note: str
    version: int
    signed_by: str | None = None
    checklist: list[ChecklistOut]
    solutions: list[SolutionOut]
    sites: list[SiteOut]
    totals: TotalsOut | None
    signing_blockers: list[str]


class AdverseEventIn(Schema):
    event_type: str
    onset_on: date
    severity: str
    serious: bool = False
    causality: str
    outcome: str = "ongoing"
    description: str = Field(..., min_length=1, max_length=4000)
    lot: str = Field("", max_length=60)
    session_id: UUID | None = None
    site_id: UUID | None = None


class AdverseEventOut(Schema):
    id: UUID = Field(alias="uuid")
    event_type: str
    onset_on: date
    severity: str
    serious: bool
    causality: str
    outcome: str
    description: str
    lot: str
    session_id: UUID | None = None
    site_id: UUID | None = None
    solution: str | None = None
    version: int
    entered_in_error: bool = Field(alias="is_entered_in_error")

    @staticmethod
    def resolve_session_id(obj: AdverseEvent) -> UUID | None:
        return obj.session.uuid if obj.session is not None else None

    @staticmethod
    def resolve_site_id(obj: AdverseEvent) -> UUID | None:
        return obj.site.uuid if obj.site is not None else None

    @staticmethod
    def resolve_solution(obj: AdverseEvent) -> str | None:
        return obj.solution.label if obj.solution is not None else None


class ChecklistIn(Schema):
    item: str
    answer: str
    note: str = Field("", max_length=300)


class ComponentIn(Schema):
    agent: str
    target_pct: Decimal = limit_field(CONCENTRATION_PCT, description="Concentration wanted, % w/v.")
    stock_pct: Decimal = limit_field(CONCENTRATION_PCT, description="Concentration of the stock, % w/v.")
    lot: str = Field("", max_length=60)
    expiry: date | None = None


class SolutionIn(Schema):
    label: str = Field(..., min_length=1, max_length=10)
    final_volume_ml: Decimal = limit_field(SOLUTION_VOLUME_ML, description="Volume prepared, mL.")
    components: list[ComponentIn] = Field(..., min_length=1)
    diluent: str = ""
    diluent_lot: str = Field("", max_length=60)
    with_epinephrine: bool = False
    amendment_reason: str = Field(
        "",
        max_length=500,
        description="Once the note is signed: a reason code (wrong_value, omission, late_entry, other), then "
        "': details' (needed for other).",
    )


class SiteIn(Schema):
    solution: str = Field(..., description="The label of a solution prepared in this session.")
    body_map: str
    x: Decimal
    y: Decimal
    side: str
    volume_ml: Decimal = limit_field(SITE_VOLUME_ML, description="Volume injected at this site, mL.")
    landmark: str = ""
    label: str = Field("", max_length=120)
    depth_mm: Decimal | None = limit_field(NEEDLE_DEPTH_MM, None, description="Needle depth, mm.")
    needle_gauge: int | None = limit_field(NEEDLE_GAUGE, None, description="Needle gauge, G.")
    guidance: str = "landmark"
    amendment_reason: str = Field(
        "",
        max_length=500,
        description="Once the note is signed: a reason code (wrong_value, omission, late_entry, other), then "
        "': details' (needed for other).",
    )


class CalendarParams(Schema):
    start: date | None = None
    days: int = Field(7, ge=1, le=31)
    clinician: str | None = None


class AppointmentOut(Schema):
    session_id: UUID
    patient_id: UUID
    patient_name: str
    course: str
    number: int
    starts_at: Any
    duration_minutes: int
    clinician: str | None
    status: str
