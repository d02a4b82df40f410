import re
from dataclasses import replace
from decimal import Decimal

import pytest

from prolotrack.domain.errors import ScoringError
from prolotrack.domain.scoring import (
    DEFAULT_NON_RESPONDER_AFTER_SESSIONS,
    DEFAULT_RESPONDER_RULE,
    INSTRUMENTS,
    Direction,
    Licence,
    ResponderRule,
    ResponseStatus,
    change_from_baseline,
    check_score,
    instrument,
    non_responder,
    pgic_responder,
)
from prolotrack.domain.sources import Evidence

D = Decimal
NRS, VAS, ODI, KOOS, QUICKDASH = (instrument(c) for c in ("nrs_pain", "vas_pain", "odi", "koos", "quickdash"))


@pytest.mark.parametrize(
    ("code", "low", "high", "direction", "mcid_abs", "mcid_pct", "licence"),
    [
        ("nrs_pain", 0, 10, Direction.HIGHER_IS_WORSE, "2", "30", Licence.SHIPPABLE),
        ("vas_pain", 0, 100, Direction.HIGHER_IS_WORSE, "15", None, Licence.SHIPPABLE),
        ("pgic", 1, 7, Direction.HIGHER_IS_WORSE, None, None, Licence.SHIPPABLE),
        ("womac", 0, 100, Direction.HIGHER_IS_WORSE, "12", None, Licence.LICENSED),
        ("koos", 0, 100, Direction.HIGHER_IS_BETTER, "10", None, Licence.LICENSED),
        ("koos_jr", 0, 100, Direction.HIGHER_IS_BETTER, "10", None, Licence.LICENSED),
        ("odi", 0, 100, Direction.HIGHER_IS_WORSE, "10", "30", Licence.LICENSED),
        ("quickdash", 0, 100, Direction.HIGHER_IS_WORSE, "15.9", None, Licence.LICENSED),
        ("dash", 0, 100, Direction.HIGHER_IS_WORSE, "10.8", None, Licence.LICENSED),
    ],
)
def test_instrument_metadata_matches_domain_md(code, low, high, direction, mcid_abs, mcid_pct, licence):
    item = instrument(code)
    assert (item.minimum, item.maximum, item.direction, item.licence) == (D(low), D(high), direction, licence)
    assert item.mcid_absolute == (None if mcid_abs is None else D(mcid_abs))
    assert item.mcid_percent == (None if mcid_pct is None else D(mcid_pct))
    assert item.source


def test_only_nrs_vas_pgic_and_the_diary_ship_their_item_texts():
    # DOMAIN.md §8: "Ship NRS, VAS and PGIC, and a post-injection flare diary."
    shipped = {i.code for i in INSTRUMENTS if i.licence is Licence.SHIPPABLE}
    assert shipped == {"nrs_pain", "vas_pain", "pgic", "diary"}


def test_koos_family_visa_a_and_prtee_are_marked_unverified():
    unverified = {i.code for i in INSTRUMENTS if i.evidence is Evidence.UNVERIFIED}
    assert unverified == {"koos", "koos_jr", "hoos", "faos", "visa_a", "prtee"}
    # DOMAIN.md §8 gives no MCID for VISA-A or PRTEE ("see literature"): none is invented.
    assert all(instrument(c).mcid_absolute is None for c in ("visa_a", "prtee"))


def test_nrs_mcid_is_cited_to_farrar_and_ostelo():
    assert "Farrar 2001" in NRS.source and "Ostelo 2008" in NRS.source


