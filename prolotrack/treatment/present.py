"""The treatment pages' shaping: what a page shows, built from what treatment.queries read (no query here).

The views call a query, then one of these, then render: the running totals panel, the session page's context, the
calendar's columns and the words of the confirmation pages (closing a course, cancelling a session).
"""

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from html import escape
from typing import Any
from urllib.parse import quote

from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import mark_safe

from prolotrack.audit.queries import csv_cell
from prolotrack.clinical.present import volume
from prolotrack.domain.agents import Agent
from prolotrack.domain.anaesthetic import max_dose
from prolotrack.domain.errors import DomainError
from prolotrack.domain.quantities import fmt
from prolotrack.domain.session import checklist_for
from prolotrack.domain.stock import product_label
from prolotrack.treatment import maps, queries
from prolotrack.treatment.forms import (
    CHECKLIST_LABELS,
    BookForm,
    ChecklistForm,
    ObservationsForm,
    RescreenForm,
    SessionHeaderForm,
    SignForm,
    SiteForm,
    SolutionForm,
)
from prolotrack.treatment.models import (
    ChecklistEntry,
    Course,
    CourseStatus,
    InjectionSite,
    PreparedSolution,
    SessionStatus,
    TreatmentSession,
)


def plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# --- The course page -----------------------------------------------------------------------------------------------


def timepoint_answer_status(timepoint: Any, today: date, overdue_after_days: int) -> tuple[str, str]:
    """What the course page says of a timepoint's questionnaires: (text, badge class).

    Overdue after the clinic's questionnaire_overdue_days setting, as the overdue reminder counts it."""
    if timepoint.answered:
        n = timepoint.answered
        return (f"Answered ({n} questionnaire{'s' if n != 1 else ''})", "status-done")
    if timepoint.started:
        return ("Started, not finished", "status-booked")
    if timepoint.due_on > today:
        return ("Not due yet", "status-planned")
    if (today - timepoint.due_on).days > overdue_after_days:
        return ("Not answered (overdue)", "status-no_show")
    return ("Due now", "status-booked")


def next_session(course: Course) -> TreatmentSession | None:
    upcoming = [
        s
        for s in course.sessions.all()
        if s.status in (SessionStatus.PLANNED, SessionStatus.BOOKED) and not s.is_entered_in_error
    ]
    return upcoming[0] if upcoming else None


def course_rows(courses: list[Course]) -> list[dict[str, Any]]:
    """The chart card's lines: each course with its next session and how many sessions it has."""
    return [{"course": c, "next": next_session(c), "count": len(c.sessions.all())} for c in courses]


def course_initial(complaint: Any, clinicians: list[Any], screenings: list[Any], username: str) -> dict[str, Any]:
    """A new course starts from the latest presenting complaint, the signed-in clinician and the latest screening."""
    initial: dict[str, Any] = {}
    if complaint is not None:
        initial["region"] = complaint.body_region
        if complaint.laterality in ("left", "right", "bilateral", "midline"):
            initial["side"] = complaint.laterality
        initial["indication"] = complaint.description
    if username in {u.username for u in clinicians}:
        initial["clinician"] = username
    if screenings:
        initial["screening"] = str(screenings[0].uuid)
    return initial


@dataclass
class SessionRow:
    session: TreatmentSession
    book_form: BookForm
    open_form: str = ""

    @property
    def bookable(self) -> bool:
        return self.session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED)


def book_initial(session: TreatmentSession, clinic: Any) -> dict[str, Any]:
    initial: dict[str, Any] = {
        "day": session.planned_on,
        "time": time(9, 0),
        "clinician": session.clinician.username if session.clinician else "",
        "duration_minutes": session.duration_minutes,
        "version": session.version,
    }
    if session.starts_at is not None:
        local = timezone.localtime(session.starts_at, clinic.tz)
        initial["day"], initial["time"] = local.date(), local.time().replace(second=0, microsecond=0)
    return initial


def session_rows(page: queries.CoursePage, clinic: Any, clinicians: list[Any]) -> list[SessionRow]:
    return [
        SessionRow(
            session=s,
            book_form=BookForm(initial=book_initial(s, clinic), clinicians=clinicians, auto_id=f"b{s.number}-%s"),
        )
        for s in page.sessions
    ]


