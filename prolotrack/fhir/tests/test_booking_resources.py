"""The booking app in FHIR (docs/FHIR.md, "Appointments, schedules and free slots"): its appointments as Appointment
(beside course sessions), who offers which type as Schedule, free slots as Slot. Searched and read as a front desk;
a researcher refused; a person who booked online and is not confirmed never appears as a Patient; every resource
validates with fhir.resources (R4B) and HL7's R4 JSON schema; a stock client (fhirpy) searches Appointment and Slot."""

from datetime import timedelta
from typing import Any

import orjson
import pytest
from django.test import Client
from django.utils import timezone
from fhir.resources.R4B import get_fhir_model_class

from prolotrack.audit.models import AuditEvent
from prolotrack.booking import queries, services
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, TypeClinician
from prolotrack.booking.testing import at, next_weekday, pending_booking, set_up_week
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write
from prolotrack.fhir.tests.test_json_schema import errors as schema_errors

pytestmark = pytest.mark.django_db


def fetch(client: Client, headers: dict[str, str], url: str, status: int = 200) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == status, (url, response.content[:400])
    return orjson.loads(response.content)


def valid(resource: dict[str, Any]) -> dict[str, Any]:
    """The resource validates with fhir.resources' R4B model and against the R4 JSON schema."""
    get_fhir_model_class(resource["resourceType"]).model_validate(resource)
    assert schema_errors(resource) == [], resource
    return resource


