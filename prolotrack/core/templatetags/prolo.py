from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django import template
from django.utils import timezone

from prolotrack.core import clinictime, labels, language
from prolotrack.domain.mixing import VOLUME_STEP

register = template.Library()


@register.filter
def age(born: date | None) -> str:
    """Age in whole years today."""
    if born is None:
        return ""
    today = timezone.localdate()
    return str(today.year - born.year - ((today.month, today.day) < (born.month, born.day)))


@register.filter
def person(user: Any, empty: str = "—") -> str:
    """A user's full name, else username, else `empty` when there is nobody (an optional field left empty).

    Use `{{ course.clinician|person }}` rather than `x.get_full_name|default:x.username`: a filter *argument* that
    cannot be resolved (x is None) raises VariableDoesNotExist and the page answers 500 (issue 11)."""
    if user is None or user == "":
        return empty
    return (getattr(user, "get_full_name", lambda: "")() or getattr(user, "username", "") or empty).strip() or empty


# Times: one helper (core/clinictime.py), in the clinic's zone with its abbreviation. The argument is the clinic (or
# a zone); without it the active zone is used (the clinic's, on staff pages).
@register.filter
def local_time(value: datetime | None, where: Any = None) -> str:
    """'2026-12-06 14:36 CST'; `local_time:"seconds"` adds the seconds (in the active zone)."""
    if isinstance(where, str) and where in clinictime.STYLES:
        return clinictime.format_time(value, None, where)
    return clinictime.format_time(value, where, "short")


@register.filter
def local_time_long(value: datetime | None, where: Any = None) -> str:
    """'Sunday 6 December 2026, 14:36 CST'."""
    return clinictime.format_time(value, where, "long")


@register.filter
def local_time_no_year(value: datetime | None, where: Any = None) -> str:
    """'Sunday 6 December, 14:36 CST': a time in the days ahead on a patient page."""
    return clinictime.format_time(value, where, "long_no_year")


@register.filter
def local_clock(value: datetime | None, where: Any = None) -> str:
    """'14:36 CST'."""
    return clinictime.format_time(value, where, "time")


@register.filter
def local_date(value: datetime | date | None, where: Any = None) -> str:
    """'6 December 2026': the clinic's calendar day of a moment."""
    return clinictime.format_date(value, where, "long")


@register.filter
def local_day(value: datetime | date | None, where: Any = None) -> str:
    """'Sunday 6 December 2026' ('domingo, 6 de diciembre de 2026'): the day written out, as patients read it."""
    return clinictime.format_date(value, where, "day")


@register.filter
def local_day_no_year(value: datetime | date | None, where: Any = None) -> str:
    """'Sunday 6 December' ('domingo, 6 de diciembre')."""
    return clinictime.format_date(value, where, "day_no_year")


@register.filter(name="label")
def label_filter(code: object, vocabulary: str) -> str:
    """The display name of a stored code: {{ site.side|label:"laterality" }} (core/labels.py)."""
    return labels.label(code, vocabulary)


@register.filter
def ml(value: object) -> str:
    """A volume with two decimals, as every syringe is read: {{ site.volume_ml|ml }} mL gives "2.00 mL"."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    return format(number.quantize(VOLUME_STEP, rounding=ROUND_HALF_UP), "f")


@register.inclusion_tag("core/language_switch.html", takes_context=True)
def language_switch(context: Any) -> dict[str, Any]:
    """The language switch of a patient page (core/language.py): links to this page in each language."""
    request = context.get("request")
    return {"languages": language.switch_links(request) if request is not None else []}
