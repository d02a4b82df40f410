"""Differentially private breakdowns of a quarter's courses for researchers (docs/RESEARCH.md, "Differentially private
breakdowns"; issue 18).

The exact, suppressed table by indication (domain.disclosure) allows one partition of the courses and no more: a
second exact breakdown of the same courses would let a researcher subtract one from the other. The other breakdowns a
researcher needs (protocol, clinician, funnel, adverse events, questionnaire completion) are released instead as
noisy counts with differential privacy (Dwork, McSherry, Nissim, Smith 2006; Dwork and Roth 2014), computed with the
OpenDP library (make_count_by_categories then make_laplace: the discrete Laplace mechanism on integer counts).

The guarantee, for one quarter's release, with the patient as the unit of privacy:

- Each patient contributes at most `PER_PATIENT` courses to a quarter (the earliest ones; later ones are left out of
  these figures), so adding or removing one patient changes the input by at most `PER_PATIENT` rows.
- Each breakdown is a partition of those courses into fixed, public categories (codes of the product's lists, the
  clinic's staff list): one course changes one count by one, so a patient changes the vector by at most
  `PER_PATIENT` in L1. OpenDP computes each breakdown's epsilon from that bound (`Measurement.map`).
- The quarter's budget `epsilon` is split evenly between the breakdowns; by sequential composition the whole release
  costs at most the sum, which is `epsilon` (the sum is recomputed from OpenDP's map and stored with the figures).
- Every figure derived from the noisy counts (totals, rates, the funnel's stages) is post-processing and costs nothing
  more; so is any combination with other releases a researcher holds, including the exact indication table: the
  guarantee holds whatever else the attacker knows. Differencing two breakdowns subtracts two independent noises.

Pure functions, no Django. The caller draws the noise once per quarter and stores it (a repeated question gets the
same answer, so averaging repeated answers gains nothing).
"""

import math
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from .errors import InputError

# The quarter's privacy budget, default 1 (clinic setting research_dp_epsilon): Dwork and Roth 2014 (The Algorithmic
# Foundations of Differential Privacy) describe epsilon as a small constant, about 1 or below, for a meaningful
# guarantee (a patient's presence changes the probability of any answer by at most e = 2.72 times). docs/RESEARCH.md.
DEFAULT_EPSILON = Decimal("1")
# At most this many courses of one patient count in one quarter (a product choice: 2 keeps a patient treated for
# both knees while bounding the noise; docs/RESEARCH.md).
PER_PATIENT = 2
# Two-sided 95 % interval of a discrete Laplace noise of scale b: |noise| <= about b * ln(20) (Laplace tail e^(-t/b)).
NOISE_95 = math.log(20)

VERDICTS = ("responder", "non_responder", "not_evaluable")
STAGES = ("not_started", "open", "completed", "stopped")
COMPLETION_STATES = ("none_due", "all_answered", "some_answered", "none_answered")
TIMEPOINT_KINDS = ("baseline", "session", "follow_up")


@dataclass(frozen=True)
class CourseFacts:
    """One course of the quarter as the breakdowns see it (all values coded)."""

    patient: str  # any stable key of the patient, used only to bound contributions
    started_on: date
    ref: int  # the caller's id of the course (order among a patient's courses on the same day)
    protocol: str
    clinician: str
    verdict: str  # one of VERDICTS
    started: bool  # at least one session done
    status: str  # open, completed, stopped
    adverse: str  # "no_session", "none", an event type, or "several"
    completion: dict[str, str] = field(default_factory=dict, compare=False)  # kind -> one of COMPLETION_STATES


@dataclass(frozen=True)
class Breakdown:
    name: str
    title: str
    categories: tuple[tuple[str, str], ...]  # (key, label), fixed before the data is read
    key: Callable[[CourseFacts], str]


