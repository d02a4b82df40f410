"""Joining the waitlist by oneself (docs/BOOKING.md, "Joining the waitlist by oneself"), no login:

- `/book/<slug>/waitlist/` and `.../waitlist/code/`: from the public booking page when no shown time suits; the same
  details, honeypot, one-time code and rate limits as a booking (booking/online.py), the reference in the person's
  session, the same answers whoever types the details;
- `/my-appointment/<token>/waitlist/` (an earlier time than that appointment) and `/follow-up/<token>/waitlist/`:
  from a patient's link, which is the proof of who they are (no code);
- `/waitlist/<token>/`: the person's own link to their entry, to see it and leave the waitlist.

Every page is in the reader's language (`@patient_page`; a link's page in its patient's preferred language).
"""

import uuid
from datetime import date, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.dates import WEEKDAYS
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prolotrack.booking import online, queries, waitlist_join
from prolotrack.booking import patient_links as manage
from prolotrack.booking.views import public
from prolotrack.booking.views.common import REFUSALS
from prolotrack.booking.views.patient_links import _closed as closed_link
from prolotrack.booking.views.patient_links import _opened
from prolotrack.clinics.models import Clinic
from prolotrack.clinics.services import client_address
from prolotrack.core.language import patient_page, use_patient_language
from prolotrack.core.links import LinkState, RateLimit
from prolotrack.core.patient_pages import render_patient_page

SESSION_KEY = "online-waitlist:{slug}"
# Unknown or closed waitlist links tried per client address per window before answering 429 (as the other links).
FAILED_LOOKUPS = RateLimit("waitlist-link-fail", 20, 600)
# The window offered by default: from today, four weeks (the horizon of online booking at most).
DEFAULT_DAYS = 28

_page = render_patient_page


def _weekday_choices() -> list[tuple[int, Any]]:
    return list(WEEKDAYS.items())


def _errors(invalid: ValidationError) -> dict[str, str]:
    return {("form" if k == "__all__" else k): " ".join(v) for k, v in invalid.message_dict.items()}


def _window_context(request: HttpRequest, clinic: Clinic, last: date | None = None) -> dict[str, Any]:
    """The window's fields, typed values kept (defaults: today to four weeks ahead, within the online horizon)."""
    today = queries.clinic_today(clinic)
    horizon = today + timedelta(days=queries.online_rules(clinic).max_days_ahead)
    default_last = last or min(today + timedelta(days=DEFAULT_DAYS), horizon)
    typed = request.POST if request.method == "POST" else {}
    return {
        "first_day": typed.get("first_day", today.isoformat()),
        "last_day": typed.get("last_day", default_last.isoformat()),
        "earliest": typed.get("earliest", ""),
        "latest": typed.get("latest", ""),
        "weekdays_chosen": request.POST.getlist("weekdays") if request.method == "POST" else [],
        "weekday_choices": _weekday_choices(),
        "today": today,
        "last_allowed": last,
    }


# --- From the public booking page ---------------------------------------------------------------------------------


def _choice(request: HttpRequest, clinic: Clinic) -> dict[str, Any]:
    """The type and clinician asked for; an unknown clinician is an error on a post (not a silent "anyone")."""
    choice = public._choice(request, clinic)
    asked = (request.POST if request.method == "POST" else request.GET).get("clinician", "")
    choice["clinician_unknown"] = bool(asked) and choice["clinician"] is None
    return choice


