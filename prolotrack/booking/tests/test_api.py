"""The booking API (docs/BOOKING.md, "API"): types, free slots, the appointment list and one appointment, and booking,
moving, cancelling and marking through the same services as the staff pages. Each refusal answers 4xx with a message
and writes nothing (appointments, versions and audit rows counted); a researcher is refused; another clinic's
appointment does not exist. Run on SQLite and PostgreSQL (DATABASE_URL)."""

from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus
from prolotrack.booking.testing import at, next_weekday, pending_booking, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, int, int]:
    return (Appointment.objects.count(), RecordVersion.objects.count(), AuditEvent.objects.count())


def writes() -> tuple[int, int]:
    """Appointments and versions (a refused read or write may still leave its audit event of a read; writes none)."""
    return (Appointment.objects.count(), RecordVersion.objects.count())


def get(client: Any, headers: dict[str, str], url: str, **params: Any) -> Any:
    return client.get(url, params, headers=headers)


def post(client: Any, headers: dict[str, str], url: str, body: dict[str, Any]) -> Any:
    return client.post(url, data=orjson.dumps(body), content_type="application/json", headers=headers)


@pytest.fixture
def desk(frontdesk: Any, api_token: Any) -> dict[str, str]:
    return api_token(frontdesk)


@pytest.fixture
def tuesday(clinic: Any) -> Any:
    return next_weekday(clinic, 1)


def book(clinic: Any, clinician: Any, patient: Any, types: Any, day: Any, clock: str = "10:00") -> Appointment:
    return services.book_appointment(
        actor_of(clinician), patient=patient, appointment_type=types[AppointmentKind.FOLLOW_UP], clinician=clinician,
        starts_at=at(clinic, day, clock),
    )  # fmt: skip


# --- Types and free slots ------------------------------------------------------------------------------------------


def test_types_list_who_offers_them(client: Any, desk: Any, types: Any, clinician: Any) -> None:
    response = get(client, desk, "/api/booking/types")
    assert response.status_code == 200
    body = response.json()
    follow_up = next(t for t in body if t["kind"] == "follow_up")
    assert follow_up["duration_minutes"] == 30 and follow_up["active"] is True
    assert [o["clinician"] for o in follow_up["offered_by"]] == ["clinician"]
    assert follow_up["name"] == "Follow-up" and follow_up["names"] == {}  # no Spanish name yet: patients read "name"


def test_types_list_their_names_in_other_languages(client: Any, desk: Any, types: Any, admin_user: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    services.update_appointment_type(
        actor_of(admin_user), kind, {"names": {"es": "Consulta de seguimiento"}}, expected_version=kind.version
    )
    body = get(client, desk, "/api/booking/types").json()
    follow_up = next(t for t in body if t["kind"] == "follow_up")
    assert follow_up["name"] == "Follow-up" and follow_up["names"] == {"es": "Consulta de seguimiento"}


def test_free_slots_are_the_staff_query(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                        clinician: Any, patient: Any) -> None:  # fmt: skip
    book(clinic, clinician, patient, types, tuesday, "09:00")
    kind = types[AppointmentKind.FOLLOW_UP]
    response = get(client, desk, "/api/booking/slots", type_id=kind.uuid, start=tuesday, end=tuesday)
    assert response.status_code == 200
    starts = [timezone.localtime(timezone.datetime.fromisoformat(s["start"]), clinic.tz) for s in response.json()]
    clocks = [s.strftime("%H:%M") for s in starts]
    # 09:00-09:30 is taken; a 30-minute follow-up fits from 09:30 on the 15-minute grid, not over lunch.
    assert clocks[0] == "09:30" and "12:00" not in clocks and "11:30" in clocks and clocks[-1] == "16:30"
    assert {s["clinician"] for s in response.json()} == {"clinician"}


def test_free_slots_online_rules_and_one_clinician(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                                   colleague: Any) -> None:  # fmt: skip
    kind = types[AppointmentKind.FOLLOW_UP]
    online = get(client, desk, "/api/booking/slots", type_id=kind.uuid, start=tuesday, end=tuesday, online="true")
    assert online.status_code == 200 and online.json()
    mine = get(client, desk, "/api/booking/slots", type_id=kind.uuid, start=tuesday, end=tuesday, clinician="clinician")
    assert mine.status_code == 200 and len(mine.json()) == len(online.json())
    # The colleague (a nurse, not offering the type) is refused by name, not answered with an empty list.
    refused = get(client, desk, "/api/booking/slots", type_id=kind.uuid, clinician="colleague")
    assert refused.status_code == 422 and "colleague" in str(refused.json()["detail"])


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2027-01-10", "end": "2027-01-01"}, "end"),
        ({"start": "2027-01-01", "end": "2027-03-01"}, "end"),  # more than 31 days
        ({"start": "9999-12-31"}, "start"),
        ({"start": "tuesday"}, "start"),
    ],
)
def test_free_slots_bad_days_are_refused(client: Any, desk: Any, types: Any, params: dict[str, str],
                                         field: str) -> None:  # fmt: skip
    kind = types[AppointmentKind.FOLLOW_UP]
    response = get(client, desk, "/api/booking/slots", type_id=kind.uuid, **params)
    assert response.status_code == 422, response.content
    assert field in str(response.json()["detail"])


