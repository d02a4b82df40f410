"""The reminder day rules (prolotrack.domain.reminders), as tables of cases."""

from datetime import date

import pytest

from prolotrack.domain.reminders import (
    Decision,
    ReminderKind,
    SessionReminderSettings,
    decide_questionnaire_reminder,
    decide_session_reminder,
    nsaid_stop_day,
    questionnaire_reminder_days,
    retry_delay_minutes,
    session_reminder_days,
)

FRI = date(2026, 11, 20)
K = ReminderKind


@pytest.mark.parametrize(
    ("appointment", "nsaid", "pre", "expected"),
    [
        # The defaults: appointment 2 days before, NSAIDs stopped 3 days before (Tuesday), instructions a week ahead.
        (
            2,
            3,
            7,
            {K.APPOINTMENT: date(2026, 11, 18), K.NSAID_STOP: date(2026, 11, 17), K.PRE_PROCEDURE: date(2026, 11, 13)},
        ),
        # A two-week NSAID window: the instructions move to the day before the stop day, so they arrive in time.
        (
            2,
            14,
            7,
            {K.APPOINTMENT: date(2026, 11, 18), K.NSAID_STOP: date(2026, 11, 6), K.PRE_PROCEDURE: date(2026, 11, 5)},
        ),
        # No NSAID window: no NSAID reminder at all.
        (1, 0, 3, {K.APPOINTMENT: date(2026, 11, 19), K.PRE_PROCEDURE: date(2026, 11, 17)}),
        # Across a month boundary.
        (2, 3, 7, None),
    ],
)
def test_session_reminder_days(appointment, nsaid, pre, expected):
    settings = SessionReminderSettings(appointment, nsaid, pre)
    if expected is None:
        days = session_reminder_days(date(2026, 12, 2), settings)
        assert days[K.NSAID_STOP] == date(2026, 11, 29)
        assert days[K.PRE_PROCEDURE] == date(2026, 11, 25)
        return
    assert session_reminder_days(FRI, settings) == expected


def test_nsaid_stop_day_is_the_session_day_minus_the_window():
    assert nsaid_stop_day(FRI, 3) == date(2026, 11, 17)
    assert nsaid_stop_day(date(2026, 3, 2), 3) == date(2026, 2, 27)


@pytest.mark.parametrize(
    ("due", "today", "decision"),
    [
        (date(2026, 11, 18), date(2026, 11, 17), Decision.WAIT),
        (date(2026, 11, 18), date(2026, 11, 18), Decision.SEND),
        (date(2026, 11, 18), date(2026, 11, 19), Decision.SEND),  # late (booked late, or the job was down): still ahead
        (date(2026, 11, 18), FRI, Decision.TOO_LATE),  # the session day itself
        (date(2026, 11, 18), date(2026, 11, 21), Decision.TOO_LATE),
    ],
)
def test_session_reminder_decision(due, today, decision):
    assert decide_session_reminder(due, FRI, today) == decision


@pytest.mark.parametrize(
    ("kind", "today", "decision"),
    [
        (K.QUESTIONNAIRE_DUE, date(2026, 11, 9), Decision.WAIT),
        (K.QUESTIONNAIRE_DUE, date(2026, 11, 10), Decision.SEND),
        (K.QUESTIONNAIRE_DUE, date(2026, 11, 16), Decision.SEND),
        (K.QUESTIONNAIRE_DUE, date(2026, 11, 17), Decision.TOO_LATE),  # overdue by then: the "due" text would be wrong
        (K.QUESTIONNAIRE_OVERDUE, date(2026, 11, 16), Decision.WAIT),
        (K.QUESTIONNAIRE_OVERDUE, date(2026, 11, 17), Decision.SEND),
        (K.QUESTIONNAIRE_OVERDUE, date(2026, 11, 23), Decision.SEND),
        (K.QUESTIONNAIRE_OVERDUE, date(2026, 11, 24), Decision.TOO_LATE),  # stale: no reminder months later
    ],
)
def test_questionnaire_reminder_decision(kind, today, decision):
    assert decide_questionnaire_reminder(kind, date(2026, 11, 10), 7, today) == decision


def test_questionnaire_days():
    assert questionnaire_reminder_days(date(2026, 12, 28), 7) == {
        K.QUESTIONNAIRE_DUE: date(2026, 12, 28),
        K.QUESTIONNAIRE_OVERDUE: date(2027, 1, 4),
    }


@pytest.mark.parametrize(("attempts", "minutes"), [(1, 5), (2, 15), (3, 45), (4, 135), (5, 360), (9, 360)])
def test_retry_delays_grow_and_are_capped(attempts, minutes):
    assert retry_delay_minutes(attempts) == minutes
