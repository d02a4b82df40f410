"""When each patient reminder is due: pure date arithmetic on the clinic's local calendar.

Every date here is a day in the clinic's time zone (the caller converts); nothing reads a clock. Sources and the
reasons for each default: docs/MESSAGING.md ("Rules").
"""

from dataclasses import dataclass
from datetime import date, time, timedelta
from enum import StrEnum


class ReminderKind(StrEnum):
    APPOINTMENT = "appointment_reminder"
    NSAID_STOP = "nsaid_stop"
    PRE_PROCEDURE = "pre_procedure"
    QUESTIONNAIRE_DUE = "questionnaire_due"
    QUESTIONNAIRE_OVERDUE = "questionnaire_overdue"


class Decision(StrEnum):
    WAIT = "wait"  # its day has not come
    SEND = "send"  # due today, or late but still useful
    TOO_LATE = "too_late"  # the event it is about has passed: sending now would mislead


@dataclass(frozen=True)
class SessionReminderSettings:
    appointment_days_before: int
    nsaid_stop_days: int
    pre_procedure_days_before: int


def session_reminder_days(session_day: date, settings: SessionReminderSettings) -> dict[ReminderKind, date]:
    """The day each reminder about a session is due.

    The NSAID reminder falls on the first day without NSAIDs (session day minus the clinic's window, DOMAIN.md §6);
    with a window of 0 days there is nothing to stop and no NSAID reminder. The pre-procedure instructions go out
    `pre_procedure_days_before` days ahead, and never later than the day before the NSAID stop day, so the patient
    reads the stop date before it arrives.
    """
    days: dict[ReminderKind, date] = {
        ReminderKind.APPOINTMENT: session_day - timedelta(days=settings.appointment_days_before),
    }
    lead = settings.pre_procedure_days_before
    if settings.nsaid_stop_days > 0:
        days[ReminderKind.NSAID_STOP] = nsaid_stop_day(session_day, settings.nsaid_stop_days)
        lead = max(lead, settings.nsaid_stop_days + 1)
    days[ReminderKind.PRE_PROCEDURE] = session_day - timedelta(days=lead)
    return days


def nsaid_stop_day(session_day: date, nsaid_stop_days: int) -> date:
    """The first day without NSAIDs: with a 3-day window before a Friday session, Tuesday (Tue, Wed, Thu free)."""
    return session_day - timedelta(days=nsaid_stop_days)


def decide_session_reminder(due_day: date, session_day: date, today: date) -> Decision:
    """Send on or after the due day while the session is still ahead; once its day has come, never."""
    if today >= session_day:
        return Decision.TOO_LATE
    if today < due_day:
        return Decision.WAIT
    return Decision.SEND


def questionnaire_reminder_days(due_on: date, overdue_after_days: int) -> dict[ReminderKind, date]:
    """A questionnaire is announced on the day it is due and, if still unanswered, once more when overdue."""
    return {
        ReminderKind.QUESTIONNAIRE_DUE: due_on,
        ReminderKind.QUESTIONNAIRE_OVERDUE: due_on + timedelta(days=overdue_after_days),
    }


def decide_questionnaire_reminder(kind: ReminderKind, due_on: date, overdue_after_days: int, today: date) -> Decision:
    """Each message has a window of `overdue_after_days` days from its own day; a stale one is not sent.

    The "due" message after the questionnaire is overdue would be wrong, and an "overdue" message months later (a
    missed 12-month follow-up found on first start) would be noise.
    """
    day = questionnaire_reminder_days(due_on, overdue_after_days)[kind]
    if today < day:
        return Decision.WAIT
    if today >= day + timedelta(days=overdue_after_days):
        return Decision.TOO_LATE
    return Decision.SEND


def retry_delay_minutes(attempts: int) -> int:
    """Wait before the next try of a failed send: 5, 15, 45, 135 minutes, then at most 6 hours."""
    return min(5 * int(3 ** max(attempts - 1, 0)), 360)


MAX_ATTEMPTS = 5


@dataclass(frozen=True)
class SendingWindow:
    """The local hours in which messages may go out: from `start_hour`:00 up to (not including) `end_hour`:00.

    Default 08:00-20:00 (docs/MESSAGING.md, "Sending window"): inside the 8 a.m.-9 p.m. calling hours that the TCPA
    rules set for telephone solicitations (47 CFR 64.1200(c)(1)), with an hour's margin at night.
    """

    start_hour: int = 8
    end_hour: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.start_hour < self.end_hour <= 24:
            raise ValueError(
                f"The sending window must start before it ends, within 0-24 h (got {self.start_hour}-{self.end_hour})."
            )

    def is_open(self, local_time: time) -> bool:
        return self.start_hour <= local_time.hour < self.end_hour


def stop_day_as_sent(session_day: date, nsaid_stop_days: int, today: date) -> date:
    """The day a message sent `today` tells the patient to stop NSAIDs from: the planned stop day, or today if that
    day has passed (a late booking or a late send): a message never names a past day as the day to start."""
    return max(nsaid_stop_day(session_day, nsaid_stop_days), today)
