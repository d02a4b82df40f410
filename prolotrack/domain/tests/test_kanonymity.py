"""k-anonymity and l-diversity of the research export: bands, the lattice search, suppression, and the measured k
checked against a brute-force reading of the definition (Sweeney 2002) for any input."""

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prolotrack.domain.kanonymity import (
    ANY,
    AnonymityError,
    CourseQI,
    Levels,
    PatientRecord,
    age_band,
    anonymise,
    generalise_course,
    measure_k,
    measure_l,
    signature,
    weight_band,
)


@pytest.mark.parametrize(
    ("age", "width", "band"),
    [
        (0, 5, "0-4"),
        (44, 5, "40-44"),
        (45, 5, "45-49"),
        (89, 5, "85-89"),
        (90, 5, "90+"),
        (104, 5, "90+"),
        (89, 20, "80-89"),  # the top band stops at 89: 90+ is always its own category
        (63, 10, "60-69"),
        (63, None, ANY),
        (None, 5, "unknown"),
    ],
)
def test_age_bands_pool_90_and_over(age, width, band):
    assert age_band(age, width) == band


@pytest.mark.parametrize(
    ("kg", "width", "band"),
    [
        ("81.3", 5, "80-84"),
        ("84.9", 5, "80-84"),
        ("85", 5, "85-89"),
        ("39.9", 5, "<40"),
        ("120", 5, "120+"),
        ("250", 10, "120+"),
        ("118", 20, "100-119"),
        ("70", None, ANY),
        (None, 5, "unknown"),
    ],
)
def test_weight_bands_are_top_and_bottom_coded(kg, width, band):
    assert weight_band(Decimal(kg) if kg else None, width) == band


def test_a_negative_age_is_refused():
    with pytest.raises(AnonymityError):
        age_band(-1)


def course(age=60, kg="80", region="knee", side="left", indication="knee_osteoarthritis", year=2024, outcome="open"):
    return CourseQI(age, Decimal(kg) if kg else None, region, side, indication, year, outcome)


def test_five_look_alikes_are_released_as_they_are_and_a_sixth_rarity_is_suppressed():
    records = [PatientRecord(f"p{i}", "female", (course(age=60 + i % 3),)) for i in range(5)]
    records.append(PatientRecord("odd", "female", (course(region="tmj", indication="tmj"),)))
    release = anonymise(records, k=5)
    # The look-alikes share the 60-64 band: no generalisation needed. The TMJ course is unique whatever the bands
    # (region and indication are never generalised): it is dropped, and then its patient is alone as a woman
    # without courses, so the patient is left out too.
    assert release.levels == Levels(0, 0, 0)
    assert release.k == 5 and [r.patient for r in release.records] == [f"p{i}" for i in range(5)]
    assert release.suppressed_courses == 1 and release.suppressed_patients == 1


@st.composite
def clinics(draw):
    n = draw(st.integers(0, 40))
    out = []
    for i in range(n):
        courses = tuple(
            course(
                age=draw(st.integers(15, 100)),
                kg=str(draw(st.integers(35, 140))),
                region=draw(st.sampled_from(["knee", "elbow"])),
                side=draw(st.sampled_from(["left", "right"])),
                indication=draw(st.sampled_from(["a", "b"])),
                year=draw(st.sampled_from([2024, 2025])),
                outcome=draw(st.sampled_from(["open", "completed", "stopped"])),
            )
            for _ in range(draw(st.integers(0, 2)))
        )
        out.append(PatientRecord(f"p{i}", draw(st.sampled_from(["female", "male", "other"])), courses))
    return out


def brute_force_k(records, levels):
    """For each patient, count the patients (itself included) whose signature equals its own; the minimum."""
    return min(
        (sum(1 for other in records if signature(other, levels) == signature(r, levels)) for r in records),
        default=None,
    )


@settings(max_examples=60, deadline=None)
@given(clinics(), st.integers(2, 6))
def test_every_release_is_k_anonymous_by_the_definition(records, k):
    release = anonymise(records, k=k)
    assert release.k == brute_force_k(release.records, release.levels)
    assert release.k is None or release.k >= k
    # Nothing is invented: every released course is one of the patient's own, in the same order.
    original = {r.patient: r for r in records}
    for r in release.records:
        assert r.sex == original[r.patient].sex
        assert r.courses == original[r.patient].courses[: len(r.courses)]
    released_courses = sum(len(r.courses) for r in release.records)
    dropped_patients = {r.patient for r in records} - {r.patient for r in release.records}
    assert release.suppressed_patients == len(dropped_patients)
    assert released_courses + release.suppressed_courses == sum(len(r.courses) for r in records)


@settings(max_examples=40, deadline=None)
@given(clinics(), st.sampled_from([Levels(0, 0, 0), Levels(1, 2, 0), Levels(3, 3, 1)]))
def test_l_counts_distinct_outcome_lists_per_class(records, levels):
    value = measure_l(records, levels)
    groups: dict = {}
    for r in records:
        if r.courses:
            groups.setdefault(signature(r, levels), set()).add(tuple(sorted(c.outcome for c in r.courses)))
    assert value == min((len(v) for v in groups.values()), default=None)
    assert measure_k(records, levels) == brute_force_k(records, levels)


def test_generalisation_widens_then_hides():
    c = course(age=63, kg="81.5")
    assert generalise_course(c, Levels(0, 0, 0)).key()[:2] == ("60-64", "80-84")
    assert generalise_course(c, Levels(1, 1, 0)).key()[:2] == ("60-69", "80-89")
    assert generalise_course(c, Levels(3, 3, 0)).key()[:2] == (ANY, ANY)
    assert signature(PatientRecord("p", "male", (c,)), Levels(0, 0, 1))[0] == ANY


