"""Every date a patient reads is written in the language's own words and order (core/clinictime.py; docs/LANGUAGES.md,
"Dates"): "Tuesday 22 December 2026" in English, "martes, 22 de diciembre de 2026" in Spanish (not the bare
"martes 22 diciembre 2026" of Django's date filter with an English format), in the clinic's zone, far from UTC."""

import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from django.template import Context, Template
from django.utils import timezone, translation

from prolotrack.core import clinictime

DAYS = [
    # (day, English, Spanish)
    (date(2026, 12, 22), "Tuesday 22 December 2026", "martes, 22 de diciembre de 2026"),
    (date(2027, 1, 1), "Friday 1 January 2027", "viernes, 1 de enero de 2027"),
    (date(2027, 3, 7), "Sunday 7 March 2027", "domingo, 7 de marzo de 2027"),
    (date(2027, 6, 30), "Wednesday 30 June 2027", "miércoles, 30 de junio de 2027"),
    (date(2027, 9, 4), "Saturday 4 September 2027", "sábado, 4 de septiembre de 2027"),
]

# (UTC moment, zone, English, Spanish): the clinic's day and time, never UTC's; Auckland is a day ahead of UTC,
# Honolulu a day behind in the evening, and Auckland's daylight saving changes its abbreviation.
MOMENTS = [
    (datetime(2026, 12, 21, 20, 30, tzinfo=UTC), "Pacific/Auckland",
     "Tuesday 22 December 2026, 09:30 NZDT", "martes, 22 de diciembre de 2026, 09:30 NZDT"),
    (datetime(2027, 6, 30, 21, 0, tzinfo=UTC), "Pacific/Auckland",
     "Thursday 1 July 2027, 09:00 NZST", "jueves, 1 de julio de 2027, 09:00 NZST"),
    (datetime(2026, 12, 23, 2, 15, tzinfo=UTC), "Pacific/Honolulu",
     "Tuesday 22 December 2026, 16:15 HST", "martes, 22 de diciembre de 2026, 16:15 HST"),
    (datetime(2027, 1, 1, 3, 0, tzinfo=UTC), "America/Chicago",
     "Thursday 31 December 2026, 21:00 CST", "jueves, 31 de diciembre de 2026, 21:00 CST"),
]  # fmt: skip


@pytest.mark.parametrize(("day", "english", "spanish"), DAYS)
def test_a_day_is_written_as_each_language_writes_it(day: date, english: str, spanish: str) -> None:
    for lang, expected in (("en", english), ("es", spanish)):
        with translation.override(lang):
            assert clinictime.written_day(day) == expected
            without_year = expected.rsplit(" de " if lang == "es" else " ", 1)[0]
            assert clinictime.written_day_no_year(day) == without_year


@pytest.mark.parametrize(("moment", "zone", "english", "spanish"), MOMENTS)
def test_a_moment_is_written_in_the_clinics_zone_in_each_language(
    moment: datetime, zone: str, english: str, spanish: str
) -> None:
    for lang, expected in (("en", english), ("es", spanish)):
        with translation.override(lang):
            assert clinictime.format_time(moment, zone, "long") == expected
            day, clock = expected.rsplit(", ", 1)
            year = " de " + day.rsplit(" de ", 1)[1] if lang == "es" else " " + day.rsplit(" ", 1)[1]
            assert clinictime.format_time(moment, zone, "long_no_year") == f"{day.removesuffix(year)}, {clock}"
            assert clinictime.written_day(moment, zone) == day


@pytest.mark.parametrize(("moment", "zone", "english", "spanish"), MOMENTS)
def test_the_template_filters_write_the_same_in_the_active_zone(
    moment: datetime, zone: str, english: str, spanish: str
) -> None:
    page = Template("{% load prolo %}{{ m|local_day }}|{{ m|local_time_long }}|{{ m|local_day_no_year }}")
    for lang, expected in (("en", english), ("es", spanish)):
        with translation.override(lang), timezone.override(zone):
            day = expected.rsplit(", ", 1)[0]
            shown = page.render(Context({"m": moment})).split("|")
            assert shown[:2] == [day, expected]
            assert shown[2] in day and shown[2] != day  # the year left out


# The patient's pages (the intake's staff pages, appointment/patient/review, and outcomes' staff pages are English).
PATIENT_TEMPLATES = ["booking/public/*.html", "booking/manage/*.html", "booking/waitlist_join/*.html",
                     "booking/waitlist_offer.html", "intake/step_*.html", "intake/start.html", "intake/check.html",
                     "intake/saved.html", "intake/thanks.html", "intake/closed.html", "outcomes/q_*.html"]  # fmt: skip
NAMES_IN_FORMAT = re.compile(r"""\|date:\s*["']([^"']*[lFDMNEbP][^"']*)["']""")


def test_no_patient_template_writes_a_date_with_djangos_date_filter_and_names() -> None:
    """Django's `date` filter with "l j F Y" writes "martes 22 diciembre 2026" in Spanish: patient templates use the
    `local_day`, `local_day_no_year`, `local_time_long` and `local_time_no_year` filters instead."""
    root = Path(__file__).resolve().parents[2] / "templates"
    paths = [p for pattern in PATIENT_TEMPLATES for p in sorted(root.glob(pattern))]
    assert len(paths) > 40
    offenders = [f"{p.relative_to(root)}: {m}" for p in paths for m in NAMES_IN_FORMAT.findall(p.read_text())]
    assert offenders == []
