"""ICD-10-CM diagnosis codes for a course, for the superbill (docs/clinical/icd10cm.md).

One table maps each indication of the product's list (the coded indication vocabulary: one code per built-in protocol
template's indication, `other` for the rest) to its ICD-10-CM code, by side where the code carries laterality
(M17.11 right knee, M17.12 left knee, M17.0 both). Codes and titles: CDC/NCHS and CMS, ICD-10-CM FY2026 tabular list
(public domain). A condition on the patient's chart that carries an ICD-10-CM code (typed or received over FHIR) is
preferred over the table when it describes the course's complaint (`diagnosis`).
"""

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from .protocols import TEMPLATES

ICD10CM_SYSTEM = "http://hl7.org/fhir/sid/icd-10-cm"
OTHER = "other"


def indication_key(label: str) -> str:
    """An indication's code from its template label: "Chronic rotator cuff tendinopathy, with physiotherapy" gives
    `chronic_rotator_cuff_tendinopathy` (the words before a comma or parenthesis)."""
    return re.sub(r"[^a-z0-9]+", "_", label.lower().split(",")[0].split("(")[0]).strip("_")


# code -> label, in the templates' order; two templates of one indication share its code; `other` last.
INDICATIONS: dict[str, str] = {}
PROTOCOL_INDICATION: dict[str, str] = {}
for _template in TEMPLATES:
    INDICATIONS.setdefault(indication_key(_template.indication), _template.indication.split(",")[0])
    PROTOCOL_INDICATION[_template.code] = indication_key(_template.indication)
INDICATIONS[OTHER] = "Other indication (not on the product's list)"


def indication_code(protocol_id: str | None) -> str:
    """The course's indication code, from its protocol template only (a clinic template or none: `other`)."""
    return PROTOCOL_INDICATION.get(protocol_id or "", OTHER)


@dataclass(frozen=True)
class Icd10Code:
    code: str  # with its dot, as printed: M17.11
    display: str  # the tabular list's title


class Source(StrEnum):
    CHART = "chart"  # a coded condition on the patient's chart
    INDICATION = "indication"  # the course's indication, through the table below
    NONE = "none"  # nothing to go on: the superbill asks for a code


@dataclass(frozen=True)
class ByIndication:
    """An indication's codes: one for any side, or one per side (both sides: a bilateral code, else both codes)."""

    any_side: tuple[Icd10Code, ...] = ()
    right: tuple[Icd10Code, ...] = ()
    left: tuple[Icd10Code, ...] = ()
    bilateral: tuple[Icd10Code, ...] = ()
    unspecified: tuple[Icd10Code, ...] = ()  # a lateral indication recorded as midline or not applicable

    @property
    def lateral(self) -> bool:
        return bool(self.right)

    def for_side(self, side: str) -> tuple[Icd10Code, ...]:
        if not self.lateral:
            return self.any_side
        chosen = {"right": self.right, "left": self.left, "bilateral": self.bilateral}.get(side)
        return chosen if chosen is not None else self.unspecified


def _c(code: str, display: str) -> Icd10Code:
    return Icd10Code(code, display)


def _sided(stem: str, right: str, left: str, unspecified: str, title: str, bilateral: str = "") -> ByIndication:
    """A lateral indication: `title` with {side} filled in (right, left, unspecified) under the codes given."""
    r = _c(right, title.format(side="right"))
    lf = _c(left, title.format(side="left"))
    both = (_c(bilateral, title.format(side="bilateral")),) if bilateral else (r, lf)
    return ByIndication(right=(r,), left=(lf,), bilateral=both, unspecified=(_c(unspecified, title.format(side=stem)),))


