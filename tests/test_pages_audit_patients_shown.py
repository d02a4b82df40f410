"""Pages that show several patients leave one audit event per patient they print, as the API does
(docs/ARCHITECTURE.md, "Reads that disclose patients are audited per patient"; docs/SECURITY.md, "Audit trail").

One table: each row builds a small clinic, opens one page (or HTMX fragment) and says which patients the page prints.
The test checks that exactly those patients got an event with the page's action (each naming its patient, through
`audit.services.record_disclosure`), that a page printing nobody leaves one event naming nobody, and, as a check on
the table itself, that the page prints the name of every patient in the row and of no other patient made for it
(paging, the week's DAY_CAP, the day by clinician and the "To book" list's length decide who is printed)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.db import transaction

from prolotrack.audit.models import AuditEvent
from prolotrack.booking import services as booking_services
from prolotrack.booking.models import AppointmentKind
from prolotrack.booking.testing import at, next_weekday, pending_booking, set_up_week
from prolotrack.clinics.queries import clinic_today
from prolotrack.clinics.testing import actor_of
from prolotrack.core.records import service_write
from prolotrack.messaging.models import OutboxMessage
from prolotrack.treatment import present
from prolotrack.treatment import queries as treatment_queries
from prolotrack.treatment import services as treatment_services

pytestmark = pytest.mark.django_db


@dataclass
class World:
    """What a row's setup may use: the fixtures, and the patients it made (each by a family name of its own)."""

    clinic: Any
    clinician: Any
    frontdesk: Any
    admin: Any
    make: Callable[..., Any]
    monkeypatch: Any
    made: list[Any]

    def patient(self, family: str, **fields: Any) -> Any:
        self.made.append(self.make(family_name=family, **fields))
        return self.made[-1]

    def course(self, patient: Any, start_on: date) -> Any:
        """A one-session course (no protocol): its session is planned for `start_on`."""
        with transaction.atomic():
            return treatment_services.create_course(
                actor_of(self.clinician), patient, protocol_id="", indication="Plantar fascia", region="ankle_foot",
                side="left", start_on=start_on, clinician=self.clinician,
            )  # fmt: skip

    def session(self, family: str, when: datetime, clinician: Any = "the clinician") -> Any:
        """A new patient's session booked at `when` (with the clinician, or `clinician`; None: no clinician)."""
        course = self.course(self.patient(family), when.date())
        who = self.clinician if clinician == "the clinician" else clinician
        with transaction.atomic():
            made = treatment_services.book_session(
                actor_of(self.clinician), course.sessions.get(), starts_at=when, clinician=who or self.clinician
            )
        if who is None:  # the model allows a session with no clinician: an imported one
            with transaction.atomic(), service_write():
                made.clinician = None
                made.save(update_fields=["clinician"])
        return made

    def unbooked(self, family: str) -> Any:
        """A new patient's course whose one session is due today and not booked: the calendar's "To book" list."""
        today = clinic_today(self.clinic)
        return self.course(self.patient(family), today).patient

    def week(self) -> dict[str, Any]:
        """The booking app's usual types and hours for the clinician (Monday-Friday 09:00-17:00)."""
        return set_up_week(actor_of(self.admin), [self.clinician])

    def message(self, patient: Any, day: date, kind: str = "nsaid_stop") -> None:
        with transaction.atomic(), service_write():
            OutboxMessage.objects.create(
                clinic=self.clinic, patient=patient, channel="email", kind=kind, target=str(patient.uuid),
                to_address="someone@example.org", scheduled_for=day,
            )  # fmt: skip


# A row: (the page's name, its action, setup(world) -> (the address, HTMX or not, the patients printed)).
Setup = Callable[[World], tuple[str, bool, list[Any]]]


def list_page_two(w: World) -> tuple[str, bool, list[Any]]:
    patients = [w.patient(f"Fam{n:02d}") for n in range(27)]  # 25 a page: the second shows the last two
    return "/patients/?page=2", False, patients[25:]


def list_search_fragment(w: World) -> tuple[str, bool, list[Any]]:
    patients = [w.patient(f"Fam{n:02d}") for n in range(12)]
    w.patient("Other")
    return "/patients/?q=fam0", True, patients[:10]  # the live search's fragment: Fam00-Fam09


def list_search_nobody(w: World) -> tuple[str, bool, list[Any]]:
    w.patient("Lovelace")
    return "/patients/?q=Zed", False, []


