"""Instrument definitions: scoring tables against worked examples, missing-item rules, region sets, FHIR.

Sources of the worked examples are in docs/clinical/instruments.md; each case names its own.
"""

import itertools
from decimal import Decimal

import pytest

from prolotrack.domain import instruments as I
from prolotrack.domain.errors import ScoringError
from prolotrack.domain.scoring import INSTRUMENTS

D = Decimal


def items(prefix, values, start=1):
    return {f"{prefix}{n}": v for n, v in enumerate(values, start=start) if v is not None}


# (code, answers, score, complete, case) -------------------------------------------------------------------------
CASES = [
    # ODI scoring sheet (Fairbank & Pynsent 2000): 16 points over 10 sections = 16/50 x 100 = 32%.
    ("odi", items("s", [2, 2, 2, 2, 2, 2, 1, 1, 1, 1]), "32.00", True, "ODI 16/50"),
    # Same sheet: one section missed -> 16/45 x 100 = 35.56% (the sheet prints 35.5).
    ("odi", items("s", [2, 2, 2, 2, 2, 2, 2, 1, 1, None]), "35.56", True, "ODI 16/45, one section missed"),
    ("odi", items("s", [5] * 10), "100.00", True, "ODI worst"),
    ("odi", items("s", [0] * 10), "0.00", True, "ODI best"),
    ("odi", items("s", [3] * 7), None, False, "ODI 7 sections: below the product minimum of 8"),
    # QuickDASH (IWH): ((sum/n) - 1) x 25.
    ("quickdash", items("q", [1] * 11), "0.00", True, "QuickDASH no disability"),
    ("quickdash", items("q", [5] * 11), "100.00", True, "QuickDASH most disability"),
    ("quickdash", items("q", [3] * 10), "50.00", True, "QuickDASH 10 of 11 answered: scored"),
    ("quickdash", items("q", [2, 3, 2, 4, 1, 2, 3, 2, 2, 3, 2]), "34.09", True, "QuickDASH sum 26/11: (26/11 - 1) x 25"),
    ("quickdash", items("q", [3] * 9), None, False, "QuickDASH 9 of 11: not scored"),
    # KOOS user's guide: 100 - mean x 25 per subscale; the score is Pain.
    ("koos", items("P", [0] * 9) | items("S", [0] * 7) | items("A", [0] * 17) | items("SP", [0] * 5)
     | items("Q", [0] * 4), "100.00", True, "KOOS no problems"),
    ("koos", items("P", [2] * 9) | items("S", [4] * 7) | items("A", [1] * 17) | items("SP", [3] * 5)
     | items("Q", [2] * 4), "50.00", True, "KOOS mixed"),
    ("koos", items("P", [2] * 4), None, False, "KOOS pain 4 of 9: under half, not scored"),
    # KOOS JR conversion table (Lyman 2016 scoring instructions): raw 0 -> 100, 14 -> 52.465, 28 -> 0.
    ("koos_jr", items("j", [0] * 7), "100.00", True, "KOOS JR raw 0"),
    ("koos_jr", items("j", [2] * 7), "52.47", True, "KOOS JR raw 14"),
    ("koos_jr", items("j", [4] * 7), "0.00", True, "KOOS JR raw 28"),
    ("koos_jr", items("j", [1, 0, 0, 0, 0, 0, 0]), "91.98", True, "KOOS JR raw 1"),
    ("koos_jr", items("j", [2] * 6), None, False, "KOOS JR needs all 7"),
    # WOMAC LK3.1: total 0-96 normalised to 0-100.
    ("womac", items("p", [2] * 5) | items("s", [2] * 2) | items("f", [2] * 17), "50.00", True, "WOMAC all 2"),
    ("womac", items("p", [4] * 5) | items("s", [4] * 2) | items("f", [4] * 17), "100.00", True, "WOMAC worst"),
    ("womac", items("p", [2, 2, 2, 2, None]) | items("s", [2] * 2) | items("f", [2] * 17), "50.00", True,
     "WOMAC one pain item missing: mean substituted"),
    ("womac", items("p", [2, 2, 2, None, None]) | items("s", [2] * 2) | items("f", [2] * 17), None, False,
     "WOMAC two pain items missing: not scored"),
    # VISA-A (Robinson 2001): best = 60 + 10 + 30 = 100.
    ("visa_a", items("q", [10] * 6) | {"q7": 10, "q8a": 30}, "100.00", True, "VISA-A no symptoms"),
    ("visa_a", items("q", [5] * 6) | {"q7": 4, "q8b": 10}, "44.00", True, "VISA-A 30 + 4 + 10 (8B)"),
    ("visa_a", items("q", [5] * 6) | {"q7": 4}, None, False, "VISA-A no item 8"),
    # PRTEE (MacDermid 2007): pain sum + function sum / 2.
    ("prtee", items("p", [10] * 5) | items("f", [10] * 10), "100.00", True, "PRTEE worst"),
    ("prtee", items("p", [4] * 5) | items("f", [3] * 10), "35.00", True, "PRTEE 20 + 30/2"),
    # Shipped instruments.
    ("nrs_pain", {"now": 7, "average_week": 6, "worst_week": 9}, "6.00", True, "NRS: average last week"),
    ("nrs_pain", {"now": 7}, None, False, "NRS only 'now'"),
    ("vas_pain", {"vas": 64}, "64.00", True, "VAS"),
    ("pgic", {"pgic": 2}, "2.00", True, "PGIC much improved"),
    ("diary", {f"day{d}_pain": p for d, p in enumerate([6, 5, 3, 2, 2, 1, 1], start=1)} | {"day1_flare": True},
     "6.00", True, "Diary: worst day"),
]  # fmt: skip


