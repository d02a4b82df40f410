"""The body maps: every landmark drawn on a map of its region, inside the drawing, mirrored for the left side; the
map partial; the preview pages and who may open them."""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.template.loader import get_template, render_to_string

from prolotrack.domain.anatomy import LANDMARKS, Region, View
from prolotrack.treatment import maps

TEMPLATES = Path(settings.BASE_DIR) / "prolotrack" / "templates"


def text(response_or_html):
    body = response_or_html if isinstance(response_or_html, str) else response_or_html.content.decode()
    return re.sub(r"\s+", " ", body)


# --- The catalogue on the drawings ----------------------------------------------------------------------------


@pytest.mark.parametrize("item", LANDMARKS, ids=lambda item: item.code)
def test_every_landmark_is_drawn_on_a_map_of_its_region_from_its_own_view(item):
    own_view = [m for m in maps.maps_for(item.region) if item.code in m.positions and m.view is item.view]
    assert own_view, f"{item.code} ({item.view}) is on no {item.region.label} map drawn from the {item.view} view"
    assert maps.maps_showing(item.code)[0].view is item.view


def test_every_region_has_a_map_and_maps_hold_only_their_own_region():
    for region in Region:
        assert maps.maps_for(region), f"no map for {region.label}"
    for body_map in maps.MAPS:
        assert body_map.positions, f"{body_map.code} has no landmarks"
        assert all(item.region is body_map.region for item in maps.landmarks_on(body_map))


def test_the_map_codes_are_unique_and_found_by_code():
    assert len({m.code for m in maps.MAPS}) == len(maps.MAPS)
    assert maps.body_map("knee_front").region is Region.KNEE
    with pytest.raises(ValueError, match="Unknown body map 'elbow_back'"):
        maps.body_map("elbow_back")


def test_maps_for_puts_the_busiest_map_first_and_accepts_a_region_name():
    assert [m.code for m in maps.maps_for("knee")] == ["knee_front", "knee_medial", "knee_lateral"]
    assert maps.maps_for(Region.TMJ)[0].view is View.SIDE


@pytest.mark.parametrize("body_map", maps.MAPS, ids=lambda m: m.code)
def test_every_position_is_inside_the_drawing_on_both_sides(body_map):
    for side in maps.SIDES:
        for target in body_map.targets(side):
            assert 0 <= target.x <= body_map.width and 0 <= target.y <= body_map.height, (body_map.code, target)


@pytest.mark.parametrize("body_map", maps.MAPS, ids=lambda m: m.code)
def test_targets_on_one_drawing_never_overlap(body_map):
    for side in maps.SIDES:
        closest = maps.min_target_distance(body_map.targets(side))
        assert closest >= 2 * maps.HIT_RADIUS, f"{body_map.code} ({side}): two targets {closest:.0f} units apart"


@pytest.mark.parametrize("body_map", maps.MAPS, ids=lambda m: m.code)
def test_target_labels_stay_inside_the_drawing(body_map):
    for side in maps.SIDES:
        for t in body_map.targets(side):
            wide = len(t.short_label) * maps.LABEL_CHAR_WIDTH
            left = {"start": t.x + t.label_x, "end": t.x + t.label_x - wide, "middle": t.x - wide / 2}[t.label_anchor]
            if t.label_anchor != "middle":
                assert left >= 0 and left + wide <= body_map.width, (body_map.code, t.code, side)


def test_the_left_side_mirrors_x_and_keeps_y():
    knee = maps.body_map("knee_front")
    for code, (x, y) in knee.positions.items():
        assert maps.position(knee, code, "right") == (x, y)
        assert maps.position(knee, code, "left") == (knee.width - x, y)
    # Bilateral and midline sessions on a limb map use the drawing as it is.
    assert maps.position(knee, "knee.coronary_medial", "bilateral") == knee.positions["knee.coronary_medial"]


