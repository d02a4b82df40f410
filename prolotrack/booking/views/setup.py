"""The administrator's booking setup: appointment types (who offers them, online or not), rooms, weekly hours,
breaks, time off and holidays (docs/BOOKING.md, "The booking app"). Simple forms, one service call each."""

from typing import Any

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from prolotrack.booking import queries, services
from prolotrack.booking.forms import OffersForm, PeriodForm, RoomForm, TimeOffForm, TypeForm
from prolotrack.booking.views.common import REFUSALS, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.treatment import queries as treatment_queries


def _fee_items(request: ClinicRequest) -> list[Any]:
    return queries.fee_items(request.clinic)


def _setup_page(
    request: ClinicRequest, type_form: TypeForm | None = None, room_form: RoomForm | None = None, status: int = 200
) -> HttpResponse:
    offers = queries.offers(request.clinic)
    types = queries.appointment_types(request.clinic)
    context = {
        "types": [(t, offers.get(t.pk, [])) for t in types],
        "rooms": queries.rooms(request.clinic),
        "type_form": type_form or TypeForm(fee_items=_fee_items(request)),
        "room_form": room_form or RoomForm(),
    }
    return render(request, "booking/setup.html", context, status=status)


@require(Permission.CLINIC_MANAGE)
def setup(request: ClinicRequest) -> HttpResponse:
    return _setup_page(request)


@require(Permission.CLINIC_MANAGE)
@require_POST
def type_add(request: ClinicRequest) -> HttpResponse:
    form = TypeForm(request.POST, fee_items=_fee_items(request))
    if form.is_valid():
        try:
            made = services.create_appointment_type(actor_for(request), form.values())
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{made.name} added: choose who offers it.")
            return redirect("booking:type", type_uuid=made.uuid)
    return _setup_page(request, type_form=form, status=400)


@require(Permission.CLINIC_MANAGE)
@require_POST
def room_add(request: ClinicRequest) -> HttpResponse:
    form = RoomForm(request.POST)
    if form.is_valid():
        try:
            made = services.create_room(actor_for(request), **form.cleaned_data)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, f"{made.name} added.")
            return redirect("booking:setup")
    return _setup_page(request, room_form=form, status=400)


def _type_forms(request: ClinicRequest, kind: Any) -> tuple[TypeForm, OffersForm]:
    """The type's two forms as stored: its fields, and who offers it (online or not)."""
    current = queries.offers(request.clinic).get(kind.pk, [])
    initial = {name: getattr(kind, name) for name in services.TYPE_FIELDS if name not in ("fee_item", "names")}
    initial["fee_item"] = str(kind.fee_item.uuid) if kind.fee_item else ""
    initial.update({f"name_{code}": name for code, name in (kind.names or {}).items()})
    offers_initial = {
        "clinicians": [str(o.clinician.uuid) for o in current],
        "online": [str(o.clinician.uuid) for o in current if o.bookable_online],
        "version": kind.version,
    }
    return (
        TypeForm(initial=initial, fee_items=_fee_items(request)),
        OffersForm(initial=offers_initial, clinicians=treatment_queries.clinicians(request.clinic)),
    )


def _save_offers(request: ClinicRequest, kind: Any) -> OffersForm | None:
    """Save who offers the type; the form with its errors when refused, None when saved."""
    form = OffersForm(request.POST, clinicians=treatment_queries.clinicians(request.clinic))
    if form.is_valid():
        chosen = [form.people[u] for u in form.cleaned_data["clinicians"]]
        online = [form.people[u] for u in form.cleaned_data["online"]]
        try:
            services.set_offers(actor_for(request), kind, chosen, online=online)
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            return None
    return form


def _save_type(request: ClinicRequest, kind: Any) -> TypeForm | None:
    """Save the type's fields against the version the page showed; the form with its errors, or None when saved."""
    form = TypeForm(request.POST, fee_items=_fee_items(request))
    if form.is_valid():
        try:
            version = int(request.POST.get("version", ""))
            services.update_appointment_type(actor_for(request), kind, form.values(), expected_version=version)
        except ValueError:
            form.add_error(None, "The page was incomplete: reload it and save again.")
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            return None
    return form


