"""The calendar feed read by three parsers (icalendar, ics, vobject) gives the same UTC times as the database across
both daylight-saving changes, north and south, and has RFC 5545's structure (issue 19)."""

import re
import uuid
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import ics as ics_parser
import pytest
import vobject
from icalendar import Calendar

from prolotrack.messaging import ics
from prolotrack.messaging.vtimezone import parse_posix, posix_rule, rule_matches, vtimezone

# Local times around each change: before, in or next to the skipped/repeated hour, after; (y, m, d, h, min, fold).
AROUND = {
    "America/Chicago": [
        (2026, 3, 7, 9, 30, 0), (2026, 3, 8, 1, 30, 0), (2026, 3, 8, 3, 30, 0), (2026, 3, 9, 9, 30, 0),
        (2026, 10, 31, 9, 30, 0), (2026, 11, 1, 0, 30, 0), (2026, 11, 1, 1, 30, 0), (2026, 11, 1, 1, 30, 1),
        (2026, 11, 1, 3, 0, 0), (2026, 11, 2, 9, 30, 0), (2027, 3, 15, 10, 0, 0),
    ],
    "Australia/Sydney": [
        (2026, 4, 4, 9, 30, 0), (2026, 4, 5, 2, 30, 0), (2026, 4, 5, 2, 30, 1), (2026, 4, 6, 9, 30, 0),
        (2026, 10, 3, 9, 30, 0), (2026, 10, 4, 1, 30, 0), (2026, 10, 4, 3, 30, 0), (2026, 10, 5, 9, 30, 0),
    ],
    "Europe/London": [(2026, 3, 28, 9, 0, 0), (2026, 3, 30, 9, 0, 0), (2026, 10, 24, 9, 0, 0), (2026, 10, 26, 9, 0, 0)],
    "America/Sao_Paulo": [(2026, 1, 10, 9, 0, 0), (2026, 7, 10, 9, 0, 0)],
}  # fmt: skip


def _sessions(zone: str):
    tz = ZoneInfo(zone)
    clinic = SimpleNamespace(name="Alpha Clinic", timezone=zone, tz=tz)
    patient = SimpleNamespace(given_name="Ada", family_name="Lovelace")
    out = []
    for number, (y, m, d, h, mi, fold) in enumerate(AROUND[zone], start=1):
        local = datetime(y, m, d, h, mi, fold=fold, tzinfo=tz)
        out.append(
            SimpleNamespace(
                uuid=uuid.uuid4(), clinic=clinic, patient=patient, number=number, starts_at=local.astimezone(UTC),
                duration_minutes=45, updated_at=datetime(2026, 1, 1, tzinfo=UTC), version=1, status="booked",
                is_entered_in_error=False,
            )
        )  # fmt: skip
    return out


def _feed(zone: str) -> tuple[bytes, dict[str, datetime]]:
    sessions = _sessions(zone)
    user = SimpleNamespace(get_full_name=lambda: "Dr Who", username="who")
    body = ics.staff_feed(user, sessions[0].clinic, sessions, site_url="http://example.test")
    return body, {ics.session_uid(s): s.starts_at for s in sessions}


def _by_icalendar(body: bytes) -> dict[str, datetime]:
    return {str(e["uid"]): e.decoded("dtstart").astimezone(UTC) for e in Calendar.from_ical(body).walk("VEVENT")}


def _by_vobject(body: bytes) -> dict[str, datetime]:
    cal = vobject.readOne(body.decode())
    return {e.uid.value: e.dtstart.value.astimezone(UTC) for e in cal.vevent_list}


def _by_ics(body: bytes) -> dict[str, datetime]:
    cal = ics_parser.Calendar(body.decode())
    return {e.uid: e.begin.to("UTC").datetime.astimezone(UTC) for e in cal.events}


@pytest.mark.parametrize("zone", sorted(AROUND))
@pytest.mark.parametrize("parse", [_by_icalendar, _by_vobject, _by_ics], ids=["icalendar", "vobject", "ics"])
def test_every_parser_reads_the_database_times(zone, parse):
    body, expected = _feed(zone)
    assert parse(body) == expected


@pytest.mark.parametrize("zone", ["America/Chicago", "Australia/Sydney", "Europe/London"])
def test_the_vtimezone_is_two_yearly_rules_not_a_list_of_dates(zone):
    body, _ = _feed(zone)
    text = body.decode()
    block = text[text.index("BEGIN:VTIMEZONE") : text.index("END:VTIMEZONE")]
    assert block.count("BEGIN:DAYLIGHT") == 1 and block.count("BEGIN:STANDARD") == 1
    assert block.count("RRULE:FREQ=YEARLY") == 2 and "RDATE" not in block


