"""Booking endpoints under /api (docs/BOOKING.md, "API"): appointment types, free slots, appointments, and booking,
moving, cancelling and marking them through the same services as the staff pages (booking/services.py,
booking/attendance.py), so the same rules refuse the same things and a refusal writes nothing. Records are looked up
inside the caller's clinic (another clinic's answers 404); reads that show patients are audited."""

from datetime import date, timedelta
from typing import Any
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, JsonResponse
from ninja import Query, Router
from ninja.responses import Status

from prolotrack.audit.services import record_disclosure, record_read
from prolotrack.booking import attendance, queries, services
from prolotrack.booking import patient_links as manage
from prolotrack.booking.models import Appointment, AppointmentType
from prolotrack.booking.schemas import (
    AppointmentParams,
    AppointmentTypeOut,
    AttendanceIn,
    BookedAppointmentOut,
    BookIn,
    CancelIn,
    MoveIn,
    PagedAppointments,
    SlotOut,
    SlotParams,
)
from prolotrack.clinics.api_auth import api_require
from prolotrack.clinics.http import ApiRequest
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission
from prolotrack.patients.queries import patient_or_404

router = Router(tags=["booking"])

# The widest free-slot question: a month (the benchmark's question, docs/PERFORMANCE.md, answers in well under 50 ms
# for 10 clinicians); a list of appointments spans at most a year.
MAX_SLOT_DAYS = 31
MAX_LIST_DAYS = 366
DEFAULT_DAYS = 7


def _days(request: ApiRequest, start: date | None, end: date | None, widest: int) -> tuple[date, date]:
    first = start or queries.clinic_today(request.clinic)
    last = end or first + timedelta(days=DEFAULT_DAYS - 1)
    if last < first:
        raise ValidationError({"end": "The last day is before the first day."})
    if (last - first).days + 1 > widest:
        raise ValidationError({"end": f"Ask for at most {widest} days at a time."})
    return first, last


def _type(request: ApiRequest, type_id: UUID | None, field: str = "type_id") -> AppointmentType:
    if type_id is None:
        raise ValidationError({field: "Choose an appointment type (GET /api/booking/types)."})
    try:
        return queries.appointment_type(request.clinic, type_id)
    except AppointmentType.DoesNotExist:
        raise ValidationError({field: "No such appointment type in this clinic."}) from None


def _clinician(request: ApiRequest, username: str | None, offering: list[User] | None = None) -> User | None:
    if not username:
        return None
    found = next((c for c in offering or [] if c.get_username() == username), None)
    if found is None and offering is None:
        found = queries.staff_member(request.clinic, username)
    if found is None:
        said = "offers this type here" if offering is not None else "works in this clinic"
        raise ValidationError({"clinician": f"No clinician '{username}' {said}."})
    return found


def _appointment(request: ApiRequest, appointment_id: UUID) -> Appointment:
    try:
        return queries.appointment(request.clinic, appointment_id)
    except ObjectDoesNotExist:
        raise Http404("No such appointment in this clinic.") from None


def _name(user: User) -> str:
    return user.get_full_name() or user.get_username()


def _slots(request: ApiRequest, slots: list[queries.FreeSlot]) -> list[dict[str, Any]]:
    rooms = {r.pk: r.name for r in queries.rooms(request.clinic)} if any(s.room_id for s in slots) else {}
    return [
        {
            "start": s.start, "end": s.end, "clinician": s.clinician.get_username(), "clinician_id": s.clinician.uuid,
            "clinician_name": _name(s.clinician), "room": rooms.get(s.room_id) if s.room_id else None,
        }
        for s in slots
    ]  # fmt: skip


def appointment_out(a: Appointment) -> dict[str, Any]:
    person = a.patient or a.pending_patient
    return {
        "id": a.uuid, "version": a.version, "type_id": a.appointment_type.uuid, "type_name": a.appointment_type.name,
        "kind": a.appointment_type.kind, "clinician": a.clinician.get_username(), "clinician_name": _name(a.clinician),
        "room": a.room.name if a.room else None, "starts_at": a.starts_at,
        "ends_at": a.starts_at + timedelta(minutes=a.duration_minutes), "duration_minutes": a.duration_minutes,
        "status": a.status, "status_reason": a.status_reason, "source": a.source, "note": a.note,
        "patient_id": a.patient.uuid if a.patient else None, "pending": a.patient_id is None,
        "person_name": f"{person.given_name} {person.family_name}" if person else "",
        "hold_expires_at": a.hold_expires_at,
    }  # fmt: skip


# A refused time answers 409 with the API's error body and the next free slots beside it (ErrorOut allows more).
REFUSED_409 = {
    "responses": {
        409: {
            "description": "The time is not free (code slot_unavailable: `detail` says why, `next_slots` lists the "
            "next free slots as in GET /api/booking/slots), a stale version, or a refused change."
        }
    }
}


def _refused(request: ApiRequest, refused: services.SlotUnavailable) -> JsonResponse:
    body = {"detail": str(refused), "code": refused.code, "next_slots": _slots(request, refused.next_slots)}
    return JsonResponse(body, status=409, encoder=DjangoJSONEncoder)


