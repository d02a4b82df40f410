"""Session totals and signing rules, as tables of cases."""

from decimal import Decimal as D

import pytest

from prolotrack.domain.agents import Agent, AgentConcentration, pct
from prolotrack.domain.anaesthetic import DoseStatus
from prolotrack.domain.errors import InputError
from prolotrack.domain.session import (
    CHECKLIST,
    Answer,
    ChecklistItem,
    ConsentState,
    PreparedSolution,
    SessionRules,
    SigningState,
    SiteDraw,
    checklist_for,
    session_totals,
    signing_blockers,
)

# DOMAIN.md §2: 15% dextrose with 0.5% lidocaine, and D50 1:1 with 1% lidocaine = 25% / 0.5%.
D15 = PreparedSolution(
    "A", (AgentConcentration(Agent.DEXTROSE, pct("15")), AgentConcentration(Agent.LIDOCAINE, pct("0.5")))
)
D25 = PreparedSolution(
    "B", (AgentConcentration(Agent.DEXTROSE, pct("25")), AgentConcentration(Agent.LIDOCAINE, pct("0.5")))
)
DEX_ONLY = PreparedSolution("C", (AgentConcentration(Agent.DEXTROSE, pct("25")),))
SOLUTIONS = {"A": D15, "B": D25, "C": DEX_ONLY}


def draws(*pairs):
    return [SiteDraw(label, D(volume)) for label, volume in pairs]


@pytest.mark.parametrize(
    ("sites", "weight", "count", "volume", "dextrose_g", "lidocaine_mg", "status"),
    [
        # Rabago-style knee: 6 mL of 25% IA + 15 x 0.5 mL of 15% (DOMAIN.md §2: about 2.6 g glucose).
        ([("B", "6")] + [("A", "0.5")] * 15, "70", 16, "13.5", "2.625", "67.5", DoseStatus.WARN),
        # 8 sites of 0.5 mL 15% / 0.5% lidocaine: 20 mg of a 300 mg limit.
        ([("A", "0.5")] * 8, "70", 8, "4.0", "0.6", "20.0", DoseStatus.OK),
        # Dextrose only: no anaesthetic, so no weight needed.
        ([("C", "1")] * 5, None, 5, "5", "1.25", "0", DoseStatus.OK),
        # 2 sites: below the usual 4-15 range -> warning, not a block.
        ([("A", "0.5")] * 2, "70", 2, "1.0", "0.15", "5.0", DoseStatus.WARN),
        # 50 kg plain lidocaine limit 225 mg (DOMAIN.md §3): 46 mL of 0.5% = 230 mg -> block.
        ([("A", "2")] * 23, "50", 23, "46", "6.9", "230.0", DoseStatus.BLOCK),
        # Exactly 225 mg at 50 kg is allowed, but near the limit -> warning.
        ([("A", "5")] * 9, "50", 9, "45", "6.75", "225.0", DoseStatus.WARN),
    ],
    ids=["rabago-knee", "eight-sites", "dextrose-only", "two-sites", "over-limit", "at-limit"],
)
def test_session_totals(sites, weight, count, volume, dextrose_g, lidocaine_mg, status):
    totals = session_totals(SOLUTIONS, draws(*sites), D(weight) if weight else None)
    assert totals.injections == count
    assert totals.volume_ml == D(volume)
    assert totals.dextrose_g == D(dextrose_g)
    assert totals.mg_of(Agent.LIDOCAINE) == D(lidocaine_mg)
    assert totals.status is status


def test_the_rabago_knee_session_warns_only_about_the_injection_count():
    totals = session_totals(SOLUTIONS, draws(("B", "6"), *[("A", "0.5")] * 15), D("70"))
    assert totals.dose.status is DoseStatus.OK
    assert totals.warnings == ("16 injections: outside the clinic's usual 4-15 per session. Check this is intended.",)


def test_anaesthetic_without_a_weight_blocks_with_a_reason():
    totals = session_totals(SOLUTIONS, draws(("A", "0.5")), None)
    assert totals.status is DoseStatus.BLOCK
    assert "Record the patient's weight" in totals.blocks[0]


def test_a_site_from_an_unprepared_solution_is_refused():
    with pytest.raises(InputError, match="'Z', which was not prepared"):
        session_totals(SOLUTIONS, draws(("Z", "1")), D("70"))


def test_the_injection_range_is_a_clinic_setting():
    totals = session_totals(
        SOLUTIONS, draws(*[("A", "0.5")] * 2), D("70"), SessionRules(min_injections=1, max_injections=3)
    )
    assert totals.status is DoseStatus.OK


@pytest.mark.parametrize(("low", "high"), [(0, 10), (5, 4), (1, 101)])
def test_an_invalid_injection_range_is_refused(low, high):
    with pytest.raises(InputError, match="not valid"):
        SessionRules(min_injections=low, max_injections=high)


