"""Which session a course's link may book and when (domain/course_booking.py): a table of cases."""

from datetime import date, timedelta

import pytest

from prolotrack.domain.course_booking import SHORTEST_INTERVAL, Blocked, CourseSession, decide, interval_before
from prolotrack.domain.session import ConsentState

TODAY = date(2026, 12, 7)
PLAN = {1: date(2026, 11, 30), 2: date(2026, 12, 28), 3: date(2027, 1, 25)}  # weeks 0, 4, 8
DONE_1 = CourseSession(1, "done", date(2026, 11, 30))


def s(number: int, status: str, day: date | None = None) -> CourseSession:
    return CourseSession(number, status, day)


CASES = [
    # (name, course open, consent, sessions, link session, expected blocked, first, last)
    ("next after one done", True, ConsentState.CURRENT, [DONE_1, s(2, "planned"), s(3, "planned")], 2, None,
     date(2026, 12, 28), TODAY + timedelta(days=60)),
    ("first session, consent to sign at the visit", True, ConsentState.MISSING, [s(1, "planned"), s(2, "planned")], 1,
     None, TODAY, TODAY + timedelta(days=60)),
    ("course closed", False, ConsentState.CURRENT, [DONE_1, s(2, "planned")], 2, Blocked.COURSE_CLOSED, None, None),
    ("consent withdrawn", True, ConsentState.WITHDRAWN, [s(1, "planned")], 1, Blocked.CONSENT, None, None),
    ("no consent after a session", True, ConsentState.MISSING, [DONE_1, s(2, "planned")], 2, Blocked.CONSENT, None,
     None),
    ("next already booked", True, ConsentState.CURRENT, [DONE_1, s(2, "booked"), s(3, "planned")], 3, Blocked.BOOKED,
     None, None),
    ("link's session done meanwhile", True, ConsentState.CURRENT, [DONE_1, s(2, "done", TODAY), s(3, "planned")], 2,
     Blocked.NOT_NEXT, None, None),
    ("cancelled one skipped", True, ConsentState.CURRENT, [DONE_1, s(2, "cancelled"), s(3, "planned")], 3, None,
     date(2026, 12, 28), TODAY + timedelta(days=60)),
    ("nothing planned", True, ConsentState.CURRENT, [DONE_1, s(2, "cancelled")], 2, Blocked.NOT_NEXT, None, None),
]  # fmt: skip


@pytest.mark.parametrize(("name", "is_open", "consent", "sessions", "number", "blocked", "first", "last"), CASES)
def test_decide(name: str, is_open: bool, consent: ConsentState, sessions: list[CourseSession], number: int,
                blocked: Blocked | None, first: date | None, last: date | None) -> None:  # fmt: skip
    found = decide(
        course_open=is_open, consent=consent, sessions=sessions, link_session=number, planned=PLAN, today=TODAY,
        max_days_ahead=60,
    )  # fmt: skip
    assert (found.blocked, found.first, found.last) == (blocked, first, last), name


def test_the_window_never_starts_before_today_nor_ends_past_the_horizon() -> None:
    long_ago = [CourseSession(1, "done", date(2026, 1, 5)), CourseSession(2, "planned")]
    found = decide(course_open=True, consent=ConsentState.CURRENT, sessions=long_ago, link_session=2, planned=PLAN,
                   today=TODAY, max_days_ahead=0)  # fmt: skip
    assert (found.first, found.last) == (TODAY, TODAY)
    late = [CourseSession(1, "done", TODAY), CourseSession(2, "planned")]
    found = decide(course_open=True, consent=ConsentState.CURRENT, sessions=late, link_session=2, planned=PLAN,
                   today=TODAY, max_days_ahead=27)  # fmt: skip
    assert found.blocked is Blocked.NO_WINDOW and found.first == TODAY + timedelta(weeks=4)


def test_the_interval_comes_from_the_plan_else_the_shortest() -> None:
    assert interval_before(2, PLAN) == timedelta(weeks=4)
    assert interval_before(4, PLAN) == SHORTEST_INTERVAL  # a session added after the template's
    assert interval_before(2, {}) == SHORTEST_INTERVAL == timedelta(weeks=1)