def test_midline_structures_are_not_mirrored_and_spine_maps_show_both_sides():
    back = maps.body_map("lumbopelvic_back")
    x, y = back.positions["lumbopelvic.supraspinous_l4_l5"]
    assert maps.position(back, "lumbopelvic.supraspinous_l4_l5", "left") == (x, y)
    both = back.targets("bilateral")
    iliolumbar = {t.side: (t.x, t.y) for t in both if t.code == "lumbopelvic.iliolumbar"}
    right = back.positions["lumbopelvic.iliolumbar"]
    assert iliolumbar == {"right": right, "left": (back.width - right[0], right[1])}
    assert {t.side for t in both if not t.landmark.lateral} == {"midline"}
    # One side of the back: that side's landmarks and the midline ones.
    assert {t.side for t in back.targets("left")} == {"left", "midline"}
    # Seen from behind, the patient's right is on the viewer's right.
    assert right[0] > back.midline_x


@pytest.mark.parametrize("body_map", [m for m in maps.MAPS if not m.symmetric], ids=lambda m: m.code)
def test_limb_maps_have_no_midline_landmarks_off_the_middle(body_map):
    # The whole outline is mirrored for the left side, so an unmirrored point must sit on the line of symmetry.
    for item in maps.landmarks_on(body_map):
        if not item.lateral:
            assert body_map.positions[item.code][0] == body_map.midline_x


def test_a_landmark_that_is_not_on_the_map_is_refused_by_name():
    with pytest.raises(ValueError, match=r"Landmark 'knee.mcl_femoral' is not drawn on the Knee, front map"):
        maps.position(maps.body_map("knee_front"), "knee.mcl_femoral", "right")
    with pytest.raises(ValueError, match="Unknown side 'up'"):
        maps.position(maps.body_map("knee_front"), "knee.tibial_tuberosity", "up")


def test_validate_point_accepts_the_drawing_and_refuses_outside_points_with_a_message():
    knee = maps.body_map("knee_front")
    assert maps.validate_point(knee, 0, 0) == (0.0, 0.0)
    assert maps.validate_point(knee, "400", "520") == (400.0, 520.0)
    assert maps.validate_point(knee, 123.4, 56.7) == (123.4, 56.7)
    for x, y in [(-1, 10), (10, -0.5), (400.1, 10), (10, 521)]:
        with pytest.raises(
            ValueError, match=r"is outside the Knee, front map, which runs from \(0, 0\) to \(400, 520\)"
        ):
            maps.validate_point(knee, x, y)
    for x, y in [("", 1), (None, 1), ("abc", 2), (float("nan"), 1), (float("inf"), 1)]:
        with pytest.raises(ValueError, match="is not a pair of numbers"):
            maps.validate_point(knee, x, y)


def test_free_points_on_the_back_take_their_side_from_where_they_are():
    back = maps.body_map("lumbopelvic_back")
    assert maps.point_side(back, 400, "bilateral") == "right"
    assert maps.point_side(back, 60, "right") == "left"
    assert maps.point_side(back, back.midline_x + 3, None) == "midline"
    knee = maps.body_map("knee_front")
    assert maps.point_side(knee, 10, "left") == "left"
    assert maps.point_side(knee, 10, "bilateral") == "right"


def test_chest_wall_landmarks_are_flagged_on_the_map():
    neck = maps.body_map("neck_back")
    risky = [t for t in neck.targets("bilateral") if t.risk]
    assert {t.code for t in risky} == {"neck_thoracic.thoracic_facet_capsules"}
    assert all("pneumothorax risk" in t.aria_label for t in risky)


# --- The drawings and the partial ------------------------------------------------------------------------------


@pytest.mark.parametrize("body_map", maps.MAPS, ids=lambda m: m.code)
def test_every_map_template_exists_and_renders_an_outline(body_map):
    assert (TEMPLATES / body_map.template).is_file()
    svg = get_template(body_map.template).render({})
    assert 'class="bm-bone' in svg
    assert "<text" in svg and "Superior" in svg
    assert "<svg" not in svg, "a map template is a fragment inlined in the partial's <svg>"


