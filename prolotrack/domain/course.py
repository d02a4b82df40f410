"""Closing a treatment course: the outcome follows from the sessions done, and the reason comes from a fixed list.

Nothing here is defaulted. A course whose required sessions were all done (signed) is *completed*; anything less,
including a course with no session done, is *stopped early*, and the reason says why. The list of reasons and the rule
are described, with their sources, in docs/clinical/course-closing.md.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from prolotrack.domain.reasons import CloseError, Reason, other

__all__ = ["COURSE_CLOSE_REASONS", "CloseError", "CourseOutcome", "Outcome", "SessionFact", "course_outcome"]


class CourseOutcome(StrEnum):
    COMPLETED = "completed"
    STOPPED_EARLY = "stopped"


class SessionState(StrEnum):
    """The states of a session that decide a course's outcome (the treatment app's SessionStatus values)."""

    PLANNED = "planned"
    BOOKED = "booked"
    DONE = "done"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@dataclass(frozen=True)
class SessionFact:
    """One session of the course as the closing rule sees it (entered-in-error sessions are left out by the caller)."""

    state: SessionState
    optional: bool = False
    signed: bool = False

    @property
    def done(self) -> bool:
        return self.state is SessionState.DONE and self.signed


@dataclass(frozen=True)
class Outcome:
    outcome: CourseOutcome
    done: int
    required: int
    required_done: int

    def describe(self) -> str:
        if self.outcome is CourseOutcome.COMPLETED:
            return f"Completed: {self.done} session{'s' if self.done != 1 else ''} done, every required one."
        return f"Stopped early: {self.required_done} of {self.required} required sessions done."


def course_outcome(sessions: Iterable[SessionFact]) -> Outcome:
    """Completed when at least one session was done and every required (not 'as needed') session was done.

    A required session that was cancelled or missed counts as not done: the course then stopped early, whatever the
    clinician meant to click. A course with no session done is never completed."""
    facts = list(sessions)
    done = sum(1 for f in facts if f.done)
    required = [f for f in facts if not f.optional]
    required_done = sum(1 for f in required if f.done)
    completed = done > 0 and required_done == len(required)
    return Outcome(
        CourseOutcome.COMPLETED if completed else CourseOutcome.STOPPED_EARLY, done, len(required), required_done
    )


_COMPLETED = frozenset({CourseOutcome.COMPLETED.value})
_STOPPED = frozenset({CourseOutcome.STOPPED_EARLY.value})

COURSE_CLOSE_REASONS: tuple[Reason, ...] = (
    Reason("plan_done", "Planned sessions done", _COMPLETED),
    Reason("resolved", "Symptoms resolved or good enough"),
    Reason("no_improvement", "No meaningful improvement", _STOPPED),
    Reason("adverse_event", "Adverse event", _STOPPED),
    Reason("contraindication", "A contraindication arose", _STOPPED),
    Reason("patient_choice", "Patient's choice", _STOPPED),
    Reason("other_treatment", "Chose another treatment (e.g. surgery)", _STOPPED),
    Reason("lost_to_follow_up", "Moved away or lost to follow-up", _STOPPED),
    Reason("cost", "Cost or time off work", _STOPPED),
    other(),
)


def close_reasons(outcome: CourseOutcome) -> tuple[Reason, ...]:
    """The reasons that can explain a course closing with this outcome (what the page offers)."""
    return tuple(r for r in COURSE_CLOSE_REASONS if r.outcomes is None or outcome.value in r.outcomes)
