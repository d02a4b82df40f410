import re
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pytest

from prolotrack.domain.agents import Agent
from prolotrack.domain.anatomy import Region
from prolotrack.domain.errors import AnatomyError, ProtocolError, ScheduleError
from prolotrack.domain.protocols import (
    DEFAULT_FOLLOW_UPS,
    TEMPLATES,
    FollowUp,
    OffsetUnit,
    ProtocolTemplate,
    ReminderKind,
    ScheduleSettings,
    SessionSpec,
    TimepointKind,
    schedule,
    template,
)

D = Decimal
MONDAY = date(2025, 1, 6)


def session_days(code: str, start: date = MONDAY) -> list[tuple[int, bool]]:
    plan = schedule(template(code), start)
    return [((s.date - start).days, s.optional) for s in plan.sessions]


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        # Rabago: weeks 1, 5, 9 (+13, 17 as needed).
        ("knee_oa_rabago", [(0, False), (28, False), (56, False), (84, True), (112, True)]),
        ("knee_oa_intra_articular", [(0, False), (28, False), (56, False), (112, False)]),  # weeks 0, 4, 8, 16
        ("sacroiliac_kim", [(0, False), (14, True), (28, True)]),  # every 2 weeks, max 3
        ("lateral_epicondylosis_scarpone", [(0, False), (28, False), (56, False)]),  # weeks 0, 4, 8
        ("plantar_fasciitis_ryan", [(0, False), (42, False), (84, False)]),  # every 6 weeks, median 3
        ("tmj_refai", [(0, False), (42, False), (84, False), (126, False)]),  # 4 sessions 6 weeks apart
        # Monthly x 3 from 6 January 2025: 6 Feb (31 days), 6 Mar (59 days).
        ("osgood_schlatter_topol", [(0, False), (31, False), (59, False)]),
        ("rotator_cuff_bertrand", [(0, False), (31, False), (59, False)]),
        ("low_back_yelland", [(0, False), (28, False), (56, False), (84, True), (112, True), (140, True)]),
    ],
)
def test_each_template_schedules_the_trial_sessions(code, expected):
    assert session_days(code) == expected


def test_achilles_template_is_weekly_for_twelve_weeks_with_the_last_eight_as_needed():
    days = session_days("achilles_yelland")
    assert [d for d, _ in days] == [7 * w for w in range(12)]
    assert [optional for _, optional in days] == [False] * 4 + [True] * 8


def test_every_template_has_a_source_solutions_and_catalogue_landmarks():
    assert len(TEMPLATES) == 10
    assert len({t.code for t in TEMPLATES}) == 10
    for item in TEMPLATES:
        assert "DOMAIN.md §" in item.source and "§4" in item.source
        assert item.solutions and item.landmarks
        assert all(c.concentration.value > 0 for s in item.solutions for c in s.components)


@pytest.mark.parametrize(
    ("code", "label", "components", "volume"),
    [
        ("knee_oa_rabago", "Intra-articular dextrose 25%", {Agent.DEXTROSE: "25"}, "6"),
        ("low_back_yelland", "Glucose 20% / lignocaine 0.2%", {Agent.DEXTROSE: "20", Agent.LIDOCAINE: "0.2"}, None),
        ("lateral_epicondylosis_scarpone", "Sodium morrhuate 0.72% / dextrose 10.7%",
         {Agent.SODIUM_MORRHUATE: "0.72", Agent.DEXTROSE: "10.7"}, "0.5"),
        ("osgood_schlatter_topol", "Dextrose 12.5% in lidocaine 1%", {Agent.DEXTROSE: "12.5", Agent.LIDOCAINE: "1"},
         None),
        ("tmj_refai", "Mepivacaine 2%", {Agent.MEPIVACAINE: "2"}, "1"),
    ],
)  # fmt: skip
def test_template_solutions_carry_the_trial_concentrations(code, label, components, volume):
    solution = next(s for s in template(code).solutions if s.label == label)
    assert {c.agent: c.concentration.percent for c in solution.components} == {a: D(v) for a, v in components.items()}
    assert solution.volume_ml == (None if volume is None else D(volume))


@pytest.mark.parametrize(
    "code",
    ["knee_oa_intra_articular", "low_back_yelland", "sacroiliac_kim", "achilles_yelland", "rotator_cuff_bertrand"],
)
def test_templates_with_details_missing_from_domain_md_say_what_to_review(code):
    assert any("template default" in note for note in template(code).review)


def test_unknown_template_codes_are_refused():
    with pytest.raises(ProtocolError, match="Unknown protocol template 'knee_magic'"):
        template("knee_magic")