def test_free_slots_of_an_unknown_type(client: Any, desk: Any, types: Any) -> None:
    response = get(client, desk, "/api/booking/slots", type_id="00000000-0000-4000-8000-000000000000")
    assert response.status_code == 422 and "type_id" in response.json()["detail"]


# --- Booking -------------------------------------------------------------------------------------------------------


def test_book_then_the_same_slot_again_is_refused_with_the_next_free(
    client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any, patient: Any
) -> None:
    body = {
        "patient_id": str(patient.uuid), "type_id": str(types[AppointmentKind.FOLLOW_UP].uuid),
        "clinician": "clinician", "starts_at": at(clinic, tuesday, "10:00").isoformat(), "note": "Knee review",
    }  # fmt: skip
    made = post(client, desk, "/api/appointments", body)
    assert made.status_code == 201, made.content
    out = made.json()
    assert out["status"] == "booked" and out["patient_id"] == str(patient.uuid) and out["pending"] is False
    assert out["note"] == "Knee review" and out["version"] == 1
    visit = Appointment.objects.get()
    assert visit.starts_at == at(clinic, tuesday, "10:00") and visit.source == "staff"
    assert AuditEvent.objects.filter(action="booking.appointment.booked", channel="api").count() == 1
    before = counts()
    again = post(client, desk, "/api/appointments", body)
    assert again.status_code == 409
    refused = again.json()
    assert refused["code"] == "slot_unavailable" and "too close" in refused["detail"]
    assert refused["next_slots"] and refused["next_slots"][0]["clinician"] == "clinician"
    assert counts() == before


@pytest.mark.parametrize(
    ("change", "status", "field"),
    [
        ({"starts_at": "2027-03-02T10:00:00"}, 422, "starts_at"),  # no zone
        ({"starts_at": "9999-03-02T10:00:00Z"}, 422, "starts_at"),
        ({"patient_id": "00000000-0000-4000-8000-000000000000"}, 422, "patient_id"),
        ({"type_id": "00000000-0000-4000-8000-000000000000"}, 422, "type_id"),
        ({"clinician": "nobody"}, 422, "clinician"),
        ({"clinician": "colleague"}, 422, "clinician"),  # a nurse who cannot be booked to treat
        ({"note": "x" * 2001}, 422, "note"),
        ({"unknown": 1, "starts_at": None}, 422, "starts_at"),
    ],
)
def test_bad_bookings_write_nothing(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any, patient: Any,
                                    colleague: Any, change: dict[str, Any], status: int, field: str) -> None:  # fmt: skip
    body = {
        "patient_id": str(patient.uuid), "type_id": str(types[AppointmentKind.FOLLOW_UP].uuid),
        "clinician": "clinician", "starts_at": at(clinic, tuesday, "10:00").isoformat(), **change,
    }  # fmt: skip
    before = counts()
    response = post(client, desk, "/api/appointments", body)
    assert response.status_code == status, response.content
    assert field in str(response.json()["detail"])
    assert counts() == before


@pytest.mark.parametrize(("clock", "words"), [("12:15", "break"), ("10:05", "grid"), ("16:45", "hours")])
def test_a_time_the_rules_refuse_is_409_with_reasons(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                                     patient: Any, clock: str, words: str) -> None:  # fmt: skip
    body = {
        "patient_id": str(patient.uuid), "type_id": str(types[AppointmentKind.FOLLOW_UP].uuid),
        "clinician": "clinician", "starts_at": at(clinic, tuesday, clock).isoformat(),
    }  # fmt: skip
    before = counts()
    response = post(client, desk, "/api/appointments", body)
    assert response.status_code == 409, response.content
    assert words in response.json()["detail"] and response.json()["next_slots"]
    assert counts() == before


