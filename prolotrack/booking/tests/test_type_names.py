"""Appointment types named in each patient language (docs/LANGUAGES.md, "Names the clinic types"; docs/BOOKING.md,
"Appointment types"): the administrator's edit (saved as a new version with its audit row; refused input writes
nothing) and every patient page that names a type, as a table: in Spanish the Spanish name, in English the English
one, and a type without a Spanish name shows its default name. The messages' table is messaging's
(messaging/tests/test_type_names.py)."""

import re
from datetime import UTC, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.test import Client
from django.utils import timezone, translation

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.booking import patient_links, queries, services, waitlist
from prolotrack.booking.models import AppointmentKind, AppointmentType
from prolotrack.booking.testing import at, next_weekday
from prolotrack.clinics.testing import actor_of

pytestmark = pytest.mark.django_db

SPANISH = {AppointmentKind.FOLLOW_UP: "Consulta de seguimiento", AppointmentKind.ASSESSMENT: "Evaluación inicial"}
ENGLISH = {AppointmentKind.FOLLOW_UP: "Follow-up", AppointmentKind.ASSESSMENT: "New-patient assessment"}


@pytest.fixture(autouse=True)
def _fresh_counts() -> None:
    cache.clear()  # rate limits count in the cache


def counts() -> tuple[int, int]:
    return RecordVersion.objects.count(), AuditEvent.objects.count()


# --- The administrator's edit ---------------------------------------------------------------------------------------


