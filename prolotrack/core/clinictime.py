"""Every time shown to anyone is in the clinic's time zone, with its abbreviation ("14:36 CST", "09:30 NZDT").

One helper for templates (the `local_time`, `local_time_long`, `local_date` and `local_day` filters in core/templatetags/prolo.py)
and for Python code that writes times into text (handout placeholders, documents). The zone is given (a clinic, a
ZoneInfo or a zone name); without one, the active zone is used (the clinic's on staff pages: ClinicMiddleware), and
the abbreviation always says which zone the reader sees, so a page rendered without a clinic cannot pass UTC off as
clinic time. A zone without a letter abbreviation (tzdata writes "+04") reads "UTC+04".
"""

import zoneinfo
from datetime import date, datetime, tzinfo
from typing import Any

from django.utils import dateformat, timezone
from django.utils.translation import pgettext

# The formats (Django date format strings), by style.
STYLES: dict[str, str] = {
    "short": "Y-m-d H:i",  # staff pages and record footers: 2026-12-06 14:36 CST
    "long": "l j F Y, H:i",  # patient pages and documents: Sunday 6 December 2026, 14:36 CST
    "long_no_year": "l j F, H:i",  # patient pages, a time in the days ahead: Sunday 6 December, 14:36 CST
    "time": "H:i",  # 14:36 CST
    "seconds": "Y-m-d H:i:s",  # the audit trail: 2026-12-06 14:36:05 CST
}
DATE_STYLES: dict[str, str] = {
    "short": "Y-m-d",
    "long": "j F Y",  # 6 December 2026
    "day": "l j F Y",  # patient pages and messages: Sunday 6 December 2026
    "day_no_year": "l j F",  # Sunday 6 December
}


def zone_of(where: Any = None) -> tzinfo:
    """The zone to show times in: a clinic's (anything with .tz), a ZoneInfo, a zone name, else the active zone."""
    if where is None or where == "":
        return timezone.get_current_timezone()
    if isinstance(where, tzinfo):
        return where
    if isinstance(where, str):
        return zoneinfo.ZoneInfo(where)
    return where.tz


def abbreviation(moment: datetime) -> str:
    """The zone's abbreviation at that moment (daylight saving included): CST, NZDT, HST; UTC+04 where tzdata has none."""
    name = moment.tzname() or "UTC"
    if name[:1] in "+-":
        name = f"UTC{name}"
    return name


def local(value: datetime, where: Any = None) -> datetime:
    """The moment in the clinic's zone (a naive value is taken as UTC, as the database stores it)."""
    if timezone.is_naive(value):
        value = timezone.make_aware(value, zoneinfo.ZoneInfo("UTC"))
    return timezone.localtime(value, zone_of(where))


def format_time(value: datetime | None, where: Any = None, style: str = "short") -> str:
    """A moment as the clinic reads it, with the zone's abbreviation; '' for None."""
    if value is None or value == "":
        return ""
    moment = local(value, where)
    return f"{dateformat.format(moment, _format(style, STYLES))} {abbreviation(moment)}"


def format_date(value: datetime | date | None, where: Any = None, style: str = "long") -> str:
    """The clinic's calendar date of a moment (a date is shown as it is); '' for None."""
    if value is None or value == "":
        return ""
    day = local(value, where).date() if isinstance(value, datetime) else value
    return dateformat.format(day, _format(style, DATE_STYLES))


def written_day(value: datetime | date, where: Any = None) -> str:
    """'Tuesday 22 December 2026', 'martes, 22 de diciembre de 2026': the day as a patient reads it, on a page or in
    a message, in the active language (a moment: its calendar day in the clinic's zone)."""
    return format_date(value, where, "day")


def written_day_no_year(value: datetime | date, where: Any = None) -> str:
    """'Tuesday 22 December', 'martes, 22 de diciembre': a day in the weeks ahead, where the year goes without saying."""
    return format_date(value, where, "day_no_year")


def _format(style: str, styles: dict[str, str]) -> str:
    """The format of a style; the written ones (patient pages, messages and documents) in the active language's
    words and order ("martes, 22 de diciembre de 2026" on a Spanish patient page; staff pages are always English).

    Django's own Spanish DATE_FORMAT has no weekday, so each written format is a translatable string (the Spanish
    catalogue holds "l, j \\d\\e F \\d\\e Y": the weekday, a comma, "de" before the month and the year); a new
    language translates each of them (docs/LANGUAGES.md, "Dates")."""
    if styles is STYLES and style in WRITTEN_TIME:
        return WRITTEN_TIME[style]()
    if styles is DATE_STYLES and style in WRITTEN_DATE:
        return WRITTEN_DATE[style]()
    return styles[style]


WRITTEN_TIME = {
    "long": lambda: pgettext("long date and time", "l j F Y, H:i"),
    "long_no_year": lambda: pgettext("date and time, the year left out", "l j F, H:i"),
}
WRITTEN_DATE = {
    "long": lambda: pgettext("long date", "j F Y"),
    "day": lambda: pgettext("date written out in a patient message", "l j F Y"),
    "day_no_year": lambda: pgettext("date written out, the year left out", "l j F"),
}