def breakdowns(protocols: Sequence[tuple[str, str]], clinicians: Sequence[tuple[str, str]],
               event_types: Sequence[tuple[str, str]]) -> list[Breakdown]:  # fmt: skip
    """The released breakdowns over public category lists: protocol codes, the clinic's clinicians, event types."""
    verdict_labels = {"responder": "responders", "non_responder": "non-responders", "not_evaluable": "not evaluable"}

    def crossed(items: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
        return tuple((f"{k}|{v}", f"{label}: {verdict_labels[v]}") for k, label in items for v in VERDICTS)

    out = [
        Breakdown(
            "protocol", "Protocol by responder verdict", crossed(protocols), lambda c: f"{c.protocol}|{c.verdict}"
        ),
        Breakdown(
            "clinician", "Clinician by responder verdict", crossed(clinicians), lambda c: f"{c.clinician}|{c.verdict}"
        ),
        Breakdown(
            "funnel",
            "Funnel: started (a session done) and status",
            (
                ("not_started", "no session done yet (open or closed)"),
                ("open", "started, open"),
                ("completed", "started, completed"),
                ("stopped", "started, stopped early"),
            ),
            lambda c: "not_started" if not c.started else c.status,
        ),
        Breakdown(
            "adverse_events",
            "Adverse events after a done session (courses, by event type)",
            (
                ("no_session", "no session done"),
                ("none", "no adverse event"),
                *event_types,
                ("several", "several types"),
            ),
            lambda c: c.adverse,
        ),
    ]
    for kind in TIMEPOINT_KINDS:
        out.append(
            Breakdown(
                f"completion_{kind}",
                f"Questionnaire completion, {kind.replace('_', '-')} timepoints due",
                (
                    ("none_due", "none due"),
                    ("all_answered", "all answered"),
                    ("some_answered", "some answered"),
                    ("none_answered", "none answered"),
                ),
                _completion_of(kind),
            )
        )
    return out


def _completion_of(kind: str) -> Callable[[CourseFacts], str]:
    def key(course: CourseFacts) -> str:
        return course.completion.get(kind, "none_due")

    return key


def bound_contributions(courses: Sequence[CourseFacts], per_patient: int = PER_PATIENT) -> list[CourseFacts]:
    """Each patient's earliest `per_patient` courses (by start day, then id). Depends on that patient's rows only, so
    adding or removing a patient changes the result by at most `per_patient` rows."""
    if per_patient < 1:
        raise InputError(f"The per-patient bound must be at least 1 (got {per_patient}).")
    mine: dict[str, list[CourseFacts]] = defaultdict(list)
    for course in courses:
        mine[course.patient].append(course)
    kept = []
    for rows in mine.values():
        kept += sorted(rows, key=lambda c: (c.started_on, c.ref))[:per_patient]
    return kept


def measurement(categories: Sequence[str], scale: float) -> Any:
    """OpenDP: a vector of category keys -> noisy counts per category (discrete Laplace of this scale)."""
    import opendp.prelude as dp

    dp.enable_features("contrib")
    space = dp.vector_domain(dp.atom_domain(T=str)), dp.symmetric_distance()
    return (
        space
        >> dp.t.then_count_by_categories(categories=list(categories), null_category=False)
        >> dp.m.then_laplace(scale=scale)
    )


@dataclass(frozen=True)
class Budget:
    epsilon: float  # the whole release
    parts: int  # breakdowns sharing it
    per_patient: int = PER_PATIENT

    def scale(self) -> float:
        """Each breakdown's noise scale: sensitivity (per_patient) over its share of epsilon."""
        if self.epsilon <= 0 or self.parts < 1:
            raise InputError(f"A privacy budget must be positive (got epsilon={self.epsilon}).")
        return self.per_patient * self.parts / self.epsilon


def release(courses: Sequence[CourseFacts], parts: Sequence[Breakdown], epsilon: float,
            per_patient: int = PER_PATIENT) -> dict[str, Any]:  # fmt: skip
    """Draw the noisy counts of every breakdown once. Counts below 0 are shown as 0 (post-processing)."""
    budget = Budget(float(epsilon), len(parts), per_patient)
    scale = budget.scale()
    bounded = bound_contributions(courses, per_patient)
    tables = []
    spent = 0.0
    for part in parts:
        keys = [key for key, _ in part.categories]
        meas = measurement(keys, scale)
        spent_here = float(meas.map(per_patient))
        spent += spent_here
        noisy = meas([part.key(c) for c in bounded])
        tables.append(
            {
                "name": part.name,
                "title": part.title,
                "epsilon": round(spent_here, 6),
                "scale": round(scale, 6),
                "noise_95": math.ceil(scale * NOISE_95),
                "cells": [
                    {"key": key, "label": label, "count": max(0, int(n))}
                    for (key, label), n in zip(part.categories, noisy, strict=True)
                ],
            }
        )
    if spent > budget.epsilon * (1 + 1e-9):  # cannot happen: each part gets epsilon / parts
        raise InputError(f"The release would spend epsilon {spent}, over its budget {budget.epsilon}.")
    return {
        "epsilon": round(spent, 6),
        "budget": budget.epsilon,
        "per_patient": per_patient,
        "unit": "patient",
        "mechanism": "discrete Laplace on counts by fixed categories (OpenDP make_count_by_categories, make_laplace)",
        "composition": "sequential: the release's epsilon is the sum of its breakdowns'",
        "breakdowns": tables,
    }
