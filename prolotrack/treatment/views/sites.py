"""The session's syringes and injection map: the live mixing preview, adding a solution, placing a site."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prolotrack.audit.services import ServiceError
from prolotrack.clinical import calculators
from prolotrack.clinical import present as clinical_present
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.treatment import maps, queries, services
from prolotrack.treatment.forms import SiteForm, SolutionForm
from prolotrack.treatment.models import InjectionSite, TreatmentSession
from prolotrack.treatment.views.common import amending, session_context, session_page, session_url


def _mix_preview(form: SolutionForm) -> tuple[dict[str, Any] | None, list[str]]:
    if not form.is_valid():
        return None, []
    mix_request = form.request()
    missing = [str(form.fields[name].label) for name in mix_request.missing()]
    if missing:
        return None, missing
    try:
        return clinical_present.mix_json(calculators.mix_solution(mix_request)), []
    except calculators.CalculatorError as error:
        form.apply(error)
        return None, []


@require(Permission.SESSION_RECORD)
@require_POST
def solution_preview(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """The volumes to draw, live as the solution form is typed (HTMX), exactly as the mixing calculator gives them."""
    session = queries.session_or_404(request, session_uuid)
    form = SolutionForm(request.POST, signed=session.is_signed)
    mix, missing = _mix_preview(form)
    return render(request, "treatment/_mix_preview.html", {"mix": mix, "missing": missing, "form": form, "oob": True})


def _add_solution(request: HttpRequest, session: TreatmentSession, form: SolutionForm) -> Any:
    """Mix and record the solution; a refusal goes on the form and gives None."""
    data = form.cleaned_data
    try:
        amending(request, session)
        mixed = calculators.mix_solution(form.request())
        return services.add_solution(
            actor_for(request),
            session,
            label=data["label"],
            final_volume_ml=data["final_volume_ml"],
            components=form.components(mixed),
            diluent=data.get("diluent") or "",
            diluent_lot=data.get("diluent_lot") or "",
            with_epinephrine=data.get("with_epinephrine") or False,
            amendment_reason=form.reason,
        )
    except calculators.CalculatorError as error:
        form.apply(error)
    except services.ExpiredStockRefused as error:
        # Next to the expiry typed for that stock (domain/stock.py: none past its expiry on the session date).
        form.add_error(form.expiry_fields[error.index], error.message_dict["components"])
    except (ValidationError, ServiceError) as error:
        apply_errors(form, error)
        if isinstance(error, ValidationError) and hasattr(error, "error_dict") and "components" in error.error_dict:
            form.add_error(None, error.error_dict["components"])
    return None


@require(Permission.SESSION_RECORD)
@require_POST
def solution_add(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    signed = session.is_signed
    form = SolutionForm(request.POST, signed=signed)
    solution = _add_solution(request, session, form) if form.is_valid() else None
    if solution is not None:
        messages.success(request, f"Solution {solution.label} recorded: {solution}.")
        return redirect(session_url(session, "solutions", amend="1" if signed else ""))
    return session_page(request, session, status=400, solution_form=form, amending=signed, open="solution")


def _decimal(text: str) -> Decimal | None:
    try:
        value = Decimal(str(text).replace(",", ".").strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


@dataclass
class Placement:
    body_map: maps.BodyMap
    x: Decimal
    y: Decimal
    side: str


def _placement(form: SiteForm, body_map: maps.BodyMap, course_side: str) -> Placement | None:
    """Where the site goes: a landmark where the drawing shows it, else the point tapped; refusals go on the form."""
    data = form.cleaned_data
    side = data["side"] if data["side"] in maps.SIDES else course_side
    x, y = _decimal(data["x"]), _decimal(data["y"])
    if data["landmark"]:
        try:
            # A landmark goes where the drawing shows it, whatever a stale point in the form says.
            px, py = maps.position(body_map, data["landmark"], side if side in maps.SIDES else None)
            x, y = Decimal(str(round(px, 2))), Decimal(str(round(py, 2)))
        except ValueError as error:
            form.add_error(None, str(error))
    elif x is None or y is None:
        form.add_error(None, "No point chosen: tap a landmark or the drawing, then add the site.")
    else:
        side = maps.point_side(body_map, float(x), side if side in maps.SIDES else None)
    if form.errors or x is None or y is None:
        return None
    if side not in (maps.LEFT, maps.RIGHT, maps.MIDLINE, maps.BILATERAL):
        side = maps.RIGHT
    return Placement(body_map, x, y, side)


def _add_site(request: HttpRequest, session: TreatmentSession, form: SiteForm, solutions: list[Any]) -> Any:
    """Place and record one site; a refusal goes on the form and gives None."""
    data = form.cleaned_data
    try:
        amending(request, session)
        body_map = maps.body_map(data["map"])
    except ValueError:
        form.add_error(None, f"Unknown map '{data['map']}': choose a view above the drawing.")
        return None
    except ServiceError as error:
        form.add_error(None, str(error))
        return None
    where = _placement(form, body_map, session.course.side)
    solution = next((s for s in solutions if str(s.uuid) == data["solution"]), None)
    if solution is None:  # not reached: the form's choices are these solutions
        form.add_error("solution", "Choose a solution prepared in this session.")
    if where is None or solution is None:
        return None
    try:
        added, _ = services.add_site(
            actor_for(request), session, solution=solution,
            body_map=where.body_map.code, x=where.x, y=where.y, side=where.side, volume_ml=data["volume_ml"],
            landmark=data["landmark"], label=data["label"], depth_mm=data["depth_mm"],
            needle_gauge=data["needle_gauge"], guidance=data["guidance"], amendment_reason=form.reason,
        )  # fmt: skip
    except (ValidationError, ServiceError) as error:
        apply_errors(form, error)
        return None
    return added


@require(Permission.SESSION_RECORD)
@require_POST
def site_add(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """Place one injection from the map. HTMX gets the map, form, list and totals; a plain POST gets the page."""
    session = queries.session_or_404(request, session_uuid)
    signed = session.is_signed
    solutions = queries.session_page(session).active_solutions
    form = SiteForm(request.POST, solutions=solutions, signed=signed)
    added: InjectionSite | None = _add_site(request, session, form, solutions) if form.is_valid() else None
    if not request.htmx:
        if added is None:
            return session_page(request, session, status=400, site_form=form, amending=signed)
        volume = clinical_present.volume(added.volume_ml)
        messages.success(request, f"Site {added.number} added: {added.label}, {volume} mL.")
        return redirect(session_url(session, "map", map=added.body_map, amend="1" if signed else ""))
    session = queries.session_or_404(request, session_uuid)
    bound: dict[str, Any] = {"amending": signed, "site_added": added}
    if added is None:
        bound["site_form"] = form
    # 200 even when refused: HTMX swaps only successful responses, and the refusal is the content.
    return render(request, "treatment/_site_response.html", session_context(request, session, **bound))