def calendar_week(w: World) -> tuple[str, bool, list[Any]]:
    """Monday drawn; Wednesday over the week's DAY_CAP (not drawn); a booking-app visit of a patient and one of a
    person who booked online (no chart to name); three sessions to book, two listed."""
    w.monkeypatch.setattr(present, "DAY_CAP", 2)
    w.monkeypatch.setattr(treatment_queries, "UNBOOKED_SHOWN", 2)
    types = w.week()
    monday = next_weekday(w.clinic, 0)
    drawn = [w.session("Amos", at(w.clinic, monday, "09:00")), w.session("Birch", at(w.clinic, monday, "10:00"))]
    wednesday = monday + timedelta(days=2)
    for n, family in enumerate(("Crane", "Drake", "Egan")):
        w.session(family, at(w.clinic, wednesday, f"{9 + n:02d}:00"))
    visitor = w.patient("Vance")
    tuesday, assessment = monday + timedelta(days=1), types[AppointmentKind.ASSESSMENT]
    with transaction.atomic():
        booking_services.book_appointment(
            actor_of(w.frontdesk), patient=visitor, appointment_type=assessment, clinician=w.clinician,
            starts_at=at(w.clinic, tuesday, "09:00"),
        )  # fmt: skip
    pending_booking(w.clinic, assessment, w.clinician, at(w.clinic, tuesday, "14:00"), family_name="Ruiz")
    listed = [w.unbooked("Ulm"), w.unbooked("Upton")]
    w.unbooked("Uxbridge")  # the third: past the list's length
    return f"/calendar/?date={monday:%Y-%m-%d}", False, [s.patient for s in drawn] + [visitor, *listed]


def calendar_day_by_clinician(w: World) -> tuple[str, bool, list[Any]]:
    """A whole clinic's day past DAY_LIST_CAP: the clinician's appointments are a line (no names); the one with no
    clinician is listed."""
    w.monkeypatch.setattr(present, "DAY_LIST_CAP", 2)
    w.week()
    day = next_weekday(w.clinic, 2)
    for n, family in enumerate(("Crane", "Drake", "Egan")):
        w.session(family, at(w.clinic, day, f"{9 + n:02d}:00"))
    nobody_s = w.session("Fane", at(w.clinic, day, "14:00"), clinician=None)
    return f"/calendar/?view=day&date={day:%Y-%m-%d}", False, [nobody_s.patient]


def calendar_day_of_a_clinician(w: World) -> tuple[str, bool, list[Any]]:
    """A clinician's own day is listed whole, whatever the cap."""
    w.monkeypatch.setattr(present, "DAY_LIST_CAP", 2)
    w.week()
    day = next_weekday(w.clinic, 2)
    sessions = [w.session(family, at(w.clinic, day, f"{9 + n:02d}:00")) for n, family in enumerate(("Crane", "Drake"))]
    sessions.append(w.session("Egan", at(w.clinic, day, "11:00")))
    url = f"/calendar/?view=day&date={day:%Y-%m-%d}&clinician={w.clinician.username}"
    return url, False, [s.patient for s in sessions]


def calendar_empty(w: World) -> tuple[str, bool, list[Any]]:
    w.patient("Lovelace")  # registered, nothing booked or to book
    return f"/calendar/?date={next_weekday(w.clinic, 0):%Y-%m-%d}", False, []


def outbox(w: World) -> tuple[str, bool, list[Any]]:
    today = clinic_today(w.clinic)
    shown = [w.patient(family) for family in ("Abbot", "Barlow", "Carver")]
    for patient in shown:
        w.message(patient, today)
    w.message(shown[0], today + timedelta(days=1), "pre_procedure")  # two messages, one event
    w.patient("Nomail")
    return "/outbox/", False, shown


def outbox_nobody(w: World) -> tuple[str, bool, list[Any]]:
    w.message(w.patient("Abbot"), clinic_today(w.clinic))
    return "/outbox/?status=sent", False, []


def _okafor_search(path: str) -> Callable[[World], tuple[str, bool, list[Any]]]:
    """A picker's patient search at `path` (?q=okafor): the two Okafors shown, Lindqvist not."""

    def case(w: World) -> tuple[str, bool, list[Any]]:
        shown = [w.patient("Okafor", given_name="Ada"), w.patient("Okafor", given_name="Bea")]
        w.patient("Lindqvist")
        return path, False, shown

    return case