def _render(**context):
    values = {"sites": [], "previous_sites": [], "form_id": "site-form", "interactive": True, "side": "right"}
    values.update(context)
    return text(render_to_string("treatment/_injection_map.html", values))


@pytest.mark.parametrize("body_map", maps.MAPS, ids=lambda m: m.code)
@pytest.mark.parametrize("side", maps.SIDES)
def test_the_partial_renders_every_map_on_every_side(body_map, side):
    html = _render(body_map=body_map, side=side)
    assert f'data-map="{body_map.code}"' in html
    assert f'viewBox="{body_map.view_box}"' in html
    for target in body_map.targets(side):
        assert f'data-landmark="{target.code}"' in html


def test_the_partial_draws_landmarks_as_focusable_buttons_with_their_names():
    html = _render(body_map=maps.body_map("knee_medial"))
    assert html.count('role="button" tabindex="0"') == 3
    assert 'aria-label="Add site at Medial collateral ligament, femoral origin, right"' in html
    assert 'data-landmark="knee.mcl_femoral" data-x="214" data-y="222" data-side="right"' in html
    assert 'data-form="site-form"' in html
    # The plain list offers the same choices.
    assert '<button type="button" class="map-list-item" aria-pressed="false" data-landmark="knee.mcl_femoral"' in html


def test_the_left_side_mirrors_the_outline_and_the_targets_but_not_the_labels():
    knee = maps.body_map("knee_front")
    right, left = _render(body_map=knee, side="right"), _render(body_map=knee, side="left")
    assert 'transform="translate(400 0) scale(-1 1)"' in left and "is-mirrored" in left
    assert "scale(-1 1)" not in right
    assert 'data-landmark="knee.tibial_tuberosity" data-x="200"' in left  # on the midline of the drawing
    assert 'data-landmark="knee.coronary_medial" data-x="122" data-y="312" data-side="left"' in left
    assert "Left side (drawing mirrored)" in left


def test_the_back_is_never_mirrored_and_shows_both_sides():
    html = _render(body_map=maps.body_map("lumbopelvic_back"), side="bilateral")
    assert "scale(-1 1)" not in html.split('class="map-outline')[1].split(">")[0]
    assert 'data-landmark="lumbopelvic.iliolumbar" data-x="330" data-y="268" data-side="right"' in html
    assert 'data-landmark="lumbopelvic.iliolumbar" data-x="150" data-y="268" data-side="left"' in html
    assert "Both sides · seen from behind" in html


def test_the_partial_numbers_this_sessions_sites_and_shows_the_previous_ones_faintly():
    sites = [
        {
            "number": 1,
            "x": 214,
            "y": 222,
            "label": "MCL femoral origin",
            "solution_label": "15% dextrose",
            "volume_ml": "0.5",
        },
        {
            "number": 2,
            "x": 170.5,
            "y": 380,
            "label": "Pes anserinus",
            "solution_label": "15% dextrose",
            "volume_ml": "1",
        },
    ]
    previous = [{"number": 1, "x": 200, "y": 300, "label": "Free point", "solution_label": "", "volume_ml": None}]
    html = _render(body_map=maps.body_map("knee_medial"), sites=sites, previous_sites=previous)
    assert html.count('class="map-site"') == 2
    assert '<g class="map-site" transform="translate(170.5 380)">' in html
    assert "<title>Site 1: MCL femoral origin, 15% dextrose, 0.50 mL</title>" in html
    assert '<text class="map-site-number" y="6">2</text>' in html
    assert html.count('class="map-prev"') == 1
    assert "<title>Previous session, site 1: Free point</title>" in html
    assert "Previous session (for comparison)" in html and "This session's sites" in html


def test_a_static_map_draws_sites_without_targets_or_the_list():
    sites = [{"number": 1, "x": 10, "y": 10, "label": "x", "solution_label": "", "volume_ml": "1"}]
    html = _render(body_map=maps.body_map("knee_front"), sites=sites, interactive=False)
    assert 'role="button"' not in html and "map-list" not in html and "map-selection" not in html
    assert 'class="map-site"' in html and "is-static" in html


