"""The front desk's online bookers (docs/BOOKING.md, "Pending patients"): the queue, the duplicate check beside what
was typed, confirm as a new patient, merge into a patient, reject; each one audited transaction, and a refused step
writes nothing. Appointments of a pending person show them with a badge wherever a person is shown."""

from datetime import date
from typing import Any

import pytest
from django.core.exceptions import ValidationError

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import ServiceError
from prolotrack.booking import pending as service
from prolotrack.booking.models import Appointment, AppointmentKind, AppointmentStatus, PendingPatient, PendingStatus
from prolotrack.booking.testing import at, next_weekday, pending_booking
from prolotrack.clinics.testing import actor_of
from prolotrack.core.errors import AccessDenied
from prolotrack.patients.models import Patient

pytestmark = pytest.mark.django_db


def counts() -> tuple[int, ...]:
    return (
        Patient.objects.count(),
        Appointment.objects.filter(patient__isnull=False).count(),
        PendingPatient.objects.exclude(status=PendingStatus.PENDING).count(),
        AuditEvent.objects.count(),
        RecordVersion.objects.count(),
    )


@pytest.fixture
def booker(clinic: Any, clinician: Any, types: Any) -> PendingPatient:
    day = next_weekday(clinic, 1)
    return pending_booking(clinic, types[AppointmentKind.ASSESSMENT], clinician, at(clinic, day, "10:00"))


def fresh(row: Any) -> Any:
    return type(row).objects.get(pk=row.pk)


# --- Services ------------------------------------------------------------------------------------------------------


def test_confirm_registers_the_typed_person_and_moves_the_appointment(frontdesk: Any, booker: PendingPatient) -> None:
    patient = service.confirm_pending(actor_of(frontdesk), booker, sex="female", expected_version=booker.version)
    assert (patient.given_name, patient.family_name, patient.date_of_birth) == ("Ana", "Ruiz", date(1980, 5, 1))
    assert patient.email == "ana.ruiz@example.org" and patient.preferred_language == "es" and patient.sex == "female"
    assert patient.mrn.startswith("PT-")
    visit = Appointment.objects.get()
    assert visit.patient == patient and visit.pending_patient is None
    row = fresh(booker)
    assert row.status == PendingStatus.CONFIRMED and row.patient == patient and row.resolved_by == frontdesk
    assert row.version == 2
    actions = set(AuditEvent.objects.values_list("action", flat=True))
    assert {"patient.created", "booking.appointment.person_confirmed", "booking.pending.confirmed"} <= actions


def test_confirm_is_refused_over_a_strong_match_unless_the_desk_says_it_is_another_person(
    frontdesk: Any, make_patient: Any, booker: PendingPatient
) -> None:
    make_patient(given_name="ANA", family_name="Ruíz", date_of_birth=date(1980, 5, 1))
    before = counts()
    with pytest.raises(ValidationError) as refused:
        service.confirm_pending(actor_of(frontdesk), booker, sex="female", expected_version=booker.version)
    assert "not_a_duplicate" in refused.value.message_dict
    assert counts() == before
    service.confirm_pending(
        actor_of(frontdesk), booker, sex="female", not_a_duplicate=True, expected_version=booker.version
    )
    assert Patient.objects.count() == 2
    assert "strong candidate" in fresh(booker).resolution_note


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda a, b: service.confirm_pending(a, b, sex="", expected_version=b.version), ValidationError),
        (lambda a, b: service.confirm_pending(a, b, sex="female", expected_version=b.version - 1), Exception),
        (lambda a, b: service.merge_pending(a, b, None, expected_version=b.version, patient_version=1), ValidationError),
        (lambda a, b: service.reject_pending(a, b, reason="", expected_version=b.version), ValidationError),
        (lambda a, b: service.reject_pending(a, b, reason="other", details="", expected_version=b.version), ValidationError),
    ],
    ids=["no sex", "stale version", "no patient", "no reason", "other without words"],
)  # fmt: skip
def test_bad_input_writes_nothing(frontdesk: Any, booker: PendingPatient, call: Any, error: Any) -> None:
    before = counts()
    with pytest.raises(error):
        call(actor_of(frontdesk), booker)
    assert counts() == before
    assert fresh(booker).status == PendingStatus.PENDING


@pytest.mark.parametrize("persona", ["clinician", "colleague", "researcher"])
def test_only_the_front_desk_and_administrators_resolve(personas: Any, booker: PendingPatient, persona: str) -> None:
    before = counts()
    with pytest.raises(AccessDenied):
        service.confirm_pending(actor_of(personas[persona]), booker, sex="male", expected_version=booker.version)
    with pytest.raises(AccessDenied):
        service.reject_pending(actor_of(personas[persona]), booker, reason="not_real", expected_version=1)
    assert counts() == before


