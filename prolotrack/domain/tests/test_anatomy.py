import pytest

from prolotrack.domain.anatomy import LANDMARKS, Region, View, landmark, landmarks_for, parse_region
from prolotrack.domain.errors import AnatomyError


def test_every_landmark_code_is_unique_and_prefixed_by_its_region():
    codes = [item.code for item in LANDMARKS]
    assert len(codes) == len(set(codes))
    assert all(item.code.startswith(f"{item.region.value}.") for item in LANDMARKS)


def test_every_region_of_domain_md_has_landmarks():
    assert {item.region for item in LANDMARKS} == set(Region)


@pytest.mark.parametrize(
    ("region", "count"),
    [
        (Region.KNEE, 13),
        (Region.LUMBOPELVIC, 10),
        (Region.SHOULDER, 7),
        (Region.ELBOW, 5),
        (Region.ANKLE_FOOT, 6),
        (Region.HIP, 2),
        (Region.NECK_THORACIC, 3),
        (Region.TMJ, 1),
    ],
)
def test_each_region_lists_the_landmarks_named_in_domain_md(region, count):
    assert len(landmarks_for(region)) == count


@pytest.mark.parametrize(
    ("code", "label", "region", "view", "lateral"),
    [
        ("knee.mcl_femoral", "Medial collateral ligament, femoral origin", Region.KNEE, View.SIDE, True),
        ("knee.intra_articular", "Knee joint (intra-articular)", Region.KNEE, View.FRONT, True),
        ("lumbopelvic.interspinous_l5_s1", "Interspinous ligament L5-S1", Region.LUMBOPELVIC, View.BACK, False),
        ("neck_thoracic.nuchal_ligament", "Nuchal ligament", Region.NECK_THORACIC, View.BACK, False),
        ("ankle_foot.plantar_fascia_origin", "Plantar fascia origin, medial calcaneal tubercle", Region.ANKLE_FOOT,
         View.SIDE, True),
        ("tmj.joint_capsule", "Temporomandibular joint capsule", Region.TMJ, View.SIDE, True),
    ],
)  # fmt: skip
def test_landmarks_carry_label_region_view_and_laterality(code, label, region, view, lateral):
    item = landmark(code)
    assert (item.label, item.region, item.view, item.lateral) == (label, region, view, lateral)


def test_midline_spinal_ligaments_have_no_side():
    midline = {item.code for item in LANDMARKS if not item.lateral}
    assert midline == {
        "lumbopelvic.supraspinous_l4_l5",
        "lumbopelvic.supraspinous_l5_s1",
        "lumbopelvic.interspinous_l4_l5",
        "lumbopelvic.interspinous_l5_s1",
        "neck_thoracic.nuchal_ligament",
    }


def test_only_thoracic_sites_are_flagged_for_pneumothorax_risk():
    flagged = {item.code for item in LANDMARKS if item.pneumothorax_risk}
    assert flagged == {"neck_thoracic.thoracic_facet_capsules"}


def test_landmarks_for_accepts_region_names_as_text():
    assert landmarks_for("Ankle Foot") == landmarks_for(Region.ANKLE_FOOT)
    assert [item.code for item in landmarks_for("hip")] == ["hip.intra_articular", "hip.greater_trochanter"]


@pytest.mark.parametrize("code", ["knee.nowhere", "", None, "KNEE.MCL_FEMORAL"])
def test_unknown_landmark_codes_are_refused(code):
    with pytest.raises(AnatomyError, match="Unknown landmark code"):
        landmark(code)


@pytest.mark.parametrize("value", ["spleen", "", 3])
def test_unknown_regions_are_refused(value):
    with pytest.raises(AnatomyError, match="Unknown body region"):
        parse_region(value)


def test_spinal_regions_are_lumbopelvic_and_neck_thoracic():
    assert {region for region in Region if region.is_spinal} == {Region.LUMBOPELVIC, Region.NECK_THORACIC}
    assert Region.TMJ.label == "Temporomandibular joint"