def test_a_spanish_name_is_a_new_version_with_its_audit_row(admin_user: Any, types: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    saved = services.update_appointment_type(
        actor_of(admin_user), kind, {"names": {"es": "  Consulta   de seguimiento "}}, expected_version=kind.version
    )
    assert saved.names == {"es": "Consulta de seguimiento"} and saved.version == kind.version + 1
    version = RecordVersion.objects.filter(record_uuid=kind.uuid).latest("version")
    assert version.version == saved.version and version.data["names"] == {"es": "Consulta de seguimiento"}
    assert version.changes == {"names": [{}, {"es": "Consulta de seguimiento"}]}
    event = AuditEvent.objects.filter(action="booking.type.updated").latest("id")
    assert event.detail == {"fields": ["names"]} and event.user == admin_user
    # Blank: the entry goes, and patients reading Spanish see the default name again (a version too).
    cleared = services.update_appointment_type(
        actor_of(admin_user), saved, {"names": {"es": "  "}}, expected_version=saved.version
    )
    assert cleared.names == {} and cleared.version == saved.version + 1
    assert cleared.patient_name("es") == cleared.patient_name("en") == "Follow-up"


@pytest.mark.parametrize(
    ("names", "field", "words"),
    [
        ({"es": "x" * 101}, "name_es", "at most 100 characters"),
        ({"fr": "Suivi"}, "names", "No patient language 'fr'"),
        ({"en": "Follow up"}, "names", "is the default name"),
        ({"es": "Consulta\x00"}, "name_es", "control characters (U+0000)"),
        ({"es": 3}, "name_es", "must be text"),
        (["es", "Consulta"], "names", "pairs of a language code and a name"),
    ],
    ids=["too-long", "unknown-language", "default-language", "control-character", "not-text", "not-a-mapping"],
)
def test_a_refused_name_says_why_and_writes_nothing(admin_user: Any, types: Any, names: Any, field: str, words: str):
    kind = types[AppointmentKind.FOLLOW_UP]
    before = counts()
    with pytest.raises(ValidationError) as refused:
        services.update_appointment_type(actor_of(admin_user), kind, {"names": names}, expected_version=kind.version)
    assert words in " ".join(refused.value.message_dict[field])
    assert counts() == before and AppointmentType.objects.get(pk=kind.pk).names == {}


def test_a_stale_page_overwrites_nothing(admin_user: Any, types: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    services.update_appointment_type(actor_of(admin_user), kind, {"names": {"es": "Seguimiento"}}, expected_version=1)
    before = counts()
    with pytest.raises(Exception, match="Nothing was saved"):
        services.update_appointment_type(actor_of(admin_user), kind, {"names": {"es": "Otra"}}, expected_version=1)
    assert counts() == before and AppointmentType.objects.get(pk=kind.pk).names == {"es": "Seguimiento"}


def _type_form(kind: Any, **changes: str) -> dict[str, Any]:
    return {
        "version": kind.version, "name": kind.name, "name_es": "", "kind": kind.kind,
        "duration_minutes": kind.duration_minutes, "buffer_before_minutes": kind.buffer_before_minutes,
        "buffer_after_minutes": kind.buffer_after_minutes, "fee_item": "", "save_type": "", **changes,
    }  # fmt: skip


def test_the_type_page_names_it_per_language_and_says_blank_falls_back(client, login, admin_user, types) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    login(admin_user)
    url = f"/booking/setup/types/{kind.uuid}/"
    page = client.get(url).content.decode()
    assert "Name in Español (es)" in page and "Blank: they see the name above." in page
    before = counts()
    long = client.post(url, _type_form(kind, name_es="x" * 101))
    assert long.status_code == 400 and "at most 100 characters" in long.content.decode() and counts() == before
    control = client.post(url, _type_form(kind, name_es="Consulta\x07"))
    assert control.status_code == 400 and "control characters" in control.content.decode() and counts() == before
    saved = client.post(url, _type_form(kind, name_es="Consulta de seguimiento"))
    assert saved.status_code == 302
    kind.refresh_from_db()
    assert kind.names == {"es": "Consulta de seguimiento"} and kind.version == 2
    assert 'value="Consulta de seguimiento"' in client.get(url).content.decode()  # shown again to edit
    setup = client.get("/booking/setup/").content.decode()
    assert "Consulta de seguimiento" in setup and "Blank: they see the name above." in setup  # the add form too


def test_a_new_type_may_be_named_in_spanish_from_the_start(client, login, admin_user) -> None:
    login(admin_user)
    form = {"name": "Review", "name_es": "Revisión", "kind": AppointmentKind.FOLLOW_UP, "duration_minutes": 20}
    assert client.post("/booking/setup/types/add/", form).status_code == 302
    made = AppointmentType.objects.get(name="Review")
    assert made.names == {"es": "Revisión"} and made.version == 1
    assert RecordVersion.objects.get(record_uuid=made.uuid).data["names"] == {"es": "Revisión"}
    before = counts()
    refused = client.post("/booking/setup/types/add/", {**form, "name": "Other", "name_es": "y" * 101})
    assert refused.status_code == 400 and "at most 100 characters" in refused.content.decode()
    assert counts() == before and not AppointmentType.objects.filter(name="Other").exists()


# --- Every patient page, as a table ---------------------------------------------------------------------------------

# (the page's language, whether the types have Spanish names)
VARIANTS = [("es", True), ("en", True), ("es", False)]


@pytest.fixture(params=VARIANTS, ids=["es-named", "en-named", "es-not-named"])
def variant(request: Any, admin_user: Any, types: Any, clinic: Any) -> dict[str, Any]:
    language, named = request.param
    if named:
        for kind, name in SPANISH.items():
            current = types[kind]
            types[kind] = services.update_appointment_type(
                actor_of(admin_user), current, {"names": {"es": name}}, expected_version=current.version
            )
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    shown = SPANISH if language == "es" and named else ENGLISH
    hidden = ENGLISH if shown is SPANISH else SPANISH
    return {"language": language, "types": types, "shown": shown, "hidden": hidden}


def names_right(variant: dict[str, Any], where: str, text: str, kind: str = AppointmentKind.FOLLOW_UP) -> None:
    shown, hidden = variant["shown"][kind], variant["hidden"][kind]
    assert shown in text, f"{where}: {shown!r} missing"
    assert hidden not in text, f"{where}: {hidden!r} shown to a reader of {variant['language']}"


GOOD = {"given_name": "Grace", "family_name": "Hopper", "date_of_birth": "1970-12-09", "email": "grace@example.com"}


def test_the_public_booking_pages_and_the_code_message(client: Any, variant: Any, clinic: Any, clinician: Any):
    slug, language = clinic.slug, variant["language"]
    kind = variant["types"][AppointmentKind.ASSESSMENT]
    start = client.get(f"/book/{slug}/?lang={language}").content.decode()
    names_right(variant, "start", start)
    names_right(variant, "start", start, AppointmentKind.ASSESSMENT)
    slot = f"{at(clinic, next_weekday(clinic, 1), '10:00').astimezone(UTC).isoformat()}|{clinician.uuid}"
    details = client.get(f"/book/{slug}/details/", {"type": str(kind.uuid), "slot": slot}).content.decode()
    names_right(variant, "details", details, AppointmentKind.ASSESSMENT)
    sent = client.post(f"/book/{slug}/details/", {"type": str(kind.uuid), "slot": slot, **GOOD, "phone": ""})
    assert sent.status_code == 302
    names_right(variant, "code email", mail.outbox[-1].body, AppointmentKind.ASSESSMENT)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    booked = client.post(sent["Location"], {"code": code})
    assert booked.status_code == 200
    names_right(variant, "booked", booked.content.decode(), AppointmentKind.ASSESSMENT)


@pytest.fixture
def person(make_patient: Any, variant: Any) -> Any:
    return make_patient(email="ada@example.org", preferred_language=variant["language"])


def test_the_manage_pages(client: Any, variant: Any, frontdesk: Any, clinician: Any, clinic: Any, person: Any):
    visit = services.book_appointment(
        actor_of(frontdesk), patient=person, appointment_type=variant["types"][AppointmentKind.FOLLOW_UP],
        clinician=clinician, starts_at=at(clinic, next_weekday(clinic, 1, at_least=3), "10:00"),
    )  # fmt: skip
    token = patient_links.issue_manage_link(actor_of(frontdesk), visit)[1]
    for path in ("", "cancel/", "move/", "waitlist/"):
        names_right(variant, f"manage {path}", client.get(f"/my-appointment/{token}/{path}").content.decode())
    cancelled = client.post(f"/my-appointment/{token}/cancel/", {"reason": "cannot_come"})
    assert cancelled.status_code == 200
    names_right(variant, "cancelled", cancelled.content.decode())


def test_the_follow_up_link_pages(client: Any, variant: Any, frontdesk: Any, clinic: Any, person: Any) -> None:
    kind = variant["types"][AppointmentKind.FOLLOW_UP]
    token = patient_links.create_follow_up_link(actor_of(frontdesk), person, appointment_type=kind)[1]
    page = client.get(f"/follow-up/{token}/").content.decode()
    names_right(variant, "follow-up link", page)
    names_right(variant, "follow-up waitlist", client.get(f"/follow-up/{token}/waitlist/").content.decode())
    slot = re.search(r'name="slot" value="([^"]+)"', page).group(1)
    booked = client.post(f"/follow-up/{token}/", {"slot": slot})
    assert booked.status_code == 200
    names_right(variant, "follow-up booked", booked.content.decode())


def test_the_waitlist_join_pages_and_messages(client: Any, variant: Any, clinic: Any) -> None:
    slug, language = clinic.slug, variant["language"]
    kind = variant["types"][AppointmentKind.FOLLOW_UP]
    names_right(variant, "join", client.get(f"/book/{slug}/waitlist/?lang={language}&type={kind.uuid}").text)
    today = queries.clinic_today(clinic)
    asked = {
        "type": str(kind.uuid), "clinician": "", "first_day": today.isoformat(),
        "last_day": (today + timedelta(days=14)).isoformat(), **GOOD, "phone": "",
    }  # fmt: skip
    sent = client.post(f"/book/{slug}/waitlist/", asked)
    assert sent.status_code == 302
    names_right(variant, "waitlist code email", mail.outbox[-1].body)
    code = re.search(r"\b(\d{6})\b", mail.outbox[-1].body).group(1)
    joined = client.post(sent["Location"], {"code": code})
    names_right(variant, "joined", joined.content.decode())
    names_right(variant, "joined email", mail.outbox[-1].body)
    own = re.search(r'href="(/waitlist/[\w-]+/)"', joined.content.decode()).group(1)
    names_right(variant, "own waitlist link", Client().get(own).content.decode())


def test_the_waitlist_offer_page(client: Any, variant: Any, frontdesk: Any, clinic: Any, person: Any) -> None:
    day = next_weekday(clinic, 2, at_least=3)
    waitlist.join_waitlist(
        actor_of(frontdesk), patient=person, appointment_type=variant["types"][AppointmentKind.FOLLOW_UP],
        first_day=day, last_day=day,
    )  # fmt: skip
    offer = waitlist.make_offers(clinic, timezone.now())[0]
    names_right(variant, "offer", client.get(waitlist.issue_link(offer)).content.decode())


def test_staff_pages_keep_the_default_name(client: Any, login: Any, admin_user: Any, frontdesk: Any, clinician: Any,
                                           clinic: Any, types: Any, make_patient: Any) -> None:  # fmt: skip
    kind = services.update_appointment_type(
        actor_of(admin_user), types[AppointmentKind.FOLLOW_UP], {"names": {"es": SPANISH[AppointmentKind.FOLLOW_UP]}},
        expected_version=types[AppointmentKind.FOLLOW_UP].version,
    )  # fmt: skip
    person = make_patient(email="ada@example.org", preferred_language="es")
    visit = services.book_appointment(
        actor_of(frontdesk), patient=person, appointment_type=kind, clinician=clinician,
        starts_at=at(clinic, next_weekday(clinic, 1, at_least=3), "10:00"),
    )  # fmt: skip
    login(frontdesk)
    for url in (f"/appointments/{visit.uuid}/", f"/patients/{person.uuid}/appointments/", "/booking/waitlist/add/"):
        page = client.get(url, HTTP_ACCEPT_LANGUAGE="es").content.decode()
        assert "Follow-up" in page and "Consulta de seguimiento" not in page, url
    with translation.override("es"):
        assert visit.appointment_type.name == str(visit.appointment_type) == "Follow-up"
