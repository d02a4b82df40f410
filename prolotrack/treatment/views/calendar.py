"""The appointment calendar: a day or a week of booked sessions, one clinician or all, and the sessions to book."""

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from prolotrack.audit.services import record_disclosure
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import can, require
from prolotrack.patients import queries as patient_queries
from prolotrack.treatment import hooks, present, queries
from prolotrack.treatment.views.common import today

# The side list shows planned sessions due within this many days (and overdue ones) that are not booked yet.
UNBOOKED_DAYS = 14


def _asked(request: HttpRequest, day: date, clinicians: list[Any]) -> tuple[str, date, str, Any, str]:
    """The view, day and clinician asked for, each falling back with a word of why: (view, day, username, user, problem)."""
    view = request.GET.get("view", "week")
    if view not in ("day", "week"):
        view = "week"
    text = request.GET.get("date", "").strip()
    chosen = patient_queries.parse_date(text) if text else day
    problem = ""
    if chosen is None:
        problem, chosen = f"'{text}' is not a date: use YYYY-MM-DD. Showing today.", day
    username = request.GET.get("clinician", "")
    clinician = next((u for u in clinicians if u.username == username), None)
    if username and clinician is None:
        problem = f"No clinician '{username}' in this clinic: showing everyone."
        username = ""
    return view, chosen, username, clinician, problem


@dataclass
class Shown:
    """What the calendar's main part shows: the days with their appointments placed and printed, the week's style
    rules, the booking link, and for a whole clinic's day too busy to list as one, its lines by clinician."""

    days: list[present.CalendarDay]
    css: str
    book_url: str
    count: int  # every appointment of the days, drawn or not
    by_clinician: list[present.ClinicianDayRow] | None = None


def _appointments(
    request: ClinicRequest, first: date, length: int, clinician: Any, clinicians: list[Any], *, grid: bool,
    clinical: bool,
) -> Shown:  # fmt: skip
    """The week draws no day fuller than present.DAY_CAP (counted first, its rows not read); the day view lists every
    one, or for the whole clinic past present.DAY_LIST_CAP, a line per clinician (counted, not read) and in full the
    appointments with no clinician to choose."""
    clinic = request.clinic
    # Assessments and follow-ups of the booking app (above treatment in the layers: a hook, docs/ARCHITECTURE.md).
    visits, book_url = hooks.calendar_visits(clinic, first, length, clinician)
    counts = queries.calendar_day_counts(clinic, first, length, clinician) if grid or clinician is None else []
    by_clinician, not_with = None, None
    if grid:
        over = present.days_over(first, counts, visits, clinic.tz, cap=present.DAY_CAP)
    else:
        over = frozenset()
        if clinician is None and counts[0] + len(visits) > present.DAY_LIST_CAP:
            groups = queries.calendar_day_by_clinician(clinic, first)
            active = [u.username for u in clinicians]
            by_clinician, visits = present.day_by_clinician(groups, visits, clinic.tz, active)
            not_with = [u.pk for u in clinicians]
    rows = queries.calendar_rows(clinic, first, length, clinician, skip=over, not_with=not_with)
    days = present.calendar_days(rows, first, length, clinic.tz, visits, counts=counts, over=over)
    back = quote(request.get_full_path())  # as |urlencode quotes
    can_book = can(request, Permission.SCHEDULE_MANAGE)
    css = present.label_appointments(days, clinical=clinical, can_book=can_book, back=back, grid=grid)
    count = sum(d.count for d in days) + sum(line.count for line in by_clinician or ())
    return Shown(days, css, book_url if can_book else "", count, by_clinician)


def _audit(
    request: ClinicRequest, detail: dict[str, Any], days: list[present.CalendarDay], unbooked: list[Any]
) -> None:
    """One event per patient whose name the page prints (audit.services.record_disclosure: one insert), or one
    naming nobody: the appointments drawn or listed (a day over the week's cap is not drawn; a day shown by clinician
    lists only those with no clinician to choose), the booking app's visits of patients (a person who booked online
    has no chart to name), and the "To book" list as far as it is shown. The appointments are rows of values:
    their patients are named by the uuids read with them, with no statement more."""
    drawn = patient_queries.known_by_uuid(a.session.patient_uuid for d in days for a in d.appointments)
    visits = [v.visit.patient for d in days for v in d.visits if not v.visit.pending]
    listed = [s.patient for s in unbooked[: queries.UNBOOKED_SHOWN]]
    record_disclosure(actor_for(request), "treatment.calendar.viewed", [*drawn, *visits, *listed], detail=detail)


@require(Permission.SCHEDULE_VIEW)
def calendar(request: ClinicRequest) -> HttpResponse:
    clinic = request.clinic
    day = today(request)
    clinicians = queries.clinicians(clinic)
    view, chosen, username, clinician, problem = _asked(request, day, clinicians)
    first = chosen - timedelta(days=chosen.weekday()) if view == "week" else chosen
    length = 7 if view == "week" else 1
    clinical = can(request, Permission.COURSE_VIEW)
    shown = _appointments(request, first, length, clinician, clinicians, grid=view == "week", clinical=clinical)
    days = shown.days
    step, until = timedelta(days=length), day + timedelta(days=UNBOOKED_DAYS)
    unbooked = queries.unbooked_sessions(clinic, until)
    _audit(request, {"start": first.isoformat(), "days": length, "view": view, "clinician": username}, days, unbooked)
    context = {
        "view": view,
        "chosen": chosen,
        "today": day,
        "days": days,
        "css": shown.css,
        "by_clinician": shown.by_clinician,
        "by_clinician_rows": present.by_clinician_html(shown.by_clinician or (), first),
        "day_list_cap": present.DAY_LIST_CAP,
        "full_days": [d for d in days if d.not_drawn],
        "day_cap": present.DAY_CAP,
        "first": first,
        "last": first + timedelta(days=length - 1),
        "previous": first - step,
        "following": first + step,
        "hours": present.HOURS,
        "clinicians": clinicians,
        "clinician": username,
        "unbooked": unbooked[: queries.UNBOOKED_SHOWN],
        "more_unbooked": len(unbooked) > queries.UNBOOKED_SHOWN,
        "until": until,
        "problem": problem,
        "clinical": clinical,
        "count": shown.count,
        "book_url": shown.book_url,
    }
    return render(request, "treatment/calendar.html", context)
