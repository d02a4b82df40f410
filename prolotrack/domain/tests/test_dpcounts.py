"""Differentially private breakdowns (OpenDP): contribution bounding, the budget split, what a release carries, and
the differencing attack of issue 18 across breakdowns, run against neighbouring clinics (with and without a patient)."""

import math
from datetime import date

import pytest

from prolotrack.domain import dpcounts
from prolotrack.domain.dpcounts import CourseFacts, bound_contributions
from prolotrack.domain.errors import InputError

PROTOCOLS = [("knee_oa_rabago", "Knee OA"), ("lateral_epicondylosis", "Tennis elbow"), ("none", "No protocol")]
CLINICIANS = [("1", "Dr A"), ("2", "Dr B"), ("other", "Another"), ("none", "None")]
EVENTS = [("pain_flare", "Pain flare"), ("bruising", "Bruising")]
PARTS = dpcounts.breakdowns(PROTOCOLS, CLINICIANS, EVENTS)


def facts(patient="p1", day=1, ref=0, protocol="knee_oa_rabago", clinician="1", verdict="responder", started=True,
          status="open", adverse="none", completion=None):  # fmt: skip
    return CourseFacts(
        patient, date(2025, 1, day), ref, protocol, clinician, verdict, started, status, adverse,
        completion or {"baseline": "all_answered", "session": "some_answered", "follow_up": "none_due"},
    )  # fmt: skip


@pytest.mark.parametrize(
    ("courses", "per_patient", "kept"),
    [
        ([facts(day=3, ref=1), facts(day=1, ref=2), facts(day=2, ref=3)], 2, {2, 3}),  # the earliest two
        ([facts(day=1, ref=5), facts(day=1, ref=4)], 1, {4}),  # same day: the lower id
        ([facts("a", ref=1), facts("b", ref=2), facts("c", ref=3)], 1, {1, 2, 3}),  # one each: all kept
        ([], 2, set()),
    ],
)
def test_each_patient_counts_at_most_per_patient_courses(courses, per_patient, kept):
    assert {c.ref for c in bound_contributions(courses, per_patient)} == kept


def test_a_bound_below_one_is_refused():
    with pytest.raises(InputError):
        bound_contributions([], 0)


@pytest.mark.parametrize(
    ("epsilon", "parts", "per_patient", "scale"),
    [(1.0, 7, 2, 14.0), (0.5, 7, 2, 28.0), (2.0, 1, 1, 0.5), (3.0, 6, 2, 4.0)],
)
def test_the_budget_is_split_evenly_and_scaled_by_the_contribution_bound(epsilon, parts, per_patient, scale):
    assert dpcounts.Budget(epsilon, parts, per_patient).scale() == pytest.approx(scale)


@pytest.mark.parametrize("epsilon", [0, -1])
def test_a_budget_that_is_not_positive_is_refused(epsilon):
    with pytest.raises(InputError):
        dpcounts.release([facts()], PARTS, epsilon)


def test_a_release_states_its_epsilon_per_breakdown_and_in_total():
    made = dpcounts.release([facts(f"p{i}", ref=i) for i in range(30)], PARTS, 1.0)
    assert made["unit"] == "patient" and made["per_patient"] == dpcounts.PER_PATIENT
    assert [b["name"] for b in made["breakdowns"]] == [p.name for p in PARTS]
    # OpenDP's own map of each measurement: epsilon / 7 each, 1 in all (sequential composition).
    for table in made["breakdowns"]:
        assert table["epsilon"] == pytest.approx(1.0 / len(PARTS), rel=1e-6)
        assert table["scale"] == pytest.approx(2 * len(PARTS))
        assert table["noise_95"] == math.ceil(table["scale"] * math.log(20))
        assert all(cell["count"] >= 0 for cell in table["cells"])
    assert made["epsilon"] == pytest.approx(1.0, rel=1e-6) and made["epsilon"] <= made["budget"] * (1 + 1e-9)
    # The categories are the fixed lists, whatever the data: 3 protocols x 3 verdicts, 4 clinicians x 3 verdicts.
    sizes = {b["name"]: len(b["cells"]) for b in made["breakdowns"]}
    assert sizes == {
        "protocol": 9, "clinician": 12, "funnel": 4, "adverse_events": 5,
        "completion_baseline": 4, "completion_session": 4, "completion_follow_up": 4,
    }  # fmt: skip