def test_a_researcher_is_refused_everywhere_and_nothing_is_written(
    client: Any, researcher: Any, api_token: Any, types: Any, clinic: Any, tuesday: Any, clinician: Any, patient: Any
) -> None:
    visit = book(clinic, clinician, patient, types, tuesday)
    headers = api_token(researcher)
    before = counts()
    kind = types[AppointmentKind.FOLLOW_UP]
    for url, params in [
        ("/api/booking/types", {}),
        ("/api/booking/slots", {"type_id": kind.uuid}),
        ("/api/appointments", {}),
        (f"/api/appointments/{visit.uuid}", {}),
    ]:
        response = get(client, headers, url, **params)
        assert response.status_code == 403 and "Researcher" in response.json()["detail"], url
    body = {"patient_id": str(patient.uuid), "type_id": str(kind.uuid), "clinician": "clinician",
            "starts_at": at(clinic, tuesday, "11:00").isoformat()}  # fmt: skip
    assert post(client, headers, "/api/appointments", body).status_code == 403
    cancel = {"version": visit.version, "reason": "clinic"}
    assert post(client, headers, f"/api/appointments/{visit.uuid}/cancel", cancel).status_code == 403
    assert counts() == before


def test_an_administrator_reads_but_does_not_book(client: Any, admin_user: Any, api_token: Any, types: Any,
                                                  clinic: Any, tuesday: Any, patient: Any) -> None:  # fmt: skip
    headers = api_token(admin_user)
    assert get(client, headers, "/api/appointments").status_code == 200
    body = {"patient_id": str(patient.uuid), "type_id": str(types[AppointmentKind.FOLLOW_UP].uuid),
            "clinician": "clinician", "starts_at": at(clinic, tuesday, "11:00").isoformat()}  # fmt: skip
    before = counts()
    assert post(client, headers, "/api/appointments", body).status_code == 403
    assert counts() == before


# --- The list and one appointment -----------------------------------------------------------------------------------


def test_list_by_days_clinician_patient_and_status(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                                   clinician: Any, patient: Any, make_patient: Any) -> None:  # fmt: skip
    other = make_patient(given_name="Bea", family_name="Other")
    first = book(clinic, clinician, patient, types, tuesday, "10:00")
    book(clinic, clinician, other, types, tuesday, "14:00")
    later = book(clinic, clinician, patient, types, tuesday + timedelta(days=7), "10:00")
    services.cancel_appointment(actor_of(clinician), later, reason="clinic", expected_version=later.version)
    pending_booking(clinic, types[AppointmentKind.ASSESSMENT], clinician, at(clinic, tuesday, "15:00"))
    day = {"start": tuesday, "end": tuesday}
    events = AuditEvent.objects.filter(action="booking.appointments.searched")
    listed = get(client, desk, "/api/appointments", **day).json()
    assert listed["count"] == 3 and [a["starts_at"][11:16] for a in listed["items"]]  # soonest first
    pending = [a for a in listed["items"] if a["pending"]]
    assert len(pending) == 1 and pending[0]["patient_id"] is None and pending[0]["person_name"] == "Ana Ruiz"
    # One audit event per patient shown (the pending person has no chart to name).
    assert sorted(e.patient_uuid for e in events) == sorted([patient.uuid, other.uuid])
    mine = get(client, desk, "/api/appointments", patient_id=patient.uuid, start=tuesday, end=tuesday + timedelta(7))
    assert [a["id"] for a in mine.json()["items"]] == [str(first.uuid), str(later.uuid)]
    cancelled = get(client, desk, "/api/appointments", status="cancelled", start=tuesday, end=tuesday + timedelta(7))
    assert [a["id"] for a in cancelled.json()["items"]] == [str(later.uuid)]
    assert "late cancellation" not in cancelled.json()["items"][0]["status_reason"]
    nobody = get(client, desk, "/api/appointments", clinician="frontdesk", **day)
    assert nobody.json() == {"items": [], "count": 0}
    paged = get(client, desk, "/api/appointments", page=2, page_size=2, **day).json()
    assert paged["count"] == 3 and len(paged["items"]) == 1


def test_list_refusals(client: Any, desk: Any, types: Any) -> None:
    assert get(client, desk, "/api/appointments", start="2027-01-01", end="2028-06-01").status_code == 422
    assert get(client, desk, "/api/appointments", status="gone").status_code == 422
    unknown = get(client, desk, "/api/appointments", patient_id="00000000-0000-4000-8000-000000000000")
    assert unknown.status_code == 404
    assert get(client, desk, "/api/appointments", clinician="nobody").status_code == 422


def test_one_appointment_is_audited_and_another_clinics_is_404(
    client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any, clinician: Any, patient: Any, outsider: Any,
    other_clinic: Any, api_token: Any,
) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types, tuesday)
    response = get(client, desk, f"/api/appointments/{visit.uuid}")
    assert response.status_code == 200 and response.json()["type_name"] == "Follow-up"
    event = AuditEvent.objects.get(action="booking.appointment.viewed")
    assert event.patient_uuid == patient.uuid
    outside = get(client, api_token(outsider), f"/api/appointments/{visit.uuid}")
    assert outside.status_code == 404
    listed = get(client, api_token(outsider), "/api/appointments", start=tuesday, end=tuesday)
    assert listed.json()["count"] == 0