def test_an_administrator_may_confirm(admin_user: Any, booker: PendingPatient) -> None:
    service.confirm_pending(actor_of(admin_user), booker, sex="other", expected_version=booker.version)
    assert fresh(booker).status == PendingStatus.CONFIRMED


def test_merge_moves_the_appointments_and_never_overwrites_the_chart(
    frontdesk: Any, make_patient: Any, booker: PendingPatient
) -> None:
    chart = make_patient(given_name="Ana", family_name="Ruiz", date_of_birth=date(1980, 5, 1), email="old@example.org")
    actor = actor_of(frontdesk)
    before = counts()
    with pytest.raises(ValidationError) as refused:  # the chart has an email: it is not replaced
        service.merge_pending(
            actor, booker, chart, add_email=True, expected_version=booker.version, patient_version=chart.version
        )
    assert "old@example.org" in refused.value.message_dict["add_email"][0]
    assert counts() == before
    service.merge_pending(actor, booker, chart, expected_version=booker.version, patient_version=chart.version)
    chart = fresh(chart)
    assert chart.email == "old@example.org" and chart.version == 1
    assert Appointment.objects.get().patient == chart
    row = fresh(booker)
    assert row.status == PendingStatus.MERGED and row.patient == chart


def test_merge_adds_a_missing_phone_only_when_asked(frontdesk: Any, make_patient: Any, clinic: Any, clinician: Any,
                                                     types: Any) -> None:  # fmt: skip
    chart = make_patient(given_name="Ana", family_name="Ruiz", date_of_birth=date(1980, 5, 1))
    booker = pending_booking(
        clinic, types[AppointmentKind.FOLLOW_UP], clinician, at(clinic, next_weekday(clinic, 2), "09:00"),
        phone="+1 312 555 0101",
    )  # fmt: skip
    service.merge_pending(
        actor_of(frontdesk), booker, chart, add_phone=True, expected_version=booker.version,
        patient_version=chart.version,
    )  # fmt: skip
    chart = fresh(chart)
    assert chart.phone == "+1 312 555 0101" and chart.email == "" and chart.version == 2
    version = RecordVersion.objects.filter(action="patient.updated").get()
    assert "online booking" in version.reason


def test_reject_cancels_the_open_appointments_with_the_reason(frontdesk: Any, booker: PendingPatient) -> None:
    service.reject_pending(
        actor_of(frontdesk), booker, reason="other", details="Booked as a joke", expected_version=booker.version
    )
    visit = Appointment.objects.get()
    assert visit.status == AppointmentStatus.CANCELLED and "Booked as a joke" in visit.status_reason
    assert visit.pending_patient == booker and visit.patient is None
    row = fresh(booker)
    assert row.status == PendingStatus.REJECTED and "Booked as a joke" in row.resolution_note
    assert Patient.objects.count() == 0


def test_a_resolved_person_cannot_be_resolved_again(frontdesk: Any, booker: PendingPatient) -> None:
    actor = actor_of(frontdesk)
    service.reject_pending(actor, booker, reason="not_real", expected_version=booker.version)
    before = counts()
    with pytest.raises(ServiceError):
        service.confirm_pending(actor, fresh(booker), sex="female", expected_version=2)
    assert counts() == before


def test_another_clinics_person_is_refused(outsider: Any, booker: PendingPatient) -> None:
    with pytest.raises(AccessDenied):
        service.reject_pending(actor_of(outsider), booker, reason="not_real", expected_version=booker.version)


def test_candidates_are_found_by_the_domain_rule(clinic: Any, make_patient: Any, booker: PendingPatient) -> None:
    swapped_names = make_patient(given_name="Ruiz", family_name="Ana", date_of_birth=date(1980, 5, 1))
    shares_email = make_patient(
        given_name="Luis", family_name="Ruiz", date_of_birth=date(1975, 1, 1), email="ANA.RUIZ@example.org"
    )
    make_patient(given_name="Ana", family_name="Ruiz", date_of_birth=date(1990, 1, 1))  # no contact, another dob
    found = service.candidates(clinic, booker)
    assert [c.patient for c in found] == [swapped_names, shares_email]
    assert found[0].strong and not found[1].strong


# --- Pages ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("persona", "status"),
    [("frontdesk", 200), ("admin", 200), ("clinician", 403), ("colleague", 403), ("researcher", 403)],
)
def test_who_sees_the_queue(login: Any, personas: Any, booker: PendingPatient, persona: str, status: int) -> None:
    client = login(personas[persona])
    for url in (
        "/booking/pending/",
        f"/booking/pending/{booker.uuid}/",
        f"/booking/pending/{booker.uuid}/confirm/",
        f"/booking/pending/{booker.uuid}/reject/",
    ):
        response = client.get(url)
        assert response.status_code == status, url
        if status == 403:
            assert b"Ruiz" not in response.content


