"""Which session of a course a patient may book from the course's link, and on which days (docs/BOOKING.md,
"Course links"). Pure: the caller passes the course's facts and the clinic's today.

- Only the **next** session: the lowest-numbered planned one, and only while no session of the course is booked and
  not yet done (the patient's next visit is then already booked).
- Only in an **open** course, and with a current treatment consent once a session was done (every session is signed
  under one, docs/clinical/session.md; a consent withdrawn refuses at any time). Before the first session a missing
  consent does not refuse: it is signed at that visit, before the procedure, and the signing gate holds it.
- Only **in the window** the plan allows: not before the protocol's interval from the last session done (the interval
  between those two sessions in the course's template; without one, the shortest interval of the trial protocols,
  1 week, DOMAIN.md §4 "3-6 sessions 1-6 weeks apart"), not before today, and not after today plus the clinic's
  online horizon (`booking_max_days_ahead`).
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from .session import ConsentState

# DOMAIN.md §4: trial protocols space sessions 1-6 weeks apart; without a protocol interval, the shortest of them.
SHORTEST_INTERVAL = timedelta(weeks=1)


class Blocked(StrEnum):
    """Why a course's link books nothing (the page says it in plain words)."""

    COURSE_CLOSED = "course_closed"
    CONSENT = "consent"
    BOOKED = "booked"  # a session of the course is booked and not yet done: the next visit is already booked
    NOT_NEXT = "not_next"  # the link's session is no longer the next planned one (done, cancelled, another next)
    NO_WINDOW = "no_window"  # the window opens after the online horizon


@dataclass(frozen=True)
class CourseSession:
    number: int
    status: str  # treatment's SessionStatus values: planned, booked, done, cancelled, no_show
    day: date | None = None  # the local day it was (or is) held; for a done session


@dataclass(frozen=True)
class Decision:
    """The answer: what blocks (None when bookable), the session to book, and its window of local days."""

    blocked: Blocked | None
    number: int | None = None
    first: date | None = None
    last: date | None = None


def interval_before(number: int, planned: Mapping[int, date]) -> timedelta:
    """The protocol's interval between session `number - 1` and `number`, from the template's planned dates (any
    start), or the shortest interval when the template has not both (no template, a session added later)."""
    earlier, this = planned.get(number - 1), planned.get(number)
    if earlier is None or this is None or this <= earlier:
        return SHORTEST_INTERVAL
    return this - earlier


def decide(
    *,
    course_open: bool,
    consent: ConsentState,
    sessions: Sequence[CourseSession],
    link_session: int,
    planned: Mapping[int, date],
    today: date,
    max_days_ahead: int,
) -> Decision:
    """May the link book session `link_session` of the course, and between which local days (both included)."""
    if not course_open:
        return Decision(Blocked.COURSE_CLOSED)
    done = [s for s in sessions if s.status == "done"]
    if consent is ConsentState.WITHDRAWN or (done and consent is not ConsentState.CURRENT):
        return Decision(Blocked.CONSENT)
    if any(s.status == "booked" for s in sessions):
        return Decision(Blocked.BOOKED)
    waiting = sorted(s.number for s in sessions if s.status == "planned")
    if not waiting or waiting[0] != link_session:
        return Decision(Blocked.NOT_NEXT)
    first = today
    last_done = max(done, key=lambda s: s.number, default=None)
    if last_done is not None and last_done.day is not None:
        first = max(first, last_done.day + interval_before(link_session, planned))
    last = today + timedelta(days=max_days_ahead)
    if first > last:
        return Decision(Blocked.NO_WINDOW, link_session, first, None)
    return Decision(None, link_session, first, last)