def close_course_page(course: Course, impact: queries.CloseImpact) -> dict[str, Any]:
    """The words of the confirmation page of closing a course: what changes, what stays, the button."""
    outcome = impact.outcome
    back = reverse("treatment:course", args=[course.uuid])
    closes_as = "completed" if outcome.outcome.value == CourseStatus.COMPLETED else "stopped early"
    changes = [
        f"The course closes as {closes_as}: {outcome.required_done} of {outcome.required} required sessions done"
        f" ({plural(outcome.done, 'session')} done in all). The outcome follows from the sessions done; "
        "it is not chosen here.",
        f"{plural(len(impact.to_cancel), 'session')} not yet done will be cancelled"
        + (
            ": " + ", ".join(f"session {s.number} ({s.planned_on:%Y-%m-%d})" for s in impact.to_cancel)
            if impact.to_cancel
            else ""
        )
        + ".",
        f"{plural(impact.reminders, 'reminder')} still to be sent about them will be cancelled.",
        "No session can be added or booked afterwards; a new course is needed for more treatment.",
    ]
    keeps = [
        f"{plural(impact.links, 'questionnaire link')} of this course stay open: follow-up outcomes are still "
        "collected after a course closes.",
        "Signed session notes, consents and adverse events do not change.",
    ]
    already = (
        "" if course.status == CourseStatus.OPEN else f"This course is already {course.get_status_display().lower()}."
    )
    return {
        "title": "Close the course",
        "patient": course.patient,
        "crumbs": [(back, f"Course: {course.indication}")],
        "record": str(course),
        "changes": changes,
        "keeps": keeps,
        "button": f"Close the course as {closes_as}",
        "back_url": back,
        "already": already,
    }


def attendance_page(session: TreatmentSession, status: str, reminders: int) -> dict[str, Any]:
    """The words of the confirmation page of cancelling a session or marking a no-show."""
    what = "a no-show" if status == SessionStatus.NO_SHOW else "cancelled"
    when = (
        timezone.localtime(session.starts_at, session.clinic.tz).strftime("%Y-%m-%d %H:%M")
        if session.starts_at
        else f"planned for {session.planned_on:%Y-%m-%d}"
    )
    already = (
        ""
        if session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED)
        else f"This session is {session.get_status_display().lower()}: it cannot be marked {what}."
    )
    return {
        "title": "Mark a no-show" if status == SessionStatus.NO_SHOW else "Cancel the session",
        "patient": session.patient,
        "record": f"Session {session.number} of {session.course.indication}, {when}",
        "changes": [
            f"Session {session.number} is marked {what}; it cannot be booked or recorded afterwards.",
            f"{plural(reminders, 'reminder')} still to be sent about it will be cancelled.",
        ],
        "keeps": ["The course stays open: add a session to the plan if it is still needed."],
        "button": f"Mark session {session.number} {what}",
        "already": already,
    }


# --- The calendar --------------------------------------------------------------------------------------------------

DAY_START_HOUR, DAY_END_HOUR = 7, 19

# The most appointments (sessions and booking visits) one day's column of the week draws. Product choice: eight
# clinicians' full days of the bench's working week (ten 45-minute sessions: bench/README.md); past it the column's
# side-by-side lanes are too narrow to read and the page's time grows with every block. A fuller day is not drawn at
# all (never cut part-way, which would look like free time): its column and a notice above the week say how many it
# holds and link to the day, which lists every one (docs/PERFORMANCE.md, "The calendar's week and the session
# record (session 10)").
DAY_CAP = 80

# The most appointments the day view lists as one list for the whole clinic. Product choice: twenty clinicians' full
# days of the bench's working week; a network-size clinic's day (about 1,500 at 100,000 patients: docs/PERFORMANCE.md,
# "Network size again (session 11)") is no list to read. Past it the day is shown by clinician: each with how many
# appointments and the first and last start, a link to their day, and the appointments with no clinician to choose
# listed below in full (never a silent gap). A clinician's own day is always listed whole.
DAY_LIST_CAP = 200


@dataclass
class ClinicianDayRow:
    """One line of a day shown by clinician: the clinician's sessions and booking visits of the day."""

    username: str  # "" when not an active clinician of the clinic (no link: their appointments are listed below)
    name: str
    count: int
    first: datetime
    last: datetime


