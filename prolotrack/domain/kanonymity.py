"""k-anonymity and l-diversity of a research export, measured and enforced before a file is released.

Pure functions over records, no I/O. The research export (prolotrack.research.export) builds one `PatientRecord` per
patient: the patient's sex and, for each course, the quasi-identifiers a person who knows the patient could hold
(age band at the start, weight band, body region, side, coded indication, start year). An attacker who knows a patient's
courses finds the released patients whose courses match; so the unit of anonymity is the patient and the
quasi-identifier is the patient's whole *signature* (sex plus the sorted list of course tuples). A released patient
whose signature is shared by k-1 others is indistinguishable from them (Sweeney 2002, "k-anonymity: a model for
protecting privacy"); l-diversity (Machanavajjhala et al. 2007, distinct l-diversity) counts the distinct values of the
sensitive attribute (the patient's list of course outcomes: open, completed, stopped) inside each class of patients with
courses, and a release needs at least l of them in every such class (default 2: a class whose patients all share one
outcome list tells that outcome of each of them, the paper's "homogeneity attack").

Generalisation follows a full-domain lattice search (as Incognito, LeFevre et al. 2005, and ARX do): age in 5-year
bands (90+ always pooled, 164.514(b)(2)(i)(C)), widened to 10 and 20 years, then hidden; weight in 5 kg bands with
bottom and top codes, widened to 10 and 20 kg, then hidden; sex hidden. Region, side, indication and year are never
generalised, because other tables (injection sites, session years) carry them: their small classes are suppressed.
The lowest lattice node whose suppression is within the limit is chosen; then what is still in a class of fewer than
k patients, or in a class of patients with courses that has fewer than l distinct outcome lists, is suppressed: first a
patient's later courses, then all of the patient's courses (a patient without courses has no outcome: only k applies),
then the patient.

pycanon (Sáinz-Pardo Díaz & López García 2022) measures the same k and l over a pandas DataFrame; it is not used here
because it needs pandas and numpy at run time for what is a grouped count (docs/RESEARCH.md). The tests check this
module against a brute-force reading of the definitions with hypothesis.
"""

import itertools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal

from .errors import DomainError

# The release threshold, default 5 (clinic setting research_min_k): a common threshold for data released to a known recipient
# (El Emam & Dankar 2008 discuss 3 to 11); HHS's 2012 de-identification guidance sets no number. docs/RESEARCH.md.
DEFAULT_K = 5
# Distinct l-diversity of the outcome, default 2 (clinic setting research_min_l): Machanavajjhala et al. 2007 define
# distinct l-diversity as at least l distinct sensitive values per class; l = 2 is the least that defeats their
# homogeneity attack (every patient of a class with one outcome list is known to have it). docs/RESEARCH.md.
DEFAULT_L = 2
L_VARIANT = "distinct"
L_ATTRIBUTE = "the patient's list of course outcomes (open, completed, stopped)"
# At most this fraction of patients may be suppressed before the search prefers a coarser generalisation
# (a product choice, as ARX's default "suppression limit"; docs/RESEARCH.md).
SUPPRESSION_LIMIT = 0.05

ANY = "*"
AGE_90_PLUS = 90
AGE_WIDTHS: tuple[int | None, ...] = (5, 10, 20, None)
WEIGHT_WIDTHS: tuple[int | None, ...] = (5, 10, 20, None)
# Weights outside this range are pooled (bottom and top coding): below 40 kg and 120 kg or more are rare in an adult
# clinic and would single a patient out. A product choice, docs/RESEARCH.md.
WEIGHT_BOTTOM = 40
WEIGHT_TOP = 120
SEX_LEVELS = 2
QUASI_IDENTIFIERS = ("sex", "age_band", "weight_band", "region", "side", "indication", "year")


class AnonymityError(DomainError):
    """The records cannot be released at the required k."""


@dataclass(frozen=True)
class CourseQI:
    """One course's quasi-identifiers before generalisation. `age` is completed years (90 or more means 90+)."""

    age: int | None
    weight_kg: Decimal | None
    region: str
    side: str
    indication: str
    year: int
    outcome: str  # the sensitive attribute: the course's status
    ref: int = field(default=0, compare=False)  # the caller's id of the course (not a quasi-identifier)


@dataclass(frozen=True)
class PatientRecord:
    patient: str
    sex: str
    courses: tuple[CourseQI, ...] = ()


