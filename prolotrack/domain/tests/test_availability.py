"""Free slots (domain/availability.py): tables of cases for each rule, daylight-saving days in America/Chicago and
Europe/Berlin, and hypothesis properties checked against a brute-force search of the same grid."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from prolotrack.domain.availability import (
    AppointmentType,
    Booked,
    BookingRules,
    ClinicianAvailability,
    DayRange,
    Slot,
    WeeklyPeriod,
    _wall_instant,
    free_slots,
    refusals,
)
from prolotrack.domain.errors import InputError

CHICAGO = ZoneInfo("America/Chicago")
BERLIN = ZoneInfo("Europe/Berlin")
SYDNEY = ZoneInfo("Australia/Sydney")
MIN = timedelta(minutes=1)


def every_day(start: time, end: time) -> tuple[WeeklyPeriod, ...]:
    return tuple(WeeklyPeriod(d, start, end) for d in range(7))


def slots_on(day, zone, hours, *, minutes=30, step=15, now=None, **kwargs):
    clinician = ClinicianAvailability("dr-a", hours, **kwargs)
    now = now or datetime.combine(day - timedelta(days=3), time(12), zone)
    rules = BookingRules(max_days_ahead=30, step=step * MIN)
    return free_slots([clinician], AppointmentType(minutes * MIN), zone, now, rules, day, day)


def local(slots, zone):
    return [s.start.astimezone(zone).strftime("%H:%M%z") for s in slots]


# --- Daylight-saving days -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("zone", "day", "offset_after"),
    [
        (CHICAGO, date(2026, 3, 8), "-0500"),  # spring forward at 02:00
        (CHICAGO, date(2026, 11, 1), "-0600"),  # fall back at 02:00
        (BERLIN, date(2026, 3, 29), "+0200"),  # spring forward at 02:00
        (BERLIN, date(2026, 10, 25), "+0100"),  # fall back at 03:00
        (SYDNEY, date(2026, 4, 5), "+1000"),  # southern hemisphere: fall back in April
        (SYDNEY, date(2026, 10, 4), "+1100"),
    ],
)
def test_a_nine_to_five_day_on_a_change_day_starts_at_nine_local_and_lasts_eight_hours(zone, day, offset_after):
    slots = slots_on(day, zone, every_day(time(9), time(17)))
    assert local(slots, zone)[0] == f"09:00{offset_after}"
    assert local(slots, zone)[-1] == f"16:30{offset_after}"
    assert len(slots) == 31  # 09:00 ... 16:30 every 15 minutes: 8 real hours
    assert all(s.start.astimezone(zone).date() == day for s in slots)


@pytest.mark.parametrize(
    ("day", "start", "end", "expected"),
    [
        # Spring forward (Chicago, 2026-03-08): 02:00-02:59 does not exist.
        (date(2026, 3, 8), time(0), time(6), ["00:00-0600", "01:00-0600", "03:00-0500", "04:00-0500", "05:00-0500"]),
        # A start the clocks skip is the moment they jump (03:00 CDT); the grid is anchored there.
        (date(2026, 3, 8), time(2, 30), time(5), ["03:00-0500", "04:00-0500"]),
        # An end the clocks skip is the moment they jump too.
        (date(2026, 3, 8), time(0), time(2, 30), ["00:00-0600", "01:00-0600"]),
        # Fall back (Chicago, 2026-11-01): 01:00-01:59 happens twice, so 00:00-03:00 is four real hours.
        (date(2026, 11, 1), time(0), time(3), ["00:00-0500", "01:00-0500", "01:00-0600", "02:00-0600"]),
        # A start shown twice is its first showing (01:30 CDT) ...
        (date(2026, 11, 1), time(1, 30), time(4), ["01:30-0500", "01:30-0600", "02:30-0600"]),
        # ... an end shown twice is its second showing (01:30 CST): 00:00 CDT to 01:30 CST is 2.5 real hours.
        (date(2026, 11, 1), time(0), time(1, 30), ["00:00-0500", "01:00-0500"]),
    ],
)
def test_periods_across_a_change_follow_the_documented_rule(day, start, end, expected):
    slots = slots_on(day, CHICAGO, every_day(start, end), minutes=60, step=60)
    assert local(slots, CHICAGO) == expected


def test_adjacent_periods_meeting_at_a_repeated_time_do_not_overlap():
    # 00:00-01:30 ends at the second 01:30 (CST); 01:30-04:00 would start at the first (CDT): it starts where the
    # first period ends instead, on its own grid from 01:30 CDT.
    hours = (WeeklyPeriod(6, time(0), time(1, 30)), WeeklyPeriod(6, time(1, 30), time(4)))
    slots = slots_on(date(2026, 11, 1), CHICAGO, hours, minutes=60, step=60)
    assert local(slots, CHICAGO) == ["00:00-0500", "01:00-0500", "01:30-0600", "02:30-0600"]


@pytest.mark.parametrize(
    ("zone", "day", "clock", "side", "utc"),
    [
        (CHICAGO, date(2026, 3, 8), time(2, 0), "start", datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        (CHICAGO, date(2026, 3, 8), time(2, 59), "end", datetime(2026, 3, 8, 8, 0, tzinfo=UTC)),
        (CHICAGO, date(2026, 11, 1), time(1, 0), "start", datetime(2026, 11, 1, 6, 0, tzinfo=UTC)),
        (CHICAGO, date(2026, 11, 1), time(1, 0), "end", datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
        (CHICAGO, date(2026, 11, 1), time(2, 0), "end", datetime(2026, 11, 1, 8, 0, tzinfo=UTC)),  # once only
        (BERLIN, date(2026, 3, 29), time(2, 30), "start", datetime(2026, 3, 29, 1, 0, tzinfo=UTC)),
        (BERLIN, date(2026, 10, 25), time(2, 30), "start", datetime(2026, 10, 25, 0, 30, tzinfo=UTC)),
        (BERLIN, date(2026, 10, 25), time(2, 30), "end", datetime(2026, 10, 25, 1, 30, tzinfo=UTC)),
        (BERLIN, date(2026, 7, 1), time(9, 0), "start", datetime(2026, 7, 1, 7, 0, tzinfo=UTC)),
        # A zone whose clocks skip midnight (Havana springs forward at 00:00 to 01:00).
        (ZoneInfo("America/Havana"), date(2026, 3, 8), time(0, 0), "start", datetime(2026, 3, 8, 5, 0, tzinfo=UTC)),
    ],
)
def test_wall_clock_bounds_resolve_to_one_instant(zone, day, clock, side, utc):
    assert _wall_instant(day, clock, zone, side) == int(utc.timestamp())


# --- Buffers, breaks, time off ------------------------------------------------------------------------------------

DAY = date(2026, 6, 10)  # a Wednesday, no change of clocks
AT = datetime.combine(DAY, time(10), CHICAGO)  # a held appointment at 10:00-10:30


@pytest.mark.parametrize(
    ("held", "kind", "expected"),
    [
        # No buffers: the slots touch the appointment on both sides.
        (
            Booked(AT, 30 * MIN),
            AppointmentType(30 * MIN),
            ["09:00", "09:15", "09:30", "10:30", "10:45", "11:00", "11:15", "11:30"],
        ),
        # The held appointment's buffer after (15 min): nothing before 10:45.
        (
            Booked(AT, 30 * MIN, buffer_after=15 * MIN),
            AppointmentType(30 * MIN),
            ["09:00", "09:15", "09:30", "10:45", "11:00", "11:15", "11:30"],
        ),
        # The new type's buffer after (15 min) must clear the held appointment; the last slot's buffer may run past
        # closing (11:30-12:00 then 12:00-12:15).
        (
            Booked(AT, 30 * MIN),
            AppointmentType(30 * MIN, buffer_after=15 * MIN),
            ["09:00", "09:15", "10:30", "10:45", "11:00", "11:15", "11:30"],
        ),
        # The held appointment's buffer before (30 min): a 30-minute slot must end by 09:30.
        (
            Booked(AT, 30 * MIN, buffer_before=30 * MIN),
            AppointmentType(30 * MIN),
            ["09:00", "10:30", "10:45", "11:00", "11:15", "11:30"],
        ),
        # The new type's buffer before (20 min): the first start after 10:50 on the grid is 11:00.
        (
            Booked(AT, 30 * MIN),
            AppointmentType(30 * MIN, buffer_before=20 * MIN),
            ["09:00", "09:15", "09:30", "11:00", "11:15", "11:30"],
        ),
        # Both sides' buffers: the larger one counts, not the sum.
        (
            Booked(AT, 30 * MIN, buffer_after=10 * MIN),
            AppointmentType(30 * MIN, buffer_before=15 * MIN),
            ["09:00", "09:15", "09:30", "10:45", "11:00", "11:15", "11:30"],
        ),
    ],
)
def test_buffers(held, kind, expected):
    clinician = ClinicianAvailability("dr-a", every_day(time(9), time(12)), appointments=(held,))
    now = datetime.combine(DAY - timedelta(days=1), time(8), CHICAGO)
    slots = free_slots([clinician], kind, CHICAGO, now, BookingRules(), DAY, DAY)
    assert [s.start.astimezone(CHICAGO).strftime("%H:%M") for s in slots] == expected


def test_an_appointment_of_another_clinician_does_not_block():
    a = ClinicianAvailability("dr-a", every_day(time(9), time(10)), appointments=(Booked(AT - 60 * MIN, 60 * MIN),))
    b = ClinicianAvailability("dr-b", every_day(time(9), time(10)))
    now = datetime.combine(DAY - timedelta(days=1), time(8), CHICAGO)
    slots = free_slots([a, b], AppointmentType(30 * MIN), CHICAGO, now, BookingRules(step=30 * MIN), DAY, DAY)
    assert [(s.clinician, s.start.astimezone(CHICAGO).strftime("%H:%M")) for s in slots] == [
        ("dr-b", "09:00"),
        ("dr-b", "09:30"),
    ]


def test_breaks_cut_the_day_and_the_grid_stays_anchored_at_the_start_of_hours():
    slots = slots_on(
        DAY,
        CHICAGO,
        every_day(time(9), time(13)),
        step=30,
        breaks=(WeeklyPeriod(DAY.weekday(), time(11), time(11, 45)),),
    )
    assert [s[:5] for s in local(slots, CHICAGO)] == ["09:00", "09:30", "10:00", "10:30", "12:00", "12:30"]


def test_two_periods_a_day_each_anchor_their_own_grid():
    hours = (WeeklyPeriod(DAY.weekday(), time(9), time(10)), WeeklyPeriod(DAY.weekday(), time(14, 10), time(15, 10)))
    slots = slots_on(DAY, CHICAGO, hours, step=30)
    assert [s[:5] for s in local(slots, CHICAGO)] == ["09:00", "09:30", "14:10", "14:40"]


@pytest.mark.parametrize(
    ("time_off", "holidays", "open_days"),
    [
        ((), (), [10, 11, 12, 13]),
        ((DayRange(date(2026, 6, 11), date(2026, 6, 12)),), (), [10, 13]),  # both ends included
        ((), (DayRange(date(2026, 6, 13), date(2026, 6, 13)),), [10, 11, 12]),
        ((DayRange(date(2026, 6, 1), date(2026, 6, 30)),), (), []),
    ],
)
def test_time_off_and_clinic_holidays_close_whole_days(time_off, holidays, open_days):
    clinician = ClinicianAvailability("dr-a", every_day(time(9), time(10)), time_off=time_off)
    now = datetime.combine(date(2026, 6, 9), time(8), CHICAGO)
    slots = free_slots(
        [clinician],
        AppointmentType(60 * MIN),
        CHICAGO,
        now,
        BookingRules(),
        date(2026, 6, 10),
        date(2026, 6, 13),
        holidays,
    )
    assert [s.start.astimezone(CHICAGO).day for s in slots] == open_days


# --- Notice, same day, horizon ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rules", "first", "last"),
    [
        (BookingRules(), "2026-06-10 09:45", "2026-08-09 16:00"),  # from now, 60 days ahead by default
        (BookingRules(min_notice=2 * 60 * MIN), "2026-06-10 11:45", "2026-08-09 16:00"),  # now 09:40 + 2 h on the grid
        (BookingRules(min_notice=timedelta(hours=30)), "2026-06-11 15:45", "2026-08-09 16:00"),
        (BookingRules(same_day=False), "2026-06-11 09:00", "2026-08-09 16:00"),
        (BookingRules(max_days_ahead=0), "2026-06-10 09:45", "2026-06-10 16:00"),
        (BookingRules(max_days_ahead=2), "2026-06-10 09:45", "2026-06-12 16:00"),
        (BookingRules(max_days_ahead=0, same_day=False), None, None),
    ],
)
def test_notice_same_day_and_horizon(rules, first, last):
    clinician = ClinicianAvailability("dr-a", every_day(time(9), time(17)))
    now = datetime.combine(DAY, time(9, 40), CHICAGO).astimezone(UTC)
    slots = free_slots(
        [clinician], AppointmentType(60 * MIN), CHICAGO, now, rules, date(2026, 6, 1), date(2026, 12, 31)
    )
    shown = [s.start.astimezone(CHICAGO).strftime("%Y-%m-%d %H:%M") for s in slots]
    assert (shown[0] if shown else None, shown[-1] if shown else None) == (first, last)


def test_the_clinic_date_not_the_utc_date_is_today():
    # 23:30 in Chicago on 9 June is already 10 June in UTC: today is still 9 June, so 10 June is "1 day ahead".
    now = datetime(2026, 6, 10, 4, 30, tzinfo=UTC)
    clinician = ClinicianAvailability("dr-a", every_day(time(9), time(10)))
    rules = BookingRules(max_days_ahead=1, same_day=False)
    slots = free_slots([clinician], AppointmentType(60 * MIN), CHICAGO, now, rules, date(2026, 6, 1), date(2026, 6, 30))
    assert [s.start.astimezone(CHICAGO).date() for s in slots] == [date(2026, 6, 10)]


def test_slots_are_utc_and_end_after_the_duration():
    slots = slots_on(DAY, CHICAGO, every_day(time(9), time(10)), minutes=45, step=15)
    assert slots == [
        Slot(datetime(2026, 6, 10, 14, 0, tzinfo=UTC), datetime(2026, 6, 10, 14, 45, tzinfo=UTC), "dr-a"),
        Slot(datetime(2026, 6, 10, 14, 15, tzinfo=UTC), datetime(2026, 6, 10, 15, 0, tzinfo=UTC), "dr-a"),
    ]


# --- Refusals: why a chosen start is not free ---------------------------------------------------------------------

REFUSING = ClinicianAvailability(
    "dr-a",
    every_day(time(9), time(13)),
    breaks=(WeeklyPeriod(DAY.weekday(), time(10, 30), time(10, 45)),),
    time_off=(DayRange(date(2026, 6, 15), date(2026, 6, 16)),),
    appointments=(Booked(datetime.combine(DAY, time(11), CHICAGO), 30 * MIN, buffer_after=15 * MIN),),
)
NOW_BEFORE = datetime.combine(DAY, time(8), CHICAGO)


@pytest.mark.parametrize(
    ("day", "clock", "rules", "holidays", "expected"),
    [
        (DAY, time(9), BookingRules(), (), []),
        (DAY, time(11, 45), BookingRules(), (), []),
        (DAY, time(9, 5), BookingRules(), (), ["09:05 is not on the 15 minutes grid from 09:00"]),
        (DAY, time(8, 45), BookingRules(), (), ["not within dr-a's working hours"]),
        (DAY, time(12, 45), BookingRules(), (), ["12:45 to 13:15 is not within dr-a's working hours"]),
        (DAY, time(10, 15), BookingRules(), (), ["overlaps the break 10:30-10:45"]),
        (DAY, time(11, 30), BookingRules(), (), ["too close to the appointment 11:00-11:30"]),
        (DAY, time(10, 45), BookingRules(), (), ["too close to the appointment 11:00-11:30"]),  # overlaps it
        (DAY, time(7), BookingRules(), (), ["in the past", "not within"]),
        (DAY, time(9), BookingRules(min_notice=2 * 60 * MIN), (), ["less than the minimum notice (120 minutes) ahead"]),
        (DAY, time(9), BookingRules(same_day=False), (), ["Same-day booking is off"]),
        (date(2026, 6, 12), time(9), BookingRules(max_days_ahead=1), (), ["more than 1 days ahead"]),
        (date(2026, 6, 16), time(9), BookingRules(), (), ["dr-a is off on 2026-06-16"]),
        (DAY, time(9), BookingRules(), (DayRange(DAY, DAY),), ["2026-06-10 is a clinic holiday"]),
    ],
)
def test_refusals_say_which_rule_a_start_breaks(day, clock, rules, holidays, expected):
    start = datetime.combine(day, clock, CHICAGO)
    reasons = refusals(start, REFUSING, AppointmentType(30 * MIN), CHICAGO, NOW_BEFORE, rules, holidays)
    assert len(reasons) == len(expected)
    for reason, part in zip(reasons, expected, strict=True):
        assert part in reason


def test_refusals_refuse_naive_times():
    with pytest.raises(InputError):
        refusals(datetime(2026, 6, 10, 9), REFUSING, AppointmentType(MIN), CHICAGO, NOW_BEFORE, BookingRules())


# --- Bad input ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "make",
    [
        lambda: WeeklyPeriod(7, time(9), time(17)),
        lambda: WeeklyPeriod(0, time(17), time(9)),
        lambda: WeeklyPeriod(0, time(9), time(9)),
        lambda: WeeklyPeriod(0, time(9, tzinfo=UTC), time(17)),
        lambda: DayRange(date(2026, 6, 2), date(2026, 6, 1)),
        lambda: Booked(datetime(2026, 6, 1, 9), 30 * MIN),  # naive
        lambda: Booked(AT, timedelta(0)),
        lambda: Booked(AT, 30 * MIN, buffer_after=-MIN),
        lambda: AppointmentType(timedelta(0)),
        lambda: AppointmentType(30 * MIN, buffer_before=-MIN),
        lambda: BookingRules(step=timedelta(0)),
        lambda: BookingRules(step=timedelta(milliseconds=1500)),
        lambda: BookingRules(max_days_ahead=-1),
        lambda: BookingRules(min_notice=-MIN),
        lambda: ClinicianAvailability(
            "dr-a", (WeeklyPeriod(0, time(9), time(13)), WeeklyPeriod(0, time(12), time(17)))
        ),
        lambda: free_slots([], AppointmentType(MIN), CHICAGO, datetime(2026, 6, 1, 9), BookingRules(), DAY, DAY),
        lambda: free_slots([], AppointmentType(MIN), CHICAGO, AT, BookingRules(), DAY, DAY - timedelta(days=1)),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(make):
    with pytest.raises(InputError):
        make()


# --- Properties ---------------------------------------------------------------------------------------------------

# Days around every change of 2026 in the zones drawn, and an ordinary week.
STARTS = [
    date(2026, 3, 5),
    date(2026, 3, 26),
    date(2026, 10, 22),
    date(2026, 10, 29),
    date(2026, 4, 2),
    date(2026, 10, 1),
    date(2026, 6, 8),
]
ZONES = [CHICAGO, BERLIN, SYDNEY, ZoneInfo("UTC")]


@st.composite
def periods(draw, low=24, high=88):
    """Non-overlapping weekly periods on quarter hours between 06:00 and 22:00 (no change of clocks in that range
    in the zones drawn, so the brute force below may convert wall times directly)."""
    out = []
    for weekday in range(7):
        bounds = sorted(draw(st.sets(st.integers(low, high), max_size=4)))
        if len(bounds) % 2:
            bounds = bounds[:-1]
        for a, b in zip(bounds[::2], bounds[1::2], strict=True):
            out.append(WeeklyPeriod(weekday, time(a // 4, a % 4 * 15), time(b // 4, b % 4 * 15)))
    return tuple(out)


@st.composite
def scenarios(draw):
    zone = draw(st.sampled_from(ZONES))
    first = draw(st.sampled_from(STARTS))
    last = first + timedelta(days=draw(st.integers(0, 8)))
    base = datetime.combine(first, time(0), zone).astimezone(UTC)
    span_minutes = ((last - first).days + 1) * 24 * 60

    def instant():
        return base + 5 * MIN * draw(st.integers(0, span_minutes // 5))

    clinicians = []
    for name in draw(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=3, unique=True)):
        held = tuple(
            Booked(
                instant(),
                draw(st.sampled_from([15, 30, 45, 60, 90])) * MIN,
                draw(st.sampled_from([0, 5, 15, 30])) * MIN,
                draw(st.sampled_from([0, 5, 15, 30])) * MIN,
            )
            for _ in range(draw(st.integers(0, 12)))
        )
        off = ()
        if draw(st.booleans()):
            d = first + timedelta(days=draw(st.integers(0, 8)))
            off = (DayRange(d, d + timedelta(days=draw(st.integers(0, 2)))),)
        clinicians.append(ClinicianAvailability(name, draw(periods()), draw(periods()), off, held))
    kind = AppointmentType(
        draw(st.sampled_from([10, 15, 30, 45, 60, 120])) * MIN,
        draw(st.sampled_from([0, 5, 10, 15])) * MIN,
        draw(st.sampled_from([0, 5, 10, 15])) * MIN,
    )
    rules = BookingRules(
        min_notice=draw(st.sampled_from([0, 30, 120, 24 * 60, 48 * 60])) * MIN,
        max_days_ahead=draw(st.integers(0, 12)),
        same_day=draw(st.booleans()),
        step=draw(st.sampled_from([5, 10, 15, 20, 30, 60])) * MIN,
    )
    now = base + MIN * draw(st.integers(-2 * 24 * 60, span_minutes))
    holidays = ()
    if draw(st.booleans()):
        d = first + timedelta(days=draw(st.integers(0, 8)))
        holidays = (DayRange(d, d),)
    return zone, first, last, clinicians, kind, rules, now, holidays


def brute_force(zone, first, last, clinicians, kind, rules, now, holidays):
    """Every grid start checked one by one against each rule as the docs state it."""
    today = now.astimezone(zone).date()
    found = set()
    for who in clinicians:
        day = first
        while day <= last:
            closed = (
                day < today
                or (day == today and not rules.same_day)
                or (day - today).days > rules.max_days_ahead
                or any(day in r for r in (*who.time_off, *holidays))
            )
            for period in [p for p in who.hours if p.weekday == day.weekday() and not closed]:
                anchor = datetime.combine(day, period.start, zone).astimezone(UTC)
                end = datetime.combine(day, period.end, zone).astimezone(UTC)
                breaks = [
                    (
                        datetime.combine(day, b.start, zone).astimezone(UTC),
                        datetime.combine(day, b.end, zone).astimezone(UTC),
                    )
                    for b in who.breaks
                    if b.weekday == day.weekday()
                ]
                start = anchor
                while start + kind.duration <= end:
                    stop = start + kind.duration
                    ok = start >= now + rules.min_notice and not any(b0 < stop and start < b1 for b0, b1 in breaks)
                    for held in who.appointments:
                        held_end = held.start + held.duration
                        if stop <= held.start:
                            ok = ok and held.start - stop >= max(kind.buffer_after, held.buffer_before)
                        elif held_end <= start:
                            ok = ok and start - held_end >= max(held.buffer_after, kind.buffer_before)
                        else:
                            ok = False
                    if ok:
                        found.add((start, stop, who.clinician))
                    start += rules.step
            day += timedelta(days=1)
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_slots_are_exactly_the_grid_starts_that_pass_every_rule(scenario):
    zone, first, last, clinicians, kind, rules, now, holidays = scenario
    slots = free_slots(clinicians, kind, zone, now, rules, first, last, holidays)
    assert {tuple(s) for s in slots} == brute_force(*scenario)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_slot_properties(scenario):
    zone, first, last, clinicians, kind, rules, now, holidays = scenario
    slots = free_slots(clinicians, kind, zone, now, rules, first, last, holidays)
    by_name = {c.clinician: c for c in clinicians}
    today = now.astimezone(zone).date()
    # Sorted by start then clinician, and unique.
    keys = [(s.start, s.clinician) for s in slots]
    assert keys == sorted(set(keys))
    for slot in slots:
        who = by_name[slot.clinician]
        assert slot.start.tzinfo is UTC and slot.end - slot.start == kind.duration
        # Notice and horizon.
        assert slot.start >= now + rules.min_notice
        start_local, end_local = slot.start.astimezone(zone), slot.end.astimezone(zone)
        day = start_local.date()
        assert first <= day <= last and 0 <= (day - today).days <= rules.max_days_ahead
        assert rules.same_day or day > today
        # Inside one working period of its weekday, outside every break, not on a day off.
        assert end_local.date() == day
        assert any(
            p.weekday == day.weekday() and p.start <= start_local.time() and end_local.time() <= p.end
            for p in who.hours
        )
        assert not any(
            b.weekday == day.weekday() and b.start < end_local.time() and start_local.time() < b.end for b in who.breaks
        )
        assert not any(day in r for r in (*who.time_off, *holidays))
        # Clear of every held appointment and the larger buffer on each side.
        for held in who.appointments:
            assert (
                slot.end + max(kind.buffer_after, held.buffer_before) <= held.start
                or held.start + held.duration + max(held.buffer_after, kind.buffer_before) <= slot.start
            )


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios(), st.data())
def test_a_start_has_no_refusal_exactly_when_it_is_a_free_slot(scenario, data):
    zone, first, last, clinicians, kind, rules, now, holidays = scenario
    slots = {(s.start, s.clinician) for s in free_slots(clinicians, kind, zone, now, rules, first, last, holidays)}
    base = datetime.combine(first, time(0), zone).astimezone(UTC)
    days = (last - first).days + 1
    candidates = [(start, clinician) for start, clinician in slots]
    for _ in range(30):
        start = base + 5 * MIN * data.draw(st.integers(0, days * 24 * 12 - 1))
        if start.astimezone(zone).date() <= last:
            candidates.append((start, data.draw(st.sampled_from([c.clinician for c in clinicians]))))
    # Every grid start of every working period (the starts where the buffer rules decide), as the docs state the grid.
    for who in clinicians:
        for offset in range(days):
            day = first + timedelta(days=offset)
            for period in who.hours:
                if period.weekday == day.weekday():
                    start = datetime.combine(day, period.start, zone).astimezone(UTC)
                    end = datetime.combine(day, period.end, zone).astimezone(UTC)
                    while start < end:
                        candidates.append((start, who.clinician))
                        start += rules.step
    by_name = {c.clinician: c for c in clinicians}
    for start, clinician in candidates:
        reasons = refusals(start, by_name[clinician], kind, zone, now, rules, holidays)
        assert (reasons == []) == ((start, clinician) in slots), reasons
