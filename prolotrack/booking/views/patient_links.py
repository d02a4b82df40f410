"""The patient's pages by link, with no login (docs/BOOKING.md, "Manage links" and "Follow-up links"):
/my-appointment/<token>/ (see, cancel, move one appointment) and /follow-up/<token>/ (book the follow-up staff sent).

Like the questionnaire links' pages: an unknown token answers 404 and a closed one 410, both showing nothing of the
patient; unknown and closed tokens are counted per client address (core.links.RateLimit) and answered 429 above the
limit, while an open link always opens. Every answer is no-store, noindex, same-origin referrer.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prolotrack.booking import course_links, queries
from prolotrack.booking import patient_links as manage
from prolotrack.booking.views.common import REFUSALS
from prolotrack.clinics.services import client_address
from prolotrack.core.language import patient_page, use_patient_language
from prolotrack.core.links import LinkState
from prolotrack.core.patient_pages import render_patient_page

_render = render_patient_page


def _closed(request: HttpRequest, state: str) -> HttpResponse:
    titles = {
        LinkState.EXPIRED: _("This link has expired"),
        LinkState.USED: _("This link has already been used"),
        LinkState.REVOKED: _("This link no longer works"),
    }
    messages = {
        LinkState.EXPIRED: _("The appointment it was for has passed. For anything else, please contact the clinic."),
        LinkState.USED: _("It has done its job: the booking was made. The clinic's messages have the details."),
        LinkState.REVOKED: _(
            "The appointment was cancelled or the clinic sent a newer link. Use the link in the clinic's latest "
            "message, or contact the clinic."
        ),
    }
    context = {
        "title": titles.get(state, _("Link not found")),
        "message": messages.get(state, _("This link is not valid. Check that the whole address was copied.")),
    }
    return _render(request, "booking/manage/closed.html", context, status=410 if state in titles else 404)


def _opened(
    request: HttpRequest, lookup: Callable[[str], Any], token: str, state: Callable[[Any], str] | None = None
) -> tuple[Any, HttpResponse | None]:
    """The open link for the token, or the page to answer instead (not found, closed, too many attempts). `state`:
    how the link's state is read (its own `state()` unless given)."""
    link = lookup(token)
    read = state or (lambda found: found.state())
    if link is not None and read(link) == LinkState.OPEN:
        # A follow-up link's patient; a manage link's appointment's patient, or the online booker still pending.
        person = (
            link.patient if hasattr(link, "patient") else link.appointment.patient or link.appointment.pending_patient
        )
        use_patient_language(request, person)
        return link, None
    address = client_address(request) or "unknown"
    wait = manage.FAILED_LOOKUPS.retry_after(address)
    if wait is not None:
        minutes = max(wait // 60, 1)
        text = ngettext(
            "Too many links that do not work were tried from here. Try again in %(count)d minute; a link the clinic "
            "sent you still works.",
            "Too many links that do not work were tried from here. Try again in %(count)d minutes; a link the "
            "clinic sent you still works.",
            minutes,
        ) % {"count": minutes}
        response = _render(
            request, "booking/manage/closed.html", {"title": _("Too many attempts"), "message": text}, 429
        )
        response["Retry-After"] = str(wait)
        return None, response
    manage.FAILED_LOOKUPS.count(address)
    return None, _closed(request, "unknown" if link is None else read(link))


def _asked(request: HttpRequest) -> bool:
    """Whether the patient asked for a day (the picker's day links); if not, the picker may open on the first free."""
    return bool(request.GET.get("day"))


def _day(request: HttpRequest, default: date) -> date:
    """The day asked for (?day=YYYY-MM-DD; the picker keeps it within today..the horizon), else `default`."""
    try:
        return date.fromisoformat(request.GET.get("day", ""))
    except ValueError:
        return default


def _slot_start(text: str) -> datetime | None:
    try:
        start = datetime.fromisoformat((text or "").partition("|")[0])
    except ValueError:
        return None
    return start if timezone.is_aware(start) else None


@dataclass(frozen=True)
class _Booking:
    """How the pages of a link that holds a booking read and change it: an appointment's manage link, or a used course
    link (its session). The page, its cancel and its move page have one shape for both."""

    lookup: Callable[[str], Any]
    state: Callable[[Any], str] | None  # how the link's state is read (its own `state()` when None)
    view: Callable[[Any], dict[str, Any]]
    cancel: Callable[..., Any]
    move: Callable[..., Any]
    picker: Callable[[HttpRequest, Any, dict[str, Any]], Any]  # the move page's day picker, None when it cannot move
    path: Callable[[str], str]  # the link's page
    templates: tuple[str, str, str, str]  # the page, the cancel form, the cancelled page, the move form
    on_open: Callable[[Any, str | None], Any] | None = None  # noted when the page opens


def _appointment_picker(request: HttpRequest, link: Any, view: dict[str, Any]) -> Any:
    visit = link.appointment
    day = _day(request, max(queries.clinic_today(link.clinic), view["starts"].date()))
    return manage.day_picker(
        link.clinic, day, lambda d: manage.move_slots(link, d), path=request.path,
        appointment_type=visit.appointment_type, clinician=visit.clinician, leave_out=visit.starts_at,
        asked=_asked(request),
    ) if view["may_change"] else None  # fmt: skip


def _session_picker(request: HttpRequest, link: Any, view: dict[str, Any]) -> Any:
    window = course_links.move_window(link)
    return manage.day_picker(
        link.clinic, _day(request, window.first or view["starts"].date()), lambda d: course_links.move_slots(link, d),
        path=request.path, appointment_type=view["kind"], clinician=link.session.clinician,
        leave_out=link.session.starts_at, first=window.first, asked=_asked(request),
    ) if view["may_change"] and window.first and view["kind"] else None  # fmt: skip


APPOINTMENT = _Booking(
    manage.manage_link, None, manage.link_view, manage.cancel_by_patient, manage.move_by_patient, _appointment_picker,
    manage.manage_path,
    (
        "booking/manage/appointment.html", "booking/manage/cancel.html", "booking/manage/cancelled.html",
        "booking/manage/move.html",
    ),
    on_open=manage.open_manage_link,
)  # fmt: skip
COURSE_SESSION = _Booking(
    course_links.course_link, course_links.manage_state, course_links.manage_view, course_links.cancel_from_course_link,
    course_links.move_from_course_link, _session_picker, course_links.course_link_path,
    (
        "booking/manage/course_session.html", "booking/manage/course_cancel.html",
        "booking/manage/course_cancelled.html", "booking/manage/course_move.html",
    ),
)  # fmt: skip


def _booking_page(request: HttpRequest, token: str, kind: _Booking) -> HttpResponse:
    """The booking the link holds, with its move and cancel buttons while the window allows."""
    link, refused = _opened(request, kind.lookup, token, kind.state)
    if refused:
        return refused
    if kind.on_open is not None:
        kind.on_open(link, client_address(request))
    context = {**kind.view(link), "token": token, "moved": request.GET.get("done") == "moved"}
    return _render(request, kind.templates[0], context)


def _cancel_page(request: HttpRequest, token: str, kind: _Booking) -> HttpResponse:
    """Cancel the booking with the patient's reason, within the clinic's cancellation window."""
    link, refused = _opened(request, kind.lookup, token, kind.state)
    if refused:
        return refused
    errors: dict[str, list[str]] = {}
    if request.method == "POST":
        try:
            kind.cancel(
                link, reason=request.POST.get("reason"), details=request.POST.get("details", ""),
                client_address=client_address(request),
            )  # fmt: skip
        except manage.LinkClosed as closed:
            return _closed(request, closed.state)
        except REFUSALS as refused_input:
            errors = getattr(refused_input, "message_dict", None) or {"": [str(refused_input)]}
        else:
            return _render(request, kind.templates[2], {**kind.view(link), "token": token})
    context = {
        **kind.view(link), "token": token, "reasons": manage.PATIENT_CANCEL_REASONS, "errors": errors,
        "chosen": request.POST.get("reason", ""), "details": request.POST.get("details", ""),
    }  # fmt: skip
    return _render(request, kind.templates[1], context, status=400 if errors else 200)


def _move_page(request: HttpRequest, token: str, kind: _Booking) -> HttpResponse:
    """Move the booking to another free time, within the clinic's cancellation window."""
    link, refused = _opened(request, kind.lookup, token, kind.state)
    if refused:
        return refused
    error = ""
    if request.method == "POST":
        try:
            kind.move(link, starts_at=_slot_start(request.POST.get("slot", "")), client_address=client_address(request))
        except manage.LinkClosed as closed:
            return _closed(request, closed.state)
        except REFUSALS as refused_input:
            error = " ".join(getattr(refused_input, "messages", [str(refused_input)]))
        else:
            return redirect(f"{kind.path(token)}?done=moved")
    view = kind.view(link)
    context = {**view, "picker": kind.picker(request, link, view), "token": token, "error": error}
    return _render(request, kind.templates[3], context, status=409 if error else 200)


@never_cache
@patient_page
def appointment_page(request: HttpRequest, token: str) -> HttpResponse:
    return _booking_page(request, token, APPOINTMENT)


@never_cache
@patient_page
@require_http_methods(["GET", "POST"])
def cancel_page(request: HttpRequest, token: str) -> HttpResponse:
    return _cancel_page(request, token, APPOINTMENT)


@never_cache
@patient_page
@require_http_methods(["GET", "POST"])
def move_page(request: HttpRequest, token: str) -> HttpResponse:
    return _move_page(request, token, APPOINTMENT)


def _book_posted(
    request: HttpRequest, link: Any, book: Callable[..., Any], allowed: Sequence[Any]
) -> tuple[Any, HttpResponse | None, str]:
    """Book the posted slot ("start|clinician uuid") through a single-use link's `book`: (what it booked, or the closed
    link's page to answer instead, or the refusal's words for the page)."""
    text = request.POST.get("slot", "")
    who = next((c for c in allowed if text.endswith(f"|{c.uuid}")), None)
    try:
        made = book(link, starts_at=_slot_start(text), clinician=who, client_address=client_address(request))
    except manage.LinkClosed as closed:
        return None, _closed(request, closed.state), ""
    except REFUSALS as refused_input:
        return None, None, " ".join(getattr(refused_input, "messages", [str(refused_input)]))
    return made, None, ""


@never_cache
@patient_page
@require_http_methods(["GET", "POST"])
def follow_up_page(request: HttpRequest, token: str) -> HttpResponse:
    link, refused = _opened(request, manage.follow_up_link, token)
    if refused:
        return refused
    error = ""
    clinicians = manage.follow_up_clinicians(link)
    if request.method == "POST":
        made, closed, error = _book_posted(request, link, manage.book_from_follow_up, clinicians)
        if closed is not None:
            return closed
        if made is not None:
            return _render(
                request, "booking/manage/booked.html", {**manage.appointment_view(made), "clinic": link.clinic}
            )
    picker = manage.day_picker(
        link.clinic, _day(request, queries.clinic_today(link.clinic)), lambda d: manage.follow_up_slots(link, d),
        path=request.path, appointment_type=link.appointment_type, clinician=link.clinician, asked=_asked(request),
    )  # fmt: skip
    context = {"picker": picker, "link": link, "clinic": link.clinic, "token": token, "error": error}
    return _render(request, "booking/manage/follow_up.html", context, status=409 if error else 200)


@never_cache
@patient_page
@require_http_methods(["GET", "POST"])
def course_page(request: HttpRequest, token: str) -> HttpResponse:
    """Book the course's next session (docs/BOOKING.md, "Course links"); says so plainly when it books nothing. Once
    used, the link opens as the booked session's page."""
    used = course_links.course_link(token)
    if request.method == "GET" and used is not None and used.used_at is not None:
        return course_session_page(request, token)
    link, refused = _opened(request, course_links.course_link, token)
    if refused:
        return refused
    error = ""
    view = course_links.link_view(link)
    if request.method == "POST":
        booked, closed, error = _book_posted(request, link, course_links.book_from_course_link, view.allowed)
        if closed is not None:
            return closed
        if booked is not None:
            return _render(request, "booking/manage/course_booked.html", course_links.booked_view(link, booked))
        view = course_links.link_view(link)  # the course as it is now (booked by staff, closed meanwhile)
    picker = None if view.blocked or view.first is None or view.kind is None else manage.day_picker(
        link.clinic, _day(request, view.first), lambda d: course_links.slots(link, view, d), path=request.path,
        appointment_type=view.kind, clinician=view.allowed[0] if len(view.allowed) == 1 else None, first=view.first,
        asked=_asked(request),
    )  # fmt: skip
    context = {"view": view, "picker": picker, "clinic": link.clinic, "error": error}
    return _render(request, "booking/manage/course.html", context, status=409 if error else 200)


def course_session_page(request: HttpRequest, token: str) -> HttpResponse:
    """A used course link: the session it booked, and "Cancel this session" while the window allows."""
    return _booking_page(request, token, COURSE_SESSION)


@never_cache
@patient_page
@require_http_methods(["GET", "POST"])
def course_cancel_page(request: HttpRequest, token: str) -> HttpResponse:
    """Cancel the session a course link booked, with a reason, within the clinic's cancellation window."""
    return _cancel_page(request, token, COURSE_SESSION)


@never_cache
@patient_page
@require_http_methods(["GET", "POST"])
def course_move_page(request: HttpRequest, token: str) -> HttpResponse:
    """Move the session a course link booked to another free time in the plan's window, within the clinic's window."""
    return _move_page(request, token, COURSE_SESSION)