@require(Permission.CLINIC_MANAGE)
def type_edit(request: ClinicRequest, type_uuid: Any) -> HttpResponse:
    kind = found(queries.appointment_type, request.clinic, type_uuid)
    form, offers_form = _type_forms(request, kind)
    status = 200
    if request.method == "POST":
        if "save_offers" in request.POST:
            refused_offers = _save_offers(request, kind)
            if refused_offers is None:
                messages.success(request, f"Who offers {kind.name} is saved.")
                return redirect("booking:type", type_uuid=kind.uuid)
            offers_form = refused_offers
        else:
            refused_type = _save_type(request, kind)
            if refused_type is None:
                messages.success(request, f"{kind.name} saved.")
                return redirect("booking:type", type_uuid=kind.uuid)
            form = refused_type
        status = 400
    context = {"kind": kind, "form": form, "offers_form": offers_form}
    return render(request, "booking/type.html", context, status=status)


def _hours_page(
    request: ClinicRequest,
    period_form: PeriodForm | None = None,
    off_form: TimeOffForm | None = None,
    status: int = 200,
) -> HttpResponse:
    people = treatment_queries.clinicians(request.clinic)
    rooms = queries.rooms(request.clinic)
    context = {
        "periods": queries.weekly_periods(request.clinic),
        "time_off": queries.time_off(request.clinic, queries.clinic_today(request.clinic)),
        "period_form": period_form or PeriodForm(clinicians=people, rooms=rooms),
        "off_form": off_form or TimeOffForm(clinicians=people),
    }
    return render(request, "booking/hours.html", context, status=status)


@require(Permission.CLINIC_MANAGE)
def hours(request: ClinicRequest) -> HttpResponse:
    return _hours_page(request)


@require(Permission.CLINIC_MANAGE)
@require_POST
def hours_add(request: ClinicRequest) -> HttpResponse:
    form = PeriodForm(
        request.POST, clinicians=treatment_queries.clinicians(request.clinic), rooms=queries.rooms(request.clinic)
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_weekly_period(
                actor_for(request),
                form.people[data["clinician"]],
                weekday=data["weekday"],
                starts=data["starts"],
                ends=data["ends"],
                kind=data["kind"],
                room=form.room_rows.get(data["room"] or ""),
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Added to the week.")
            return redirect("booking:hours")
    return _hours_page(request, period_form=form, status=400)


@require(Permission.CLINIC_MANAGE)
@require_POST
def hours_remove(request: ClinicRequest, period_uuid: Any) -> HttpResponse:
    period = found(queries.weekly_period, request.clinic, period_uuid)
    try:
        services.end_weekly_period(actor_for(request), period, expected_version=period.version)
    except REFUSALS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Taken off the week. Appointments already booked stay.")
    return redirect("booking:hours")


@require(Permission.CLINIC_MANAGE)
@require_POST
def time_off_add(request: ClinicRequest) -> HttpResponse:
    form = TimeOffForm(request.POST, clinicians=treatment_queries.clinicians(request.clinic))
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.add_time_off(
                actor_for(request),
                clinician=form.people.get(data["clinician"] or ""),
                first_day=data["first_day"],
                last_day=data["last_day"],
                note=data["note"],
            )
        except REFUSALS as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Time off added. Appointments already booked on those days stay: move them.")
            return redirect("booking:hours")
    return _hours_page(request, off_form=form, status=400)


@require(Permission.CLINIC_MANAGE)
@require_POST
def time_off_remove(request: ClinicRequest, time_off_uuid: Any) -> HttpResponse:
    row = found(queries.time_off_row, request.clinic, time_off_uuid)
    try:
        services.end_time_off(actor_for(request), row, expected_version=row.version)
    except REFUSALS as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Time off removed.")
    return redirect("booking:hours")
