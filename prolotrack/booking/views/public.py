"""The public booking pages, /book/<clinic-slug>/ (docs/BOOKING.md, "Online booking"): no login, a phone first.

1. `start`: a type, a clinician or "first available", and a free time from the one-day slot picker (GET forms).
2. `details`: the chosen time, the person's details and a honeypot field; POST holds the slot and sends the code.
3. `code`: the code; the right one books; the answer says the booking is made and that the clinic will confirm it,
   and offers an assessment's pre-visit form and the manage link (on that answer only; the confirmation sent at once
   to the verified contact carries the same links: docs/BOOKING.md, "After the code").

The booking's reference lives in the person's session (never in the address), so every answer looks the same
whoever typed the details. A clinic that does not take online bookings, or an unknown address, answers a kind 404.
Every page is in the reader's language (`@patient_page`: the switch, else the browser's, else English;
docs/LANGUAGES.md); the code message follows it.
"""

import uuid
from datetime import date
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prolotrack.booking import online, queries
from prolotrack.booking.picker import day_picker, other_slots, parse_slot
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.services import client_address
from prolotrack.core.language import patient_page
from prolotrack.core.patient_pages import render_patient_page

# The honeypot: a field people do not see (hidden by CSS, out of the tab order, labelled "leave empty").
HONEYPOT = "website"
# Where the person's booking reference is kept in their session, per clinic.
SESSION_KEY = "online-booking:{slug}"
# The booked page's links, sealed (in the session) and the key that opens them (a cookie of the booking pages only).
LINKS_KEY = "online-booking-links:{slug}"
LINKS_COOKIE = "booked_links"
# A decoy reference (the honeypot's answer): it opens the same code page, which holds nothing.
DECOY = "decoy:"


_page = render_patient_page


class Closed(Exception):
    def __init__(self, clinic: Clinic | None) -> None:
        self.clinic = clinic


def _clinic(slug: str) -> Clinic:
    clinic = online.public_clinic(slug)
    if clinic is None or not online.takes_bookings(clinic):
        raise Closed(clinic)
    return clinic


def _closed(request: HttpRequest, clinic: Clinic | None) -> HttpResponse:
    return _page(request, "booking/public/closed.html", {"clinic": clinic}, status=404)


def _too_many(request: HttpRequest, clinic: Clinic, refused: online.TooManyAttempts) -> HttpResponse:
    response = _page(request, "booking/public/too_many.html", {"clinic": clinic}, status=429)
    response["Retry-After"] = str(refused.retry_after)
    return response


def _choice(request: HttpRequest, clinic: Clinic) -> dict[str, Any]:
    """The type and clinician asked for (unknown ones fall back to the first type and "first available")."""
    types = online.bookable(clinic)
    asked = request.GET if request.method == "GET" else request.POST
    kind = next((t for t in types if str(t.uuid) == asked.get("type")), types[0] if types else None)
    offering = queries.offering_clinicians(clinic, kind, online=True) if kind else []
    clinician = next((c for c in offering if str(c.uuid) == asked.get("clinician")), None)
    return {"clinic": clinic, "types": types, "kind": kind, "offering": offering, "clinician": clinician}


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text)
    except ValueError:
        return None


def _query(choice: dict[str, Any]) -> dict[str, str]:
    kind, clinician = choice["kind"], choice["clinician"]
    return {"type": str(kind.uuid) if kind else "", "clinician": str(clinician.uuid) if clinician else ""}