def day_by_clinician(
    groups: Sequence[queries.ClinicianDay], visits: Sequence[Any], tz: Any, active: Sequence[str]
) -> tuple[list[ClinicianDayRow], list[Any]]:
    """The day's lines by clinician (sessions counted by `queries.calendar_day_by_clinician` and the booking app's
    visits), active clinicians by name, and the visits that belong to none of them (listed in full by the page).
    Groups of no or no longer active clinicians get no line: their sessions are listed in full too."""
    lines: dict[str, ClinicianDayRow] = {}
    for g in groups:
        if g.username in active:
            first, last = timezone.localtime(g.first, tz), timezone.localtime(g.last, tz)
            lines[g.username] = ClinicianDayRow(g.username, g.name, g.sessions, first, last)
    left = []
    for v in visits:
        username = getattr(v.clinician, "username", "")
        if username not in active:
            left.append(v)
            continue
        start = timezone.localtime(v.start, tz)
        line = lines.get(username)
        if line is None:
            name = f"{v.clinician.first_name} {v.clinician.last_name}".strip() or username
            lines[username] = ClinicianDayRow(username, name, 1, start, start)
        else:
            line.count += 1
            line.first, line.last = min(line.first, start), max(line.last, start)
    return sorted(lines.values(), key=lambda line: (line.name.casefold(), line.username)), left


def by_clinician_html(lines: Sequence[ClinicianDayRow], day: date) -> str:
    """The day's lines by clinician as table rows, printed here rather than by the template: a network clinic has
    hundreds of clinicians, and the template's filters a row (date, two times, a number) were most of the page
    (docs/PERFORMANCE.md, "Network size again (session 11)")."""
    rows = []
    for line in lines:
        href = escape(f"?view=day&date={day:%Y-%m-%d}&clinician={quote(line.username)}")
        rows.append(
            f'<tr><td><a href="{href}">{escape(line.name)}</a></td>'
            f'<td class="num" data-label="Appointments">{line.count:,}</td>'
            f'<td data-label="First">{line.first:%H:%M}</td><td data-label="Last">{line.last:%H:%M}</td></tr>'
        )
    return mark_safe("".join(rows))  # noqa: S308 - names escaped above, the rest numbers and times


@dataclass
class Appointment:
    session: queries.CalendarRow
    start: datetime
    end: datetime
    top: float = 0.0
    height: float = 0.0
    outside: bool = False
    # What the calendar shows, worked out once here (label_appointments): a busy week has hundreds of appointments
    # and per-item template logic (url tags, filters, display lookups) was most of the page's time.
    href: str = ""
    name: str = ""
    times: str = ""
    meta: str = ""
    # The appointment's link as the page prints it, and its place in the week's grid as a style rule (the policy
    # refuses style attributes: docs/SECURITY.md): made once here, as format_html escapes each text.
    html: str = ""
    css: str = ""
    lane_css: str = ""  # side by side with those it overlaps: `side_by_side`


@dataclass
class Visit:
    """An appointment of the booking app (hooks.CalendarVisit) placed in the day's column."""

    visit: Any
    start: datetime
    end: datetime
    top: float = 0.0
    height: float = 0.0
    outside: bool = False
    lane_css: str = ""


@dataclass
class CalendarDay:
    day: date
    appointments: list[Appointment] = field(default_factory=list)
    visits: list[Visit] = field(default_factory=list)
    not_drawn: int = 0  # a day over DAY_CAP on the week: how many it holds, none of them drawn
    html: str = ""  # the appointments' links, printed once (label_appointments)

    @property
    def count(self) -> int:
        return len(self.appointments) + len(self.visits) + self.not_drawn