@pytest.mark.parametrize(
    ("changes", "error", "message"),
    [
        ({"landmarks": ("elbow.annular_ligament",)}, ProtocolError, "is not in region knee"),
        ({"landmarks": ("knee.unknown",)}, AnatomyError, "Unknown landmark code"),
        ({"sessions": ()}, ProtocolError, "first session must be planned"),
        ({"sessions": (SessionSpec(0, optional=True),)}, ProtocolError, "first session must be planned"),
        ({"sessions": (SessionSpec(2),)}, ProtocolError, "first session must be planned and at offset 0"),
        ({"sessions": (SessionSpec(0), SessionSpec(4), SessionSpec(2))}, ProtocolError, "must increase"),
        ({"sessions": (SessionSpec(0), SessionSpec(0, OffsetUnit.DAYS))}, ProtocolError, "must increase"),
        (
            {"sessions": (SessionSpec(0), SessionSpec(4, optional=True), SessionSpec(8))},
            ProtocolError,
            "planned session cannot follow an optional one",
        ),
    ],
)
def test_malformed_templates_are_refused(changes, error, message):
    with pytest.raises(error, match=re.escape(message)):
        replace(template("knee_oa_rabago"), **changes)


# --- Schedule ---


def test_rabago_schedule_has_follow_ups_after_the_last_planned_session_not_the_optional_ones():
    plan = schedule(template("knee_oa_rabago"), date(2025, 1, 6))
    assert plan.last_planned_session.date == date(2025, 3, 3)
    follow_ups = {t.code: t.date for t in plan.timepoints if t.kind is TimepointKind.FOLLOW_UP}
    assert follow_ups == {
        "follow_up_6w": date(2025, 4, 14),
        "follow_up_3m": date(2025, 6, 3),
        "follow_up_6m": date(2025, 9, 3),
        "follow_up_12m": date(2026, 3, 3),
    }


def test_timepoints_are_baseline_then_each_session_then_the_follow_ups():
    plan = schedule(template("lateral_epicondylosis_scarpone"), date(2025, 1, 6))
    assert [(t.code, t.kind, t.date) for t in plan.timepoints] == [
        ("baseline", TimepointKind.BASELINE, date(2025, 1, 6)),
        ("session_2", TimepointKind.SESSION, date(2025, 2, 3)),
        ("session_3", TimepointKind.SESSION, date(2025, 3, 3)),
        ("follow_up_6w", TimepointKind.FOLLOW_UP, date(2025, 4, 14)),
        ("follow_up_3m", TimepointKind.FOLLOW_UP, date(2025, 6, 3)),
        ("follow_up_6m", TimepointKind.FOLLOW_UP, date(2025, 9, 3)),
        ("follow_up_12m", TimepointKind.FOLLOW_UP, date(2026, 3, 3)),
    ]


@pytest.mark.parametrize(
    ("start", "expected_3m", "expected_12m"),
    [
        # Scarpone's last session is 8 weeks after the start.
        (date(2024, 10, 4), date(2025, 2, 28), date(2025, 11, 29)),  # last session 29 Nov -> 28 Feb
        (date(2023, 10, 5), date(2024, 2, 29), date(2024, 11, 30)),  # 30 Nov -> 29 Feb (leap), 30 Nov
        (date(2024, 10, 6), date(2025, 3, 1), date(2025, 12, 1)),
    ],
)
def test_month_follow_ups_use_calendar_months_clamped_to_the_end_of_short_months(start, expected_3m, expected_12m):
    plan = schedule(template("lateral_epicondylosis_scarpone"), start)
    dates = {t.code: t.date for t in plan.timepoints}
    assert dates["follow_up_3m"] == expected_3m
    assert dates["follow_up_12m"] == expected_12m


def test_monthly_sessions_from_the_31st_are_clamped_to_the_last_day_of_shorter_months():
    plan = schedule(template("osgood_schlatter_topol"), date(2025, 1, 31))
    assert [s.date for s in plan.sessions] == [date(2025, 1, 31), date(2025, 2, 28), date(2025, 3, 31)]


def test_optional_sessions_have_timepoints_marked_optional_and_no_reminders():
    plan = schedule(template("knee_oa_rabago"), MONDAY)
    optional_points = [t for t in plan.timepoints if t.optional]
    assert [t.session_number for t in optional_points] == [4, 5]
    assert all(r.session_number not in (4, 5) for r in plan.reminders)