def _join_context(request: HttpRequest, clinic: Clinic) -> dict[str, Any]:
    return {
        **_choice(request, clinic),
        **_window_context(request, clinic),
        "data": request.POST if request.method == "POST" else {},
        "errors": {},
        "honeypot": public.HONEYPOT,
        "back_url": reverse("booking:public-start", kwargs={"slug": clinic.slug}),
    }


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, slug: str) -> HttpResponse:
    """The form: what (type, clinician or anyone), when (days, weekdays, a time of day) and who (the booking's
    details); a valid post writes an unverified entry and sends the code, a refused one writes nothing."""
    try:
        clinic = public._clinic(slug)
    except public.Closed as closed:
        return public._closed(request, closed.clinic)
    context = _join_context(request, clinic)
    if request.method == "GET":
        return _page(request, "booking/waitlist_join/join.html", context)
    errors = _join_errors(request, clinic, context)
    if errors:
        return _page(request, "booking/waitlist_join/join.html", {**context, "errors": errors}, status=400)
    if request.POST.get(public.HONEYPOT, "").strip():
        # Filled by a robot: the same answer as a join, nothing written, nothing sent.
        request.session[SESSION_KEY.format(slug=slug)] = f"{public.DECOY}{uuid.uuid4()}"
        return redirect("booking:public-waitlist-code", slug=slug)
    try:
        pending = waitlist_join.request_join(
            clinic, appointment_type=context["kind"], clinician=context["clinician"], window=context["window"],
            booker=context["booker"], client_address=client_address(request),
        )  # fmt: skip
    except online.TooManyAttempts as refused:
        return public._too_many(request, clinic, refused)
    except (online.OnlineBookingError, ValidationError) as refused:
        message = " ".join(getattr(refused, "messages", [str(refused)]))
        return _page(request, "booking/waitlist_join/join.html", {**context, "errors": {"form": message}}, 400)
    request.session[SESSION_KEY.format(slug=slug)] = str(pending.uuid)
    return redirect("booking:public-waitlist-code", slug=slug)


def _join_errors(request: HttpRequest, clinic: Clinic, context: dict[str, Any]) -> dict[str, str]:
    """Every field checked at once; the cleaned values go into the context (booker, window)."""
    errors: dict[str, str] = {}
    try:
        context["booker"] = online.clean_booker(request.POST, queries.clinic_today(clinic), translation.get_language())
    except ValidationError as invalid:
        errors.update(_errors(invalid))
    try:
        context["window"] = waitlist_join.clean_window(clinic, request.POST, request.POST.getlist("weekdays"))
    except ValidationError as invalid:
        errors.update(_errors(invalid))
    if context["kind"] is None or str(context["kind"].uuid) != request.POST.get("type", ""):
        errors["type"] = translation.gettext("Please choose a type of appointment from the list.")
    if context["clinician_unknown"]:
        errors["clinician"] = translation.gettext("Please choose a clinician from the list, or anyone.")
    return errors


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def join_code(request: HttpRequest, slug: str) -> HttpResponse:
    """The code page: the right code puts the person in line and shows (and sends) their own link."""
    try:
        clinic = public._clinic(slug)
    except public.Closed as closed:
        return public._closed(request, closed.clinic)
    ref = str(request.session.get(SESSION_KEY.format(slug=slug), ""))
    if not ref:
        return redirect("booking:public-waitlist", slug=slug)
    found = None if ref.startswith(public.DECOY) else waitlist_join.joined_entry(clinic, ref)
    context: dict[str, Any] = {"clinic": clinic, "state": "ask", "tries_left": online.CODE_TRIES, "entry": None}
    status = 200
    if request.method == "POST":
        context, status = _try_code(request, clinic, found, context)
    elif found is not None and found[1].status != "unverified":
        context.update(state="joined" if found[1].status in ("active", "offered") else "expired", entry=found[1])
    return _page(request, "booking/waitlist_join/code.html", context, status=status)


def _try_code(request: HttpRequest, clinic: Clinic, found: Any, context: dict[str, Any]) -> tuple[dict[str, Any], int]:
    if found is None:  # a decoy or a reference gone: as an expired code
        return {**context, "state": "expired"}, 410
    try:
        result = waitlist_join.verify_join(clinic, found[0], request.POST.get("code", ""), client_address(request))
    except online.TooManyAttempts:
        return {**context, "state": "too_many"}, 429
    statuses = {"joined": 200, "wrong": 400, "released": 410, "expired": 410}
    link = waitlist_join.entry_path(result.token) if result.token else ""
    context = {**context, "state": result.outcome, "tries_left": result.tries_left, "entry": result.entry}
    days = [WEEKDAYS[d] for d in result.entry.weekday_numbers] if result.entry is not None else []
    return {**context, "entry_url": link, "weekday_names": days}, statuses[result.outcome]


# --- From a patient's link ----------------------------------------------------------------------------------------


def _link_form(request: HttpRequest, link: Any, errors: dict[str, str], **extra: Any) -> HttpResponse:
    context = {**extra, "clinic": link.clinic, "errors": errors, **_window_context(request, link.clinic, extra["last"])}
    return _page(request, "booking/waitlist_join/from_link.html", context, status=400 if errors else 200)