# ICD-10-CM FY2026 tabular list (CDC/NCHS, CMS). The code and its title, per side where the code has laterality.
BY_INDICATION: Mapping[str, ByIndication] = {
    "knee_osteoarthritis": ByIndication(
        right=(_c("M17.11", "Unilateral primary osteoarthritis, right knee"),),
        left=(_c("M17.12", "Unilateral primary osteoarthritis, left knee"),),
        bilateral=(_c("M17.0", "Bilateral primary osteoarthritis of knee"),),
        unspecified=(_c("M17.10", "Unilateral primary osteoarthritis, unspecified knee"),),
    ),
    "chronic_non_specific_low_back_pain": ByIndication(any_side=(_c("M54.50", "Low back pain, unspecified"),)),
    "sacroiliac_joint_pain": ByIndication(
        any_side=(_c("M53.3", "Sacrococcygeal disorders, not elsewhere classified"),)
    ),
    "chronic_lateral_epicondylosis": _sided(
        "unspecified", "M77.11", "M77.12", "M77.10", "Lateral epicondylitis, {side} elbow"
    ),
    "painful_mid_portion_achilles_tendinosis": _sided(
        "unspecified", "M76.61", "M76.62", "M76.60", "Achilles tendinitis, {side} leg"
    ),
    "chronic_rotator_cuff_tendinopathy": _sided(
        "unspecified",
        "M75.101",
        "M75.102",
        "M75.100",
        "Unspecified rotator cuff tear or rupture of {side} shoulder, not specified as traumatic",
    ),
    "chronic_plantar_fasciitis": ByIndication(any_side=(_c("M72.2", "Plantar fascial fibromatosis"),)),
    "osgood_schlatter_disease": ByIndication(
        right=(_c("M92.521", "Juvenile osteochondrosis of tibia tubercle, right leg"),),
        left=(_c("M92.522", "Juvenile osteochondrosis of tibia tubercle, left leg"),),
        bilateral=(_c("M92.523", "Juvenile osteochondrosis of tibia tubercle, bilateral"),),
        unspecified=(_c("M92.529", "Juvenile osteochondrosis of tibia tubercle, unspecified leg"),),
    ),
    "symptomatic_temporomandibular_joint_hypermobility": ByIndication(
        any_side=(_c("M26.69", "Other specified disorders of temporomandibular joint"),)
    ),
    # Not on the product's list: no code can be derived; the chart's coded condition, or the clinician, gives it.
    OTHER: ByIndication(),
}

_CODE = re.compile(r"^[A-Z][0-9][0-9A-Z](?:\.?[0-9A-Z]{1,4})?$")


def normalise_code(code: str) -> str | None:
    """An ICD-10-CM code as printed (dot after the category: M1711 -> M17.11), or None when it is not one."""
    text = code.strip().upper()
    if not _CODE.match(text):
        return None
    bare = text.replace(".", "")
    return bare if len(bare) == 3 else f"{bare[:3]}.{bare[3:]}"


@dataclass(frozen=True)
class ChartCondition:
    """A condition on the patient's chart as the picker reads it: its codings (system, code, display), the region
    and side recorded on it ("" when not recorded). The caller passes active conditions only."""

    codings: tuple[tuple[str, str, str], ...]
    region: str = ""
    laterality: str = ""


@dataclass(frozen=True)
class Diagnosis:
    codes: tuple[Icd10Code, ...]
    source: Source


def _side_fits(condition_side: str, course_side: str) -> bool:
    return condition_side in ("", "na", course_side) or course_side == "bilateral"


def _chart_codes(chart: Iterable[ChartCondition], categories: set[str], region: str, side: str) -> list[Icd10Code]:
    found: dict[str, Icd10Code] = {}
    for condition in chart:
        if not _side_fits(condition.laterality, side):
            continue
        same_site = bool(condition.region) and condition.region == region
        for system, code, display in condition.codings:
            printed = normalise_code(code) if system == ICD10CM_SYSTEM else None
            if printed is None:
                continue
            if same_site or printed[:3] in categories:
                found.setdefault(printed, Icd10Code(printed, display or printed))
    return list(found.values())


def diagnosis(indication: str, side: str, region: str, chart: Sequence[ChartCondition] = ()) -> Diagnosis:
    """The course's ICD-10-CM codes for the superbill.

    A chart condition coded in ICD-10-CM is preferred when it describes the course's complaint: its code falls in the
    same category as the indication's (M17.- for knee osteoarthritis), or the condition is recorded at the course's
    region; its side must fit the course's (a condition without a side fits any). Otherwise the table gives the
    indication's code for the course's side. `other` with no fitting chart condition gives no code."""
    rule = BY_INDICATION.get(indication, BY_INDICATION[OTHER])
    table = rule.for_side(side)
    every = (*rule.any_side, *rule.right, *rule.left, *rule.bilateral, *rule.unspecified)
    categories = {c.code[:3] for c in every}
    chosen = _chart_codes(chart, categories, region, side)
    if chosen:
        return Diagnosis(tuple(chosen), Source.CHART)
    if table:
        return Diagnosis(table, Source.INDICATION)
    return Diagnosis((), Source.NONE)
