"""The patient's questionnaire pages by link (/q/<token>/), with no login.

Patient pages use their own base template with no navigation into the app. A closed link (expired, used,
cancelled) says so with status 410 and shows nothing of the patient; an unknown token answers 404 the same way.
Failed lookups are counted per client address and answered 429 above a limit.

Every page is in the patient's language (core/language.py, docs/LANGUAGES.md): the switch's choice, else the
link's patient's preferred language, else the browser's, else English.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prolotrack.clinics.services import client_address
from prolotrack.core.language import patient_page, use_patient_language
from prolotrack.core.links import RateLimit
from prolotrack.core.patient_pages import render_patient_page
from prolotrack.domain import instrument_translations
from prolotrack.domain import instruments as domain
from prolotrack.outcomes import present, queries, services
from prolotrack.outcomes.models import (
    LinkDelivery,
    QuestionnaireLink,
)

# Failed token lookups allowed per client address per window before answering 429 (product default).
FAILED_LOOKUPS_ALLOWED = 20
FAILED_LOOKUP_WINDOW_SECONDS = 600
FAILED_LOOKUPS = RateLimit("qlink-fail", FAILED_LOOKUPS_ALLOWED, FAILED_LOOKUP_WINDOW_SECONDS)


# --- patient pages (no login) ---------------------------------------------------------------------------------------


def _retry_after(request: HttpRequest) -> int | None:
    """Seconds until this address may try unknown or closed links again, or None if it is not limited.

    The count lives in Django's cache (the database cache table by default, docs/OPERATIONS.md), so it survives a
    restart and is shared by every server process."""
    return FAILED_LOOKUPS.retry_after(client_address(request) or "unknown")


def _count_failure(request: HttpRequest) -> None:
    FAILED_LOOKUPS.count(client_address(request) or "unknown")


_q_render = render_patient_page


def _closed_words(state: str) -> tuple[str, str] | None:
    """The title and message of a closed link's page in the page's language (services.LINK_CLOSED_MESSAGES is the
    English the service raises with), or None for a token that opens nothing."""
    cancelled = (
        _("This link was cancelled"),
        _("This questionnaire link was cancelled by the clinic. Ask the clinic for a new one."),
    )
    return {
        queries.LinkState.EXPIRED: (
            _("This link has expired"),
            _("This questionnaire link has expired. Ask the clinic for a new one."),
        ),
        queries.LinkState.USED: (
            _("This link has already been used"),
            _("This questionnaire link has already been used. Thank you: your answers were received."),
        ),
        queries.LinkState.REVOKED: cancelled,
        queries.LinkState.WITHDRAWN: cancelled,
    }.get(state)


def _closed(request: HttpRequest, state: str, clinic: Any = None) -> HttpResponse:
    if clinic is not None:
        services.log_link_refused(clinic, state, client_address(request))
    words = _closed_words(state)
    title, message = words or (_("Link not found"), _("This questionnaire link is not valid. Check the address."))
    return _q_render(
        request,
        "outcomes/q_closed.html",
        {"title": title, "message": message, "state": state},
        status=410 if words else 404,
    )


def _link(request: HttpRequest, token: str) -> tuple[QuestionnaireLink | None, HttpResponse | None]:
    """The open link for the token, or the page to answer instead (not found, closed, too many attempts).

    A valid open link always opens: the limit counts and stops only unknown or closed tokens, so a patient sharing
    an address (a clinic's or a carrier's network) with someone guessing still answers their own questionnaire."""
    link = queries.link_by_token(token)
    if link is not None:
        use_patient_language(request, link.patient)
    if link is not None and queries.link_state(link) == queries.LinkState.OPEN:
        return link, None
    wait = _retry_after(request)
    if wait is not None:
        minutes = max(wait // 60, 1)
        response = _q_render(
            request,
            "outcomes/q_closed.html",
            {
                "title": _("Too many attempts"),
                "message": ngettext(
                    "Too many links that do not work were tried from here. Try again in %(minutes)d minute; a "
                    "link the clinic sent you still works.",
                    "Too many links that do not work were tried from here. Try again in %(minutes)d minutes; a "
                    "link the clinic sent you still works.",
                    minutes,
                )
                % {"minutes": minutes},
            },
            status=429,
        )
        response["Retry-After"] = str(wait)
        return None, response
    if link is None:
        _count_failure(request)
        return None, _closed(request, "unknown")
    state = queries.link_state(link)
    if state != queries.LinkState.OPEN:
        _count_failure(request)  # each refusal is audited: repeated hits on a closed link count as failures too
        return None, _closed(request, state, link.clinic)
    return link, None


def _texts(link: QuestionnaireLink) -> dict[str, Any]:
    return {code: row.texts for code, row in queries.clinic_texts(link.clinic).items()}


def _steps(link: QuestionnaireLink) -> list[dict[str, Any]]:
    saved = queries.link_responses(link)
    page_language = translation.get_language() or "en"
    out = []
    for index, code in enumerate(link.instruments, start=1):
        found, texts_language = instrument_translations.localized(code, page_language)
        response = saved.get(code)
        scored = domain.score(code, response.answers) if response else None
        out.append(
            {
                "index": index,
                "code": code,
                "title": found.title,
                "lang": texts_language if texts_language != page_language and not found.licensed else "",
                "started": response is not None,
                "complete": bool(scored and scored.complete),
                "unanswered": len(scored.missing) if scored else len([i for i in found.items if i.required]),
            }
        )
    return out


def _steps_with_answers(link: QuestionnaireLink) -> list[dict[str, Any]]:
    """The steps with each question and the patient's answer in words, for the review before sending."""
    saved = queries.link_responses(link)
    texts = _texts(link)
    steps = _steps(link)
    for step in steps:
        response = saved.get(step["code"])
        form = present.build(step["code"], response.answers if response else {}, texts=texts.get(step["code"]))
        step["answers"] = present.answers(form)
    return steps


