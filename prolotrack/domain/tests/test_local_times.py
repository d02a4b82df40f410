"""Local times that a daylight-saving change skips or repeats (issue 19), and the sending window."""

from datetime import UTC, date, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prolotrack.domain.dates import AmbiguousLocalTime, NonexistentLocalTime, local_datetime
from prolotrack.domain.reminders import SendingWindow, stop_day_as_sent

# (zone, day, local time, UTC offset of the answer in hours, or the error) over both transitions, north and south.
GAPS = [
    ("America/Chicago", date(2026, 3, 8), time(2, 15)),
    ("America/Chicago", date(2026, 3, 8), time(2, 0)),
    ("America/New_York", date(2026, 3, 8), time(2, 59)),
    ("Europe/London", date(2026, 3, 29), time(1, 30)),
    ("Australia/Sydney", date(2026, 10, 4), time(2, 30)),
    ("Pacific/Auckland", date(2026, 9, 27), time(2, 45)),
]
FOLDS = [
    # zone, day, time, offset of the first (fold=0), offset of the second (fold=1)
    ("America/Chicago", date(2026, 11, 1), time(1, 30), -5, -6),
    ("America/New_York", date(2026, 11, 1), time(1, 0), -4, -5),
    ("Europe/London", date(2026, 10, 25), time(1, 15), 1, 0),
    ("Australia/Sydney", date(2026, 4, 5), time(2, 30), 11, 10),
    ("Pacific/Auckland", date(2026, 4, 5), time(2, 0), 13, 12),
]
PLAIN = [
    ("America/Chicago", date(2026, 3, 8), time(1, 59), -6),
    ("America/Chicago", date(2026, 3, 8), time(3, 0), -5),
    ("America/Chicago", date(2026, 11, 1), time(2, 0), -6),
    ("America/Chicago", date(2026, 11, 1), time(0, 59), -5),
    ("Australia/Sydney", date(2026, 10, 4), time(3, 0), 11),
    ("Asia/Kolkata", date(2026, 3, 8), time(2, 15), 5.5),
    ("UTC", date(2026, 3, 8), time(2, 15), 0),
]


@pytest.mark.parametrize(("zone", "day", "clock"), GAPS)
def test_a_skipped_time_is_refused_with_a_clear_message(zone, day, clock):
    with pytest.raises(NonexistentLocalTime, match="does not exist") as raised:
        local_datetime(day, clock, ZoneInfo(zone))
    assert f"{clock:%H:%M}" in str(raised.value) and "Choose another time" in str(raised.value)
    for fold in (0, 1):  # a fold does not make a skipped time exist
        with pytest.raises(NonexistentLocalTime):
            local_datetime(day, clock, ZoneInfo(zone), fold)


@pytest.mark.parametrize(("zone", "day", "clock", "first", "second"), FOLDS)
def test_a_repeated_time_asks_which_and_honours_the_choice(zone, day, clock, first, second):
    tz = ZoneInfo(zone)
    with pytest.raises(AmbiguousLocalTime, match="happens twice") as raised:
        local_datetime(day, clock, tz)
    assert [c.utcoffset() for c in raised.value.choices] == [timedelta(hours=first), timedelta(hours=second)]
    assert local_datetime(day, clock, tz, 0).utcoffset() == timedelta(hours=first)
    assert local_datetime(day, clock, tz, 1).utcoffset() == timedelta(hours=second)
    a, b = local_datetime(day, clock, tz, 0), local_datetime(day, clock, tz, 1)
    assert b.astimezone(UTC) - a.astimezone(UTC) == timedelta(hours=first - second)


@pytest.mark.parametrize(("zone", "day", "clock", "offset"), PLAIN)
def test_an_ordinary_time_is_that_time(zone, day, clock, offset):
    moment = local_datetime(day, clock, ZoneInfo(zone))
    assert moment.utcoffset() == timedelta(hours=offset) and (moment.date(), moment.time()) == (day, clock)


ZONES = st.sampled_from(["America/Chicago", "Australia/Sydney", "Europe/London", "America/Sao_Paulo", "UTC"])


@given(zone=ZONES, day=st.dates(date(2020, 1, 1), date(2035, 12, 31)), clock=st.times(), fold=st.sampled_from([0, 1]))
def test_whatever_is_accepted_reads_back_as_the_same_wall_clock(zone, day, clock, fold):
    tz = ZoneInfo(zone)
    clock = clock.replace(second=0, microsecond=0)
    try:
        moment = local_datetime(day, clock, tz, fold)
    except NonexistentLocalTime:
        return
    back = moment.astimezone(UTC).astimezone(tz)
    assert (back.date(), back.time().replace(fold=0)) == (day, clock)


WINDOW_CASES = [
    (SendingWindow(), time(0, 5), False),
    (SendingWindow(), time(7, 59), False),
    (SendingWindow(), time(8, 0), True),
    (SendingWindow(), time(19, 59), True),
    (SendingWindow(), time(20, 0), False),
    (SendingWindow(0, 24), time(0, 0), True),
    (SendingWindow(0, 24), time(23, 59), True),
    (SendingWindow(12, 13), time(12, 30), True),
    (SendingWindow(12, 13), time(13, 0), False),
]


@pytest.mark.parametrize(("window", "clock", "is_open"), WINDOW_CASES)
def test_the_sending_window(window, clock, is_open):
    assert window.is_open(clock) is is_open


@pytest.mark.parametrize(("start", "end"), [(20, 8), (8, 8), (-1, 10), (8, 25)])
def test_an_empty_or_impossible_window_is_refused(start, end):
    with pytest.raises(ValueError, match="sending window"):
        SendingWindow(start, end)


@given(session_day=st.dates(date(2026, 1, 10), date(2027, 12, 31)), days=st.integers(1, 28), back=st.integers(0, 40))
def test_a_message_never_names_a_past_day_to_stop_nsaids(session_day, days, back):
    today = session_day - timedelta(days=back)
    stop = stop_day_as_sent(session_day, days, today)
    assert stop >= today and stop >= session_day - timedelta(days=days)
    assert stop == today or stop == session_day - timedelta(days=days)
