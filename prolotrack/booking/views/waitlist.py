"""The waitlist's pages (docs/BOOKING.md, "Waitlist"): the staff list with adding and withdrawing, and the patient's
offer page by link (no login) that accepts or declines a held slot."""

import uuid
from datetime import time
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prolotrack.audit.services import record_disclosure
from prolotrack.booking import patient_links, queries, waitlist
from prolotrack.booking.models import WEEKDAY_NAMES
from prolotrack.booking.views.common import REFUSALS, audit_search, found
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for, client_address
from prolotrack.core.access import require
from prolotrack.core.language import patient_page, use_patient_language
from prolotrack.core.links import LinkState, RateLimit
from prolotrack.core.patient_pages import render_patient_page
from prolotrack.patients import queries as patient_queries

# Unknown or closed offer links tried per client address per window before answering 429 (as the questionnaire links).
FAILED_LOOKUPS = RateLimit("waitlist-offer-fail", 20, 600)


# --- Staff ---------------------------------------------------------------------------------------------------------


def _window_text(entry: Any) -> str:
    days = f"{entry.first_day:%a %Y-%m-%d}" + (
        f" to {entry.last_day:%a %Y-%m-%d}" if entry.last_day != entry.first_day else ""
    )
    if entry.weekday_numbers:
        days += ", " + ", ".join(WEEKDAY_NAMES[d][:3] for d in entry.weekday_numbers)
    if entry.earliest or entry.latest:
        days += f", {entry.earliest:%H:%M}" if entry.earliest else ", from opening"
        days += f"-{entry.latest:%H:%M}" if entry.latest else " on"
    return days


@require(Permission.SCHEDULE_VIEW)
def waitlist_page(request: ClinicRequest) -> HttpResponse:
    """The clinic's waitlist in line order, with each entry's offers; `?all=1` shows closed entries too."""
    clinic = request.clinic
    show_all = request.GET.get("all") == "1"
    rows = waitlist.entries(clinic, current_only=not show_all)
    record_disclosure(actor_for(request), "booking.waitlist.viewed", [r.patient for r in rows if r.patient])
    shown = [(row, _window_text(row)) for row in rows]
    return render(request, "booking/waitlist.html", {"rows": shown, "show_all": show_all})


def _parse_time(text: str, name: str, errors: dict[str, str]) -> time | None:
    text = (text or "").strip()
    if not text:
        return None
    try:
        return time.fromisoformat(text)
    except ValueError:
        errors[name] = "Give a time of day such as 09:00, or leave it empty."
        return None


def _asked(request: ClinicRequest) -> dict[str, Any]:
    """What the add page was asked for: the type, its clinicians, the patient (or a search) and the typed values."""
    clinic = request.clinic
    source = request.POST if request.method == "POST" else request.GET
    types = queries.bookable_types(clinic)
    kind = next((t for t in types if str(t.uuid) == source.get("type", "")), None)
    text = source.get("patient", "")
    patient = patient_queries.search_patients(clinic).filter(uuid=text).first() if _uuid(text) else None
    q = request.GET.get("q", "").strip()
    values = {name: source.get(name, "") for name in ("first_day", "last_day", "earliest", "latest", "note")}
    values["clinician"] = source.get("clinician", "")
    return {
        "types": types,
        "kind": kind,
        "clinicians": queries.offering_clinicians(clinic, kind) if kind else [],
        "patient": patient,
        "q": q,
        "matches": list(patient_queries.search_patients(clinic, q)[:20]) if q and patient is None else [],
        "values": values,
        "weekdays": source.getlist("weekdays"),
        "weekday_choices": list(enumerate(WEEKDAY_NAMES)),
        "today": queries.clinic_today(clinic),
        "errors": {},
    }


def _read(asked: dict[str, Any]) -> dict[str, Any]:
    """The typed values as the service takes them; problems go to asked["errors"], next to their fields."""
    errors, values = asked["errors"], asked["values"]
    if asked["patient"] is None:
        errors["patient"] = "Choose the patient."
    if asked["kind"] is None:
        errors["appointment_type"] = "Choose an appointment type this clinic offers."
    who = next((c for c in asked["clinicians"] if str(c.uuid) == values["clinician"]), None)
    if values["clinician"] and who is None:
        errors["clinician"] = "Choose a clinician who offers this type, or anyone."
    read: dict[str, Any] = {"clinician": who, "weekdays": asked["weekdays"], "note": values["note"]}
    for name, label in (("first_day", "first day"), ("last_day", "last day")):
        read[name] = patient_queries.parse_date(values[name])
        if read[name] is None:  # left empty, or not a date
            errors[name] = f"Give the {label} as YYYY-MM-DD." if values[name].strip() else f"Choose the {label}."
    read["earliest"] = _parse_time(values["earliest"], "earliest", errors)
    read["latest"] = _parse_time(values["latest"], "latest", errors)
    return read