ALL_YES = {
    ChecklistItem.MEAL: Answer.YES,
    ChecklistItem.CONSENT: Answer.YES,
    ChecklistItem.SKIN_PREP: Answer.YES,
    ChecklistItem.NUMBING: Answer.NOT_APPLICABLE,
    ChecklistItem.TIME_OUT: Answer.YES,
}
GOOD_TOTALS = session_totals(SOLUTIONS, draws(*[("A", "0.5")] * 8), D("70"))


def state(**changes):
    values = {
        "sedation": False,
        "answers": dict(ALL_YES),
        "screened_for_the_day": True,
        "unresolved_contraindications": (),
        "totals": GOOD_TOTALS,
        "solutions_prepared": 1,
        "consent": ConsentState.CURRENT,
    }
    values.update(changes)
    return SigningState(**values)


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({}, ()),
        ({"screened_for_the_day": False}, ("Re-check screening for the day",)),
        ({"unresolved_contraindications": ("Infection at the site",)}, ("Unresolved contraindication: Infection",)),
        ({"answers": {**ALL_YES, ChecklistItem.MEAL: Answer.NO}}, ()),
        (
            {"answers": {**ALL_YES, ChecklistItem.CONSENT: Answer.NO}},
            ("Checklist answer 'no' does not allow signing: Signed consent",),
        ),
        (
            {"answers": {k: v for k, v in ALL_YES.items() if k is not ChecklistItem.TIME_OUT}},
            ("Checklist not ticked: Time-out",),
        ),
        ({"sedation": True}, ("Checklist not ticked: Oral sedation planned: a driver",)),
        ({"sedation": True, "answers": {**ALL_YES, ChecklistItem.DRIVER: Answer.YES}}, ()),
        ({"solutions_prepared": 0}, ("No solution recorded",)),
        ({"totals": session_totals(SOLUTIONS, [], D("70"))}, ("No injection sites recorded",)),
        ({"totals": session_totals(SOLUTIONS, draws(*[("A", "2")] * 23), D("50"))}, ("",)),
        ({"already_signed": True}, ("This session is already signed",)),
        ({"consent": ConsentState.MISSING}, ("No signed treatment consent for this course",)),
        ({"consent": ConsentState.WITHDRAWN}, ("The patient withdrew the treatment consent",)),
    ],
    ids=[
        "ready",
        "not-rescreened",
        "contraindication",
        "no-meal-allowed",
        "no-consent",
        "no-time-out",
        "sedation-needs-driver",
        "sedation-with-driver",
        "no-solution",
        "no-sites",
        "overdose",
        "already-signed",
        "no-treatment-consent",
        "treatment-consent-withdrawn",
    ],
)
def test_signing_blockers(changes, expected):
    reasons = signing_blockers(state(**changes))
    assert len(reasons) == len(expected)
    for reason, start in zip(reasons, expected, strict=True):
        assert reason.startswith(start)


def test_the_driver_item_applies_only_with_sedation():
    assert ChecklistItem.DRIVER not in {s.item for s in checklist_for(False)}
    assert ChecklistItem.DRIVER in {s.item for s in checklist_for(True)}


def _every_item_answered(sedation: bool) -> dict:
    return {spec.item: next(iter(sorted(spec.accepted))) for spec in checklist_for(sedation)}


ITEM_CASES = [(spec, sedation) for sedation in (False, True) for spec in checklist_for(sedation)]


@pytest.mark.parametrize(
    ("spec", "sedation"), ITEM_CASES, ids=[f"{s.item}-{'sedation' if sed else 'none'}" for s, sed in ITEM_CASES]
)
def test_each_checklist_item_blocks_when_unticked_only_if_required(spec, sedation):
    """Table over every checklist item: an unticked or refused item blocks signing if and only if it is required."""
    answers = _every_item_answered(sedation)
    assert signing_blockers(state(sedation=sedation, answers=answers)) == ()
    unticked = {k: v for k, v in answers.items() if k is not spec.item}
    blockers = signing_blockers(state(sedation=sedation, answers=unticked))
    assert (blockers != ()) is spec.required
    for answer in Answer:
        blockers = signing_blockers(state(sedation=sedation, answers={**answers, spec.item: answer}))
        assert (blockers != ()) is (spec.required and answer not in spec.accepted), (spec.item, answer)


def test_the_numbing_cream_item_is_optional_and_the_rest_required():
    assert {s.item for s in CHECKLIST if s.optional} == {ChecklistItem.NUMBING}
    answers = {k: v for k, v in ALL_YES.items() if k is not ChecklistItem.NUMBING}
    assert signing_blockers(state(answers=answers)) == ()