def matches(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [valid(e["resource"]) for e in bundle.get("entry", []) if e["search"]["mode"] == "match"]


@pytest.fixture
def week(admin_user: Any, clinician: Any) -> dict[str, Any]:
    return set_up_week(actor_of(admin_user), [clinician])


@pytest.fixture
def desk(frontdesk: Any, api_token: Any) -> dict[str, str]:
    return api_token(frontdesk)


@pytest.fixture
def booked(clinic: Any, clinician: Any, patient: Any, week: Any) -> dict[str, Any]:
    """A follow-up booked for the patient, a cancelled one, a pending person's assessment and an online hold."""
    tuesday = next_weekday(clinic, 1)
    follow_up = week[AppointmentKind.FOLLOW_UP]
    actor = actor_of(clinician)
    mine = services.book_appointment(
        actor, patient=patient, appointment_type=follow_up, clinician=clinician, starts_at=at(clinic, tuesday, "10:00")
    )
    gone = services.book_appointment(
        actor, patient=patient, appointment_type=follow_up, clinician=clinician, starts_at=at(clinic, tuesday, "11:00")
    )
    gone = services.cancel_appointment(actor, gone, reason="clinic", expected_version=gone.version)
    person = pending_booking(clinic, week[AppointmentKind.ASSESSMENT], clinician, at(clinic, tuesday, "14:00"))
    pending = Appointment.objects.get(pending_patient=person)
    hold = pending_booking(
        clinic, follow_up, clinician, at(clinic, tuesday, "16:00"), status="unverified", appointment_status="held"
    )
    return {"tuesday": tuesday, "mine": mine, "gone": gone, "pending": pending, "hold": hold}


def test_appointments_by_patient_actor_date_and_status(client: Any, desk: Any, booked: Any, patient: Any,
                                                       clinician: Any, clinic: Any) -> None:  # fmt: skip
    tuesday = booked["tuesday"]
    by_patient = matches(fetch(client, desk, f"/fhir/Appointment?patient=Patient/{patient.uuid}"))
    assert {a["id"] for a in by_patient} == {str(booked["mine"].uuid), str(booked["gone"].uuid)}
    mine = next(a for a in by_patient if a["id"] == str(booked["mine"].uuid))
    assert mine["status"] == "booked" and mine["minutesDuration"] == 30
    assert mine["serviceType"][0]["coding"][0]["code"] == "follow_up"
    assert mine["serviceType"][0]["text"] == "Follow-up" and mine["appointmentType"]["coding"][0]["code"] == "FOLLOWUP"
    assert [p["actor"]["reference"] for p in mine["participant"]] == [
        f"Patient/{patient.uuid}", f"Practitioner/{clinician.uuid}",
    ]  # fmt: skip
    gone = next(a for a in by_patient if a["id"] == str(booked["gone"].uuid))
    assert gone["status"] == "cancelled" and gone["cancelationReason"]["text"].startswith("Clinic cancelled")

    by_actor = matches(fetch(client, desk, f"/fhir/Appointment?actor=Practitioner/{clinician.uuid}"))
    ids = {a["id"] for a in by_actor}
    # The three appointments; the online hold (not verified) is not an appointment yet.
    assert ids == {str(booked[k].uuid) for k in ("mine", "gone", "pending")}
    assert Appointment.objects.filter(status=AppointmentStatus.HELD).count() == 1
    day = tuesday.isoformat()
    on_day = matches(fetch(client, desk, f"/fhir/Appointment?date={day}&status=booked"))
    assert {a["id"] for a in on_day} == {str(booked["mine"].uuid), str(booked["pending"].uuid)}
    later = matches(fetch(client, desk, f"/fhir/Appointment?date=gt{(tuesday + timedelta(1)).isoformat()}"))
    assert later == []
    kinds = matches(fetch(client, desk, "/fhir/Appointment?service-type=assessment"))
    assert [a["id"] for a in kinds] == [str(booked["pending"].uuid)]
    assert matches(fetch(client, desk, f"/fhir/Appointment?actor=Patient/{clinician.uuid}")) == []


def test_a_pending_person_is_a_participant_without_a_patient(client: Any, desk: Any, booked: Any) -> None:
    pending = booked["pending"]
    resource = valid(fetch(client, desk, f"/fhir/Appointment/{pending.uuid}"))
    person = resource["participant"][0]
    assert "reference" not in person["actor"] and "online" in person["actor"]["display"]
    text = orjson.dumps(resource).decode()
    assert "Ruiz" not in text and "Ana" not in text and "ana.ruiz" not in text  # nothing the person typed
    included = fetch(client, desk, f"/fhir/Appointment?_id={pending.uuid}&_include=Appointment:actor")
    assert [e["resource"]["resourceType"] for e in included["entry"]] == ["Appointment"]
    patients = matches(fetch(client, desk, "/fhir/Patient?name=Ruiz"))
    assert patients == []
    event = AuditEvent.objects.filter(action="fhir.appointment.read").latest("id")
    assert event.patient_uuid is None


def test_read_and_history_of_a_booked_appointment(client: Any, desk: Any, booked: Any, clinic: Any,
                                                  frontdesk: Any, patient: Any) -> None:  # fmt: skip
    mine = booked["mine"]
    services.move_appointment(
        actor_of(frontdesk), mine, starts_at=at(clinic, booked["tuesday"], "15:30"), expected_version=mine.version
    )
    read = valid(fetch(client, desk, f"/fhir/Appointment/{mine.uuid}"))
    assert read["meta"]["versionId"] == "2" and read["start"].startswith(booked["tuesday"].isoformat())
    history = fetch(client, desk, f"/fhir/Appointment/{mine.uuid}/_history")
    assert [e["resource"]["meta"]["versionId"] for e in history["entry"]] == ["2", "1"]
    assert AuditEvent.objects.filter(action="fhir.appointment.read", patient_uuid=patient.uuid).exists()


def test_a_type_named_in_spanish_keeps_its_default_name_in_fhir(client: Any, desk: Any, booked: Any, week: Any,
                                                                admin_user: Any, patient: Any) -> None:  # fmt: skip
    """FHIR has no language of its own here: serviceType's text, the description and the Schedule's comment keep the
    type's default name, also for a patient who reads Spanish (docs/LANGUAGES.md, "Names the clinic types")."""
    kind = week[AppointmentKind.FOLLOW_UP]
    services.update_appointment_type(
        actor_of(admin_user), kind, {"names": {"es": "Consulta de seguimiento"}}, expected_version=kind.version
    )
    patient.preferred_language = "es"
    with service_write():  # the language alone, as a test's setting; the registry's own edits are the patients suite's
        patient.save()
    read = valid(fetch(client, desk, f"/fhir/Appointment/{booked['mine'].uuid}"))
    assert read["serviceType"][0]["text"] == "Follow-up" and read["description"] == "Follow-up"
    offer = TypeClinician.objects.get(appointment_type=kind)
    schedule = valid(fetch(client, desk, f"/fhir/Schedule/{offer.uuid}"))
    assert schedule["serviceType"][0]["text"] == "Follow-up" and "Consulta" not in orjson.dumps(schedule).decode()


def test_schedules_by_actor(client: Any, desk: Any, week: Any, clinician: Any, colleague: Any) -> None:
    found = matches(fetch(client, desk, f"/fhir/Schedule?actor=Practitioner/{clinician.uuid}"))
    assert sorted(s["serviceType"][0]["coding"][0]["code"] for s in found) == ["assessment", "follow_up", "session"]
    assert all(s["active"] and s["actor"][0]["reference"] == f"Practitioner/{clinician.uuid}" for s in found)
    assert matches(fetch(client, desk, f"/fhir/Schedule?actor=Practitioner/{colleague.uuid}")) == []
    one = found[0]
    assert valid(fetch(client, desk, f"/fhir/Schedule/{one['id']}"))["id"] == one["id"]
    with_actor = fetch(client, desk, f"/fhir/Schedule?_id={one['id']}&_include=Schedule:actor")
    assert [e["resource"]["resourceType"] for e in with_actor["entry"]] == ["Schedule", "Practitioner"]


def test_slots_are_the_free_slot_query(client: Any, desk: Any, week: Any, clinic: Any, clinician: Any,
                                       patient: Any) -> None:  # fmt: skip
    tuesday = next_weekday(clinic, 1)
    follow_up = week[AppointmentKind.FOLLOW_UP]
    offer = TypeClinician.objects.get(appointment_type=follow_up, clinician=clinician)
    window = f"start=ge{tuesday.isoformat()}&start=lt{(tuesday + timedelta(1)).isoformat()}"
    url = f"/fhir/Slot?schedule=Schedule/{offer.uuid}&{window}&_count=500"
    slots = matches(fetch(client, desk, url))
    expected = queries.free_slots(clinic, follow_up, tuesday, tuesday, clinician=clinician)
    assert [timezone.datetime.fromisoformat(s["start"]) for s in slots] == [s.start for s in expected]
    assert all(s["status"] == "free" and s["schedule"]["reference"] == f"Schedule/{offer.uuid}" for s in slots)
    first = slots[0]
    assert valid(fetch(client, desk, f"/fhir/Slot/{first['id']}"))["start"] == first["start"]
    # Booked: the slot is no longer free, so it no longer exists.
    services.book_appointment(
        actor_of(clinician), patient=patient, appointment_type=follow_up, clinician=clinician,
        starts_at=at(clinic, tuesday, "09:00"),
    )  # fmt: skip
    fetch(client, desk, f"/fhir/Slot/{first['id']}", 404)
    assert first["id"] not in {s["id"] for s in matches(fetch(client, desk, url))}
    assert matches(fetch(client, desk, f"/fhir/Slot?schedule=Schedule/{offer.uuid}&{window}&status=busy")) == []
    assert (
        matches(fetch(client, desk, f"/fhir/Slot?service-type=assessment&{window}"))[0]["serviceType"][0]["coding"][0][
            "code"
        ]
        == "assessment"
    )


def test_slot_paging_and_refusals(client: Any, desk: Any, week: Any, clinic: Any) -> None:
    tuesday = next_weekday(clinic, 1)
    window = f"start=ge{tuesday.isoformat()}&start=lt{(tuesday + timedelta(1)).isoformat()}"
    everything = matches(fetch(client, desk, f"/fhir/Slot?{window}&_count=500"))
    seen: list[str] = []
    bundle = fetch(client, desk, f"/fhir/Slot?{window}&_count=7&_total=accurate")
    assert bundle["total"] == len(everything)
    while True:
        seen += [e["resource"]["id"] for e in bundle["entry"]]
        following = [link["url"] for link in bundle["link"] if link["relation"] == "next"]
        if not following:
            break
        bundle = fetch(client, desk, following[0].split("testserver", 1)[-1])
    assert seen == [s["id"] for s in everything] and len(seen) > 7
    far = f"/fhir/Slot?start=ge{tuesday.isoformat()}&start=lt{(tuesday + timedelta(40)).isoformat()}"
    assert "31 days" in fetch(client, desk, far, 400)["issue"][0]["diagnostics"]
    fetch(client, desk, "/fhir/Slot?start=ne2027-01-01", 400)
    fetch(client, desk, "/fhir/Slot?start=ge9999-12-01")  # beyond the staff horizon: nothing, not an error
    fetch(client, desk, "/fhir/Slot/not-a-slot", 404)
    fetch(client, desk, "/fhir/Slot/00000000-0000-4000-8000-000000000000-202701051000", 404)
    strict = client.get("/fhir/Slot?colour=red", headers={**desk, "Prefer": "handling=strict"})
    assert strict.status_code == 400


def test_a_researcher_is_refused(client: Any, researcher: Any, api_token: Any, booked: Any) -> None:
    headers = api_token(researcher)
    for url in ("/fhir/Appointment", f"/fhir/Appointment/{booked['mine'].uuid}", "/fhir/Schedule", "/fhir/Slot"):
        assert client.get(url, headers=headers).status_code == 403, url


def test_the_capability_statement_lists_them(client: Any) -> None:
    statement = orjson.loads(client.get("/fhir/metadata").content)
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    params = {name: {p["name"] for p in resources[name]["searchParam"]} for name in ("Appointment", "Slot", "Schedule")}
    assert {"patient", "date", "status", "actor", "practitioner", "service-type"} <= params["Appointment"]
    assert {"schedule", "start", "status"} <= params["Slot"]
    assert {"actor"} <= params["Schedule"]


@pytest.mark.django_db(transaction=True)
def test_fhirpy_searches_appointments_and_slots(live_server: Any, frontdesk: Any, api_token: Any, clinic: Any,
                                                clinician: Any, patient: Any, admin_user: Any) -> None:  # fmt: skip
    from fhirpy import SyncFHIRClient

    week = set_up_week(actor_of(admin_user), [clinician])
    tuesday = next_weekday(clinic, 1)
    made = [
        services.book_appointment(
            actor_of(clinician), patient=patient, appointment_type=week[AppointmentKind.FOLLOW_UP],
            clinician=clinician, starts_at=at(clinic, tuesday, clock),
        )
        for clock in ("09:00", "10:00", "11:00")
    ]  # fmt: skip
    services.cancel_appointment(actor_of(clinician), made[2], reason="clinic", expected_version=made[2].version)
    fhir = SyncFHIRClient(f"{live_server.url}/fhir", authorization=api_token(frontdesk)["Authorization"])
    found = fhir.resources("Appointment").search(patient=str(patient.uuid), status="booked").limit(1).fetch_all()
    assert len(found) == 2 and all(a["status"] == "booked" for a in found)
    assert fhir.resources("Appointment").search(actor=f"Practitioner/{clinician.uuid}").count() == 3
    on_day = fhir.resources("Appointment").search(date__ge=tuesday.isoformat()).fetch_all()
    assert len(on_day) == 3
    schedule = fhir.resources("Schedule").search(actor=f"Practitioner/{clinician.uuid}").fetch_all()
    follow_up = next(s for s in schedule if s["serviceType"][0]["coding"][0]["code"] == "follow_up")
    slots = (
        fhir.resources("Slot")
        .search(schedule=f"Schedule/{follow_up['id']}", start__ge=tuesday.isoformat())
        .search(start__lt=(tuesday + timedelta(1)).isoformat())
        .limit(5)
        .fetch_all()
    )
    starts = [
        timezone.localtime(timezone.datetime.fromisoformat(s["start"]), clinic.tz).strftime("%H:%M") for s in slots
    ]
    assert starts[:2] == ["09:30", "10:30"] and "12:00" not in starts
    assert fhir.reference("Slot", slots[0]["id"]).to_resource()["status"] == "free"