@pytest.mark.parametrize(
    ("item", "baseline", "current", "absolute", "improvement", "percent", "by_abs", "by_pct", "responder"),
    [
        (NRS, "8", "6", "-2", "2", "25.0", True, False, True),  # 2 points reached, 25% not
        (NRS, "5", "4", "-1", "1", "20.0", False, False, False),
        (NRS, "3", "2", "-1", "1", "33.3", False, True, True),  # 1 point but 33%: responder by percent
        (NRS, "10", "7", "-3", "3", "30.0", True, True, True),  # exactly 30%
        (NRS, "7", "5", "-2", "2", "28.6", True, False, True),
        (NRS, "4", "6", "2", "-2", "-50.0", False, False, False),  # worse
        (NRS, "0", "0", "0", "0", None, False, None, False),  # baseline 0: no percent
        (VAS, "60", "45", "-15", "15", "25.0", True, None, True),
        (VAS, "60", "45.5", "-14.5", "14.5", "24.2", False, None, False),
        (ODI, "40", "31", "-9", "9", "22.5", False, False, False),
        (ODI, "30", "21", "-9", "9", "30.0", False, True, True),
        (KOOS, "40", "50", "10", "10", "25.0", True, None, True),  # higher is better
        (KOOS, "40", "30", "-10", "-10", "-25.0", False, None, False),
        (KOOS, "0", "9", "9", "9", None, False, None, False),
        (QUICKDASH, "50", "34.1", "-15.9", "15.9", "31.8", True, None, True),
        (QUICKDASH, "50", "34.2", "-15.8", "15.8", "31.6", False, None, False),
    ],
)
def test_change_from_baseline_is_direction_aware_and_checks_both_mcids(
    item, baseline, current, absolute, improvement, percent, by_abs, by_pct, responder
):
    change = change_from_baseline(item, D(baseline), D(current))
    assert change.absolute == D(absolute)
    assert change.improvement == D(improvement)
    assert change.percent == (None if percent is None else D(percent))
    assert change.responder_abs is by_abs
    assert change.responder_pct is by_pct
    assert change.responder is responder


def test_default_responder_rule_is_either_criterion_as_farrar_reports():
    assert DEFAULT_RESPONDER_RULE is ResponderRule.EITHER


@pytest.mark.parametrize(
    ("item", "baseline", "current", "rule", "responder"),
    [
        (NRS, "8", "6", ResponderRule.EITHER, True),
        (NRS, "8", "6", ResponderRule.BOTH, False),  # 2 points but only 25%
        (NRS, "8", "6", ResponderRule.ABSOLUTE, True),
        (NRS, "8", "6", ResponderRule.PERCENT, False),
        (NRS, "3", "2", ResponderRule.ABSOLUTE, False),
        (NRS, "3", "2", ResponderRule.PERCENT, True),
        (NRS, "10", "7", ResponderRule.BOTH, True),
        (VAS, "60", "45", ResponderRule.BOTH, True),  # only the absolute MCID exists for VAS
        (NRS, "0", "0", ResponderRule.PERCENT, False),  # percent undefined at baseline 0
        (NRS, "0", "0", ResponderRule.BOTH, False),
        (ODI, "30", "21", "both", False),
    ],
)
def test_the_responder_rule_is_configurable(item, baseline, current, rule, responder):
    assert change_from_baseline(item, D(baseline), D(current), rule).responder is responder


@pytest.mark.parametrize(
    ("item", "baseline", "current", "rule", "message"),
    [
        (NRS, "11", "5", ResponderRule.EITHER, "baseline score 11 is outside 0-10: re-enter the score."),
        (NRS, "5", "-1", ResponderRule.EITHER, "current score -1 is outside 0-10"),
        (NRS, "5", "4.5", ResponderRule.EITHER, "takes whole numbers only (got 4.5)"),
        (VAS, "101", "50", ResponderRule.EITHER, "outside 0-100"),
        (VAS, "50", "NaN", ResponderRule.EITHER, "finite number"),
        (VAS, "50", 40.0, ResponderRule.EITHER, "binary float"),
        (VAS, "60", "40", ResponderRule.PERCENT, "has no percent MCID"),
        (VAS, "60", "40", "majority", "Unknown responder rule 'majority'"),
        (instrument("pgic"), "4", "2", ResponderRule.EITHER, "already rates change: use pgic_responder"),
    ],
)
def test_scores_outside_the_range_and_unusable_rules_are_refused(item, baseline, current, rule, message):
    with pytest.raises(ScoringError, match=re.escape(message)):
        change_from_baseline(item, baseline, current, rule)


def test_an_instrument_without_an_absolute_mcid_refuses_the_absolute_rule():
    no_absolute = replace(NRS, mcid_absolute=None)
    with pytest.raises(ScoringError, match="has no absolute MCID"):
        change_from_baseline(no_absolute, D(8), D(4), ResponderRule.ABSOLUTE)


def test_unknown_instruments_are_refused():
    with pytest.raises(ScoringError, match="Unknown instrument 'sf36'"):
        instrument("sf36")


def test_check_score_accepts_text_and_the_range_bounds():
    assert check_score(VAS, "0") == D(0)
    assert check_score(VAS, "100") == D(100)
    assert check_score(VAS, "37.5") == D("37.5")


