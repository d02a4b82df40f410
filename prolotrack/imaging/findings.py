"""The imaging findings a clinician can tick on a study: a small catalogue per body region, plus general ones.

Plain Python (no Django), so the list can be read and reviewed on its own; docs/IMAGING.md shows it as a table
with its sources. Codes are stored on ImagingStudy.findings and never renamed: retire a code by leaving it out of
`FINDINGS` only after no study uses it (the label lookup falls back to the code).

`concern` marks findings that DOMAIN.md §5 lists as reasons not to inject at that site (acute fracture,
unexplained swelling or suspected tumour, infection), and a full-thickness tendon tear, which dextrose
prolotherapy is not expected to repair (trials enrolled tendinopathy and partial tears; ⚠️ clinic practice). The
study page shows them first; the clinician still decides and records why.
"""

from collections.abc import Iterable
from dataclasses import dataclass

GENERAL = "general"

# Kellgren JH, Lawrence JS. Radiological assessment of osteo-arthrosis. Ann Rheum Dis 1957;16(4):494-502.
KELLGREN_LAWRENCE = "Kellgren & Lawrence, Ann Rheum Dis 1957;16:494-502 (graded on a plain radiograph)"
# McMillan AM et al. Diagnostic imaging for chronic plantar heel pain: a systematic review and meta-analysis.
# J Foot Ankle Res 2009;2:32 (a plantar fascia thicker than 4.0 mm on ultrasound is consistent with plantar fasciitis).
PLANTAR_FASCIA = "McMillan et al., J Foot Ankle Res 2009;2:32 (ultrasound thickness over 4.0 mm)"


@dataclass(frozen=True)
class Finding:
    code: str
    label: str
    region: str  # a BodyRegion code, or GENERAL
    group: str = ""  # findings sharing a group are mutually exclusive (e.g. one Kellgren-Lawrence grade)
    concern: bool = False
    source: str = ""
    detail: str = ""  # what the label means, shown under it (e.g. the words of a grade)


def _kl(region: str) -> list[Finding]:
    grades = [
        (0, "no radiographic features of osteoarthritis"),
        (1, "doubtful joint-space narrowing, possible osteophytic lipping"),
        (2, "definite osteophytes, possible joint-space narrowing"),
        (3, "moderate multiple osteophytes, definite narrowing, some sclerosis, possible bone-end deformity"),
        (4, "large osteophytes, marked narrowing, severe sclerosis, definite bone-end deformity"),
    ]
    return [
        Finding(
            f"{region}.kl_{grade}",
            f"Osteoarthritis, Kellgren-Lawrence grade {grade}",
            region,
            group="kl",
            source=KELLGREN_LAWRENCE,
            detail=text[0].upper() + text[1:],
        )
        for grade, text in grades
    ]