def test_reminders_come_before_each_planned_session_and_on_each_timepoint():
    plan = schedule(template("lateral_epicondylosis_scarpone"), MONDAY)
    by_kind = {kind: [r.date for r in plan.reminders if r.kind is kind] for kind in ReminderKind}
    sessions = [s.date for s in plan.sessions]
    assert by_kind[ReminderKind.APPOINTMENT] == [d - timedelta(days=2) for d in sessions]
    assert by_kind[ReminderKind.NSAID_STOP] == [d - timedelta(days=3) for d in sessions]
    assert by_kind[ReminderKind.QUESTIONNAIRE] == [t.date for t in plan.timepoints]
    assert [r.date for r in plan.reminders] == sorted(r.date for r in plan.reminders)


def test_reminder_days_are_clinic_settings():
    settings = ScheduleSettings(appointment_reminder_days=7, nsaid_stop_days=14)
    plan = schedule(template("tmj_refai"), MONDAY, settings)
    first = [r for r in plan.reminders if r.session_number == 1]
    assert {r.kind: r.date for r in first} == {
        ReminderKind.APPOINTMENT: MONDAY - timedelta(days=7),
        ReminderKind.NSAID_STOP: MONDAY - timedelta(days=14),
        ReminderKind.QUESTIONNAIRE: MONDAY,
    }


@pytest.mark.parametrize("settings", [ScheduleSettings(nsaid_reminders=False), ScheduleSettings(nsaid_stop_days=0)])
def test_nsaid_reminders_can_be_switched_off(settings):
    plan = schedule(template("tmj_refai"), MONDAY, settings)
    assert all(r.kind is not ReminderKind.NSAID_STOP for r in plan.reminders)


def test_nsaid_reminder_names_the_session_and_does_not_promise_a_restart_date():
    plan = schedule(template("tmj_refai"), MONDAY)
    message = next(r.message for r in plan.reminders if r.kind is ReminderKind.NSAID_STOP)
    assert message == (
        "Stop anti-inflammatory painkillers (NSAIDs) from today until session 1 on 2025-01-06; "
        "the clinic will tell you when to restart."
    )


def test_follow_ups_are_a_clinic_setting():
    settings = ScheduleSettings(follow_ups=(FollowUp("follow_up_2w", "2 weeks after", 2, OffsetUnit.WEEKS),))
    plan = schedule(template("tmj_refai"), MONDAY, settings)
    follow_ups = [t for t in plan.timepoints if t.kind is TimepointKind.FOLLOW_UP]
    assert [(t.code, t.date) for t in follow_ups] == [("follow_up_2w", MONDAY + timedelta(weeks=20))]
    assert len(DEFAULT_FOLLOW_UPS) == 4


def test_weekend_dates_are_left_for_the_clinic_to_move():
    saturday = date(2025, 1, 4)
    plan = schedule(template("lateral_epicondylosis_scarpone"), saturday)
    assert all(s.date.weekday() == 5 for s in plan.sessions)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: schedule(template("tmj_refai"), datetime(2025, 1, 6, 9, 0)), "without a time"),
        (lambda: schedule(template("tmj_refai"), "2025-01-06"), "without a time"),
        (lambda: schedule("tmj_refai", MONDAY), "Choose a protocol template"),
        (lambda: ScheduleSettings(appointment_reminder_days=-1), "between 0 and 30 days"),
        (lambda: ScheduleSettings(nsaid_stop_days=29), "between 0 and 28 days"),
        (
            lambda: ScheduleSettings(follow_ups=(FollowUp("a", "a", 1, OffsetUnit.WEEKS),) * 2),
            "needs its own code",
        ),
        (lambda: ScheduleSettings(follow_ups=(FollowUp("a", "now", 0, OffsetUnit.WEEKS),)), "after the last session"),
    ],
)
def test_bad_schedule_input_is_refused(make, message):
    with pytest.raises(ScheduleError, match=re.escape(message)):
        make()


def test_a_custom_template_can_be_built_from_data():
    custom = ProtocolTemplate(
        code="hip_custom",
        name="Hip, clinic protocol",
        indication="Greater trochanteric pain",
        region=Region.HIP,
        solutions=(),
        landmarks=("hip.greater_trochanter",),
        sessions=(SessionSpec(0), SessionSpec(10, OffsetUnit.DAYS), SessionSpec(1, OffsetUnit.MONTHS)),
        source="Clinic protocol",
    )
    plan = schedule(custom, date(2025, 1, 25))
    assert [s.date for s in plan.sessions] == [date(2025, 1, 25), date(2025, 2, 4), date(2025, 2, 25)]
    assert custom.planned_sessions == 3