@pytest.mark.parametrize(("score", "responder"), [(1, True), (2, True), (3, False), (4, False), (7, False)])
def test_pgic_responder_is_much_or_very_much_improved(score, responder):
    assert pgic_responder(D(score)) is responder


@pytest.mark.parametrize("score", ["0", "8", "2.5"])
def test_pgic_scores_outside_one_to_seven_are_refused(score):
    with pytest.raises(ScoringError):
        pgic_responder(D(score))


# --- Non-responder ---


@pytest.mark.parametrize(
    ("sessions_done", "series", "status", "flagged"),
    [
        (2, ["8", "8", "8"], ResponseStatus.TOO_EARLY, False),
        (3, ["8"], ResponseStatus.NO_FOLLOW_UP, False),
        (3, ["8", "7", "7"], ResponseStatus.NON_RESPONDER, True),
        (3, ["8", "5", "7"], ResponseStatus.NON_RESPONDER, True),  # the latest score counts, not the best
        (3, ["8", "7", "6"], ResponseStatus.RESPONDING, False),
        (4, ["3", "2"], ResponseStatus.RESPONDING, False),  # 33%
        (5, ["6", "9"], ResponseStatus.NON_RESPONDER, True),  # worse
    ],
)
def test_non_responder_is_flagged_after_n_sessions_when_the_latest_score_misses_the_mcid(
    sessions_done, series, status, flagged
):
    result = non_responder(NRS, sessions_done, [D(s) for s in series])
    assert result.status is status
    assert result.non_responder is flagged


def test_non_responder_reason_gives_the_improvement_and_suggests_a_review():
    result = non_responder(NRS, 3, [D(8), D(7)])
    assert result.reason == (
        "After 3 sessions the latest Pain numeric rating scale (0-10) score compared with baseline: improved by 1, "
        "short of the MCID: review the plan with the patient."
    )
    assert result.change is not None and result.change.improvement == D(1)


def test_after_n_sessions_is_a_clinic_setting_with_a_default_of_three():
    assert DEFAULT_NON_RESPONDER_AFTER_SESSIONS == 3
    assert non_responder(NRS, 3, [D(8), D(8)], after_n_sessions=5).status is ResponseStatus.TOO_EARLY
    assert non_responder(NRS, 5, [D(8), D(8)], after_n_sessions=5).status is ResponseStatus.NON_RESPONDER


def test_non_responder_uses_the_configured_responder_rule():
    assert non_responder(NRS, 3, [D(8), D(6)]).non_responder is False
    assert non_responder(NRS, 3, [D(8), D(6)], rule=ResponderRule.BOTH).non_responder is True


def test_non_responder_works_for_higher_is_better_instruments():
    assert non_responder(KOOS, 3, [D(40), D(55)]).status is ResponseStatus.RESPONDING
    assert non_responder(KOOS, 3, [D(40), D(45)]).status is ResponseStatus.NON_RESPONDER


@pytest.mark.parametrize(
    ("sessions_done", "series", "after", "message"),
    [
        (3, [], 3, "Record a baseline score"),
        (-1, [D(5)], 3, "Sessions done must be a whole number"),
        (True, [D(5)], 3, "Sessions done must be a whole number"),
        (3, [D(5)], 0, "must be 1 or more"),
        (3, [D(5), D(12)], 3, "outside 0-10"),
    ],
)
def test_non_responder_refuses_bad_input(sessions_done, series, after, message):
    with pytest.raises(ScoringError, match=re.escape(message)):
        non_responder(NRS, sessions_done, series, after)


def test_a_patient_who_improved_then_slipped_back_is_flagged_on_the_latest_score():
    result = non_responder(NRS, 3, [D(8), D(5), D(7)])
    assert result.change is not None
    assert (result.change.improvement, result.change.percent) == (D(1), D("12.5"))
    assert result.non_responder


@pytest.mark.parametrize("item", [i for i in INSTRUMENTS if i.mcid_absolute or i.mcid_percent], ids=lambda i: i.code)
def test_every_mcid_cites_a_published_source_not_only_the_internal_notes(item):
    # An author and a year: the internal notes alone ("DOMAIN.md §8") are not a source a clinician can check.
    assert re.search(r"[A-Z][a-z]+( & [A-Z][a-z]+)? (19|20)\d\d", item.source), item.source
    assert item.source.strip() != "DOMAIN.md §8"