def test_noisy_counts_are_centred_on_the_truth():
    # 200 responder courses on the knee protocol: over 200 releases the mean of that cell is within 3 standard
    # errors of 200 (discrete Laplace, scale 14, standard deviation about 19.8; the clamp at 0 does not bite here).
    courses = [facts(f"p{i}", ref=i) for i in range(200)]
    counts = []
    for _ in range(200):
        table = dpcounts.release(courses, PARTS[:1], 1.0)["breakdowns"][0]
        counts.append(next(c["count"] for c in table["cells"] if c["key"] == "knee_oa_rabago|responder"))
    scale = 2 / 1.0
    sd = math.sqrt(2) * scale
    assert abs(sum(counts) / len(counts) - 200) < 3 * sd / math.sqrt(len(counts)) + 0.5


def cell(release: dict, name: str, key: str) -> int:
    table = next(b for b in release["breakdowns"] if b["name"] == name)
    return next(c["count"] for c in table["cells"] if c["key"] == key)


def differencing_attack(others, target, release, trials):
    """The attacker knows every other patient's courses exactly (the strongest background DP allows for) and sees
    one release; in each breakdown it subtracts the count of the target's cell among the others from the released
    count, adds the excesses up, and guesses 'the target is in' when the sum passes half the target's expected
    contribution. Returns the share of right guesses over trials with the target in and out, half each."""
    names = [(p.name, p.key(target)) for p in PARTS]
    known = {name: sum(1 for c in others if p.key(c) == key) for p, (name, key) in zip(PARTS, names, strict=True)}
    right = 0
    for trial in range(trials):
        present = trial % 2 == 0
        made = release([*others, target] if present else others)
        excess = sum(cell(made, name, key) - known[name] for name, key in names)
        right += (excess > len(PARTS) / 2) == present
    return right / trials


def _clinic():
    others = [
        facts(
            f"p{i}",
            ref=i,
            protocol=["knee_oa_rabago", "lateral_epicondylosis"][i % 2],
            clinician=["1", "2"][i % 2],
            verdict=dpcounts.VERDICTS[i % 3],
            status=["open", "completed", "stopped"][i % 3],
        )
        for i in range(40)
    ]
    # The target: the only course of its protocol, clinician, verdict and event in the quarter.
    target = facts("target", ref=99, protocol="none", clinician="none", verdict="not_evaluable", adverse="bruising")
    return others, target


def test_differencing_exact_breakdowns_finds_the_patient_every_time():
    """The attack is real: with exact counts (no noise) it is always right."""
    others, target = _clinic()

    def exact(courses):
        return {
            "breakdowns": [
                {
                    "name": p.name,
                    "cells": [{"key": k, "count": sum(1 for c in courses if p.key(c) == k)} for k, _ in p.categories],
                }
                for p in PARTS
            ]
        }

    assert differencing_attack(others, target, exact, 20) == 1.0


def test_differencing_across_breakdowns_is_bounded_by_epsilon():
    """With the DP release the same attack is right at most e^eps / (1 + e^eps) of the time (0.73 at epsilon 1; the
    bound any test of membership must respect); measured over 600 releases, with 4 standard errors of slack."""
    others, target = _clinic()
    epsilon = 1.0
    accuracy = differencing_attack(others, target, lambda courses: dpcounts.release(courses, PARTS, epsilon), 600)
    bound = math.exp(epsilon) / (1 + math.exp(epsilon))
    assert accuracy <= bound + 4 * math.sqrt(0.25 / 600), accuracy
    # And far from certainty: the noise of seven breakdowns swamps one course.
    assert accuracy < 0.8
