"""Body-map preview pages: every drawing with its landmarks, and a demo form to try placing a site.

Nothing here reads or writes patient data; the demo form only shows what a session form would receive.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_http_methods

from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.core.access import require
from prolotrack.domain.anatomy import Region
from prolotrack.treatment import maps

DEMO_FORM_ID = "demo-site-form"
DEMO_SOLUTION = "25% dextrose, 0.5% lidocaine"


@require(Permission.PATIENT_VIEW_CLINICAL)
def map_index(request: ClinicRequest) -> HttpResponse:
    groups = [(region, maps.maps_for(region)) for region in Region]
    return render(request, "treatment/maps/index.html", {"groups": groups, "landmark_count": len(maps.LANDMARKS)})


def _sample_sites(targets: list[maps.Target]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Two sites for this session and the previous session's, placed a little apart, to show how they look."""
    sites = [
        {"number": n, "x": t.x, "y": t.y, "label": t.label, "solution_label": DEMO_SOLUTION, "volume_ml": "0.5"}
        for n, t in enumerate(targets[:2], start=1)
    ]
    previous = [
        {
            "number": n,
            "x": t.x - 9,
            "y": t.y + 11,
            "label": t.label,
            "solution_label": DEMO_SOLUTION,
            "volume_ml": "0.5",
        }
        for n, t in enumerate(targets[:3], start=1)
    ]
    return sites, previous


def _check_demo(body_map: maps.BodyMap, data: Any) -> tuple[dict[str, str], list[str]]:
    """What the demo form sent, and the refusals a session form would give."""
    sent = {
        name: str(data.get(name, "")).strip() for name in ("map", "view", "side", "landmark", "x", "y", "volume_ml")
    }
    errors: list[str] = []
    if sent["map"] != body_map.code:
        errors.append(f"The form names map '{sent['map']}', not {body_map.code}.")
    if sent["side"] not in maps.SIDES:
        errors.append(f"Unknown side '{sent['side']}': choose one of {', '.join(maps.SIDES)}.")
    if not sent["x"] or not sent["y"]:
        errors.append("No point chosen: tap a landmark or the drawing.")
    else:
        try:
            maps.validate_point(body_map, sent["x"], sent["y"])
        except ValueError as error:
            errors.append(str(error))
    if sent["landmark"]:
        try:
            maps.position(body_map, sent["landmark"], sent["side"] if sent["side"] in maps.SIDES else None)
        except ValueError as error:
            errors.append(str(error))
    try:
        volume = Decimal(sent["volume_ml"].replace(",", "."))
        if not volume.is_finite() or volume <= 0:
            raise InvalidOperation
    except InvalidOperation:
        errors.append("Volume: enter the millilitres injected at this site, e.g. 0.5.")
    return sent, errors


@require(Permission.PATIENT_VIEW_CLINICAL)
@require_http_methods(["GET", "POST"])
def map_preview(request: ClinicRequest, code: str) -> HttpResponse:
    try:
        body_map = maps.body_map(code)
    except ValueError:
        raise Http404("No such body map.") from None
    side = request.GET.get("side", maps.RIGHT)
    if side not in maps.SIDES:
        side = maps.RIGHT
    show_samples = request.GET.get("sample") == "1"
    targets = body_map.targets(side)
    sites, previous = _sample_sites(targets) if show_samples else ([], [])
    sent, errors = _check_demo(body_map, request.POST) if request.method == "POST" else (None, [])
    sides = [maps.RIGHT, maps.LEFT] + ([maps.BILATERAL] if body_map.symmetric else [])
    context = {
        "body_map": body_map,
        "side": side,
        "sides": sides,
        "targets": targets,
        "sites": sites,
        "previous_sites": previous,
        "show_samples": show_samples,
        "form_id": DEMO_FORM_ID,
        "interactive": True,
        "region_maps": maps.maps_for(body_map.region),
        "all_maps": maps.MAPS,
        "sent": sent,
        "errors": errors,
        "initial": sent or {"map": body_map.code, "view": body_map.view.value, "side": side},
    }
    return render(request, "treatment/map_preview.html", context, status=422 if errors else 200)