@patient_page
@never_cache
@require_http_methods(["GET"])
def start(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        choice = _choice(request, _clinic(slug))
    except Closed as closed:
        return _closed(request, closed.clinic)
    clinic, kind = choice["clinic"], choice["kind"]
    picker = None
    if kind is not None:
        with timezone.override(clinic.tz):
            picker = day_picker(
                clinic,
                kind,
                _day(request.GET.get("day", "")),
                path=request.path,
                query=_query(choice),
                clinician=choice["clinician"],
                online=True,
                show_who=choice["clinician"] is None and len(choice["offering"]) > 1,
            )
    details = reverse("booking:public-details", kwargs={"slug": slug})
    return _page(request, "booking/public/start.html", {**choice, "picker": picker, "details_url": details})


def _slot(request: HttpRequest, choice: dict[str, Any]) -> tuple[Any, Any] | None:
    source = request.POST if request.method == "POST" else request.GET
    return parse_slot(source.get("slot", ""), choice["offering"]) if choice["kind"] else None


def _details_context(request: HttpRequest, choice: dict[str, Any], chosen: Any) -> dict[str, Any]:
    return {
        **choice,
        "chosen": chosen,
        "slot_value": (request.POST if request.method == "POST" else request.GET).get("slot", ""),
        "data": request.POST if request.method == "POST" else {},
        "errors": {},
        "instead": [],
        "back_url": f"{reverse('booking:public-start', kwargs={'slug': choice['clinic'].slug})}?"
        + urlencode({k: v for k, v in _query(choice).items() if v}),
        "honeypot": HONEYPOT,
    }


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def details(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        choice = _choice(request, _clinic(slug))
    except Closed as closed:
        return _closed(request, closed.clinic)
    chosen = _slot(request, choice)
    context = _details_context(request, choice, chosen)
    if request.method == "GET":
        if chosen is None:
            return redirect(context["back_url"])
        return _page(request, "booking/public/details.html", context)
    return _hold(request, context)


def _hold(request: HttpRequest, context: dict[str, Any]) -> HttpResponse:
    """Validate, hold and send the code; or the same page with a message next to each field (nothing written)."""
    clinic, chosen = context["clinic"], context["chosen"]
    errors: dict[str, str] = {}
    try:
        booker = online.clean_booker(request.POST, online.queries.clinic_today(clinic), translation.get_language())
    except ValidationError as invalid:
        errors = {k: " ".join(v) for k, v in invalid.message_dict.items()}
    if chosen is None:
        errors["slot"] = translation.gettext("Please choose one of the free times.")
    if errors:
        return _page(request, "booking/public/details.html", {**context, "errors": errors}, status=400)
    if request.POST.get(HONEYPOT, "").strip():
        # Filled by a robot: the same answer as a booking, nothing held, nothing sent.
        request.session[SESSION_KEY.format(slug=clinic.slug)] = f"{DECOY}{uuid.uuid4()}"
        return redirect("booking:public-code", slug=clinic.slug)
    try:
        held = online.hold_online(
            clinic,
            appointment_type=context["kind"],
            clinician=chosen[1],
            starts_at=chosen[0],
            booker=booker,
            client_address=client_address(request),
        )
    except online.TooManyAttempts as refused:
        return _too_many(request, clinic, refused)
    except online.SlotTaken as taken:
        context.update(errors={"slot": str(taken)}, instead=other_slots(taken.next_slots, clinic.tz), chosen=None)
        return _page(request, "booking/public/details.html", context, status=409)
    except (online.OnlineBookingError, ValidationError) as refused:
        message = " ".join(getattr(refused, "messages", [str(refused)]))
        return _page(request, "booking/public/details.html", {**context, "errors": {"form": message}}, status=400)
    request.session[SESSION_KEY.format(slug=clinic.slug)] = str(held.pending.uuid)
    return redirect("booking:public-code", slug=clinic.slug)


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def code(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        clinic = _clinic(slug)
    except Closed as closed:
        return _closed(request, closed.clinic)
    ref = str(request.session.get(SESSION_KEY.format(slug=slug), ""))
    found = None if ref.startswith(DECOY) else online.pending_booking(clinic, ref) if ref else None
    if not ref:
        return redirect("booking:public-start", slug=slug)
    context: dict[str, Any] = {"clinic": clinic, "found": found, "state": "ask", "tries_left": online.CODE_TRIES}
    status = 200
    if found is not None and request.method == "GET":
        context["state"] = _state(found)
        context["welcome"] = _kept_links(request, slug, found) if context["state"] == "booked" else None
    elif request.method == "POST":
        context, status = _try_code(request, clinic, found, context)
        if context["state"] == "booked" and not context.get("just_booked"):
            return redirect("booking:public-code", slug=slug)
    if context["state"] in ("expired", "released") and found is not None:
        context["instead"] = _instead(clinic, found[1])
    response = _page(request, "booking/public/code.html", context, status=status)
    if context.get("just_booked") and context.get("welcome"):
        _keep_links(request, response, slug, context["found"][1], context["welcome"])
    return response


def _keep_links(request: HttpRequest, response: HttpResponse, slug: str, appointment: Any, shown: Any) -> None:
    """The booked page's links, for this browser only: the sealed box in its session, the key in a cookie that only
    the clinic's booking pages receive (docs/BOOKING.md, "After the code")."""
    box, key = online.seal_links(appointment, shown)
    request.session[LINKS_KEY.format(slug=slug)] = box
    response.set_cookie(
        LINKS_COOKIE,
        key,
        max_age=online.KEPT_LINKS_SECONDS,
        path=reverse("booking:public-start", kwargs={"slug": slug}),
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Strict",
    )


def _kept_links(request: HttpRequest, slug: str, found: tuple[Any, Any]) -> Any:
    box = str(request.session.get(LINKS_KEY.format(slug=slug), ""))
    return online.open_links(box, request.COOKIES.get(LINKS_COOKIE, ""), found[1])


def _state(found: tuple[Any, Any]) -> str:
    pending, appointment = found
    if pending.status == "pending" and appointment.status == "booked":
        return "booked"
    held = appointment.status == "held" and appointment.hold_expires_at and appointment.hold_expires_at > timezone.now()
    return "ask" if pending.status == "unverified" and held else "expired"


def _try_code(
    request: HttpRequest, clinic: Clinic, found: tuple[Any, Any] | None, context: dict[str, Any]
) -> tuple[dict[str, Any], int]:
    if found is None:  # a decoy or a reference gone: as an expired hold
        return {**context, "state": "expired"}, 410
    try:
        result = online.verify_code(clinic, found[0], request.POST.get("code", ""), client_address(request))
    except online.TooManyAttempts:
        return {**context, "state": "too_many"}, 429
    found = (found[0], result.appointment or found[1])
    if result.just_booked:
        # The links of the intake and of the booking are shown on this answer only (no copy kept, no redirect):
        # the confirmation sent now carries the same ones.
        context.update(just_booked=True, welcome=online.welcome(found[1], translation.get_language()))
    statuses = {"booked": 200, "wrong": 400, "released": 410, "expired": 410}
    return {**context, "found": found, "state": result.outcome, "tries_left": result.tries_left}, statuses[
        result.outcome
    ]


def _instead(clinic: Clinic, appointment: Any) -> list[Any]:
    """The next free times of the same type (and clinician, else anyone's), as links to the details step."""
    slots = online.next_online_slots(clinic, appointment.appointment_type, appointment.clinician, timezone.now())
    page = reverse("booking:public-details", kwargs={"slug": clinic.slug})
    kind = str(appointment.appointment_type.uuid)
    return [(s, f"{page}?{urlencode({'type': kind, 'slot': s.value})}") for s in other_slots(slots, clinic.tz)]
