"""Re-identification attacks on the research export, as a motivated researcher would run them (issue 18).

The attacker has what the researcher role can reach (the export zips, the dashboard) plus the clinic's own table of
patients (names, sex, dates of birth, weights, courses with region, side, protocol and start day) and its research
consent list. Each attack returns what it achieved; the tests (test_attacks.py) and bench/research_attacks.py (the
10,000-patient clinic) assert that it singles out nobody. Ground truth (which pseudonym is which patient) comes from
fixing the export's one-off key in the test, never from the export.
"""

import csv
import io
import itertools
import zipfile
from collections import Counter
from dataclasses import dataclass
from typing import Any

from prolotrack.domain.deidentify import pseudonym
from prolotrack.domain.kanonymity import AGE_WIDTHS, SEX_LEVELS, WEIGHT_WIDTHS, Levels, generalise_course
from prolotrack.patients.models import Patient
from prolotrack.research import queries, services
from prolotrack.research.export import ExportBuilder
from prolotrack.research.models import ExportJob


def tables(job: ExportJob) -> dict[str, list[dict[str, str]]]:
    """The CSV tables of an export zip, as dicts."""
    out = {}
    with zipfile.ZipFile(services.open_file(job)) as archive:
        for name in archive.namelist():
            if name.startswith("csv/"):
                text = archive.read(name).decode()
                out[name.removeprefix("csv/").removesuffix(".csv")] = list(csv.DictReader(io.StringIO(text)))
    return out


def all_bytes(job: ExportJob) -> bytes:
    with zipfile.ZipFile(services.open_file(job)) as archive:
        return b"\n".join(archive.read(name) for name in archive.namelist())


def levels_of(job: ExportJob) -> Levels:
    """The generalisation the export's manifest states, as a lattice node."""
    for age, weight, sex in itertools.product(range(len(AGE_WIDTHS)), range(len(WEIGHT_WIDTHS)), range(SEX_LEVELS)):
        node = Levels(age, weight, sex)
        if node.describe() == job.privacy["generalisations"]:
            return node
    raise AssertionError(f"The manifest's generalisations match no lattice node: {job.privacy['generalisations']}")


@dataclass
class LinkageResult:
    released: int
    singled_out: int  # released patients that match exactly one consenting patient of the clinic's table
    smallest_candidates: int | None


def linkage(job: ExportJob) -> LinkageResult:
    """Match each released patient (sex and courses' bands, region, side, indication, year) against the clinic's own
    table of consenting patients, generalised as the manifest says; count the candidates of each."""
    data = tables(job)
    levels = levels_of(job)
    released: dict[str, tuple[str, Counter]] = {row["patient_id"]: (row["sex"], Counter()) for row in data["patients"]}
    for row in data["courses"]:
        key = (
            row["age_band"],
            row["weight_band"],
            row["region"],
            row["side"],
            row["indication_code"],
            int(row["started_year"]),
        )
        released[row["patient_id"]][1][key] += 1
    consenting = list(queries.consenting_patients(job.clinic).order_by("pk").values_list("pk", flat=True))
    clinic_table = ExportBuilder(job)._records(consenting)
    known = [(r.sex, Counter(generalise_course(c, levels).key() for c in r.courses)) for r in clinic_table]
    counts = []
    for sex, courses in released.values():
        candidates = sum(
            1
            for their_sex, theirs in known
            if (sex == "*" or sex == their_sex) and all(theirs[key] >= n for key, n in courses.items())
        )
        counts.append(candidates)
    return LinkageResult(len(released), sum(1 for n in counts if n == 1), min(counts, default=None))


def truth(job: ExportJob, key: bytes) -> dict[str, Patient]:
    """Pseudonym -> patient, from the export's key (known only to the test)."""
    patients = Patient.objects.filter(clinic=job.clinic, uuid__in=job.patient_uuids)
    return {pseudonym(key, "patient", str(p.uuid)): p for p in patients}


def row_order_hits(job: ExportJob, key: bytes) -> int:
    """Map the i-th row of patients.csv to the i-th released patient in record-number order, as the old export
    allowed; return how many of those guesses are right."""
    rows = tables(job)["patients"]
    who = truth(job, key)
    by_record_number = sorted(who.values(), key=lambda p: p.pk)
    return sum(1 for row, guess in zip(rows, by_record_number, strict=True) if who[row["patient_id"]].pk == guess.pk)


def shared_pseudonyms(first: ExportJob, second: ExportJob) -> int:
    a = {row["patient_id"] for row in tables(first)["patients"]}
    b = {row["patient_id"] for row in tables(second)["patients"]}
    return len(a & b)


def birthday_columns(job: ExportJob) -> list[str]:
    """Columns that would let two exports narrow a birthday: a birth year or an age on the export day."""
    data = tables(job)
    names = {column for rows in data.values() for row in rows[:1] for column in row}
    return sorted(n for n in names if "birth" in n or "export" in n or n in ("age", "age_at_start"))


def exact_weights(job: ExportJob) -> list[str]:
    """Columns carrying a weight to the kilogram or finer (the old export's 0.1 kg weights)."""
    data = tables(job)
    return sorted({column for rows in data.values() for row in rows[:1] for column in row if "weight_kg" in column})


def free_text_values(job: ExportJob, vocabulary: set[str]) -> set[str]:
    """String values of the label columns that are not in the coded vocabulary."""
    data = tables(job)
    found: set[str] = set()
    for row in data["courses"]:
        found |= {row["indication"]} - vocabulary
    return found


def dp_differencing(others: list, target: Any, parts: list, release: Any, trials: int) -> float:
    """Differencing across breakdowns (issue 18's subtraction, on the DP breakdowns): the attacker knows every other
    patient's courses exactly (the strongest background knowledge), subtracts their count in the target's cell of
    each breakdown from the released count, adds the excesses up and guesses "the target is in" above half the
    target's expected contribution. Releases alternate with and without the target; returns the share guessed right
    (0.5 is a coin; 1.0 singles the patient out)."""
    cells = [(p.name, p.key(target)) for p in parts]
    known = {name: sum(1 for c in others if p.key(c) == key) for p, (name, key) in zip(parts, cells, strict=True)}
    right = 0
    for trial in range(trials):
        present = trial % 2 == 0
        made = release([*others, target] if present else others)
        excess = 0
        for name, key in cells:
            table = next(b for b in made["breakdowns"] if b["name"] == name)
            excess += next(c["count"] for c in table["cells"] if c["key"] == key) - known[name]
        right += (excess > len(parts) / 2) == present
    return right / trials


def exact_breakdowns(parts: list) -> Any:
    """The same breakdowns with exact counts (what a second exact breakdown would have been)."""

    def release(courses: list) -> dict:
        return {
            "breakdowns": [
                {
                    "name": p.name,
                    "cells": [{"key": k, "count": sum(1 for c in courses if p.key(c) == k)} for k, _ in p.categories],
                }
                for p in parts
            ]
        }

    return release


def describe(result: Any) -> str:
    return repr(result)
