"""iCalendar (RFC 5545) for appointments: a staff member's feed and the patient's .ics, built with `icalendar`.

What an event says is the minimum the reader needs (docs/MESSAGING.md, "Calendar feeds"): in a staff feed, the
session number and the patient's first name and family initial, nothing clinical (no diagnosis, region or solution);
in the patient's own file, the clinic and the time. A session's UID never changes, so a rebooked or cancelled session
updates the event a calendar already holds instead of adding a second one.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from django.utils import timezone, translation
from django.utils.translation import gettext as _
from icalendar import Calendar, Event

from prolotrack.core.language import patient_language
from prolotrack.messaging.vtimezone import vtimezone
from prolotrack.treatment.models import SessionStatus

PRODID = "-//ProloTrack//Appointments//EN"


def session_uid(session: Any) -> str:
    return f"session-{session.uuid}@prolotrack"


def _calendar(name: str, tz_name: str) -> Calendar:
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz_name)
    return cal


def _add_timezone(cal: Calendar, tz_name: str, starts: list[datetime]) -> None:
    """The clinic zone's VTIMEZONE as RRULE-based DAYLIGHT/STANDARD rules (vtimezone.py), checked to match the tz
    database over the events' span; dated transitions from icalendar only for a zone those rules cannot describe."""
    if not starts:
        return
    component = vtimezone(tz_name, min(starts), max(starts) + timedelta(days=1))
    if component is None:
        cal.add_missing_timezones()
        return
    cal.add_component(component)


def _status(session: Any) -> str:
    if session.is_entered_in_error or session.status == SessionStatus.CANCELLED:
        return "CANCELLED"
    return "CONFIRMED"


def _moment(local: datetime) -> datetime:
    """A local time as written in the event: with the zone's TZID, except the second of a repeated hour (01:30 CST
    on the autumn change), which RFC 5545 §3.3.5 reads as the first occurrence: that one is written in UTC."""
    if local.fold == 1 and local.replace(fold=0).utcoffset() != local.utcoffset():
        return local.astimezone(UTC)
    return local


def _event(session: Any, *, summary: str, description: str, stamp: datetime, location: str, uid: str = "") -> Event:
    start = timezone.localtime(session.starts_at, session.clinic.tz)
    end = timezone.localtime(session.starts_at + timedelta(minutes=session.duration_minutes), session.clinic.tz)
    event = Event()
    event.add("uid", uid or session_uid(session))
    event.add("dtstamp", stamp)
    event.add("last-modified", session.updated_at)
    event.add("sequence", session.version)
    event.add("dtstart", _moment(start))
    event.add("dtend", _moment(end))
    event.add("summary", summary)
    event.add("description", description)
    event.add("location", location)
    event.add("status", _status(session))
    event.add("transp", "OPAQUE")
    return event


def patient_label(patient: Any) -> str:
    """First name and family initial: enough to greet the patient at the door, little if the calendar leaks."""
    initial = (patient.family_name or "")[:1]
    return f"{patient.given_name} {initial}." if initial else patient.given_name


def staff_feed(user: Any, clinic: Any, sessions: Iterable[Any], *, site_url: str) -> bytes:
    """The staff member's feed: one VEVENT per booked, done, no-show or cancelled session."""
    stamp = timezone.now()
    name = f"ProloTrack: {user.get_full_name() or user.username} ({clinic.name})"
    cal = _calendar(name, clinic.timezone)
    starts = []
    for session in sessions:
        if session.starts_at is None:
            continue
        starts.append(session.starts_at)
        summary = f"Prolotherapy session {session.number}: {patient_label(session.patient)}"
        if _status(session) == "CANCELLED":
            summary = f"Cancelled: {summary}"
        description = f"Open in ProloTrack (sign-in required): {site_url}/sessions/{session.uuid}/"
        cal.add_component(_event(session, summary=summary, description=description, stamp=stamp, location=clinic.name))
    _add_timezone(cal, clinic.timezone, starts)
    return cal.to_ical()


def patient_appointment(session: Any) -> bytes:
    """The patient's .ics for one appointment (attached to the reminder, downloadable from the session page), in
    the patient's preferred language (docs/LANGUAGES.md)."""
    with translation.override(patient_language(session.patient)):
        return _patient_appointment(session)


def _patient_appointment(session: Any) -> bytes:
    clinic = session.clinic
    cal = _calendar(_("%(clinic)s appointment") % {"clinic": clinic.name}, clinic.timezone)
    cal.add("method", "PUBLISH")
    summary = _("Appointment at %(clinic)s") % {"clinic": clinic.name}
    if _status(session) == "CANCELLED":
        summary = _("Cancelled: %(summary)s") % {"summary": summary}
    description = _(
        "Treatment session %(number)s at %(clinic)s. Bring a list of your current medicines. To change or cancel, "
        "please contact the clinic."
    ) % {"number": session.number, "clinic": clinic.name}
    cal.add_component(
        _event(session, summary=summary, description=description, stamp=timezone.now(), location=clinic.name)
    )
    _add_timezone(cal, clinic.timezone, [session.starts_at])
    return cal.to_ical()


def appointment_uid(appointment: Any) -> str:
    return f"appointment-{appointment.uuid}@prolotrack"


def patient_visit(appointment: Any, *, summary: str, description: str) -> bytes:
    """The patient's .ics for a booking-app appointment (an assessment, a follow-up), attached to its confirmation and
    reminder: the clinic's VTIMEZONE, the start and end in the clinic's zone, the clinic's address as location when
    it has one. The UID never changes, so a moved appointment's new file updates the event already in a calendar;
    SEQUENCE is the appointment's version. No manage link inside: calendars are often shared or synced to others."""
    clinic = appointment.clinic
    cal = _calendar(f"{clinic.name} appointment", clinic.timezone)
    cal.add("method", "PUBLISH")
    address = clinic.config.address
    location = f"{clinic.name}, {address}" if address else clinic.name
    cal.add_component(
        _event(
            appointment, summary=summary, description=description, stamp=timezone.now(), location=location,
            uid=appointment_uid(appointment),
        )
    )  # fmt: skip
    _add_timezone(cal, clinic.timezone, [appointment.starts_at])
    return cal.to_ical()


def ics_filename(session: Any) -> str:
    start = timezone.localtime(session.starts_at, session.clinic.tz)
    return f"appointment-{start:%Y-%m-%d}.ics"