@patient_page
@never_cache
def answer_start(request: HttpRequest, token: str) -> HttpResponse:
    link, refused = _link(request, token)
    if refused:
        return refused
    assert link is not None
    try:
        services.open_link(link, client_address(request))
    except services.LinkClosedError as error:
        return _closed(request, error.state, link.clinic)
    steps = _steps(link)
    first_open = next((s["index"] for s in steps if not s["complete"]), len(steps))
    return _q_render(
        request,
        "outcomes/q_start.html",
        {
            "link": link,
            "token": token,
            "clinic": link.clinic,
            "steps": steps,
            "next_step": first_open,
            "started": any(s["started"] for s in steps),
            "tablet": link.delivery == LinkDelivery.TABLET,
            "english_only": _licensed_note(link),
        },
    )


def _licensed_note(link: QuestionnaireLink) -> str:
    """On a page not in English, when the link asks a licensed instrument: the note that it may stay in English."""
    if (translation.get_language() or "en").startswith("en"):
        return ""
    if not any(domain.definition(code).licensed for code in link.instruments):
        return ""
    return present.licensed_note()


def _after_saving(request: HttpRequest, link: QuestionnaireLink, token: str, step: int) -> HttpResponse:
    """Where the patient goes once a page is saved: back, later (saved for now), the next page or the review."""
    action = request.POST.get("action", "next")
    base = reverse("outcomes:answer-start", args=[token])
    if action == "back" and step > 1:
        return redirect(f"{base}{step - 1}/")
    if action == "later":
        return _q_render(request, "outcomes/q_saved.html", {"clinic": link.clinic, "token": token, "link": link})
    if action == "next" and step < len(link.instruments):
        return redirect(f"{base}{step + 1}/")
    return redirect(reverse("outcomes:answer-review", args=[token]))


def _save_page(request: HttpRequest, link: QuestionnaireLink, code: str) -> tuple[dict[str, str], str | None]:
    """Save the page's answers: (the errors to show, the closed state if the link closed meanwhile)."""
    answers, errors = present.parse(code, request.POST)
    if errors:
        return errors, None
    try:
        if answers or code in queries.link_responses(link):
            services.save_link_answers(link, code, answers, client_address(request))
    except services.LinkClosedError as error:
        return {}, error.state
    except ValidationError as error:
        return {"": " ".join(error.messages)}, None
    return {}, None


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def answer_page(request: HttpRequest, token: str, step: int) -> HttpResponse:
    link, refused = _link(request, token)
    if refused:
        return refused
    assert link is not None
    if not 1 <= step <= len(link.instruments):
        raise Http404("No such page in this questionnaire.")
    code = link.instruments[step - 1]
    errors: dict[str, str] = {}
    if request.method == "POST":
        errors, closed = _save_page(request, link, code)
        if closed:
            return _closed(request, closed, link.clinic)
        if not errors:
            return _after_saving(request, link, token, step)
        values: dict[str, Any] = dict(request.POST.items())
    else:
        saved = queries.link_responses(link).get(code)
        values = saved.answers if saved else {}
    form = present.build(code, values, texts=_texts(link).get(code), errors=errors)
    form.errors = [errors[""]] if "" in errors else []
    context = {
        "link": link, "token": token, "clinic": link.clinic, "form": form, "step": step,
        "steps": len(link.instruments), "last": step == len(link.instruments), "has_errors": bool(errors),
    }  # fmt: skip
    return _q_render(request, "outcomes/q_page.html", context, status=400 if errors else 200)


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def answer_review(request: HttpRequest, token: str) -> HttpResponse:
    link, refused = _link(request, token)
    if refused:
        return refused
    assert link is not None
    if request.method == "POST":
        try:
            services.submit_link(link, client_address(request))
        except services.LinkClosedError as error:
            return _closed(request, error.state, link.clinic)
        return _q_render(
            request,
            "outcomes/q_thanks.html",
            {"clinic": link.clinic, "tablet": link.delivery == LinkDelivery.TABLET},
        )
    return _q_render(
        request,
        "outcomes/q_review.html",
        {"link": link, "token": token, "clinic": link.clinic, "steps": _steps_with_answers(link)},
    )