def place(appointment: Appointment | Visit) -> None:
    """Where the appointment sits in the 07:00-19:00 column, as percentages."""
    span = (DAY_END_HOUR - DAY_START_HOUR) * 60
    start = (appointment.start.hour - DAY_START_HOUR) * 60 + appointment.start.minute
    minutes = max(int((appointment.end - appointment.start).total_seconds() // 60), 15)
    appointment.outside = start < 0 or start + minutes > span
    start = min(max(start, 0), span - 15)
    appointment.top = round(start / span * 100, 3)
    appointment.height = round(min(minutes, span - start) / span * 100, 3)


# A block is at least 46 px high on the week's grid (64 px an hour: treatment.css), so a short appointment takes the
# room of about 45 minutes: lanes are worked out on what is seen.
SHOWN_MINUTES = 45


def side_by_side(items: Sequence[Appointment | Visit]) -> None:
    """Put appointments that overlap on the day's column side by side, as calendars do: each group of blocks that
    overlap one another (directly or through a chain) shares the column's width in as many lanes as it needs at its
    busiest, each block in the first lane free at its start. A block that overlaps nothing keeps the whole width
    (`lane_css` empty)."""
    group: list[tuple[Appointment | Visit, int]] = []
    lane_ends: list[datetime] = []
    group_end: datetime | None = None

    def close() -> None:
        for item, lane in group:
            if len(lane_ends) > 1:
                width = 100 / len(lane_ends)
                item.lane_css = f" left: calc({lane * width:.3f}% + 2px); width: calc({width:.3f}% - 4px); right: auto;"

    for item in sorted(items, key=lambda i: (i.start, i.end)):
        shown_end = max(item.end, item.start + timedelta(minutes=SHOWN_MINUTES))
        if group_end is not None and item.start >= group_end:
            close()
            group, lane_ends, group_end = [], [], None
        lane = next((n for n, end in enumerate(lane_ends) if end <= item.start), len(lane_ends))
        if lane == len(lane_ends):
            lane_ends.append(shown_end)
        else:
            lane_ends[lane] = shown_end
        group.append((item, lane))
        group_end = shown_end if group_end is None else max(group_end, shown_end)
    close()


def days_over(first: date, counts: Sequence[int], visits: Sequence[Any], tz: Any, *, cap: int) -> frozenset[int]:
    """The days (0 = `first`) holding more than `cap` appointments: `counts` sessions a day
    (queries.calendar_day_counts) and the booking visits."""
    held = list(counts)
    for v in visits:
        n = (timezone.localtime(v.start, tz).date() - first).days
        if 0 <= n < len(held):
            held[n] += 1
    return frozenset(n for n, c in enumerate(held) if c > cap)


def calendar_days(
    sessions: list[queries.CalendarRow],
    first: date,
    length: int,
    tz: Any,
    visits: Sequence[Any] = (),
    *,
    counts: Sequence[int] = (),
    over: frozenset[int] = frozenset(),
) -> list[CalendarDay]:
    """The days shown, each with its appointments placed in the day's column; a day in `over` draws none and says
    how many it holds (`not_drawn`: its `counts` sessions and its visits)."""
    days = [CalendarDay(first + timedelta(days=n)) for n in range(length)]
    by_day = {d.day: d for d in days}
    for s in sessions:
        start = s.starts_at.astimezone(tz)
        appointment = Appointment(s, start, start + timedelta(minutes=s.duration_minutes))
        place(appointment)
        if start.date() in by_day:
            by_day[start.date()].appointments.append(appointment)
    full = {days[n].day for n in over}
    for n in over:
        days[n].not_drawn = counts[n]
    for v in visits:
        start = timezone.localtime(v.start, tz)
        day = by_day.get(start.date())
        if day is not None and day.day in full:
            day.not_drawn += 1
        elif day is not None:
            visit = Visit(v, start, start + timedelta(minutes=v.minutes))
            place(visit)
            day.visits.append(visit)
    for day in days:
        side_by_side([*day.appointments, *day.visits])
    return days


HOURS = [f"{h:02d}:00" for h in range(DAY_START_HOUR, DAY_END_HOUR)]


def label_appointments(
    days: list[CalendarDay], *, clinical: bool, can_book: bool, back: str, grid: bool = False
) -> str:
    """Fill each appointment's link and texts and each day's printed links (`html`: with the id the week's style rule
    places, when `grid`, else each in a list item); return the week's style rules (when `grid`). The link: the session
    record for clinical staff, else its booking page (back to `back`, an already quoted path) for those who manage
    the schedule, else the patient's chart.

    Printed here, a day at a time, rather than by the template a block at a time: a busy week has hundreds, and the
    template's per-block work (an include's context and lookups at first, then its loop and two variables a block)
    was most of the page's time (docs/PERFORMANCE.md, "Calendar")."""
    marker = "00000000-0000-0000-0000-000000000000"
    if clinical:
        pattern, suffix = reverse("treatment:session", args=[marker]), ""
    elif can_book:
        pattern, suffix = reverse("treatment:session-book", args=[marker]), f"?next={back}"
    else:
        pattern, suffix = reverse("patients:chart", args=[marker]), ""
    css = []
    for day in days:
        links = []
        for a in day.appointments:
            s = a.session
            target = s.uuid if clinical or can_book else s.patient_uuid
            a.href = pattern.replace(marker, str(target)) + suffix
            a.name = f"{s.family_name}, {s.given_name}"
            a.times = f"{a.start:%H:%M}–{a.end:%H:%M}"
            parts = [s.indication] if clinical else []
            parts += [f"session {s.number}", s.clinician.strip() or "no clinician"]
            if s.status != "booked":
                parts.append(s.get_status_display())
            a.meta = " · ".join(parts)
            a.html = _appointment_html(a, grid)
            if grid:
                a.css = f"#appt-{s.uuid} {{ top: {a.top:.3f}%; height: {a.height:.3f}%;{a.lane_css} }}"
                css.append(a.css)
            links.append(a.html if grid else f"<li>{a.html}</li>")
        day.html = mark_safe("".join(links))  # noqa: S308 - each link escaped by _appointment_html
    return mark_safe("\n".join(css))  # noqa: S308 - ids are UUIDs, the rest numbers


def _appointment_html(a: Appointment, grid: bool) -> str:
    """The appointment's link, each text escaped (stdlib `html.escape`, quotes too: Django's lazy-aware escape cost
    more than the rest of the week's rendering). On the week's grid the name is one line and the times with the rest a second
    one, each cut with an ellipsis where the column is narrow; the whole text is the link's title (a 30-minute block
    is 46 px high: two lines)."""
    uuid = a.session.uuid
    return mark_safe(  # noqa: S308 - every interpolated text is escaped above or is a UUID/choice value
        f'<a class="appt status-{escape(a.session.status)}{" outside" if a.outside else ""}"'
        + (f' id="appt-{uuid}" title="{escape(f"{a.times} {a.name} · {a.meta}")}"' if grid else "")
        + f' href="{escape(a.href)}"><span class="appt-name">{escape(a.name)}</span> '
        f'<span class="appt-time">{escape(a.times)}</span> <span class="appt-meta">{escape(a.meta)}</span></a>'
    )


# --- The session record --------------------------------------------------------------------------------------------


@dataclass
class TotalsView:
    """The running totals as the panel shows them."""

    injections: int = 0
    min_injections: int = 0
    max_injections: int = 0
    count_warning: bool = False
    volume_ml: str = "0"
    dextrose_g: str = "0"
    anaesthetic_mg: str = "0"
    lines: list[dict[str, Any]] = field(default_factory=list)
    percent: Decimal = Decimal(0)
    bar_percent: Decimal = Decimal(0)
    warn_percent: Decimal = Decimal(80)
    dose_status: str = "ok"
    status: str = "ok"
    warnings: tuple[str, ...] = ()
    blocks: tuple[str, ...] = ()
    advisories: tuple[str, ...] = ()
    weight: str = ""
    weight_from_chart: bool = False
    error: str = ""


def _dose_line(label: str, with_epinephrine: bool, mg: str, limit: Any, percent: str, status: str) -> dict[str, Any]:
    return {
        "label": f"{label} {'with epinephrine' if with_epinephrine else 'plain'}",
        "mg": mg,
        "max_mg": fmt(limit.max_mg),
        "rule": limit.describe,
        "percent": percent,
        "status": status,
    }


def _dose_lines(view: TotalsView, dose: Any) -> None:
    """The anaesthetic given so far against each drug's ceiling."""
    view.advisories = dose.advisories
    view.dose_status = dose.status.value
    view.percent = dose.combined_fraction * 100
    for t in dose.totals:
        percent = fmt((t.fraction * 100).quantize(Decimal("0.1")))
        view.lines.append(
            _dose_line(t.drug.label, t.with_epinephrine, fmt(t.total_mg), t.limit, percent, t.status.value)
        )


def _ceiling_lines(view: TotalsView, solutions: list[PreparedSolution], weight: Decimal | None) -> None:
    """Nothing injected yet: the limits of the anaesthetics drawn up, so the ceiling is known in advance."""
    seen = set()
    for solution in solutions:
        for c in solution.components:
            agent = Agent(c["agent"])
            if not agent.is_local_anaesthetic or (agent, solution.with_epinephrine) in seen:
                continue
            seen.add((agent, solution.with_epinephrine))
            if weight is None:
                view.dose_status = "block"
                continue
            try:
                limit = max_dose(agent, solution.with_epinephrine, weight)
            except DomainError as error:
                view.error = str(error)
                continue
            view.lines.append(_dose_line(agent.label, solution.with_epinephrine, "0", limit, "0", "ok"))


def totals_view(
    session: TreatmentSession, page: queries.SessionPage, chart_weight: Decimal | None = None
) -> TotalsView:
    config = session.clinic.config
    # Before the first solution the session has no weight yet; the chart's latest is what it will take.
    weight = session.weight_kg if session.weight_kg is not None else chart_weight
    view = TotalsView(
        min_injections=config.min_injections_per_session,
        max_injections=config.max_injections_per_session,
        warn_percent=config.anaesthetic_warn_fraction * 100,
        weight=fmt(weight) if weight is not None else "",
        weight_from_chart=session.weight_kg is None and chart_weight is not None,
    )
    totals = page.totals
    if totals is None:
        view.error, view.status = page.totals_error, "block"
        return view
    view.injections = totals.injections
    view.count_warning = bool(totals.injections) and not (
        view.min_injections <= totals.injections <= view.max_injections
    )
    view.volume_ml = volume(totals.volume_ml) if totals.volume_ml else "0"
    view.dextrose_g = fmt(totals.dextrose_g)
    view.anaesthetic_mg = fmt(totals.anaesthetic_mg)
    view.status, view.warnings, view.blocks = totals.status.value, totals.warnings, totals.blocks
    if totals.dose is not None:
        _dose_lines(view, totals.dose)
    else:
        _ceiling_lines(view, page.active_solutions, weight)
        if any(a.agent.is_local_anaesthetic for a in totals.amounts) and session.weight_kg is None:
            view.dose_status = "block"
    view.bar_percent = min(view.percent, Decimal(100))
    return view


def site_dict(site: InjectionSite, labels: dict[int, str]) -> dict[str, Any]:
    return {
        "number": site.number,
        "x": site.x,
        "y": site.y,
        "label": site.label,
        "solution_label": labels.get(site.solution_id, ""),
        "volume_ml": fmt(site.volume_ml),
    }


def map_choice(session: TreatmentSession, wanted: str, asked_side: str) -> tuple[list[maps.BodyMap], Any, str]:
    """The region's maps, the one to show and the side to draw it for."""
    try:
        region_maps = maps.maps_for(session.course.region)
    except (ValueError, LookupError, DomainError):
        region_maps = []
    if not region_maps:
        return [], None, ""
    wanted = wanted or session.body_map
    body_map = next((m for m in region_maps if m.code == wanted), region_maps[0])
    side = session.course.side
    if not body_map.symmetric and side not in (maps.LEFT, maps.RIGHT):
        side = asked_side if asked_side in (maps.LEFT, maps.RIGHT) else maps.RIGHT
    return region_maps, body_map, side


AMENDMENT_WHAT = {
    ("session", "amended"): "Note changed",
    ("site", "amended"): "Site added",
    ("solution", "amended"): "Solution added",
    ("injectionsite", "entered_in_error"): "Site marked entered in error",
    ("preparedsolution", "entered_in_error"): "Solution marked entered in error",
    ("checklistentry", "entered_in_error"): "Checklist answer marked entered in error",
}


def amendments(rows: list[Any]) -> list[Any]:
    """Each change after signing, named in words ("Site added")."""
    for row in rows:
        kind, _, verb = row.action.removeprefix("treatment.").partition(".")
        row.what = AMENDMENT_WHAT.get((kind, verb), row.action)
    return rows


def site_initial(page: queries.SessionPage, body_map: maps.BodyMap | None, side: str) -> dict[str, Any]:
    """A new site starts with the previous site's solution, volume, depth, needle and guidance."""
    initial: dict[str, Any] = {"map": body_map.code if body_map else "", "side": side, "guidance": "landmark"}
    active = page.active_sites
    if active:
        last = active[-1]
        initial.update(
            solution=str(last.solution.uuid),
            volume_ml=fmt(last.volume_ml),
            depth_mm=fmt(last.depth_mm) if last.depth_mm is not None else "",
            needle_gauge=str(last.needle_gauge or ""),
            guidance=last.guidance,
        )
    elif page.active_solutions:
        initial["solution"] = str(page.active_solutions[-1].uuid)
    return initial


def chosen_label(form: SiteForm | None, session: TreatmentSession) -> str:
    """The landmark a refused site form had chosen, to show it again beside the form."""
    if form is None or not form.is_bound:
        return ""
    code = form.data.get("landmark", "")
    return (queries.landmark_label(code, session.course.region) or "") if code else ""


def next_label(solutions: list[PreparedSolution]) -> str:
    used = {s.label for s in solutions}
    return next((c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used), "")


def checklist_rows(
    session: TreatmentSession, page: queries.SessionPage, forms: dict[str, Any], answerable: bool = True
) -> list[dict[str, Any]]:
    """Each checklist item with its entry and, when the page lets it be answered (`answerable`), its form."""
    rows = []
    for spec in checklist_for(session.sedation != "none"):
        entry: ChecklistEntry | None = page.checklist.get(spec.item.value)
        form = forms.get(spec.item.value)
        if form is None and answerable:
            form = ChecklistForm(
                initial={
                    "item": spec.item.value,
                    "answer": entry.answer if entry else None,
                    "note": entry.note if entry else "",
                },
                auto_id=f"c-{spec.item.value}-%s",
            )
        rows.append(
            {"spec": spec, "entry": entry, "form": form, "ok": entry is not None and entry.answer_enum in spec.accepted}
        )
    return rows


def _map_context(session: TreatmentSession, page: queries.SessionPage, choice: tuple[Any, Any, str]) -> dict[str, Any]:
    region_maps, body_map, side = choice
    side_choices = []
    if body_map is not None and not body_map.symmetric and session.course.side not in (maps.LEFT, maps.RIGHT):
        side_choices = [maps.RIGHT, maps.LEFT]
    labels = {s.pk: f"{s.label}" for s in page.solutions}
    on_map = [s for s in page.active_sites if body_map and s.body_map == body_map.code]
    previous = [s for s in page.previous_sites if body_map and s.body_map == body_map.code]
    return {
        "region_maps": region_maps,
        "body_map": body_map,
        "map_side": side,
        "map_sites": [site_dict(s, labels) for s in on_map],
        "previous_sites": [site_dict(s, labels) for s in previous],
        "map_counts": {m.code: sum(1 for s in page.active_sites if s.body_map == m.code) for m in region_maps},
        "map_side_choices": side_choices,
    }


def _session_forms(
    session: TreatmentSession,
    page: queries.SessionPage,
    choice: tuple[Any, Any, str],
    shown: tuple[bool, bool],
    bound: Any,
) -> dict[str, Any]:
    """The session page's forms: a refused one as it was sent, the others opened at the current version; only those
    the page shows (`shown`: editable, amending), so a signed note read, the common case, builds none (they were
    a few percent of its time: docs/PERFORMANCE.md, "The calendar's week and the session record (session 10)")."""
    editable, amending = shown
    signed = session.is_signed
    _, body_map, side = choice
    forms: dict[str, Any] = {}
    if editable:
        header = {
            "weight_kg": fmt(session.weight_kg) if session.weight_kg is not None else "",
            "sedation": session.sedation,
            "version": session.version,
        }
        observations = {
            **{name: getattr(session, name) for name in ObservationsForm.FIELDS},
            "version": session.version,
        }
        forms["header_form"] = SessionHeaderForm(initial=header, signed=amending)
        forms["observations_form"] = ObservationsForm(initial=observations, signed=amending)
        forms["solution_form"] = SolutionForm(
            initial={"label": next_label(page.active_solutions), "dextrose_stock_pct": "50"}, signed=amending
        )
        forms["site_form"] = SiteForm(
            initial=site_initial(page, body_map, side), solutions=page.active_solutions, signed=amending
        )
    if editable and not signed:
        pregnancy = "not_applicable" if session.patient.sex == "male" else "unknown"
        forms["rescreen_form"] = RescreenForm(initial={"pregnancy": pregnancy})
    if not signed:
        forms["sign_form"] = SignForm(initial={"version": session.version})
    names = ("header_form", "observations_form", "rescreen_form", "solution_form", "site_form", "sign_form")
    return {name: bound.get(name) or forms.get(name) for name in names}


@dataclass
class SessionFacts:
    """What the session page needs beyond the session page's own reads: access, the map asked for, counts."""

    can_record: bool
    amending: bool
    wanted_map: str
    asked_side: str
    chart_weight: Decimal | None
    course_count: int
    blockers: list[str]
    amendments: list[Any]


def session_context(
    session: TreatmentSession, page: queries.SessionPage, facts: SessionFacts, bound: dict[str, Any]
) -> dict[str, Any]:
    signed = session.is_signed
    editable = (facts.can_record and not signed) or facts.amending
    choice = map_choice(session, facts.wanted_map, facts.asked_side)
    screening = session.day_screening
    findings = []
    if screening is not None:
        findings = [f for f in screening.findings if f.get("severity") in ("contraindication", "caution")]
    return {
        "session": session,
        "course": session.course,
        "patient": session.patient,
        "page": page,
        "course_count": facts.course_count,
        "signed": signed,
        "editable": editable,
        "amending": facts.amending,
        "can_record": facts.can_record,
        "totals": totals_view(session, page, facts.chart_weight),
        "chart_weight": facts.chart_weight,
        **_map_context(session, page, choice),
        "chosen_label": chosen_label(bound.get("site_form"), session),
        "checklist_rows": checklist_rows(session, page, bound.get("checklist_forms", {}), editable and not signed),
        "blockers": facts.blockers,
        "screening": screening,
        "findings": findings,
        "amendments": amendments(facts.amendments),
        **_session_forms(session, page, choice, (editable, facts.amending), bound),
        "sign_error": bound.get("sign_error", ""),
        "site_added": bound.get("site_added"),
        "open": bound.get("open", ""),
        "form_id": "site-form",
    }


ITEM_NAMES = {"site": "injection site", "solution": "solution", "checklist": "checklist answer"}
ITEM_ANCHORS = {"site": "sites", "solution": "solutions", "checklist": "checklist"}


def describe_item(kind: str, record: Any) -> str:
    """A session item as its entered-in-error page names it."""
    if kind == "site":
        return f"Site {record.number}: {record.label}, {volume(record.volume_ml)} mL"
    if kind == "solution":
        return str(record)
    return f"{CHECKLIST_LABELS.get(record.item, record.item)}: {record.get_answer_display()}"


# --- The API's session -------------------------------------------------------------------------------------------


def totals_json(totals: Any) -> dict[str, Any] | None:
    """The running totals as the API gives them."""
    if totals is None:
        return None
    dose = totals.dose
    return {
        "injections": totals.injections,
        "volume_ml": totals.volume_ml,
        "dextrose_g": totals.dextrose_g,
        "anaesthetic_mg": totals.anaesthetic_mg,
        "agents": [{"agent": a.agent.value, "mg": a.mg, "g": a.g} for a in totals.amounts],
        "anaesthetic_max_mg": min((t.limit.max_mg for t in dose.totals), default=None) if dose else None,
        "combined_fraction_of_limit": dose.combined_fraction if dose else None,
        "status": totals.status.value,
        "warnings": list(totals.warnings),
        "blocks": list(totals.blocks),
    }


def session_json(session: TreatmentSession, page: queries.SessionPage) -> dict[str, Any]:
    """The session's note, checklist, solutions, sites and totals as the API gives them."""
    return {
        "course_id": session.course.uuid,
        "patient_id": session.patient.uuid,
        "sedation": session.sedation,
        "weight_kg": session.weight_kg,
        "vasovagal": session.vasovagal,
        "bleeding": session.bleeding,
        "last_signs": session.last_signs,
        "observation_note": session.observation_note,
        "instructions_given": session.instructions_given,
        "instructions_note": session.instructions_note,
        "note": session.note,
        "version": session.version,
        "signed_by": session.signed_by.get_username() if session.signed_by else None,
        "checklist": [
            {
                "item": e.item,
                "answer": e.answer,
                "note": e.note,
                "ticked_by": e.updated_by.get_username() if e.updated_by else None,
                "ticked_at": e.updated_at,
            }
            for e in page.checklist.values()
        ],
        "solutions": page.solutions,
        "sites": page.sites,
        "totals": totals_json(page.totals),
    }


# --- Lot recall ----------------------------------------------------------------------------------------------------

RECALL_COLUMNS = (
    "patient", "record_number", "date_of_birth", "phone", "email", "address",
    "session_date", "session_number", "session_status", "signed", "clinician", "course",
    "solution", "product", "lot", "expiry", "site_number", "site", "site_side", "volume_ml",
)  # fmt: skip


def patient_address(patient: Any) -> str:
    parts = (patient.address_line, patient.city, patient.region, patient.postal_code, patient.country)
    return ", ".join(p for p in parts if p)


def recall_cells(row: queries.RecallRow) -> list[str]:
    """One row of the recall as text, in RECALL_COLUMNS' order (a solution with no site: the site cells empty)."""
    p, s, site = row.patient, row.session, row.site
    return [
        f"{p.family_name}, {p.given_name}",
        p.mrn,
        p.date_of_birth.isoformat(),
        p.phone,
        p.email,
        patient_address(p),
        s.planned_on.isoformat(),
        str(s.number),
        s.get_status_display(),
        "yes" if s.is_signed else "no",
        (s.clinician.get_full_name() or s.clinician.get_username()) if s.clinician else "",
        f"{s.course.indication} ({s.course.get_side_display().lower()})",
        str(row.solution),
        product_label(row.stock.product),
        row.stock.lot,
        row.stock.expiry.isoformat() if row.stock.expiry else "",
        str(site.number) if site else "",
        site.label if site else "no injection recorded",
        site.get_side_display() if site else "",
        f"{site.volume_ml:.2f}" if site else "",
    ]


def recall_csv(rows: list[queries.RecallRow]) -> str:
    """The recall as CSV for the pharmacist (cells a spreadsheet would run as a formula are quoted)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(RECALL_COLUMNS)
    writer.writerows([csv_cell(cell) for cell in recall_cells(row)] for row in rows)
    return buffer.getvalue()


def recall_summary(rows: list[queries.RecallRow]) -> str:
    patients = len({row.patient.pk for row in rows})
    injections = sum(1 for row in rows if row.site is not None)
    return f"{plural(patients, 'patient')}, {plural(injections, 'injection')}"
