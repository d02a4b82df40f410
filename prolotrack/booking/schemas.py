"""The booking API's schemas (docs/BOOKING.md, "API"): appointment types, free slots, appointments and the writes on
them. Times go out in UTC with their zone; days asked for are the clinic's local days."""

from datetime import date, datetime
from typing import Annotated, Literal
from uuid import UUID

from ninja import Field, Schema
from pydantic import AfterValidator

from prolotrack.core.api_types import MAX_PAGE_SIZE, PageNumber
from prolotrack.domain.reasons import SESSION_CANCEL_REASONS

# The years a day or a moment may name: far wider than any booking (staff book up to two years ahead), narrow enough
# that adding the query's margin days can never leave the calendar (year 9999 + 2 days is an overflow, not a 422).
YEARS = (2000, 2199)


def _in_years(value: date) -> date:
    if not YEARS[0] <= value.year <= YEARS[1]:
        raise ValueError(f"Give a year between {YEARS[0]} and {YEARS[1]}.")
    return value


def _aware_in_years(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("Give the date and time with its time zone (2026-03-02T10:00:00-06:00, or Z for UTC).")
    _in_years(value.date())
    return value


Day = Annotated[date, AfterValidator(_in_years)]
Moment = Annotated[datetime, AfterValidator(_aware_in_years)]
StatusCode = Literal["held", "booked", "attended", "cancelled", "no_show"]
Username = Annotated[str, Field(min_length=1, max_length=150, description="The clinician's username.")]


class OfferOut(Schema):
    clinician: str = Field(description="Username")
    clinician_id: UUID
    clinician_name: str
    bookable_online: bool


class AppointmentTypeOut(Schema):
    id: UUID
    version: int
    name: str
    names: dict[str, str] = Field(
        description="The name patients read in each other language, by language code; a language not here shows name"
    )
    kind: str = Field(description="assessment, session or follow_up")
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    bookable_online: bool
    active: bool
    fee_code: str | None
    offered_by: list[OfferOut]


class SlotParams(Schema):
    # Optional in the schema so that a role without the permission is refused (403) before the query is checked.
    type_id: UUID | None = Field(None, description="The appointment type (GET /api/booking/types); required.")
    clinician: str | None = Field(None, max_length=150, description="A username; none: everyone who offers it.")
    start: Day | None = Field(None, description="First local day (YYYY-MM-DD); default the clinic's today.")
    end: Day | None = Field(
        None, description="Last local day, included; default six days after start; at most 31 days."
    )
    online: bool = Field(False, description="The online rules (notice, horizon, same day) instead of the staff ones.")


class SlotOut(Schema):
    start: datetime
    end: datetime
    clinician: str = Field(description="Username")
    clinician_id: UUID
    clinician_name: str
    room: str | None


class AppointmentParams(Schema):
    start: Day | None = Field(None, description="First local day (YYYY-MM-DD); default the clinic's today.")
    end: Day | None = Field(
        None, description="Last local day, included; default six days after start; at most 366 days."
    )
    clinician: str | None = Field(None, max_length=150, description="A username.")
    patient_id: UUID | None = None
    status: StatusCode | None = Field(None, description="None: every status except online holds that ran out.")
    page: PageNumber = 1
    page_size: int = Field(50, ge=1, le=MAX_PAGE_SIZE)


class BookedAppointmentOut(Schema):
    id: UUID
    version: int
    type_id: UUID
    type_name: str
    kind: str
    clinician: str = Field(description="Username")
    clinician_name: str
    room: str | None
    starts_at: datetime
    ends_at: datetime
    duration_minutes: int
    status: str
    status_reason: str
    source: str = Field(description="staff, online or link")
    note: str
    patient_id: UUID | None = Field(description="None while the person is pending (booked online, not confirmed).")
    pending: bool = Field(description="Booked online by a person the front desk has not confirmed or merged yet.")
    person_name: str = Field(description="The patient's name, or the name a pending person typed.")
    hold_expires_at: datetime | None


class PagedAppointments(Schema):
    items: list[BookedAppointmentOut]
    count: int


class BookIn(Schema):
    patient_id: UUID
    type_id: UUID
    clinician: Username
    starts_at: Moment
    note: str = Field("", max_length=2000)


class MoveIn(Schema):
    version: int = Field(description="The version you read (a later change answers 409).")
    starts_at: Moment
    clinician: str | None = Field(None, max_length=150, description="A username; none: the same clinician.")


class CancelIn(Schema):
    version: int = Field(description="The version you read (a later change answers 409).")
    reason: str = Field(
        max_length=40,
        description="One of: " + ", ".join(r.code for r in SESSION_CANCEL_REASONS) + " ('other' needs details).",
    )
    details: str = Field("", max_length=200, description="Words after the reason (needed for 'other').")


class AttendanceIn(Schema):
    version: int = Field(description="The version you read (a later change answers 409).")
    status: Literal["attended", "no_show"]
