"""The catalogue of injection landmarks by body region (DOMAIN.md §4, "Common landmarks by region").

Codes are stable dotted strings ("<region>.<landmark>") stored on injection-site rows; never rename one, add a new
code instead. Map coordinates are not here: they belong to the SVG body map. The catalogue needs clinician review.
"""

from dataclasses import dataclass
from enum import StrEnum

from .errors import AnatomyError


class Region(StrEnum):
    """Name a body region as DOMAIN.md groups the landmarks."""

    KNEE = "knee"
    LUMBOPELVIC = "lumbopelvic"
    SHOULDER = "shoulder"
    ELBOW = "elbow"
    ANKLE_FOOT = "ankle_foot"
    HIP = "hip"
    NECK_THORACIC = "neck_thoracic"
    TMJ = "tmj"

    @property
    def label(self) -> str:
        """Return the name shown to clinicians."""
        return _REGION_LABELS[self]

    @property
    def is_spinal(self) -> bool:
        """Return True for regions whose injections are near the spine (dural puncture risk)."""
        return self in {Region.LUMBOPELVIC, Region.NECK_THORACIC}


_REGION_LABELS = {
    Region.KNEE: "Knee",
    Region.LUMBOPELVIC: "Lumbar spine and pelvis",
    Region.SHOULDER: "Shoulder",
    Region.ELBOW: "Elbow",
    Region.ANKLE_FOOT: "Ankle and foot",
    Region.HIP: "Hip",
    Region.NECK_THORACIC: "Neck and thoracic spine",
    Region.TMJ: "Temporomandibular joint",
}


def parse_region(value: object) -> Region:
    """Return the Region named by value (case-insensitive)."""
    if isinstance(value, Region):
        return value
    if isinstance(value, str):
        key = value.strip().lower().replace(" ", "_").replace("/", "_").replace("-", "_")
        if key in Region._value2member_map_:
            return Region(key)
    raise AnatomyError(f"Unknown body region '{value}': choose one of {', '.join(r.value for r in Region)}.")


class View(StrEnum):
    """Name the body-map view a landmark is drawn on."""

    FRONT = "front"
    BACK = "back"
    SIDE = "side"


@dataclass(frozen=True)
class Landmark:
    """Describe one injection landmark: stable code, label, region, map view, laterality and chest-wall risk."""

    code: str
    label: str
    region: Region
    view: View
    lateral: bool
    pneumothorax_risk: bool = False


def _lm(
    region: Region, key: str, label: str, view: View, lateral: bool = True, pneumothorax_risk: bool = False
) -> Landmark:
    return Landmark(f"{region.value}.{key}", label, region, view, lateral, pneumothorax_risk)


# The regions' short names, for the landmark table below and the body maps' tables (treatment/maps.py).
K, L, S, E, A, H, N, T = (
    Region.KNEE,
    Region.LUMBOPELVIC,
    Region.SHOULDER,
    Region.ELBOW,
    Region.ANKLE_FOOT,
    Region.HIP,
    Region.NECK_THORACIC,
    Region.TMJ,
)
FRONT, BACK, SIDE = View.FRONT, View.BACK, View.SIDE

