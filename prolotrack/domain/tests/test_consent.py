"""The consent text: risks per region, the plan sentence, the template's paragraphs, the stored text format."""

from dataclasses import replace
from datetime import date, timedelta

import pytest

from prolotrack.domain.consent import (
    DEFAULT_TEXTS,
    REGION_RISKS,
    ConsentError,
    CoursePlan,
    TemplateTexts,
    as_text,
    parse_text,
    plan_summary,
    region_risks,
    research_sections,
    treatment_sections,
)

D = date(2026, 11, 2)


def plan(region="knee", label="Knee", **changes):
    values = {
        "indication": "Knee osteoarthritis", "region": region, "region_label": label, "side_label": "Right",
        "protocol_name": "Knee OA (Rabago 2013)", "session_dates": (D, D + timedelta(weeks=4), D + timedelta(weeks=8)),
    }  # fmt: skip
    values.update(changes)
    return CoursePlan(**values)


def risk_text(p):
    sections = treatment_sections(p, DEFAULT_TEXTS)
    regional = next(s for s in sections if s.heading.startswith("Risks of injections"))
    return " ".join(regional.bullets + regional.paragraphs).lower()


@pytest.mark.parametrize(
    ("region", "label", "present", "absent"),
    [
        ("knee", "Knee", ["inside the joint"], ["lung", "spinal cord"]),
        ("hip", "Hip", ["inside the joint"], ["lung"]),
        ("shoulder", "Shoulder", ["inside the joint"], ["lung"]),
        ("tmj", "Temporomandibular joint", ["inside the joint"], ["lung"]),
        ("lumbopelvic", "Lumbar spine and pelvis", ["spinal cord", "nerve roots", "inside the joint"], ["lung"]),
        (
            "neck_thoracic",
            "Neck and thoracic spine",
            ["puncture the lung", "pneumothorax", "spinal cord", "nerve roots"],
            [],
        ),
        ("elbow", "Elbow", ["no additional risks"], ["lung", "spinal cord", "inside the joint"]),
        ("ankle_foot", "Ankle and foot", ["no additional risks"], ["lung", "spinal cord"]),
        ("other", "Other", ["no additional risks"], ["lung"]),
    ],
)
def test_region_specific_risks(region, label, present, absent):
    text = risk_text(plan(region, label))
    for phrase in present:
        assert phrase in text
    for phrase in absent:
        assert phrase not in text


def test_every_region_of_the_map_has_an_entry():
    from prolotrack.domain.anatomy import Region

    assert {r.value for r in Region} <= set(REGION_RISKS)


def test_an_unknown_region_is_refused_not_given_no_risks():
    with pytest.raises(ConsentError, match="Unknown body region 'knees'"):
        region_risks("knees")


def test_diabetes_adds_the_glucose_load():
    assert "2.6 g" in risk_text(plan(diabetes=True))
    assert "2.6 g" not in risk_text(plan())


@pytest.mark.parametrize(
    ("dates", "optional", "expected"),
    [
        ([D], [], "1 session, planned for 2026-11-02."),
        ([D, D + timedelta(weeks=4), D + timedelta(weeks=8)], [], "3 sessions about 4 weeks apart, planned from 2026-11-02 to 2026-12-28."),
        ([D, D + timedelta(weeks=4), D + timedelta(weeks=8)], [D + timedelta(weeks=12), D + timedelta(weeks=16)],
         "3 sessions about 4 weeks apart, planned from 2026-11-02 to 2026-12-28, and up to 2 more if needed (5 in all)."),
        ([D + timedelta(weeks=w) for w in range(12)], [], "12 sessions about 1 week apart, planned from 2026-11-02 to 2027-01-18."),
        ([D, D + timedelta(days=14), D + timedelta(days=28)], [], "3 sessions about 2 weeks apart, planned from 2026-11-02 to 2026-11-30."),
        ([D, D + timedelta(days=91), D + timedelta(days=182)], [], "3 sessions about 3 months apart, planned from 2026-11-02 to 2027-05-03."),
        ([D + timedelta(days=5), D], [], "2 sessions about 5 days apart, planned from 2026-11-02 to 2026-11-07."),
    ],
    ids=["one", "rabago", "rabago-as-needed", "achilles-weekly", "sacroiliac-2-weekly", "rotator-cuff-3-monthly", "unsorted"],
)  # fmt: skip
def test_plan_summary(dates, optional, expected):
    assert plan_summary(dates, optional) == expected


def test_a_course_without_sessions_cannot_be_consented():
    with pytest.raises(ConsentError, match="no planned session"):
        treatment_sections(plan(session_dates=()), DEFAULT_TEXTS)


def test_the_form_has_every_part_the_issue_asks_for():
    headings = [s.heading for s in treatment_sections(plan(), DEFAULT_TEXTS)]
    assert headings == [
        "What prolotherapy is", "Your plan", "What to expect", "Common risks", "Risks of injections in the knee",
        "Off-label use", "Cost and insurance", "Alternatives", "Tell us before each session", "Your right to stop",
        "Your agreement",
    ]  # fmt: skip


def test_the_default_text_is_honest():
    text = as_text("t", treatment_sections(plan(), DEFAULT_TEXTS) + research_sections(DEFAULT_TEXTS)).lower()
    for claim in ("permanent", "all-natural", "all natural", "cure", "centuries", "protein-rich", "sclerotherapy"):
        assert claim not in text
    assert "off-label" in text and "medicare" in text and "stop the treatment at any time" in text


def test_an_empty_template_paragraph_is_refused():
    with pytest.raises(ConsentError, match="'insurance' paragraph is empty"):
        replace(DEFAULT_TEXTS, insurance="  ")
    with pytest.raises(ConsentError):
        TemplateTexts(**{**DEFAULT_TEXTS.__dict__, "research": ""})


def test_the_stored_text_reads_back_into_the_same_sections():
    sections = treatment_sections(plan("neck_thoracic", "Neck and thoracic spine"), DEFAULT_TEXTS)
    title, parsed = parse_text(as_text("Consent to prolotherapy: neck", sections))
    assert title == "Consent to prolotherapy: neck"
    assert parsed == sections
