"""Every time shown to anyone is in the clinic's time zone, with its abbreviation ("14:36 CST", "09:30 NZDT").

One helper for templates (the `local_time`, `local_time_long` and `local_date` filters in core/templatetags/prolo.py)
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
    "time": "H:i",  # 14:36 CST
    "seconds": "Y-m-d H:i:s",  # the audit trail: 2026-12-06 14:36:05 CST
}
DATE_STYLES: dict[str, str] = {"short": "Y-m-d", "long": "j F Y"}


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


def _format(style: str, styles: dict[str, str]) -> str:
    """The format of a style; the long ones (patient pages and documents) in the active language's word order
    ("lunes 7 de diciembre de 2026" on a Spanish patient page; staff pages are always English)."""
    if style == "long" and styles is STYLES:
        return pgettext("long date and time", "l j F Y, H:i")
    if style == "long":
        return pgettext("long date", "j F Y")
    return styles[style]
