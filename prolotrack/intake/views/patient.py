"""The patient's intake pages by link (/intake/<token>/), with no login (docs/INTAKE.md).

Like the questionnaire pages: their own base template with no way into the app, the clinic's time zone, no-store
headers, a closed link (expired, used, revoked) says so with status 410 and shows nothing, an unknown token 404, and
failed lookups are counted per client address (429 above the limit). Each step is saved as it is left.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from prolotrack.clinics.services import client_address
from prolotrack.core.language import patient_page, use_patient_language
from prolotrack.core.links import LinkState, RateLimit
from prolotrack.core.patient_pages import render_patient_page
from prolotrack.domain import intake as domain
from prolotrack.domain.limits import PAIN_NRS
from prolotrack.intake import forms, queries, services
from prolotrack.intake.models import IntakeLink
from prolotrack.outcomes import present

FAILED_LOOKUPS = RateLimit("intake-fail", 20, 600)  # the questionnaire links' numbers (docs/OUTCOMES.md)
PAIN_SCALE = range(int(PAIN_NRS.low), int(PAIN_NRS.high) + 1)
STEP_TITLES = {
    "complaint": gettext_lazy("Your pain"),
    "medicines": gettext_lazy("Your medicines"),
    "allergies": gettext_lazy("Allergies"),
    "conditions": gettext_lazy("Your health"),
    "weight": gettext_lazy("Your weight"),
}


_page = render_patient_page


def _closed(request: HttpRequest, state: str) -> HttpResponse:
    texts = {
        LinkState.EXPIRED: (_("This link has expired"), _("Ask the clinic for a new link, or answer at your visit.")),
        LinkState.USED: (
            _("Your answers were sent"),
            _("Thank you. The clinic has your answers; this link is closed."),
        ),
        LinkState.REVOKED: (_("This link was cancelled"), _("Ask the clinic for a new link if you still need one.")),
    }
    title, message = texts.get(state, (_("Link not found"), _("Check the address, or ask the clinic for a new link.")))
    return _page(
        request, "intake/closed.html", {"title": title, "message": message}, status=410 if state in texts else 404
    )


def _link(request: HttpRequest, token: str) -> tuple[IntakeLink | None, HttpResponse | None]:
    link = queries.link_by_token(token)
    if link is not None and queries.link_state(link) == LinkState.OPEN:
        # The person's language (a patient's, or the online booker's still pending), unless they chose on the switch.
        use_patient_language(request, link.intake.patient or link.intake.pending_patient)
        return link, None
    address = client_address(request) or "unknown"
    wait = FAILED_LOOKUPS.retry_after(address)
    if wait is not None:
        response = _page(
            request,
            "intake/closed.html",
            {"title": _("Too many attempts"), "message": _("Too many links that do not work were tried. Try later.")},
            status=429,
        )
        response["Retry-After"] = str(wait)
        return None, response
    FAILED_LOOKUPS.count(address)
    return None, _closed(request, queries.link_state(link) if link is not None else "unknown")


def _steps(link: IntakeLink) -> list[dict[str, Any]]:
    """The form's steps in order: the five parts, the region's baseline questionnaires, then the check."""
    intake = link.intake
    answers = intake.answers or {}
    missing = set(domain.missing(answers))
    steps = [
        {"key": key, "title": STEP_TITLES[key], "done": key not in missing and key in answers}
        for key in forms.STEP_FORMS
    ]
    done_q = answers.get("questionnaires") or {}
    texts = queries.clinic_texts(link.clinic)
    titles = {code: present.build(code, texts=texts.get(code)).title for code in queries.baseline_instruments(intake)}
    steps += [{"key": f"q-{code}", "title": title, "done": bool(done_q.get(code))} for code, title in titles.items()]
    return steps


def _context(link: IntakeLink, token: str, current: str) -> dict[str, Any]:
    steps = _steps(link)
    keys = [s["key"] for s in steps]
    index = keys.index(current) if current in keys else len(keys)
    return {
        "token": token,
        "clinic": link.clinic,
        "link": link,
        "steps": steps,
        "step_number": index + 1,
        "step_count": len(steps) + 1,  # and the check-and-send page
        "previous": keys[index - 1] if 0 < index <= len(keys) else "",
        "next": keys[index + 1] if index + 1 < len(keys) else "",
    }


@patient_page
@never_cache
def start(request: HttpRequest, token: str) -> HttpResponse:
    link, refused = _link(request, token)
    if refused:
        return refused
    assert link is not None
    started = link.intake.started_at is not None
    try:
        services.open_link(link, client_address(request))
    except services.IntakeClosedError as error:
        return _closed(request, error.state)
    context = _context(link, token, "")
    context.update(started=started, expires_at=link.expires_at, first=context["steps"][0]["key"])
    return _page(request, "intake/start.html", context)


def _after(request: HttpRequest, token: str, context: dict[str, Any]) -> HttpResponse:
    action = request.POST.get("action", "next")
    base = reverse("intake:start", args=[token])
    if action == "back" and context["previous"]:
        return redirect(f"{base}{context['previous']}/")
    if action == "later":
        return _page(request, "intake/saved.html", context)
    if action == "next" and context["next"]:
        return redirect(f"{base}{context['next']}/")
    return redirect(reverse("intake:check", args=[token]))


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def step(request: HttpRequest, token: str, key: str) -> HttpResponse:
    link, refused = _link(request, token)
    if refused:
        return refused
    assert link is not None
    context = _context(link, token, key)
    if key not in [s["key"] for s in context["steps"]]:
        raise Http404("No such step.")
    if key.startswith("q-"):
        return _questionnaire(request, link, token, key.removeprefix("q-"), context)
    form_class = forms.STEP_FORMS[key]
    stored = (link.intake.answers or {}).get(key) or {}
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                services.save_step(link, key, form.answers(), client_address(request))
            except services.IntakeClosedError as error:
                return _closed(request, error.state)
            except ValidationError as error:
                form.add_error(None, error.messages)
            else:
                return _after(request, token, _context(link, token, key))
    else:
        form = form_class(initial=form_class.initial_from(stored)) if stored else form_class()
    context.update(form=form, key=key, title=STEP_TITLES[key], pain_scale=PAIN_SCALE)
    return _page(request, f"intake/step_{key}.html", context, status=400 if form.errors else 200)


def _questionnaire(
    request: HttpRequest, link: IntakeLink, token: str, code: str, context: dict[str, Any]
) -> HttpResponse:
    texts = queries.clinic_texts(link.clinic).get(code)
    answers = link.intake.answers or {}
    saved = (answers.get("questionnaires") or {}).get(code) or {}
    errors: dict[str, str] = {}
    if request.method == "POST":
        given, errors = present.parse(code, request.POST)
        if not errors:
            try:
                services.save_step(link, f"questionnaire:{code}", given, client_address(request))
            except services.IntakeClosedError as error:
                return _closed(request, error.state)
            return _after(request, token, context)
        values: dict[str, Any] = dict(request.POST.items())
    else:
        values = dict(saved)
        pain = (answers.get("complaint") or {}).get("pain_now")
        if code == "nrs_pain" and "now" not in values and pain is not None:
            values["now"] = pain  # asked on the first step: not asked twice
    form = present.build(code, values, texts=texts, errors=errors)
    context.update(qform=form, key=f"q-{code}", title=form.title)
    return _page(request, "intake/step_questionnaire.html", context, status=400 if errors else 200)


@patient_page
@never_cache
@require_http_methods(["GET", "POST"])
def check(request: HttpRequest, token: str) -> HttpResponse:
    link, refused = _link(request, token)
    if refused:
        return refused
    assert link is not None
    context = _context(link, token, "check")
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            services.submit(link, client_address(request))
        except services.IntakeClosedError as error:
            return _closed(request, error.state)
        except ValidationError as error:
            errors = {k: " ".join(v) for k, v in error.message_dict.items()}
        else:
            return _page(request, "intake/thanks.html", {"clinic": link.clinic})
    missing = set(domain.missing(link.intake.answers or {}))
    for s in context["steps"]:
        s["missing"] = s["key"] in missing
        s["error"] = errors.get(s["key"], "")
    context.update(missing=bool(missing), step_number=context["step_count"])
    return _page(request, "intake/check.html", context, status=400 if errors else 200)
