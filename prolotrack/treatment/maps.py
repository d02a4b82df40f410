"""Body maps: the SVG drawings injection sites are placed on, and where each catalogue landmark sits on them.

A map is one drawing of one region from one view ("knee_front"). Coordinates are viewBox units of that drawing, with
(0, 0) at the top left. Limb maps are drawn for the RIGHT side; the left side is the mirror image, so its points are
x' = width - x (midline landmarks are never mirrored). Spine maps (`symmetric`) show both sides of the back at once:
their outline is never mirrored, the patient's right is on the viewer's right (seen from behind), and the left
position of a landmark is again x' = width - x.

A stored site keeps the map code, the side and (x, y) as displayed for that side, so "what you clicked is what was
stored". The landmark catalogue (prolotrack.domain.anatomy) and these drawings need clinician review
(docs/clinical/injection-map.md).
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from math import hypot, isfinite
from types import MappingProxyType
from typing import Any

# A, E, H, K, L, N, S, T: the regions' short names, the same as in the domain's landmark table.
from prolotrack.domain.anatomy import (
    LANDMARKS,
    A,
    E,
    H,
    K,
    L,
    Landmark,
    N,
    Region,
    S,
    T,
    View,
    landmark,
    parse_region,
)

RIGHT, LEFT, BILATERAL, MIDLINE = "right", "left", "bilateral", "midline"
SIDES: tuple[str, ...] = (LEFT, RIGHT, BILATERAL, MIDLINE)

# The tap target around each landmark, in viewBox units. Maps are shown at least at their viewBox size (1 unit = 1
# CSS pixel or more), so a target is at least 36 px across; tests keep targets on one map from overlapping.
HIT_RADIUS = 18
# Roughly how wide a character of the 15 px bold landmark label is, to keep labels inside the drawing.
LABEL_CHAR_WIDTH = 8.6
# On a spine map, a free point this close to the midline is a midline point.
MIDLINE_BAND = 8

# Short names for the label shown beside a landmark on the drawing (the full label is the accessible name).
SHORT_LABELS: dict[str, str] = {
    "knee.intra_articular": "Knee joint (intra-articular)",
    "knee.mcl_femoral": "MCL femoral origin",
    "knee.mcl_tibial": "MCL tibial insertion",
    "knee.lcl_femoral": "LCL femoral origin",
    "knee.lcl_fibular_head": "LCL at fibular head",
    "knee.pes_anserinus": "Pes anserinus",
    "knee.patellar_tendon_inferior_pole": "Patellar tendon, inferior pole",
    "knee.tibial_tuberosity": "Tibial tuberosity",
    "knee.quadriceps_tendon_superior_pole": "Quadriceps tendon, superior pole",
    "knee.coronary_medial": "Medial coronary ligament",
    "knee.coronary_lateral": "Lateral coronary ligament",
    "knee.retinaculum_medial": "Medial retinaculum",
    "knee.retinaculum_lateral": "Lateral retinaculum",
    "lumbopelvic.supraspinous_l4_l5": "Supraspinous L4-L5",
    "lumbopelvic.supraspinous_l5_s1": "Supraspinous L5-S1",
    "lumbopelvic.interspinous_l4_l5": "Interspinous L4-L5",
    "lumbopelvic.interspinous_l5_s1": "Interspinous L5-S1",
    "lumbopelvic.iliolumbar": "Iliolumbar ligament",
    "lumbopelvic.long_dorsal_sacroiliac": "Long dorsal SI ligament",
    "lumbopelvic.sacrotuberous": "Sacrotuberous ligament",
    "lumbopelvic.facet_l4_l5": "Facet L4-L5",
    "lumbopelvic.facet_l5_s1": "Facet L5-S1",
    "lumbopelvic.sacroiliac_joint": "SI joint (intra-articular)",
    "shoulder.supraspinatus": "Supraspinatus insertion",
    "shoulder.infraspinatus": "Infraspinatus insertion",
    "shoulder.subscapularis": "Subscapularis insertion",
    "shoulder.biceps_long_head_groove": "Biceps long head, groove",
    "shoulder.acromioclavicular_joint": "AC joint",
    "shoulder.coracoclavicular": "Coracoclavicular ligaments",
    "shoulder.glenohumeral_joint": "Glenohumeral joint",
    "elbow.common_extensor_origin": "Common extensor origin",
    "elbow.supracondylar_ridge": "Lateral supracondylar ridge",
    "elbow.annular_ligament": "Annular ligament",
    "elbow.radial_collateral": "Radial collateral ligament",
    "elbow.common_flexor_origin": "Common flexor origin",
    "ankle_foot.achilles_paratendinous": "Achilles, beside mid-portion",
    "ankle_foot.achilles_insertion": "Achilles insertion",
    "ankle_foot.atfl": "ATFL",
    "ankle_foot.cfl": "CFL",
    "ankle_foot.deltoid": "Deltoid ligament",
    "ankle_foot.plantar_fascia_origin": "Plantar fascia origin",
    "hip.intra_articular": "Hip joint (intra-articular)",
    "hip.greater_trochanter": "Greater trochanter",
    "neck_thoracic.cervical_facet_capsules": "Cervical facets",
    "neck_thoracic.nuchal_ligament": "Nuchal ligament",
    "neck_thoracic.thoracic_facet_capsules": "Thoracic facets (chest wall)",
    "tmj.joint_capsule": "TMJ capsule",
}


@dataclass(frozen=True)
class Target:
    """One landmark as drawn for one side: what the map template needs to draw a focusable target."""

    landmark: Landmark
    x: float
    y: float
    side: str  # "right", "left" or "midline"
    # Where the short label goes (relative to the dot) so that it stays inside the drawing.
    label_x: float
    label_y: float
    label_anchor: str  # "start", "end" or "middle"

    @property
    def code(self) -> str:
        return self.landmark.code

    @property
    def label(self) -> str:
        return self.landmark.label

    @property
    def short_label(self) -> str:
        return SHORT_LABELS.get(self.landmark.code, self.landmark.label)

    @property
    def risk(self) -> bool:
        return self.landmark.pneumothorax_risk

    @property
    def side_label(self) -> str:
        return self.side.title()

    @property
    def aria_label(self) -> str:
        text = f"Add site at {self.landmark.label}, {self.side}"
        if self.risk:
            text += ". Chest wall: pneumothorax risk"
        return text


@dataclass(frozen=True)
class BodyMap:
    """One schematic drawing of a region from one view, with landmark positions drawn for the right side."""

    code: str
    region: Region
    view: View
    title: str
    width: int
    height: int
    template: str
    positions: Mapping[str, tuple[float, float]] = field(compare=False, hash=False, repr=False)
    # True for back views of the spine that show both sides at once (never mirrored as a whole).
    symmetric: bool = False
    # Structures drawn with the caution style (nerves, vessels, pleura), listed in the legend.
    cautions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "positions", MappingProxyType(dict(self.positions)))
        for code, (x, y) in self.positions.items():
            item = landmark(code)
            if item.region is not self.region:
                raise ValueError(f"Map {self.code}: landmark {code} belongs to {item.region.label}, not {self.title}.")
            if not (0 <= x <= self.width and 0 <= y <= self.height):
                raise ValueError(f"Map {self.code}: landmark {code} at ({x}, {y}) is outside the drawing.")

    @property
    def view_box(self) -> str:
        return f"0 0 {self.width} {self.height}"

    @property
    def midline_x(self) -> float:
        return self.width / 2

    @property
    def landmarks(self) -> tuple[Landmark, ...]:
        return landmarks_on(self)

    def targets(self, side: str | None) -> list[Target]:
        """The landmarks to offer for this side: one side of a limb, or both sides of the back."""
        chosen = _side(side)
        if self.symmetric:
            sides = (RIGHT, LEFT) if chosen in (BILATERAL, MIDLINE) else (chosen,)
        else:
            sides = (LEFT,) if chosen == LEFT else (RIGHT,)
        found: list[Target] = []
        for item in self.landmarks:
            for each in sides if item.lateral else (MIDLINE,):
                x, y = position(self, item.code, LEFT if each == LEFT else RIGHT)
                suffix = 4 if len(sides) > 1 and each != MIDLINE else 0
                found.append(
                    Target(
                        item,
                        x,
                        y,
                        each,
                        *self._label_place(x, y, len(SHORT_LABELS.get(item.code, item.label)) + suffix),
                    )
                )
        return found

    def _label_place(self, x: float, y: float, chars: int) -> tuple[float, float, str]:
        """Beside the dot, towards the nearer edge if it fits, else the other way, else centred above it."""
        wide = chars * LABEL_CHAR_WIDTH
        gap = HIT_RADIUS + 4
        fits_right = x + gap + wide <= self.width - 4
        fits_left = x - gap - wide >= 4
        prefer_left = x < self.midline_x
        if fits_left and (prefer_left or not fits_right):
            return (-gap, 5, "end")
        if fits_right:
            return (gap, 5, "start")
        return (0, -gap - 4 if y > 48 else gap + 14, "middle")

    # Templates cannot pass arguments: one property per way the partial draws the map.
    @property
    def targets_right(self) -> list[Target]:
        return self.targets(RIGHT)

    @property
    def targets_left(self) -> list[Target]:
        return self.targets(LEFT)

    @property
    def targets_both(self) -> list[Target]:
        return self.targets(BILATERAL)

    @property
    def mirrors_left(self) -> bool:
        """Whether the outline is drawn mirrored for the left side (limb maps; spine maps show both sides)."""
        return not self.symmetric


def _side(side: str | None) -> str:
    value = (side or RIGHT).strip().lower()
    if value not in SIDES:
        raise ValueError(f"Unknown side '{side}': choose one of {', '.join(SIDES)}.")
    return value


def _map(
    code: str,
    region: Region,
    view: View,
    title: str,
    size: tuple[int, int],
    positions: dict[str, tuple[float, float]],
    *,
    symmetric: bool = False,
    cautions: tuple[str, ...] = (),
) -> BodyMap:
    return BodyMap(
        code=code,
        region=region,
        view=view,
        title=title,
        width=size[0],
        height=size[1],
        template=f"treatment/maps/{code}.svg",
        positions={f"{region.value}.{key}": xy for key, xy in positions.items()},
        symmetric=symmetric,
        cautions=cautions,
    )


MAPS: tuple[BodyMap, ...] = (
    _map(
        "knee_front",
        K,
        View.FRONT,
        "Knee, front",
        (400, 520),
        {
            "quadriceps_tendon_superior_pole": (200, 136),
            "retinaculum_lateral": (143, 206),
            "retinaculum_medial": (257, 206),
            "patellar_tendon_inferior_pole": (200, 272),
            "intra_articular": (240, 290),
            "coronary_lateral": (130, 312),
            "coronary_medial": (278, 312),
            "tibial_tuberosity": (200, 372),
        },
    ),
    _map(
        "knee_medial",
        K,
        View.SIDE,
        "Knee, medial side",
        (400, 520),
        {"mcl_femoral": (214, 222), "mcl_tibial": (223, 400), "pes_anserinus": (170, 380)},
    ),
    _map(
        "knee_lateral",
        K,
        View.SIDE,
        "Knee, lateral side",
        (400, 520),
        {"lcl_femoral": (186, 222), "lcl_fibular_head": (160, 340)},
        cautions=("common peroneal nerve",),
    ),
    _map(
        "lumbopelvic_back",
        L,
        View.BACK,
        "Lumbar spine and pelvis, back",
        (480, 640),
        {
            "supraspinous_l4_l5": (240, 204),
            "interspinous_l4_l5": (240, 240),
            "supraspinous_l5_s1": (240, 304),
            "interspinous_l5_s1": (240, 340),
            "facet_l4_l5": (277, 230),
            "facet_l5_s1": (281, 330),
            "iliolumbar": (330, 268),
            "long_dorsal_sacroiliac": (324, 392),
            "sacroiliac_joint": (298, 432),
            "sacrotuberous": (322, 510),
        },
        symmetric=True,
    ),
    _map(
        "shoulder_front",
        S,
        View.FRONT,
        "Shoulder, front",
        (440, 480),
        {
            "acromioclavicular_joint": (170, 112),
            "coracoclavicular": (244, 150),
            "subscapularis": (176, 232),
            "biceps_long_head_groove": (134, 246),
        },
    ),
    _map(
        "shoulder_back",
        S,
        View.BACK,
        "Shoulder, back",
        (440, 480),
        {"infraspinatus": (362, 176), "glenohumeral_joint": (276, 204)},
    ),
    _map(
        "shoulder_side",
        S,
        View.SIDE,
        "Shoulder, lateral side",
        (420, 480),
        {
            "acromioclavicular_joint": (300, 98),
            "supraspinatus": (238, 152),
            "infraspinatus": (180, 174),
            "biceps_long_head_groove": (276, 224),
        },
    ),
    _map(
        "elbow_lateral",
        E,
        View.SIDE,
        "Elbow, lateral side",
        (400, 520),
        {
            "supracondylar_ridge": (184, 168),
            "common_extensor_origin": (212, 238),
            "radial_collateral": (216, 276),
            "annular_ligament": (240, 312),
        },
    ),
    _map(
        "elbow_medial",
        E,
        View.SIDE,
        "Elbow, medial side",
        (400, 520),
        {"common_flexor_origin": (190, 250)},
        cautions=("ulnar nerve",),
    ),
    _map(
        "ankle_back",
        A,
        View.BACK,
        "Ankle, back",
        (400, 520),
        {"achilles_paratendinous": (166, 240), "achilles_insertion": (200, 424)},
        cautions=("sural nerve",),
    ),
    _map(
        "ankle_lateral",
        A,
        View.SIDE,
        "Ankle and foot, lateral side",
        (460, 400),
        {"atfl": (204, 232), "cfl": (145, 278)},
        cautions=("sural nerve",),
    ),
    _map(
        "ankle_medial",
        A,
        View.SIDE,
        "Ankle and foot, medial side",
        (460, 400),
        {"deltoid": (286, 266), "plantar_fascia_origin": (366, 346)},
        cautions=("tibial nerve and posterior tibial artery",),
    ),
    _map(
        "hip_front",
        H,
        View.FRONT,
        "Hip, front",
        (440, 500),
        {"intra_articular": (172, 266), "greater_trochanter": (100, 292)},
        cautions=("femoral nerve, artery and vein",),
    ),
    _map("hip_side", H, View.SIDE, "Hip, lateral side", (440, 520), {"greater_trochanter": (212, 292)}),
    _map(
        "neck_back",
        N,
        View.BACK,
        "Neck and thoracic spine, back",
        (440, 620),
        {
            "nuchal_ligament": (220, 150),
            "cervical_facet_capsules": (259, 230),
            "thoracic_facet_capsules": (252, 482),
        },
        symmetric=True,
        cautions=("lung and pleura under the thoracic facets and ribs",),
    ),
    _map(
        "tmj_side",
        T,
        View.SIDE,
        "Jaw joint (TMJ), side",
        (420, 400),
        {"joint_capsule": (192, 204)},
        cautions=("superficial temporal artery",),
    ),
)

_BY_CODE: dict[str, BodyMap] = {item.code: item for item in MAPS}


def body_map(code: str) -> BodyMap:
    """Return the map with this code."""
    try:
        return _BY_CODE[code]
    except (KeyError, TypeError):
        raise ValueError(f"Unknown body map '{code}': choose one of {', '.join(_BY_CODE)}.") from None


def maps_for(region: Region | str) -> list[BodyMap]:
    """Return the maps of one region, the first being the one most of its landmarks are drawn on."""
    wanted = parse_region(region)
    found = [item for item in MAPS if item.region is wanted]
    return sorted(found, key=lambda item: -len(item.positions))


def landmarks_on(body_map: BodyMap) -> tuple[Landmark, ...]:
    """Return the landmarks drawn on a map, in catalogue order."""
    return tuple(item for item in LANDMARKS if item.code in body_map.positions)


def maps_showing(landmark_code: str) -> list[BodyMap]:
    """Return the maps a landmark is drawn on, those drawn from the landmark's own view first."""
    item = landmark(landmark_code)
    found = [each for each in MAPS if landmark_code in each.positions]
    return sorted(found, key=lambda each: each.view is not item.view)