@router.get("/booking/types", response={200: list[AppointmentTypeOut]}, summary="Appointment types and who offers them")
@api_require(Permission.SCHEDULE_VIEW)
def list_types(request: ApiRequest) -> Any:
    offers = queries.offers(request.clinic)
    return [
        {
            "id": t.uuid, "version": t.version, "name": t.name, "names": t.names or {}, "kind": t.kind,
            "duration_minutes": t.duration_minutes,
            "buffer_before_minutes": t.buffer_before_minutes, "buffer_after_minutes": t.buffer_after_minutes,
            "bookable_online": t.bookable_online, "active": t.active, "fee_code": t.fee_item.code if t.fee_item else None,
            "offered_by": [
                {"clinician": o.clinician.get_username(), "clinician_id": o.clinician.uuid,
                 "clinician_name": _name(o.clinician), "bookable_online": o.bookable_online}
                for o in offers.get(t.pk, [])
            ],
        }
        for t in queries.appointment_types(request.clinic)
    ]  # fmt: skip


@router.get("/booking/slots", response={200: list[SlotOut]}, summary="Free slots of a type over local days")
@api_require(Permission.SCHEDULE_VIEW)
def free_slots(request: ApiRequest, params: Query[SlotParams]) -> Any:
    """The same query as the staff booking page (staff rules) or the public page (`online=true`): free time only,
    no appointment or patient is shown, so the read is not audited."""
    kind = _type(request, params.type_id)
    first, last = _days(request, params.start, params.end, MAX_SLOT_DAYS)
    offering = queries.offering_clinicians(request.clinic, kind, online=params.online)
    who = _clinician(request, params.clinician, offering)
    found = queries.free_slots(request.clinic, kind, first, last, clinician=who, online=params.online)
    return _slots(request, found)


@router.get("/appointments", response={200: PagedAppointments}, summary="Appointments by days, clinician, patient")
@api_require(Permission.SCHEDULE_VIEW)
def list_appointments(request: ApiRequest, params: Query[AppointmentParams]) -> Any:
    first, last = _days(request, params.start, params.end, MAX_LIST_DAYS)
    patient = patient_or_404(request, params.patient_id) if params.patient_id else None
    found = queries.search_appointments(
        request.clinic, first, last, clinician=_clinician(request, params.clinician), patient=patient,
        status=params.status,
    )  # fmt: skip
    start = (params.page - 1) * params.page_size
    items = list(found[start : start + params.page_size])
    asked = {"start": first, "end": last, "page": params.page}
    # The trail names every patient the page showed (one event each); a pending person has no chart to name.
    record_disclosure(
        request.actor, "booking.appointments.searched", [a.patient for a in items if a.patient], detail=asked
    )
    return {"items": [appointment_out(a) for a in items], "count": found.count()}


@router.get("/appointments/{appointment_id}", response={200: BookedAppointmentOut}, summary="One appointment")
@api_require(Permission.SCHEDULE_VIEW)
def get_appointment(request: ApiRequest, appointment_id: UUID) -> Any:
    visit = _appointment(request, appointment_id)
    patient_uuid = visit.patient.uuid if visit.patient else None
    record_read(request.actor, "booking.appointment.viewed", record=visit, patient_uuid=patient_uuid)
    return appointment_out(visit)


@router.post(
    "/appointments", response={201: BookedAppointmentOut}, summary="Book a free slot", openapi_extra=REFUSED_409
)
@api_require(Permission.SCHEDULE_MANAGE)
def book(request: ApiRequest, payload: BookIn) -> Any:
    try:
        patient = patient_or_404(request, payload.patient_id)
    except Http404:
        raise ValidationError({"patient_id": "No such patient in this clinic."}) from None
    kind = _type(request, payload.type_id)
    who = _clinician(request, payload.clinician)
    try:
        made = services.book_appointment(
            request.actor, patient=patient, appointment_type=kind, clinician=who, starts_at=payload.starts_at,
            note=payload.note,
        )  # fmt: skip
    except services.SlotUnavailable as refused:
        return _refused(request, refused)
    manage.send_confirmation(made)  # as the staff page: with its manage link and .ics, by the scheduler's next pass
    return Status(201, appointment_out(_appointment(request, made.uuid)))


@router.post(
    "/appointments/{appointment_id}/move",
    response={200: BookedAppointmentOut},
    summary="Move",
    openapi_extra=REFUSED_409,
)
@api_require(Permission.SCHEDULE_MANAGE)
def move(request: ApiRequest, appointment_id: UUID, payload: MoveIn) -> Any:
    visit = _appointment(request, appointment_id)
    who = _clinician(request, payload.clinician) if payload.clinician else None
    try:
        moved = services.move_appointment(
            request.actor, visit, starts_at=payload.starts_at, clinician=who, expected_version=payload.version
        )
    except services.SlotUnavailable as refused:
        return _refused(request, refused)
    manage.send_confirmation(moved)  # the new time, as the staff page sends it
    return appointment_out(_appointment(request, appointment_id))


@router.post(
    "/appointments/{appointment_id}/cancel", response={200: BookedAppointmentOut}, summary="Cancel with a reason"
)
@api_require(Permission.SCHEDULE_MANAGE)
def cancel(request: ApiRequest, appointment_id: UUID, payload: CancelIn) -> Any:
    visit = _appointment(request, appointment_id)
    services.cancel_appointment(
        request.actor, visit, reason=payload.reason, details=payload.details, expected_version=payload.version
    )
    return appointment_out(_appointment(request, appointment_id))


@router.post(
    "/appointments/{appointment_id}/attendance",
    response={200: BookedAppointmentOut},
    summary="Mark attended or no-show",
)
@api_require(Permission.SCHEDULE_MANAGE)
def mark(request: ApiRequest, appointment_id: UUID, payload: AttendanceIn) -> Any:
    visit = _appointment(request, appointment_id)
    attendance.set_attendance(request.actor, visit, payload.status, expected_version=payload.version)
    return appointment_out(_appointment(request, appointment_id))
