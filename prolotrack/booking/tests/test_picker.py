"""The phone slot picker (booking/picker.py, templates/booking/public/_slots.html): one day's free slots, the days
around it within today..the horizon, the jump over empty days, the query kept in every link; and the staff booking
page drawing it (one day, not a week)."""

from datetime import UTC, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.template.loader import render_to_string

from prolotrack.booking import picker, queries
from prolotrack.booking.models import AppointmentKind
from prolotrack.booking.testing import at, next_weekday

pytestmark = pytest.mark.django_db


def day_of(url: str, param: str = "day") -> str:
    return parse_qs(urlsplit(url).query)[param][0]


def test_one_day_with_its_neighbours_and_the_query_kept(clinic: Any, clinician: Any, types: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    tuesday = next_weekday(clinic, 1)
    shown = picker.day_picker(clinic, kind, tuesday, path="/x/", query={"type": str(kind.uuid), "day": "junk"})
    assert shown.day == tuesday
    # 09:00-12:00 and 13:00-17:00 on a 15-minute grid, 30-minute visits: 11 + 15 starts.
    assert len(shown.slots) == 26 and shown.slots[0].clock == "09:00" and shown.slots[-1].clock == "16:30"
    assert "12:00" not in [s.clock for s in shown.slots]
    assert day_of(shown.previous_url) == (tuesday - timedelta(days=1)).isoformat()
    assert day_of(shown.next_url) == (tuesday + timedelta(days=1)).isoformat()
    assert parse_qs(urlsplit(shown.next_url).query)["type"] == [str(kind.uuid)]
    assert shown.next_url.endswith("#slot-picker")
    # Wednesday has slots: no jump (Next day does the same).
    assert shown.next_free_day == tuesday + timedelta(days=1) and shown.next_free_url == ""
    assert not shown.show_who  # one clinician


def test_the_jump_skips_the_weekend_and_no_day_starts_at_the_first_free_day(
    clinic: Any, clinician: Any, types: Any
) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    friday = next_weekday(clinic, 4)
    saturday = friday + timedelta(days=1)
    shown = picker.day_picker(clinic, kind, saturday, path="/x/", query={})
    assert shown.slots == []
    assert shown.next_free_day == friday + timedelta(days=3)
    assert day_of(shown.next_free_url) == (friday + timedelta(days=3)).isoformat()
    html = render_to_string("booking/public/_slots.html", {"picker": shown})
    assert "No free times on this day." in html and "Next day with free times" in html
    first = picker.day_picker(clinic, kind, None, path="/x/", query={})
    assert first.slots and first.day == picker.first_free_day(clinic, kind, queries.clinic_today(clinic))


def test_the_days_stay_within_today_and_the_online_horizon(clinic: Any, clinician: Any, types: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    today = queries.clinic_today(clinic)
    past = picker.day_picker(clinic, kind, today - timedelta(days=9), path="/x/", query={}, online=True)
    assert past.day == today and past.previous_url == ""
    horizon = today + timedelta(days=clinic.config.booking_max_days_ahead)
    far = picker.day_picker(clinic, kind, today + timedelta(days=400), path="/x/", query={}, online=True)
    assert far.day == horizon and far.next_url == "" and far.next_free_url == ""
    html = render_to_string("booking/public/_slots.html", {"picker": far})
    assert 'aria-disabled="true"' in html


def test_the_chosen_slot_is_checked_and_the_markup_is_a_keyboard_form(clinic: Any, clinician: Any, types: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    day = next_weekday(clinic, 2)
    value = f"{at(clinic, day, '10:15').astimezone(UTC).isoformat()}|{clinician.uuid}"
    shown = picker.day_picker(clinic, kind, day, path="/x/", query={}, chosen=value)
    assert [s.clock for s in shown.slots if s.checked] == ["10:15"]
    html = render_to_string("booking/public/_slots.html", {"picker": shown})
    assert f'value="{value}" required checked' in html
    assert html.count('type="radio" name="slot"') == len(shown.slots)
    # Plain links first (no JavaScript), HTMX swapping only the picker.
    assert 'hx-select="#slot-picker"' in html and 'hx-push-url="true"' in html and 'href="/x/?day=' in html


@pytest.mark.parametrize(
    "text",
    [
        "",
        "garbage",
        "2026-01-05T09:00:00|",
        "2026-01-05T09:00:00|{uuid}",
        "nonsense|{uuid}",
        "2026-01-05T09:00+00:00|x",
    ],
)
def test_a_bad_slot_value_is_none(clinician: Any, text: str) -> None:
    assert picker.parse_slot(text.format(uuid=clinician.uuid), [clinician]) is None


def test_a_slot_value_reads_back(clinic: Any, clinician: Any) -> None:
    start = at(clinic, next_weekday(clinic, 1), "09:00").astimezone(UTC)
    found = queries.FreeSlot(start, start + timedelta(minutes=30), clinician, None)
    assert picker.parse_slot(picker.slot_value(found), [clinician]) == (start, clinician)


def test_the_staff_booking_page_shows_one_day(login: Any, frontdesk: Any, clinician: Any, types: Any) -> None:
    kind = types[AppointmentKind.FOLLOW_UP]
    clinic = clinician.memberships.first().clinic
    day = next_weekday(clinic, 1)
    text = login(frontdesk).get("/booking/book/", {"type": str(kind.uuid), "date": day.isoformat()}).content.decode()
    assert day.strftime("%A %-d %B %Y") in text and (day + timedelta(days=1)).strftime("%A") not in text
    assert text.count('type="radio" name="slot"') == 26
    assert f"date={(day + timedelta(days=1)).isoformat()}" in text and f"type={kind.uuid}" in text


@pytest.fixture
def two(admin_user: Any, make_member: Any, clinic: Any) -> tuple[Any, Any, Any]:
    """Maya and Daniel offer the same types online with the same hours."""
    from prolotrack.booking.testing import set_up_week
    from prolotrack.clinics.roles import Role
    from prolotrack.clinics.testing import actor_of

    maya, daniel = make_member("maya", Role.CLINICIAN, clinic), make_member("daniel", Role.CLINICIAN, clinic)
    types = set_up_week(actor_of(admin_user), [maya, daniel])
    return maya, daniel, types[AppointmentKind.FOLLOW_UP]


def test_first_available_online_shows_each_start_once_given_by_the_fair_rule(
    clinic: Any, two: Any, frontdesk: Any, patient: Any
) -> None:
    from prolotrack.booking import services
    from prolotrack.clinics.testing import actor_of

    maya, daniel, kind = two
    day = next_weekday(clinic, 1)
    staff = picker.day_picker(clinic, kind, day, path="/x/", query={})
    assert [s.clock for s in staff.slots][:4] == ["09:00", "09:00", "09:15", "09:15"]  # staff see every clinician
    # Nobody booked yet: the same count, so by name (Daniel before Maya) at every start.
    shown = picker.day_picker(clinic, kind, day, path="/x/", query={}, online=True)
    clocks = [s.clock for s in shown.slots]
    assert len(clocks) == len(set(clocks)) == 26 and {s.who for s in shown.slots} == {"Daniel"}
    assert shown.show_who
    # Daniel takes 09:00: Maya has fewer that day, so she gets every start, 09:00 included (Daniel is busy then).
    services.book_appointment(
        actor_of(frontdesk),
        patient=patient,
        appointment_type=kind,
        clinician=daniel,
        starts_at=at(clinic, day, "09:00"),
    )
    shown = picker.day_picker(clinic, kind, day, path="/x/", query={}, online=True)
    assert [(s.clock, s.who) for s in shown.slots][:3] == [("09:00", "Maya"), ("09:15", "Maya"), ("09:30", "Maya")]
    assert len(shown.slots) == 26
    # Maya takes two: Daniel has fewer again, except where he is busy (09:00-09:15, his 30-minute visit).
    for clock in ("14:00", "15:00"):
        services.book_appointment(
            actor_of(frontdesk),
            patient=patient,
            appointment_type=kind,
            clinician=maya,
            starts_at=at(clinic, day, clock),
        )
    rows = [(s.clock, s.who) for s in picker.day_picker(clinic, kind, day, path="/x/", query={}, online=True).slots]
    assert rows[:3] == [("09:00", "Maya"), ("09:15", "Maya"), ("09:30", "Daniel")]
    assert ("14:00", "Daniel") in rows and len({c for c, _ in rows}) == len(rows)
    # A chosen clinician still sees only their own times; the value names the clinician the booking goes to.
    own = picker.day_picker(clinic, kind, day, path="/x/", query={}, online=True, clinician=maya)
    assert "14:00" not in [s.clock for s in own.slots]
    start, who = picker.parse_slot(shown.slots[0].value, [maya, daniel]) or (None, None)
    assert who == maya and start == at(clinic, day, "09:00")


def test_the_public_page_lists_one_time_per_start_for_first_available(client: Any, clinic: Any, two: Any) -> None:
    clinic.settings = {**clinic.settings, "online_booking": True}
    clinic.save()
    kind = two[2]
    day = next_weekday(clinic, 1)
    text = client.get(f"/book/{clinic.slug}/", {"type": str(kind.uuid), "day": day.isoformat()}).content.decode()
    starts = [v.split("|")[0] for v in text.split('name="slot" value="')[1:]]
    assert len(starts) == 26 and len(set(starts)) == len(starts)