def test_the_chicago_rules_are_the_tz_database_rules():
    body, _ = _feed("America/Chicago")
    tz = Calendar.from_ical(body).walk("VTIMEZONE")[0]
    daylight, standard = tz.walk("DAYLIGHT")[0], tz.walk("STANDARD")[0]
    assert daylight["rrule"].to_ical() == b"FREQ=YEARLY;BYDAY=2SU;BYMONTH=3"
    assert standard["rrule"].to_ical() == b"FREQ=YEARLY;BYDAY=1SU;BYMONTH=11"
    assert daylight.decoded("dtstart") == datetime(1970, 3, 8, 2, 0)
    assert standard.decoded("dtstart") == datetime(1970, 11, 1, 2, 0)
    assert (daylight["tzname"], standard["tzname"]) == ("CDT", "CST")
    assert daylight.decoded("tzoffsetto") == timedelta(hours=-5) == standard.decoded("tzoffsetfrom")


@pytest.mark.parametrize("zone", sorted(AROUND))
def test_the_feed_has_rfc5545_structure(zone):
    body, _ = _feed(zone)
    assert body.endswith(b"\r\n") and b"\n" not in body.replace(b"\r\n", b"")
    lines = body.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in lines), "content lines are folded at 75 octets (§3.1)"
    unfolded = re.sub(r"\r\n[ \t]", "", body.decode()).split("\r\n")[:-1]
    assert unfolded[0] == "BEGIN:VCALENDAR" and unfolded[-1] == "END:VCALENDAR"
    stack = []
    for line in unfolded:  # every component closes in order (§3.4, §3.6)
        if line.startswith("BEGIN:"):
            stack.append(line[6:])
        elif line.startswith("END:"):
            assert stack.pop() == line[4:]
    assert stack == []
    cal = Calendar.from_ical(body)
    assert {"VERSION", "PRODID"} <= set(cal) and str(cal["version"]) == "2.0"
    tzids = {str(tz["tzid"]) for tz in cal.walk("VTIMEZONE")}
    for event in cal.walk("VEVENT"):
        assert {"UID", "DTSTAMP", "DTSTART"} <= set(event)  # §3.6.1
        if "TZID" in event["dtstart"].params:
            assert event["dtstart"].params["TZID"] in tzids  # §3.2.19: every TZID has its VTIMEZONE
    for tz in cal.walk("VTIMEZONE"):  # §3.6.5
        parts = tz.walk("STANDARD") + tz.walk("DAYLIGHT")
        assert parts
        for part in parts:
            assert {"DTSTART", "TZOFFSETFROM", "TZOFFSETTO"} <= set(part)
            assert part.decoded("dtstart").tzinfo is None  # local time, no TZID or Z


POSIX_CASES = [
    ("CST6CDT,M3.2.0,M11.1.0", -6, -5, (3, 2, 0, 7200), (11, 1, 0, 7200)),
    ("AEST-10AEDT,M10.1.0,M4.1.0/3", 10, 11, (10, 1, 0, 7200), (4, 1, 0, 10800)),
    ("GMT0BST,M3.5.0/1,M10.5.0", 0, 1, (3, 5, 0, 3600), (10, 5, 0, 7200)),
    ("<+1245>-12:45<+1345>,M9.5.0/2:45,M4.1.0/3:45", 12.75, 13.75, (9, 5, 0, 9900), (4, 1, 0, 13500)),
]


@pytest.mark.parametrize(("text", "std", "dst", "start", "end"), POSIX_CASES)
def test_posix_rules_are_read(text, std, dst, start, end):
    rule = parse_posix(text)
    assert rule.std_offset == timedelta(hours=std) and rule.dst_offset == timedelta(hours=dst)
    for got, (month, week, weekday, seconds) in ((rule.start, start), (rule.end, end)):
        assert (got.month, got.week, got.weekday, got.at) == (month, week, weekday, timedelta(seconds=seconds))


ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Phoenix", "America/Los_Angeles",
         "Europe/London", "Europe/Berlin", "Australia/Sydney", "Australia/Perth", "Pacific/Auckland", "Asia/Kolkata",
         "America/Sao_Paulo", "UTC"]  # fmt: skip


@pytest.mark.parametrize("zone", ZONES)
def test_the_rules_give_the_tz_database_offset_every_hour_of_two_years(zone):
    first, last = datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 12, 31, tzinfo=UTC)
    assert rule_matches(zone, posix_rule(zone), first, last)
    assert vtimezone(zone, first, last) is not None


def test_a_zone_the_rules_do_not_describe_falls_back_to_dated_transitions():
    # Morocco's tz data lists each Ramadan change by date; its POSIX footer describes only the years after them.
    first, last = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)
    assert vtimezone("Africa/Casablanca", first, last) is None