def test_the_chest_wall_warning_is_in_the_key_and_on_the_target():
    html = _render(body_map=maps.body_map("neck_back"), side="bilateral")
    assert html.count("map-target is-risk") == 2
    assert html.count("Chest wall: pneumothorax risk</li>") == 1
    assert "Take care: lung and pleura" in html


def test_the_partial_loads_its_assets_unless_the_page_already_does():
    knee = maps.body_map("knee_front")
    assert "injection-map.js" in _render(body_map=knee)
    assert "injection-map.js" not in _render(body_map=knee, map_assets=False)


def test_two_maps_on_one_page_get_distinct_ids():
    knee = maps.body_map("knee_front")
    right, left = _render(body_map=knee, side="right"), _render(body_map=knee, side="left")
    assert 'id="knee_front-right"' in right and 'id="knee_front-left"' in left


# --- The preview pages ---------------------------------------------------------------------------------------


def test_the_index_lists_every_map(client, login, clinician):
    login(clinician)
    body = text(client.get("/tools/maps/"))
    for body_map in maps.MAPS:
        assert f'href="/tools/maps/{body_map.code}/"' in body
    assert f"the {len(LANDMARKS)} landmarks of the catalogue" in body


def test_a_map_page_shows_the_map_for_the_side_asked_and_a_demo_form(client, login, clinician):
    login(clinician)
    body = text(client.get("/tools/maps/knee_front/?side=left"))
    assert 'data-map="knee_front"' in body and 'data-side="left"' in body
    assert '<form id="demo-site-form" method="post"' in body
    assert '<input type="hidden" name="side" value="left">' in body
    assert "knee.coronary_medial" in body and "122, 312" in body
    assert client.get("/tools/maps/knee_front/?side=sideways").status_code == 200
    assert client.get("/tools/maps/no_such_map/").status_code == 404


def test_sample_sites_show_how_sites_look(client, login, clinician):
    login(clinician)
    body = text(client.get("/tools/maps/shoulder_front/?sample=1"))
    assert body.count('class="map-site"') == 2 and body.count('class="map-prev"') == 3


def test_the_demo_form_shows_what_would_be_submitted_and_saves_nothing(client, login, clinician):
    login(clinician)
    sent = {
        "map": "knee_front",
        "view": "front",
        "side": "left",
        "landmark": "knee.coronary_medial",
        "x": "122",
        "y": "312",
        "volume_ml": "0,5",
    }
    body = text(client.post("/tools/maps/knee_front/?side=left", sent))
    assert "Would be submitted (nothing is saved)" in body
    assert '<dd class="mono">knee.coronary_medial</dd>' in body and '<dd class="mono">122, 312</dd>' in body
    assert 'class="errors"' not in body


def test_the_demo_form_refuses_a_point_outside_the_drawing(client, login, clinician):
    login(clinician)
    sent = {
        "map": "knee_front",
        "view": "front",
        "side": "right",
        "landmark": "",
        "x": "500",
        "y": "10",
        "volume_ml": "",
    }
    response = client.post("/tools/maps/knee_front/", sent)
    assert response.status_code == 422
    body = text(response)
    assert "The point (500, 10) is outside the Knee, front map" in body
    assert "Volume: enter the millilitres" in body


@pytest.mark.parametrize(
    ("persona", "status"),
    [("clinician", 200), ("colleague", 200), ("frontdesk", 403), ("admin", 403), ("researcher", 403)],
)
@pytest.mark.parametrize("url", ["/tools/maps/", "/tools/maps/knee_front/?side=left"])
def test_the_preview_pages_are_for_those_who_see_clinical_records(client, login, personas, persona, status, url):
    login(personas[persona])
    assert client.get(url).status_code == status


@pytest.mark.parametrize("url", ["/tools/maps/", "/tools/maps/knee_front/"])
def test_anonymous_visitors_are_sent_to_log_in(client, db, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=/tools/maps/")