def _joined(token: str) -> HttpResponse:
    return redirect(f"{waitlist_join.entry_path(token)}?joined=1")


def _join_by_link(request: HttpRequest, join: Any, link: Any) -> tuple[str, dict[str, str]]:
    """Post the form through `join` (a service): (the new entry link's token, or "" with the errors)."""
    try:
        _entry, token = join(
            link, request.POST, request.POST.getlist("weekdays"), client_address=client_address(request)
        )
    except ValidationError as invalid:
        return "", _errors(invalid)
    except REFUSALS as refused:
        return "", {"form": str(refused)}
    return token, {}


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def earlier(request: HttpRequest, token: str) -> HttpResponse:
    """From a manage link: wait for an earlier time than this appointment (same type and clinician)."""
    link, refused = _opened(request, manage.manage_link, token)
    if refused:
        return refused
    view = manage.link_view(link)
    errors: dict[str, str] = {}
    if request.method == "POST" and view["may_change"]:
        try:
            made, errors = _join_by_link(request, waitlist_join.join_from_manage_link, link)
        except manage.LinkClosed as closed:
            return closed_link(request, closed.state)
        if made:
            return _joined(made)
    back = reverse("booking:manage", kwargs={"token": token})
    last = waitlist_join.earlier_window_end(link)
    return _link_form(request, link, errors, **view, earlier=True, last=last, back_url=back)


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def follow_up_wait(request: HttpRequest, token: str) -> HttpResponse:
    """From a follow-up link: no free time suits, so wait for one of the link's type (its clinician, or anyone)."""
    link, refused = _opened(request, manage.follow_up_link, token)
    if refused:
        return refused
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            made, errors = _join_by_link(request, waitlist_join.join_from_follow_up_link, link)
        except manage.LinkClosed as closed:
            return closed_link(request, closed.state)
        if made:
            return _joined(made)
    back = reverse("booking:follow-up", kwargs={"token": token})
    names = {
        "type_name": link.appointment_type.patient_name(),
        "clinician": str(link.clinician) if link.clinician else "",
    }
    return _link_form(request, link, errors, **names, may_change=True, earlier=False, last=None, back_url=back)


# --- The person's own link ----------------------------------------------------------------------------------------


def _unknown(request: HttpRequest, link: Any) -> HttpResponse:
    address = client_address(request) or "unknown"
    wait = FAILED_LOOKUPS.retry_after(address)
    if wait is not None:
        text = translation.gettext("Too many links that do not work were tried from here. Try again later.")
        response = _page(request, "booking/waitlist_join/entry.html", {"closed": text}, status=429)
        response["Retry-After"] = str(wait)
        return response
    FAILED_LOOKUPS.count(address)
    if link is None:
        text = translation.gettext("This link is not valid. Check the address in the message you received.")
        return _page(request, "booking/waitlist_join/entry.html", {"closed": text}, status=404)
    text = translation.gettext("This link has expired: the days you were waiting for have passed.")
    return _page(request, "booking/waitlist_join/entry.html", {"closed": text, "clinic": link.clinic}, status=410)


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def entry_page(request: HttpRequest, token: str) -> HttpResponse:
    """What the person waits for (type, with whom, the window, waiting or not) and "Leave the waitlist"."""
    link = waitlist_join.entry_link(token)
    if link is None or waitlist_join.entry_link_state(link) != LinkState.OPEN:
        return _unknown(request, link)
    use_patient_language(request, link.entry.person)
    entry = link.entry
    if request.method == "POST":
        if request.POST.get("answer") != "leave":
            context = {"clinic": link.clinic, "entry": entry, "error": translation.gettext("Choose an answer.")}
            return _page(request, "booking/waitlist_join/entry.html", context, status=400)
        entry = waitlist_join.leave(link, client_address=client_address(request))
    context = {
        "clinic": link.clinic,
        "entry": entry,
        "waiting": entry.status in ("active", "offered"),
        "offered": entry.status == "offered",
        "joined": request.GET.get("joined") == "1",
        "weekday_names": [WEEKDAYS[d] for d in entry.weekday_numbers],
    }
    return _page(request, "booking/waitlist_join/entry.html", context)
