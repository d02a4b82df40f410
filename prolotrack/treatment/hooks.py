"""Hooks of the treatment app (core/hooks.py; listed in docs/ARCHITECTURE.md, "Hooks").

Treatment sits below consent, documents, billing and messaging in the layers, yet signing needs the course's consent, a
signed session gets its visit summary and its draft invoice, and a session that will not happen takes its queued
reminders with it. Those apps provide these functions in their AppConfig.ready(); consent, above treatment, uses the
reminder hooks too.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from prolotrack.core.hooks import AfterCommit, Hook
from prolotrack.domain.session import ConsentState

consent_state: Hook[[int], ConsentState] = Hook(
    "treatment.consent_state",
    "whether the course has a current treatment consent, none, or one withdrawn: the signing gate's input (consent)",
)

abn_blockers: Hook[[int], tuple[str, ...]] = Hook(
    "treatment.abn_blockers",
    "why the course's Medicare ABN does not allow signing (none, out of date, option 3), or () when it does or none is "
    "needed: the signing gate's input next to consent (billing)",
)

open_reminders: Hook[[Iterable[Any]], int] = Hook(
    "treatment.open_reminders",
    "how many reminders about these sessions are still to be sent, shown before they are cancelled (messaging)",
)

cancel_reminders: Hook[[Any, Iterable[Any], str], int] = Hook(
    "treatment.cancel_reminders",
    "cancel the queued reminders of these sessions in the caller's transaction, with the reason (messaging)",
)

course_changed: Hook[[int, Iterable[int | None]], None] = Hook(
    "treatment.course_changed",
    "these courses (clinic id, course ids) or their sessions, timepoints, solutions, adverse events or answers were "
    "written in the caller's transaction: recompute their dashboard facts from the sources before it commits "
    "(analytics)",
)

session_signed: AfterCommit[[Any, int]] = AfterCommit(
    "treatment.session_signed",
    "a session's signature is committed (the signer's actor, the session's pk): queue its visit summary PDF "
    "(documents), draft its invoice (billing); each listener runs on its own and never undoes the signature",
)


@dataclass(frozen=True)
class CalendarVisit:
    """An appointment that is not a course session (an assessment, a follow-up), as the calendar shows it."""

    uuid: Any
    start: datetime
    minutes: int
    patient: Any
    clinician: Any
    title: str
    status: str
    url: str
    # The visit is for a person who booked online and is not confirmed yet (`patient` is then that person, with
    # their typed names): the calendar shows a "pending" badge.
    pending: bool = False
    # Where the calendar's week posts the visit dragged to another time, and the version it was shown at ("" and 0:
    # not movable; docs/BOOKING.md, "Drag to move").
    drop_url: str = ""
    version: int = 0


calendar_visits: Hook[[Any, date, int, Any], tuple[list[CalendarVisit], str]] = Hook(
    "treatment.calendar_visits",
    "the booking app's appointments in the calendar's days (clinic, first day, days, clinician or None), and the "
    "address of its booking page for that day (booking)",
)


appointment_clashes: Hook[[Any, Any, datetime, int, Any], list[str]] = Hook(
    "treatment.appointment_clashes",
    "lock the clinician for this transaction and say which of their booking-app appointments a session (the last "
    "argument, left out of what holds time) at this start and length would clash with, buffers included; where the "
    "clinic has course sessions keep to working hours, also why the time is outside them (booking)",
)