@dataclass(frozen=True)
class Levels:
    """A node of the generalisation lattice."""

    age: int = 0
    weight: int = 0
    sex: int = 0

    def total(self) -> int:
        return self.age + self.weight + self.sex

    def describe(self) -> dict[str, str]:
        age, weight = AGE_WIDTHS[self.age], WEIGHT_WIDTHS[self.weight]
        return {
            "age": f"{age}-year bands, 90+ pooled" if age else "hidden",
            "weight": (
                f"{weight} kg bands, under {WEIGHT_BOTTOM} kg and {WEIGHT_TOP} kg or more pooled"
                if weight
                else "hidden"
            ),
            "sex": "as recorded" if self.sex == 0 else "hidden",
            "region": "as recorded (coded)",
            "side": "as recorded (coded)",
            "indication": "coded (product indication list)",
            "year": "year only",
        }


def age_band(age: int | None, width: int | None = 5) -> str:
    """The age band: '45-49' for width 5, '90+' at 90 or over, '*' when hidden, 'unknown' when not known."""
    if width is None:
        return ANY
    if age is None:
        return "unknown"
    if age < 0:
        raise AnonymityError(f"An age cannot be negative ({age}).")
    if age >= AGE_90_PLUS:
        return "90+"
    low = age // width * width
    high = min(low + width - 1, AGE_90_PLUS - 1)
    return f"{low}-{high}"


def weight_band(weight_kg: Decimal | None, width: int | None = 5) -> str:
    """The weight band: '80-84' for width 5 (kg), '<40' and '120+' pooled, '*' when hidden, 'unknown' if none."""
    if width is None:
        return ANY
    if weight_kg is None:
        return "unknown"
    if weight_kg < WEIGHT_BOTTOM:
        return f"<{WEIGHT_BOTTOM}"
    if weight_kg >= WEIGHT_TOP:
        return f"{WEIGHT_TOP}+"
    low = int(weight_kg) // width * width
    high = min(low + width, WEIGHT_TOP) - 1
    return f"{low}-{high}"


# One course as the attacker sees it (age band, weight band, region, side, indication, year), and one patient.
CourseKey = tuple[str, str, str, str, str, int]
Signature = tuple[str, tuple[CourseKey, ...]]


@dataclass(frozen=True)
class GeneralisedCourse:
    age_band: str
    weight_band: str
    region: str
    side: str
    indication: str
    year: int

    def key(self) -> CourseKey:
        return (self.age_band, self.weight_band, self.region, self.side, self.indication, self.year)


def generalise_course(course: CourseQI, levels: Levels) -> GeneralisedCourse:
    return GeneralisedCourse(
        age_band(course.age, AGE_WIDTHS[levels.age]),
        weight_band(course.weight_kg, WEIGHT_WIDTHS[levels.weight]),
        course.region,
        course.side,
        course.indication,
        course.year,
    )


def signature(record: PatientRecord, levels: Levels) -> Signature:
    """The patient's quasi-identifier as an attacker sees it: sex and the sorted course tuples."""
    sex = record.sex if levels.sex == 0 else ANY
    return (sex, tuple(sorted(generalise_course(c, levels).key() for c in record.courses)))


def classes(records: Sequence[PatientRecord], levels: Levels) -> dict[Signature, list[PatientRecord]]:
    out: dict[Signature, list[PatientRecord]] = defaultdict(list)
    for record in records:
        out[signature(record, levels)].append(record)
    return out


def measure_k(records: Sequence[PatientRecord], levels: Levels) -> int | None:
    """The smallest number of patients sharing a signature; None when there are no records."""
    groups = classes(records, levels)
    return min((len(group) for group in groups.values()), default=None)


def measure_l(records: Sequence[PatientRecord], levels: Levels) -> int | None:
    """Distinct l-diversity of the outcome: the fewest distinct outcome lists in a class of patients with courses.
    None when no released patient has a course."""
    values = [
        len({tuple(sorted(c.outcome for c in r.courses)) for r in group})
        for sig, group in classes(records, levels).items()
        if sig[1]
    ]
    return min(values, default=None)


def _outcomes(record: PatientRecord) -> tuple[str, ...]:
    return tuple(sorted(c.outcome for c in record.courses))


def _failing(records: Sequence[PatientRecord], levels: Levels, k: int, l_min: int = 1) -> set[str]:
    """Patients in a class of fewer than k patients, or in a class of patients with courses that has fewer than
    `l_min` distinct outcome lists."""
    out: set[str] = set()
    for sig, group in classes(records, levels).items():
        too_small = len(group) < k
        homogeneous = bool(sig[1]) and len({_outcomes(r) for r in group}) < l_min
        if too_small or homogeneous:
            out |= {r.patient for r in group}
    return out


def _small(records: Sequence[PatientRecord], levels: Levels, k: int) -> set[str]:
    return _failing(records, levels, k)