def test_another_clinics_person_is_404(login: Any, make_member: Any, other_clinic: Any, booker: Any) -> None:
    client = login(make_member("desk2", "frontdesk", other_clinic))
    assert client.get(f"/booking/pending/{booker.uuid}/").status_code == 404
    assert client.get(f"/booking/pending/{booker.uuid}/confirm/").status_code == 404


def test_the_queue_lists_the_person_with_the_appointment(login: Any, frontdesk: Any, booker: Any) -> None:
    page = login(frontdesk).get("/booking/pending/").content.decode()
    assert "Ruiz, Ana" in page and "New-patient assessment" in page and "pending" in page


def test_the_screen_shows_the_candidates_beside_what_was_typed(
    login: Any, frontdesk: Any, make_patient: Any, booker: Any
) -> None:
    chart = make_patient(given_name="Anna", family_name="Ruiz", date_of_birth=date(1980, 5, 1), phone="312-555-0199")
    page = login(frontdesk).get(f"/booking/pending/{booker.uuid}/").content.decode()
    assert "Typed online" in page and chart.mrn in page and "Strong match" in page
    assert "Name within a typing slip, same date of birth." in page
    # Each chart value says in words how it agrees with what was typed (not by colour alone).
    assert '<td class="agree-close">Anna' in page and "≈</span> close" in page
    assert '<td class="agree-same">Ruiz' in page and '<td class="agree-same">1980-05-01' in page
    assert '<td class="agree-missing">312-555-0199' in page  # the booking typed no phone
    assert f"/booking/pending/{booker.uuid}/merge/{chart.uuid}/" in page
    searched = login(frontdesk).get(f"/booking/pending/{booker.uuid}/?q=Zed").content.decode()
    assert "No other patient matches" in searched


def test_confirming_from_the_page_asks_for_sex_then_registers(login: Any, frontdesk: Any, booker: Any) -> None:
    client = login(frontdesk)
    page = client.get(f"/booking/pending/{booker.uuid}/confirm/")
    assert next(t.name for t in page.templates) == "core/confirm.html"
    assert "Sex, to record on the chart" in page.content.decode()
    before = counts()
    refused = client.post(f"/booking/pending/{booker.uuid}/confirm/", {"version": booker.version})
    assert refused.status_code == 400 and counts() == before
    done = client.post(f"/booking/pending/{booker.uuid}/confirm/", {"version": booker.version, "sex": "female"})
    patient = Patient.objects.get()
    assert done.status_code == 302 and done.url == f"/patients/{patient.uuid}/"
    again = client.get(f"/booking/pending/{booker.uuid}/confirm/").content.decode()
    assert "Already done" in again


def test_merging_from_the_page_offers_only_a_missing_contact(
    login: Any, frontdesk: Any, make_patient: Any, booker: Any
) -> None:
    chart = make_patient(given_name="Ana", family_name="Ruiz", date_of_birth=date(1980, 5, 1), email="")
    client = login(frontdesk)
    url = f"/booking/pending/{booker.uuid}/merge/{chart.uuid}/"
    page = client.get(url).content.decode()
    assert "Add the email typed online to the chart: ana.ruiz@example.org" in page and "add_phone" not in page
    done = client.post(url, {"version": booker.version, "patient_version": chart.version, "add_email": "on"})
    assert done.status_code == 302
    assert fresh(chart).email == "ana.ruiz@example.org" and Appointment.objects.get().patient == chart


def test_rejecting_from_the_page_needs_a_reason(login: Any, frontdesk: Any, booker: Any) -> None:
    client = login(frontdesk)
    before = counts()
    assert client.post(f"/booking/pending/{booker.uuid}/reject/", {"version": booker.version}).status_code == 400
    assert counts() == before
    done = client.post(f"/booking/pending/{booker.uuid}/reject/", {"version": booker.version, "reason": "not_real"})
    assert done.status_code == 302 and fresh(booker).status == PendingStatus.REJECTED


def test_a_pending_persons_appointment_renders_with_a_badge_everywhere(
    login: Any, frontdesk: Any, clinician: Any, booker: Any, clinic: Any
) -> None:
    visit = Appointment.objects.get()
    day = f"{visit.starts_at.astimezone(clinic.tz):%Y-%m-%d}"
    desk = login(frontdesk)
    page = desk.get(f"/appointments/{visit.uuid}/").content.decode()
    assert "Ruiz, Ana" in page and "pending" in page and f"/booking/pending/{booker.uuid}/" in page
    assert "Ruiz" in desk.get(f"/appointments/{visit.uuid}/cancel/").content.decode()
    for view in ("day", "week"):
        calendar = desk.get(f"/calendar/?view={view}&date={day}").content.decode()
        assert "Ruiz, Ana" in calendar and 'class="tag pending"' in calendar, view
    # A clinician sees the appointment and the badge, without the link to the front desk's screen.
    page = login(clinician).get(f"/appointments/{visit.uuid}/").content.decode()
    assert "Ruiz, Ana" in page and f"/booking/pending/{booker.uuid}/" not in page
