"""One helper for every time shown: the clinic's zone and its abbreviation, whatever zone is active."""

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

from prolotrack.core import clinictime

MOMENT = datetime(2026, 12, 6, 20, 36, tzinfo=UTC)


@pytest.mark.parametrize(
    ("zone", "style", "expected"),
    [
        ("America/Chicago", "short", "2026-12-06 14:36 CST"),
        ("America/Chicago", "long", "Sunday 6 December 2026, 14:36 CST"),
        ("Pacific/Auckland", "short", "2026-12-07 09:36 NZDT"),
        ("Pacific/Honolulu", "time", "10:36 HST"),
        ("Europe/London", "short", "2026-12-06 20:36 GMT"),
        ("Asia/Dubai", "short", "2026-12-07 00:36 UTC+04"),  # tzdata has no letters for this zone
        ("Asia/Kolkata", "time", "02:06 IST"),
        ("UTC", "short", "2026-12-06 20:36 UTC"),
    ],
)
def test_a_moment_in_the_clinic_zone_with_its_abbreviation(zone, style, expected):
    assert clinictime.format_time(MOMENT, ZoneInfo(zone), style) == expected
    assert clinictime.format_time(MOMENT, zone, style) == expected


def test_daylight_saving_changes_the_abbreviation():
    july = datetime(2026, 7, 6, 20, 36, tzinfo=UTC)
    assert clinictime.format_time(july, "America/Chicago") == "2026-07-06 15:36 CDT"
    assert clinictime.format_time(july, "Pacific/Auckland") == "2026-07-07 08:36 NZST"


def test_the_active_zone_is_used_without_a_clinic_and_still_named():
    with timezone.override(ZoneInfo("Pacific/Honolulu")):
        assert clinictime.format_time(MOMENT) == "2026-12-06 10:36 HST"
    with timezone.override(None):
        assert clinictime.format_time(MOMENT) == "2026-12-06 20:36 UTC"


def test_the_clinic_day_of_a_moment_and_empty_values():
    assert clinictime.format_date(MOMENT, "Pacific/Auckland") == "7 December 2026"
    assert clinictime.format_date(date(2026, 12, 6), "Pacific/Auckland") == "6 December 2026"
    assert clinictime.format_time(None, "UTC") == "" and clinictime.format_date(None, "UTC") == ""


class _Clinic:
    tz = ZoneInfo("Pacific/Auckland")


def test_the_template_filters_take_the_clinic_whatever_zone_is_active():
    template = Template(
        "{% load prolo %}{{ t|local_time:clinic }}|{{ t|local_time_long:clinic }}|{{ t|local_clock:clinic }}|"
        "{{ t|local_date:clinic }}|{{ none|local_time:clinic }}"
    )
    with timezone.override(ZoneInfo("America/Chicago")):
        out = template.render(Context({"t": MOMENT, "clinic": _Clinic(), "none": None}))
    assert out == "2026-12-07 09:36 NZDT|Monday 7 December 2026, 09:36 NZDT|09:36 NZDT|7 December 2026|"


def test_staff_pages_use_the_active_zone_and_the_audit_trail_keeps_seconds():
    template = Template('{% load prolo %}{{ t|local_time }}|{{ t|local_time:"seconds" }}|{{ t|local_clock }}')
    with timezone.override(ZoneInfo("America/Chicago")):
        out = template.render(Context({"t": MOMENT.replace(second=5)}))
    assert out == "2026-12-06 14:36 CST|2026-12-06 14:36:05 CST|14:36 CST"