# --- Move, cancel, attendance ---------------------------------------------------------------------------------------


def test_move_then_a_stale_move_is_refused(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                           clinician: Any, patient: Any) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types, tuesday)
    url = f"/api/appointments/{visit.uuid}/move"
    moved = post(client, desk, url, {"version": 1, "starts_at": at(clinic, tuesday, "14:00").isoformat()})
    assert moved.status_code == 200, moved.content
    assert moved.json()["version"] == 2 and moved.json()["clinician"] == "clinician"
    assert Appointment.objects.get().starts_at == at(clinic, tuesday, "14:00")
    before = counts()
    stale = post(client, desk, url, {"version": 1, "starts_at": at(clinic, tuesday, "15:00").isoformat()})
    assert stale.status_code == 409 and counts() == before
    lunch = post(client, desk, url, {"version": 2, "starts_at": at(clinic, tuesday, "12:00").isoformat()})
    assert lunch.status_code == 409 and "break" in lunch.json()["detail"] and lunch.json()["next_slots"]
    assert counts() == before
    unknown = post(
        client, desk, f"/api/appointments/{patient.uuid}/move", {"version": 2, "starts_at": "2027-01-05T10:00Z"}
    )
    assert unknown.status_code == 404 and counts() == before


def test_cancel_with_a_reason_and_the_refusals(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                               clinician: Any, patient: Any) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types, tuesday)
    url = f"/api/appointments/{visit.uuid}/cancel"
    before = counts()
    for body in ({"version": 1, "reason": "other"}, {"version": 1, "reason": "because"}, {"version": 1}):
        refused = post(client, desk, url, body)
        assert refused.status_code == 422, (body, refused.content)
        assert counts() == before
    done = post(client, desk, url, {"version": 1, "reason": "other", "details": "Clinic flooded today"})
    assert done.status_code == 200 and done.json()["status"] == "cancelled"
    assert done.json()["status_reason"].startswith("Other (say why): Clinic flooded today")
    after = counts()
    again = post(client, desk, url, {"version": 2, "reason": "clinic"})
    assert again.status_code == 409 and "cannot be cancelled" in again.json()["detail"] and counts() == after


def test_attendance_once_the_start_has_come(client: Any, desk: Any, types: Any, clinic: Any, tuesday: Any,
                                            clinician: Any, patient: Any) -> None:  # fmt: skip
    visit = book(clinic, clinician, patient, types, tuesday)
    url = f"/api/appointments/{visit.uuid}/attendance"
    before = counts()
    early = post(client, desk, url, {"version": 1, "status": "no_show"})
    assert early.status_code == 409 and "once the time has come" in early.json()["detail"] and counts() == before
    assert post(client, desk, url, {"version": 1, "status": "cancelled"}).status_code == 422
    visit.starts_at = timezone.now() - timedelta(minutes=5)
    with service_write():
        visit.save(update_fields=["starts_at"])
    marked = post(client, desk, url, {"version": 1, "status": "attended"})
    assert marked.status_code == 200 and marked.json()["status"] == AppointmentStatus.ATTENDED
    assert AuditEvent.objects.filter(action="booking.appointment.attended", channel="api").count() == 1


def test_a_pending_persons_appointment_is_not_marked(client: Any, desk: Any, types: Any, clinic: Any,
                                                     clinician: Any) -> None:  # fmt: skip
    pending_booking(clinic, types[AppointmentKind.FOLLOW_UP], clinician, timezone.now() - timedelta(minutes=5))
    visit = Appointment.objects.get()
    before = counts()
    response = post(client, desk, f"/api/appointments/{visit.uuid}/attendance", {"version": 1, "status": "attended"})
    assert response.status_code == 409 and counts() == before


def test_two_clinicians_first_available(client: Any, desk: Any, clinic: Any, admin_user: Any, clinician: Any,
                                        make_member: Any, tuesday: Any) -> None:  # fmt: skip
    from prolotrack.clinics.roles import Role

    second = make_member("second", Role.CLINICIAN, clinic)
    made = set_up_week(actor_of(admin_user), [clinician, second])
    kind = made[AppointmentKind.FOLLOW_UP]
    slots = get(client, desk, "/api/booking/slots", type_id=kind.uuid, start=tuesday, end=tuesday).json()
    at_nine = [s["clinician"] for s in slots if s["start"] == slots[0]["start"]]
    assert sorted(at_nine) == ["clinician", "second"]


def test_free_slots_without_a_type(client: Any, desk: Any, types: Any) -> None:
    response = get(client, desk, "/api/booking/slots")
    assert response.status_code == 422 and "type_id" in response.json()["detail"]