def position(body_map: BodyMap, landmark_code: str, side: str | None) -> tuple[float, float]:
    """Return where a landmark is drawn for a side: x mirrored (width - x) on the left, midline structures unchanged."""
    try:
        x, y = body_map.positions[landmark_code]
    except KeyError:
        raise ValueError(
            f"Landmark '{landmark_code}' is not drawn on the {body_map.title} map: choose one of "
            f"{', '.join(body_map.positions)}, or place a free point."
        ) from None
    if _side(side) == LEFT and landmark(landmark_code).lateral:
        return (body_map.width - x, y)
    return (x, y)


def validate_point(body_map: BodyMap, x: Any, y: Any) -> tuple[float, float]:
    """Return the point as numbers, or raise ValueError if it is not a number or lies outside the drawing."""
    try:
        px, py = float(x), float(y)
    except (TypeError, ValueError):
        raise ValueError(f"The point ({x}, {y}) is not a pair of numbers: tap the {body_map.title} map.") from None
    if not (isfinite(px) and isfinite(py)):
        raise ValueError(f"The point ({x}, {y}) is not a pair of numbers: tap the {body_map.title} map.")
    if not (0 <= px <= body_map.width and 0 <= py <= body_map.height):
        raise ValueError(
            f"The point ({px:g}, {py:g}) is outside the {body_map.title} map, which runs from (0, 0) to "
            f"({body_map.width}, {body_map.height}): tap inside the drawing."
        )
    return (px, py)


def point_side(body_map: BodyMap, x: float, side: str | None) -> str:
    """Return the side a free point is on: from its position on a spine map, else the side the map is shown for."""
    chosen = _side(side)
    if not body_map.symmetric:
        return LEFT if chosen == LEFT else RIGHT
    if abs(x - body_map.midline_x) <= MIDLINE_BAND:
        return MIDLINE
    # Seen from behind, the patient's right is on the viewer's right.
    return RIGHT if x > body_map.midline_x else LEFT


def min_target_distance(targets: Iterable[Target]) -> float:
    """Return the smallest distance between two targets (infinity for fewer than two); tests keep it >= 2 * HIT_RADIUS."""
    items = list(targets)
    best = float("inf")
    for i, first in enumerate(items):
        for second in items[i + 1 :]:
            best = min(best, hypot(first.x - second.x, first.y - second.y))
    return best