@require(Permission.SCHEDULE_MANAGE)
def waitlist_add(request: ClinicRequest) -> HttpResponse:
    """Put a patient on the waitlist: the patient (from the booking page, the chart, or a search), the type, a
    clinician or anyone, the days, and optionally weekdays and a time of day. Refused input is shown next to its
    field, and nothing is written."""
    asked = _asked(request)
    audit_search(request, asked["q"] if asked["patient"] is None else "", asked["matches"], "booking.waitlist_add")
    if request.method != "POST":
        return render(request, "booking/waitlist_add.html", asked)
    read = _read(asked)
    errors = asked["errors"]
    if not errors:
        try:
            waitlist.join_waitlist(actor_for(request), patient=asked["patient"], appointment_type=asked["kind"], **read)
        except ValidationError as error:
            errors.update({("form" if k == "__all__" else k): " ".join(v) for k, v in error.message_dict.items()})
        except REFUSALS as error:
            errors["form"] = str(error)
        else:
            messages.success(request, f"{asked['patient'].full_name} is on the waitlist for {asked['kind'].name}.")
            return redirect("booking:waitlist")
    return render(request, "booking/waitlist_add.html", asked, status=400)


def _uuid(text: str) -> bool:
    try:
        uuid.UUID(text)
    except ValueError:
        return False
    return True


@require(Permission.SCHEDULE_MANAGE)
def waitlist_withdraw(request: ClinicRequest, entry_uuid: Any) -> HttpResponse:
    """Take an entry off the waitlist with a reason (an open offer is withdrawn and its held slot released)."""
    row = found(waitlist.entry, request.clinic, entry_uuid)
    error = ""
    status = 200
    if request.method == "POST":
        try:
            version = int(request.POST.get("version", ""))
        except ValueError:
            version = None
        try:
            waitlist.withdraw_entry(
                actor_for(request), row, reason=request.POST.get("reason", ""), expected_version=version
            )
        except ValidationError as refused:
            error = " ".join(m for v in refused.message_dict.values() for m in v)
        except REFUSALS as refused:
            error = str(refused)
        else:
            messages.success(request, "Taken off the waitlist. The entry stays on record with the reason.")
            return redirect("booking:waitlist")
        status = 400
    return render(request, "booking/waitlist_withdraw.html", {"row": row, "error": error}, status=status)


# --- The patient's offer page (no login) ----------------------------------------------------------------------------


def _page(request: HttpRequest, context: dict[str, Any], status: int = 200) -> HttpResponse:
    if context.get("offer") is not None:  # the offered time as the manage pages show one, with the clinic's phone
        context = {**patient_links.appointment_view(context["offer"].appointment), **context}
    return render_patient_page(request, "booking/waitlist_offer.html", context, status=status)


def _closed(request: HttpRequest, state: str, clinic: Any = None) -> HttpResponse:
    texts = {
        LinkState.USED: _("This offer has already been answered."),
        LinkState.EXPIRED: _(
            "This offer has run out, so the time was offered to the next person waiting. You are still on the "
            "waitlist unless you asked to leave it."
        ),
        LinkState.REVOKED: _("The clinic withdrew this offer. Contact the clinic if you have questions."),
    }
    message = texts.get(state, _("This link is not valid. Check the address in the message you received."))
    return _page(request, {"closed": message, "clinic": clinic}, status=410 if state in texts else 404)


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def offer_page(request: HttpRequest, token: str) -> HttpResponse:
    """The offered slot only (type, clinician, local time with its zone) and two answers: take it, or not; in the
    patient's language (docs/LANGUAGES.md)."""
    address = client_address(request) or "unknown"
    offer = waitlist.offer_by_token(token)
    if offer is not None:
        use_patient_language(request, offer.entry.person)
    state = waitlist.offer_state(offer) if offer is not None else "unknown"
    if state != LinkState.OPEN:
        wait = FAILED_LOOKUPS.retry_after(address)
        if wait is not None:
            response = _page(
                request, {"closed": _("Too many links that do not work were tried from here. Try again later.")}, 429
            )
            response["Retry-After"] = str(wait)
            return response
        FAILED_LOOKUPS.count(address)
        return _closed(request, state, offer.clinic if offer is not None else None)
    assert offer is not None
    if request.method == "POST":
        answer = request.POST.get("answer", "")
        try:
            if answer == "accept":
                waitlist.accept_offer(offer, client_address=client_address(request))
                return _page(request, {"clinic": offer.clinic, "offer": offer, "accepted": True})
            if answer in ("decline", "leave"):
                waitlist.decline_offer(offer, leave=answer == "leave", client_address=client_address(request))
                return _page(
                    request, {"clinic": offer.clinic, "offer": offer, "declined": True, "left": answer == "leave"}
                )
        except waitlist.OfferClosed as closed:
            return _closed(request, closed.state, offer.clinic)
        return _page(request, {"clinic": offer.clinic, "offer": offer, "error": _("Choose one of the answers.")}, 400)
    return _page(request, {"clinic": offer.clinic, "offer": offer})