@dataclass
class Release:
    """What may be released: the kept records (some courses dropped), the lattice node, the measured k and l."""

    records: list[PatientRecord]
    levels: Levels
    k: int | None
    l_diversity: int | None
    required_k: int
    suppressed_patients: int = 0
    suppressed_courses: int = 0
    required_l: int = 1
    suppressed_courses_for_l: int = 0  # courses dropped from patients whose class had k patients but too few outcomes
    effective_l: int = 1  # required_l, lowered to the number of distinct course outcomes in the whole input

    def manifest(self) -> dict[str, object]:
        return {
            "k": self.k,
            "required_k": self.required_k,
            "l_diversity": self.l_diversity,
            "required_l": self.required_l,
            "effective_l": self.effective_l,
            "l_diversity_variant": L_VARIANT,
            "l_diversity_attribute": L_ATTRIBUTE,
            "quasi_identifiers": list(QUASI_IDENTIFIERS),
            "generalisations": self.levels.describe(),
            "suppressed_patients": self.suppressed_patients,
            "suppressed_courses": self.suppressed_courses,
            "suppressed_courses_for_l": self.suppressed_courses_for_l,
        }


def _lattice() -> list[Levels]:
    nodes = [
        Levels(a, w, s)
        for a, w, s in itertools.product(range(len(AGE_WIDTHS)), range(len(WEIGHT_WIDTHS)), range(SEX_LEVELS))
    ]
    return sorted(nodes, key=lambda n: (n.total(), n.age, n.weight, n.sex))


def choose_levels(records: Sequence[PatientRecord], k: int, limit: float = SUPPRESSION_LIMIT, l_min: int = 1) -> Levels:
    """The least generalised lattice node whose patients in failing classes (fewer than k patients, or fewer than
    `l_min` distinct outcome lists) are within the suppression limit; when no node reaches it, the node that
    suppresses the fewest (least generalised among equals)."""
    nodes = _lattice()
    counts = [(len(_failing(records, node, k, l_min)), node) for node in nodes]
    allowed = limit * len(records)
    within = [node for small, node in counts if small <= allowed]
    if within:
        return within[0]
    fewest = min(small for small, _ in counts)
    return next(node for small, node in counts if small == fewest)


def anonymise(
    records: Sequence[PatientRecord], k: int = DEFAULT_K, limit: float = SUPPRESSION_LIMIT, l_min: int = 1
) -> Release:
    """Generalise, then suppress until every released patient shares its signature with at least k-1 others and
    every class of patients with courses holds at least `l_min` distinct outcome lists (distinct l-diversity).

    Suppression, in order, for the patients still in a failing class: keep only the patient's first course; then
    none of the patient's courses (a patient without courses has no outcome, so only k applies); then leave the
    patient out. The result is measured again (k and l) and checked.
    """
    if k < 2:
        raise AnonymityError(f"k must be at least 2 (got {k}).")
    if l_min < 1:
        raise AnonymityError(f"l must be at least 1 (got {l_min}).")
    records = list(records)
    # A class cannot hold more distinct outcomes than the whole input does: when every course of the clinic has the
    # same outcome, a class tells nothing about a member that is not true of every patient, so l is lowered to the
    # number of distinct outcomes there are (recorded as effective_l).
    requested = l_min
    l_min = min(l_min, max(1, len({c.outcome for r in records for c in r.courses})))
    levels = choose_levels(records, k, limit, l_min)
    dropped = dropped_for_l = 0
    current = {r.patient: r for r in records}
    for step in ("first_course", "no_course"):
        records_now = list(current.values())
        failing = _failing(records_now, levels, k, l_min)
        small = _small(records_now, levels, k)
        for patient in failing:
            record = current[patient]
            keep = record.courses[:1] if step == "first_course" else ()
            dropped += len(record.courses) - len(keep)
            if patient not in small:
                dropped_for_l += len(record.courses) - len(keep)
            current[patient] = replace(record, courses=keep)
    failing = _failing(list(current.values()), levels, k, l_min)
    released = [r for r in current.values() if r.patient not in failing]
    measured = measure_k(released, levels)
    if measured is not None and measured < k:  # cannot happen: every small class was removed above
        raise AnonymityError(f"The release would have k={measured}, below {k}.")
    diversity = measure_l(released, levels)
    if diversity is not None and diversity < l_min:  # cannot happen: every homogeneous class was removed above
        raise AnonymityError(f"The release would have l={diversity}, below {l_min}.")
    return Release(
        records=released,
        levels=levels,
        k=measured,
        l_diversity=diversity,
        required_k=k,
        suppressed_patients=len(failing),
        suppressed_courses=dropped,
        required_l=requested,
        suppressed_courses_for_l=dropped_for_l,
        effective_l=l_min,
    )