book_search = _okafor_search("/booking/book/?q=okafor")
waitlist_add_search = _okafor_search("/booking/waitlist/add/?q=okafor")


def book_search_nobody(w: World) -> tuple[str, bool, list[Any]]:
    w.patient("Lindqvist")
    return "/booking/book/?q=Zed", False, []


def pending_person(w: World) -> tuple[str, bool, list[Any]]:
    """An online booker beside the patient the duplicate check finds (same date of birth) and one looked up."""
    types = w.week()
    start = at(w.clinic, next_weekday(w.clinic, 1), "09:00")
    booker = pending_booking(w.clinic, types[AppointmentKind.ASSESSMENT], w.clinician, start, family_name="Ruiz")
    found = w.patient("Ruizz", given_name="Ana", date_of_birth=date(1980, 5, 1))
    looked_up = w.patient("Zhou")
    w.patient("Lovelace")
    return f"/booking/pending/{booker.uuid}/?q=zhou", False, [found, looked_up]


ROWS: list[tuple[str, str, Setup]] = [
    ("patient list, page 2", "patient.searched", list_page_two),
    ("patient search fragment (HTMX)", "patient.searched", list_search_fragment),
    ("patient search, no match", "patient.searched", list_search_nobody),
    ("calendar week", "treatment.calendar.viewed", calendar_week),
    ("calendar day by clinician", "treatment.calendar.viewed", calendar_day_by_clinician),
    ("calendar day of a clinician", "treatment.calendar.viewed", calendar_day_of_a_clinician),
    ("calendar week, nobody", "treatment.calendar.viewed", calendar_empty),
    ("outbox", "messaging.outbox.viewed", outbox),
    ("outbox, nothing sent", "messaging.outbox.viewed", outbox_nobody),
    ("booking page's patient search", "patient.searched", book_search),
    ("booking page's search, no match", "patient.searched", book_search_nobody),
    ("waitlist add's patient search", "patient.searched", waitlist_add_search),
    ("online booker beside the patients found", "booking.pending.viewed", pending_person),
]


@pytest.mark.parametrize(("action", "setup"), [(a, s) for _, a, s in ROWS], ids=[name for name, _, _ in ROWS])
def test_a_page_names_in_the_trail_every_patient_it_prints(
    action, setup, login, clinic, clinician, frontdesk, admin_user, make_patient, monkeypatch
):
    world = World(clinic, clinician, frontdesk, admin_user, make_patient, monkeypatch, [])
    url, htmx, shown = setup(world)
    last = AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    response = login(frontdesk).get(url, headers={"HX-Request": "true"} if htmx else {})
    assert response.status_code == 200
    events = list(AuditEvent.objects.filter(pk__gt=last, action=action))
    if shown:
        assert sorted(str(e.patient_uuid) for e in events) == sorted({str(p.uuid) for p in shown})
        assert {(e.record_type, e.record_uuid) for e in events} == {("patients.patient", p.uuid) for p in shown}
    else:
        assert [(e.patient_uuid, e.record_uuid) for e in events] == [(None, None)]
    assert {e.user for e in events} == {frontdesk}
    # The table is true to the page: it prints the name of each patient named, and of no other made for it.
    text = response.content.decode()
    printed = {p.family_name for p in world.made if p.family_name in text}
    assert printed == {p.family_name for p in shown}
    # The other reads of patient data the page made are their own events (none of this action naming others).
    assert not AuditEvent.objects.filter(pk__gt=last).exclude(action=action).filter(patient_uuid__isnull=False)


def _queries(client: Any, url: str) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_naming_more_patients_reads_and_writes_no_more_statements(login, clinic, clinician, frontdesk, admin_user,
    make_patient, monkeypatch):  # fmt: skip
    """The events go in one insert, and the patients they name are rows the page read already (or, for the
    calendar's appointments, their uuids): one patient shown or six, the same statements."""
    world = World(clinic, clinician, frontdesk, admin_user, make_patient, monkeypatch, [])
    today = clinic_today(clinic)
    client = login(frontdesk)
    pages = ("/outbox/", "/booking/book/?q=okafor", f"/calendar/?date={today:%Y-%m-%d}")
    for n in range(6):
        patient = world.patient("Okafor", given_name=f"P{n}")
        world.message(patient, today)
        world.unbooked(f"Ulm{n}")
        if n == 0:
            one = [_queries(client, url) for url in pages]
    assert [_queries(client, url) for url in pages] == one
