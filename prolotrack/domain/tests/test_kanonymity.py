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