FINDINGS: tuple[Finding, ...] = (
    # General: any region.
    Finding("general.full_thickness_tendon_tear", "Full-thickness tendon tear", GENERAL, concern=True),
    Finding("general.fracture", "Fracture", GENERAL, concern=True),
    Finding("general.mass", "Mass or suspected tumour", GENERAL, concern=True),
    Finding("general.infection", "Signs of infection (abscess, septic effusion, osteomyelitis)", GENERAL, concern=True),
    Finding("general.partial_tendon_tear", "Partial-thickness tendon tear", GENERAL),
    Finding("general.calcification", "Calcification or calcific deposit", GENERAL),
    Finding("general.normal", "No abnormality seen", GENERAL),
    # Knee.
    *_kl("knee"),
    Finding("knee.effusion", "Joint effusion", "knee"),
    Finding("knee.meniscal_tear", "Meniscal tear", "knee"),
    Finding("knee.ligament_sprain", "Collateral ligament sprain or thickening (MCL/LCL)", "knee"),
    Finding("knee.ligament_tear", "Ligament tear (complete)", "knee", concern=True),
    Finding("knee.patellar_tendinopathy", "Patellar or quadriceps tendinopathy", "knee"),
    Finding("knee.enthesopathy", "Enthesopathy at a ligament or tendon insertion", "knee"),
    Finding("knee.pes_anserine_bursitis", "Pes anserine bursitis", "knee"),
    Finding("knee.baker_cyst", "Popliteal (Baker's) cyst", "knee"),
    # Hip.
    *_kl("hip"),
    Finding("hip.gluteal_tendinopathy", "Gluteus medius or minimus tendinopathy", "hip"),
    Finding("hip.trochanteric_bursitis", "Trochanteric bursitis", "hip"),
    Finding("hip.labral_tear", "Labral tear", "hip"),
    Finding("hip.effusion", "Joint effusion", "hip"),
    # Shoulder.
    Finding("shoulder.rotator_cuff_tendinopathy", "Rotator cuff tendinopathy", "shoulder"),
    Finding("shoulder.calcific_tendinitis", "Calcific tendinitis", "shoulder"),
    Finding("shoulder.subacromial_bursitis", "Subacromial-subdeltoid bursitis", "shoulder"),
    Finding("shoulder.biceps_tendinopathy", "Long head of biceps tendinopathy", "shoulder"),
    Finding("shoulder.ac_arthropathy", "Acromioclavicular joint arthropathy", "shoulder"),
    Finding("shoulder.glenohumeral_oa", "Glenohumeral osteoarthritis", "shoulder"),
    # Elbow.
    Finding(
        "elbow.common_extensor_tendinopathy", "Common extensor origin tendinopathy (lateral epicondylosis)", "elbow"
    ),
    Finding("elbow.common_flexor_tendinopathy", "Common flexor origin tendinopathy (medial epicondylosis)", "elbow"),
    Finding("elbow.collateral_ligament_sprain", "Collateral ligament sprain or thickening", "elbow"),
    Finding("elbow.effusion", "Joint effusion", "elbow"),
    # Ankle and foot.
    Finding("ankle_foot.achilles_midportion", "Achilles tendinopathy, mid-portion", "ankle_foot"),
    Finding("ankle_foot.achilles_insertional", "Achilles tendinopathy, insertional", "ankle_foot"),
    Finding(
        "ankle_foot.plantar_fascia_thickened",
        "Plantar fascia thickened (over 4.0 mm)",
        "ankle_foot",
        source=PLANTAR_FASCIA,
    ),
    Finding("ankle_foot.atfl_sprain", "Anterior talofibular ligament sprain or thickening", "ankle_foot"),
    Finding("ankle_foot.retrocalcaneal_bursitis", "Retrocalcaneal bursitis", "ankle_foot"),
    Finding("ankle_foot.calcaneal_spur", "Calcaneal (heel) spur", "ankle_foot"),
    # Lumbar spine and pelvis.
    Finding("lumbopelvic.disc_degeneration", "Disc degeneration", "lumbopelvic"),
    Finding("lumbopelvic.facet_arthropathy", "Facet joint arthropathy", "lumbopelvic"),
    Finding("lumbopelvic.si_arthropathy", "Sacroiliac joint arthropathy", "lumbopelvic"),
    Finding("lumbopelvic.spondylolisthesis", "Spondylolisthesis", "lumbopelvic"),
    Finding("lumbopelvic.disc_herniation", "Disc herniation", "lumbopelvic"),
    # Neck and thoracic spine.
    Finding("neck_thoracic.disc_degeneration", "Disc degeneration", "neck_thoracic"),
    Finding("neck_thoracic.facet_arthropathy", "Facet joint arthropathy", "neck_thoracic"),
    # Temporomandibular joint.
    Finding("tmj.disc_displacement", "Disc displacement", "tmj"),
    Finding("tmj.degenerative", "Degenerative joint changes", "tmj"),
    Finding("tmj.effusion", "Joint effusion", "tmj"),
)

BY_CODE: dict[str, Finding] = {f.code: f for f in FINDINGS}


class FindingsError(ValueError):
    """The chosen findings do not fit the catalogue or the study's region."""


def for_region(region: str) -> list[Finding]:
    """Findings offered for a region: its own first, then the general ones."""
    own = [f for f in FINDINGS if f.region == region]
    return own + [f for f in FINDINGS if f.region == GENERAL]


def label(code: str) -> str:
    finding = BY_CODE.get(code)
    return finding.label if finding else code


def validate(region: str, codes: Iterable[str]) -> list[str]:
    """The codes in catalogue order, without repeats; FindingsError says what is wrong in words."""
    chosen = list(dict.fromkeys(str(c) for c in codes))
    unknown = [c for c in chosen if c not in BY_CODE]
    if unknown:
        raise FindingsError(f"Unknown finding code(s): {', '.join(unknown)}. Choose from the list for this region.")
    elsewhere = [BY_CODE[c] for c in chosen if BY_CODE[c].region not in (GENERAL, region)]
    if elsewhere:
        names = ", ".join(f"'{f.label}' ({f.region})" for f in elsewhere)
        raise FindingsError(f"These findings belong to another body region: {names}.")
    groups: dict[str, list[str]] = {}
    for code in chosen:
        if BY_CODE[code].group:
            groups.setdefault(BY_CODE[code].group, []).append(code)
    for members in groups.values():
        if len(members) > 1:
            raise FindingsError("Choose one Kellgren-Lawrence grade only (the worst compartment).")
    if "general.normal" in chosen and len(chosen) > 1:
        raise FindingsError("'No abnormality seen' cannot be combined with other findings.")
    order = {f.code: i for i, f in enumerate(FINDINGS)}
    return sorted(chosen, key=order.__getitem__)


def concerns(codes: Iterable[str]) -> list[Finding]:
    """The chosen findings that argue against injecting at this site."""
    return [BY_CODE[c] for c in codes if c in BY_CODE and BY_CODE[c].concern]