LANDMARKS: tuple[Landmark, ...] = (
    _lm(K, "intra_articular", "Knee joint (intra-articular)", FRONT),
    _lm(K, "mcl_femoral", "Medial collateral ligament, femoral origin", SIDE),
    _lm(K, "mcl_tibial", "Medial collateral ligament, tibial insertion", SIDE),
    _lm(K, "lcl_femoral", "Lateral collateral ligament, femoral origin", SIDE),
    _lm(K, "lcl_fibular_head", "Lateral collateral ligament, fibular head", SIDE),
    _lm(K, "pes_anserinus", "Pes anserinus", SIDE),
    _lm(K, "patellar_tendon_inferior_pole", "Patellar tendon at the inferior pole of the patella", FRONT),
    _lm(K, "tibial_tuberosity", "Tibial tuberosity", FRONT),
    _lm(K, "quadriceps_tendon_superior_pole", "Quadriceps tendon at the superior pole of the patella", FRONT),
    _lm(K, "coronary_medial", "Medial coronary ligament", FRONT),
    _lm(K, "coronary_lateral", "Lateral coronary ligament", FRONT),
    _lm(K, "retinaculum_medial", "Medial patellar retinaculum", FRONT),
    _lm(K, "retinaculum_lateral", "Lateral patellar retinaculum", FRONT),
    _lm(L, "supraspinous_l4_l5", "Supraspinous ligament L4-L5", BACK, lateral=False),
    _lm(L, "supraspinous_l5_s1", "Supraspinous ligament L5-S1", BACK, lateral=False),
    _lm(L, "interspinous_l4_l5", "Interspinous ligament L4-L5", BACK, lateral=False),
    _lm(L, "interspinous_l5_s1", "Interspinous ligament L5-S1", BACK, lateral=False),
    _lm(L, "iliolumbar", "Iliolumbar ligament", BACK),
    _lm(L, "long_dorsal_sacroiliac", "Posterior (long dorsal) sacroiliac ligament", BACK),
    _lm(L, "sacrotuberous", "Sacrotuberous ligament", BACK),
    _lm(L, "facet_l4_l5", "Facet joint capsule L4-L5", BACK),
    _lm(L, "facet_l5_s1", "Facet joint capsule L5-S1", BACK),
    # Not in the DOMAIN.md landmark list: added for the Kim 2010 intra-articular sacroiliac template.
    _lm(L, "sacroiliac_joint", "Sacroiliac joint (intra-articular)", BACK),
    _lm(S, "supraspinatus", "Supraspinatus insertion, greater tuberosity", SIDE),
    _lm(S, "infraspinatus", "Infraspinatus insertion, greater tuberosity", BACK),
    _lm(S, "subscapularis", "Subscapularis insertion, lesser tuberosity", FRONT),
    _lm(S, "biceps_long_head_groove", "Long head of biceps in the bicipital groove", FRONT),
    _lm(S, "acromioclavicular_joint", "Acromioclavicular joint", FRONT),
    _lm(S, "coracoclavicular", "Coracoclavicular ligaments", FRONT),
    _lm(S, "glenohumeral_joint", "Glenohumeral joint (intra-articular)", BACK),
    _lm(E, "common_extensor_origin", "Common extensor origin, lateral epicondyle", SIDE),
    _lm(E, "supracondylar_ridge", "Lateral supracondylar ridge", SIDE),
    _lm(E, "annular_ligament", "Annular ligament", SIDE),
    _lm(E, "radial_collateral", "Radial collateral ligament", SIDE),
    _lm(E, "common_flexor_origin", "Common flexor origin, medial epicondyle", SIDE),
    _lm(A, "achilles_paratendinous", "Achilles tendon, beside the mid-portion (paratendinous)", BACK),
    _lm(A, "achilles_insertion", "Achilles tendon insertion", BACK),
    _lm(A, "atfl", "Anterior talofibular ligament", SIDE),
    _lm(A, "cfl", "Calcaneofibular ligament", SIDE),
    _lm(A, "deltoid", "Deltoid ligament", SIDE),
    _lm(A, "plantar_fascia_origin", "Plantar fascia origin, medial calcaneal tubercle", SIDE),
    _lm(H, "intra_articular", "Hip joint (intra-articular)", FRONT),
    _lm(H, "greater_trochanter", "Greater trochanter", SIDE),
    _lm(N, "cervical_facet_capsules", "Cervical facet joint capsules", BACK),
    _lm(N, "nuchal_ligament", "Nuchal ligament", BACK, lateral=False),
    # DOMAIN.md §4: chest-wall and thoracic sites carry a pneumothorax risk.
    _lm(N, "thoracic_facet_capsules", "Thoracic facet joint capsules", BACK, pneumothorax_risk=True),
    _lm(T, "joint_capsule", "Temporomandibular joint capsule", SIDE),
)

_BY_CODE: dict[str, Landmark] = {landmark.code: landmark for landmark in LANDMARKS}


def landmark(code: str) -> Landmark:
    """Return the landmark with this code."""
    try:
        return _BY_CODE[code]
    except (KeyError, TypeError):
        raise AnatomyError(
            f"Unknown landmark code '{code}': pick a landmark from the catalogue for the region."
        ) from None


def landmarks_for(region: Region | str) -> tuple[Landmark, ...]:
    """Return the landmarks of one region, in catalogue order."""
    wanted = parse_region(region)
    return tuple(item for item in LANDMARKS if item.region is wanted)