def test_k_below_two_is_refused():
    with pytest.raises(AnonymityError):
        anonymise([], k=1)


# --- l-diversity, enforced (distinct l, Machanavajjhala et al. 2007) ----------------------------------------------


def _five(outcomes: list[str], sex: str = "female") -> list[PatientRecord]:
    return [PatientRecord(f"p{i}", sex, (course(outcome=o),)) for i, o in enumerate(outcomes)]


@pytest.mark.parametrize(
    ("outcomes", "l_min", "released_courses", "dropped_for_l", "measured_l"),
    [
        # One outcome for all five: the homogeneity attack. Not enforced (l = 1): released, l = 1 measured.
        (["completed"] * 5, 1, 5, 0, 1),
        # Every course of the input has one outcome: no class can hold two, and a class tells nothing that is not true
        # of every patient, so l is lowered to 1 (effective_l) and they are released.
        (["completed"] * 5, 2, 5, 0, 1),
        # Two outcomes among five: 2-diverse, released as they are.
        (["completed"] * 4 + ["stopped"], 2, 5, 0, 2),
        # Three required, but the input has two outcomes: l is lowered to 2 (effective_l), which the class meets.
        (["completed"] * 4 + ["stopped"], 3, 5, 0, 2),
        (["completed", "completed", "stopped", "open", "open"], 3, 5, 0, 3),
    ],
)
def test_l_diversity_is_enforced_by_withholding_homogeneous_classes(
    outcomes, l_min, released_courses, dropped_for_l, measured_l
):
    release = anonymise(_five(outcomes), k=5, l_min=l_min)
    assert release.effective_l == min(l_min, len(set(outcomes)))
    assert release.levels == Levels(0, 0, 0)
    assert sum(len(r.courses) for r in release.records) == released_courses
    assert release.suppressed_courses_for_l == dropped_for_l
    assert release.l_diversity == measured_l
    assert len(release.records) == 5 and release.suppressed_patients == 0
    manifest = release.manifest()
    assert manifest["required_l"] == l_min and manifest["l_diversity_variant"] == "distinct"
    assert manifest["l_diversity"] == measured_l and "outcome" in manifest["l_diversity_attribute"]


def test_a_homogeneous_class_is_withheld_when_the_clinic_has_other_outcomes():
    # Five look-alikes all completed; five others (another region) with two outcomes: the clinic has two outcomes,
    # so l = 2 applies and the homogeneous class's courses are withheld.
    records = _five(["completed"] * 5)
    records += [PatientRecord(f"q{i}", "female", (course(region="hip", indication="hip_oa", outcome=o),))
                for i, o in enumerate(["completed", "stopped"] * 2 + ["stopped"])]  # fmt: skip
    release = anonymise(records, k=5, l_min=2)
    assert release.effective_l == 2 and release.suppressed_courses_for_l == 5
    kept = {r.patient: len(r.courses) for r in release.records}
    assert all(kept[f"p{i}"] == 0 for i in range(5)) and all(kept[f"q{i}"] == 1 for i in range(5))


def test_l_diversity_prefers_generalising_when_it_joins_two_homogeneous_classes():
    # Two classes of five, one all completed (ages 60-64), one all stopped (ages 65-69): each fails l = 2 alone;
    # 10-year bands join them into one class of ten with both outcomes, so nothing is withheld.
    records = [PatientRecord(f"a{i}", "male", (course(age=61, outcome="completed"),)) for i in range(5)]
    records += [PatientRecord(f"b{i}", "male", (course(age=66, outcome="stopped"),)) for i in range(5)]
    release = anonymise(records, k=5, l_min=2)
    assert release.levels == Levels(1, 0, 0)
    assert release.suppressed_courses == 0 and release.l_diversity == 2 and release.k == 10


def test_l_below_one_is_refused():
    with pytest.raises(AnonymityError):
        anonymise([], k=5, l_min=0)


def brute_force_l(records, levels):
    """For each class of patients with courses, the number of distinct outcome lists; the minimum."""
    values = []
    for r in records:
        if not r.courses:
            continue
        same = [o for o in records if signature(o, levels) == signature(r, levels)]
        values.append(len({tuple(sorted(c.outcome for c in o.courses)) for o in same}))
    return min(values, default=None)


@settings(max_examples=60, deadline=None)
@given(clinics(), st.integers(2, 6), st.integers(1, 3))
def test_every_release_is_l_diverse_by_the_definition(records, k, l_min):
    release = anonymise(records, k=k, l_min=l_min)
    assert release.k == brute_force_k(release.records, release.levels)
    assert release.k is None or release.k >= k
    assert release.l_diversity == brute_force_l(release.records, release.levels)
    assert release.l_diversity is None or release.l_diversity >= release.effective_l
    outcomes = {c.outcome for r in records for c in r.courses}
    assert release.effective_l == min(l_min, max(1, len(outcomes)))
    assert 0 <= release.suppressed_courses_for_l <= release.suppressed_courses
    released_courses = sum(len(r.courses) for r in release.records)
    dropped_patients = {r.patient for r in records} - {r.patient for r in release.records}
    assert release.suppressed_patients == len(dropped_patients)
    assert released_courses + release.suppressed_courses == sum(len(r.courses) for r in records)