@pytest.mark.parametrize(("code", "answers", "expected", "complete", "case"), CASES, ids=[c[-1] for c in CASES])
def test_scoring_table(code, answers, expected, complete, case):
    result = I.score(code, answers)
    assert result.score == (None if expected is None else D(expected))
    assert result.complete is complete
    if not complete:
        assert result.missing or result.message


def test_koos_subscores_and_odi_missing_list():
    koos = I.score("koos", items("P", [2] * 9) | items("S", [4] * 7) | items("A", [1] * 17) | items("SP", [3] * 5)
                   | items("Q", [2] * 4))  # fmt: skip
    assert koos.subscores == {
        "pain": D("50.00"), "symptoms": D("0.00"), "adl": D("75.00"), "sport_rec": D("25.00"), "qol": D("50.00")
    }  # fmt: skip
    odi = I.score("odi", items("s", [1] * 9))
    assert odi.missing == ("s10",) and odi.complete


def test_diary_counts_flare_bruising_and_nsaid_days():
    answers = {"day1_pain": 6, "day1_flare": "yes", "day2_pain": 4, "day2_bruising": True, "day2_medication": "nsaid"}
    result = I.score("diary", answers)
    assert (result.subscores["flare_days"], result.subscores["bruising_days"], result.subscores["nsaid_days"]) == (
        1, 1, 1,
    )  # fmt: skip
    assert not result.complete and "day3_pain" in result.missing and result.score == 6


def test_koos_jr_table_is_monotonic_and_complete():
    values = [D(v) for v in I.KOOS_JR_INTERVAL]
    assert len(values) == 29 and values[0] == 100 and values[-1] == 0
    assert all(a > b for a, b in itertools.pairwise(values))


@pytest.mark.parametrize(
    ("code", "answers", "message"),
    [
        ("nrs_pain", {"now": 11}, "between 0 and 10"),
        ("nrs_pain", {"now": "5.5"}, "whole number"),
        ("nrs_pain", {"now": "lots"}, "answer with a number"),
        ("nrs_pain", {"now": True}, "answer with a number"),
        ("pgic", {"pgic": 8}, "choose one of the options"),
        ("odi", {"s11": 1}, "no question 's11'"),
        ("diary", {"day1_flare": "maybe"}, "yes or no"),
        ("diary", {"day1_medication": "aspirin"}, "choose one of the options"),
        ("visa_a", {"q7": 5}, "choose one of the options"),
        ("visa_a", items("q", [5] * 6) | {"q7": 4, "q8a": 7, "q8b": 4}, "only one of 8A, 8B or 8C"),
        ("nope", {}, "Unknown instrument"),
    ],
)
def test_bad_answers_are_refused_with_what_to_fix(code, answers, message):
    with pytest.raises(ScoringError, match=message):
        I.score(code, answers)


def test_every_definition_uses_scoring_instruments_for_its_numbers():
    by_code = {i.code: i for i in INSTRUMENTS}
    for code, found in I.DEFINITIONS.items():
        assert found.instrument is by_code[code]
        assert found.scoring_method and found.licence_note and found.source


def test_licensed_instruments_ship_no_texts():
    for code in I.LICENSED:
        found = I.definition(code)
        assert all(item.text is None for item in found.items), code
        assert all(o.label is None for item in found.items for o in item.options), code
    assert set(I.SHIPPED) == {"nrs_pain", "vas_pain", "pgic", "diary"}
    assert set(I.LICENSED) == {"womac", "koos", "koos_jr", "odi", "quickdash", "visa_a", "prtee"}


@pytest.mark.parametrize(
    ("region", "baseline", "licensed", "expected"),
    [
        ("knee", False, (), ("nrs_pain", "pgic")),
        ("knee", False, ("koos_jr",), ("nrs_pain", "pgic", "koos_jr")),
        ("knee", True, ("koos_jr",), ("nrs_pain", "koos_jr")),  # baseline: no PGIC
        ("lumbopelvic", False, ("odi",), ("nrs_pain", "pgic", "odi")),
        ("lumbopelvic", True, (), ("nrs_pain",)),
        ("elbow", False, ("prtee",), ("nrs_pain", "pgic", "prtee")),
        ("unknown-region", False, (), ("nrs_pain", "pgic")),
    ],
)
def test_region_sets(region, baseline, licensed, expected):
    assert I.instruments_for(region, baseline=baseline, licensed_available=licensed) == expected


def test_clinic_overrides_replace_the_region_set_but_baseline_still_drops_pgic():
    overrides = {"knee": ["vas_pain", "pgic"]}
    assert I.instruments_for("knee", baseline=False, overrides=overrides) == ("vas_pain", "pgic")
    assert I.instruments_for("knee", baseline=True, overrides=overrides) == ("vas_pain",)
