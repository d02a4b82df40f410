"""domain/icd10cm.py: every indication x side gives its ICD-10-CM code(s); a coded chart condition is preferred."""

import pytest

from prolotrack.domain.icd10cm import (
    BY_INDICATION,
    ICD10CM_SYSTEM,
    INDICATIONS,
    OTHER,
    ChartCondition,
    Source,
    diagnosis,
    indication_code,
    normalise_code,
)
from prolotrack.domain.protocols import TEMPLATES
from prolotrack.domain.vocabulary import Laterality

SIDES = ("right", "left", "bilateral", "midline", "na")

# indication -> the codes for right, left, bilateral, midline, not applicable (ICD-10-CM FY2026 tabular list).
EXPECTED = {
    "knee_osteoarthritis": ("M17.11", "M17.12", "M17.0", "M17.10", "M17.10"),
    "chronic_non_specific_low_back_pain": ("M54.50",) * 5,
    "sacroiliac_joint_pain": ("M53.3",) * 5,
    "chronic_lateral_epicondylosis": ("M77.11", "M77.12", "M77.11 M77.12", "M77.10", "M77.10"),
    "painful_mid_portion_achilles_tendinosis": ("M76.61", "M76.62", "M76.61 M76.62", "M76.60", "M76.60"),
    "chronic_rotator_cuff_tendinopathy": ("M75.101", "M75.102", "M75.101 M75.102", "M75.100", "M75.100"),
    "chronic_plantar_fasciitis": ("M72.2",) * 5,
    "osgood_schlatter_disease": ("M92.521", "M92.522", "M92.523", "M92.529", "M92.529"),
    "symptomatic_temporomandibular_joint_hypermobility": ("M26.69",) * 5,
    OTHER: ("",) * 5,
}
CASES = [(ind, side, codes) for ind, row in EXPECTED.items() for side, codes in zip(SIDES, row, strict=True)]


def test_the_table_covers_every_side_of_the_vocabulary():
    assert set(SIDES) == {s.value for s in Laterality}


def test_every_indication_of_the_vocabulary_has_a_mapping_and_a_row_here():
    assert set(BY_INDICATION) == set(INDICATIONS) == set(EXPECTED)
    assert all(BY_INDICATION[code].for_side("right") for code in INDICATIONS if code != OTHER)
    # every built-in template's indication is on the list
    assert {indication_code(t.code) for t in TEMPLATES} == set(INDICATIONS) - {OTHER}


@pytest.mark.parametrize(("indication", "side", "codes"), CASES)
def test_every_indication_by_every_side(indication, side, codes):
    result = diagnosis(indication, side, region="")
    assert " ".join(c.code for c in result.codes) == codes
    assert result.source is (Source.INDICATION if codes else Source.NONE)
    assert all(c.display for c in result.codes)


@pytest.mark.parametrize(
    ("code", "display"),
    [
        ("M17.11", "Unilateral primary osteoarthritis, right knee"),
        ("M17.0", "Bilateral primary osteoarthritis of knee"),
        ("M77.12", "Lateral epicondylitis, left elbow"),
        ("M76.60", "Achilles tendinitis, unspecified leg"),
        ("M75.101", "Unspecified rotator cuff tear or rupture of right shoulder, not specified as traumatic"),
        ("M92.523", "Juvenile osteochondrosis of tibia tubercle, bilateral"),
        ("M54.50", "Low back pain, unspecified"),
    ],
)
def test_titles_are_the_tabular_lists(code, display):
    titles = {c.code: c.display for rule in BY_INDICATION.values() for side in SIDES for c in rule.for_side(side)}
    assert titles[code] == display


def test_every_code_is_well_formed():
    for rule in BY_INDICATION.values():
        for side in SIDES:
            for c in rule.for_side(side):
                assert normalise_code(c.code) == c.code


def test_unknown_indication_reads_as_other():
    assert diagnosis("made_up", "right", region="knee").source is Source.NONE


@pytest.mark.parametrize(
    ("raw", "printed"),
    [("M1711", "M17.11"), ("m17.11", "M17.11"), (" M722 ", "M72.2"), ("M545", "M54.5"), ("M17", "M17"),
     ("17.11", None), ("M17.11111", None), ("", None)],
)  # fmt: skip
def test_normalise_code(raw, printed):
    assert normalise_code(raw) == printed


def _cond(code, region="", side="", system=ICD10CM_SYSTEM, display="From the chart"):
    return ChartCondition(codings=((system, code, display),), region=region, laterality=side)


@pytest.mark.parametrize(
    ("indication", "side", "region", "chart", "codes", "source"),
    [
        # A more specific code of the same category (secondary OA of the right knee) is kept.
        ("knee_osteoarthritis", "right", "knee", [_cond("M1731", side="right")], "M17.31", Source.CHART),
        # Same category, other side: not this course's complaint.
        ("knee_osteoarthritis", "right", "knee", [_cond("M17.12", side="left")], "M17.11", Source.INDICATION),
        # Recorded at the course's region, another category: the chart's coding wins.
        ("knee_osteoarthritis", "left", "knee", [_cond("M22.2X2", region="knee", side="left")], "M22.2X2",
         Source.CHART),
        # Another region and category: ignored.
        ("knee_osteoarthritis", "left", "knee", [_cond("I10", region="")], "M17.12", Source.INDICATION),
        # Not ICD-10-CM (SNOMED CT): ignored, even at the region.
        ("knee_osteoarthritis", "left", "knee", [_cond("239873007", region="knee", system="http://snomed.info/sct")],
         "M17.12", Source.INDICATION),
        # A bilateral course takes a coded condition of either side.
        ("chronic_lateral_epicondylosis", "bilateral", "elbow", [_cond("M77.11", side="right")], "M77.11",
         Source.CHART),
        # `other`: only the chart can say, by region.
        ("other", "right", "hip", [_cond("M70.61", region="hip", side="right")], "M70.61", Source.CHART),
        ("other", "right", "hip", [], "", Source.NONE),
        # Two chart conditions of one code: listed once.
        ("chronic_plantar_fasciitis", "left", "ankle_foot", [_cond("M72.2"), _cond("M722")], "M72.2", Source.CHART),
    ],
)  # fmt: skip
def test_a_coded_chart_condition_is_preferred_when_it_describes_the_complaint(
    indication, side, region, chart, codes, source
):
    result = diagnosis(indication, side, region, chart)
    assert (" ".join(c.code for c in result.codes), result.source) == (codes, source)
