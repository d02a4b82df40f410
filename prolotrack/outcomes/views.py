"""Questionnaire pages: the patient's pages by link (no login), and the staff's pages (links, paper entry, texts).

Patient pages (/q/<token>/...) use their own base template with no navigation into the app. A closed link (expired,
used, cancelled) says so with status 410 and shows nothing of the patient; an unknown token answers 404 the same
way. Failed lookups are counted per client address and answered 429 above a limit.

Thin: parse, check, call outcomes.services, render. Logic is in services, queries and the domain.
"""

import json
from datetime import date
from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth import logout
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_read
from prolotrack.clinical.queries import clinic_today
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for, client_address
from prolotrack.core.access import require
from prolotrack.core.site import site_url
from prolotrack.domain import instruments as domain
from prolotrack.domain.errors import DomainError
from prolotrack.outcomes import hooks, present, queries, services
from prolotrack.outcomes.models import (
    ClinicInstrumentText,
    LinkDelivery,
    QuestionnaireLink,
    ResponseSource,
)
from prolotrack.patients.queries import patient_or_404
from prolotrack.treatment.models import CourseTimepoint

# Failed token lookups allowed per client address per window before answering 429 (product default).
FAILED_LOOKUPS_ALLOWED = 20
FAILED_LOOKUP_WINDOW_SECONDS = 600
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "same-origin", "X-Robots-Tag": "noindex"}


# --- patient pages (no login) ---------------------------------------------------------------------------------------


def _failure_key(request: HttpRequest) -> str:
    return f"qlink-fail:{client_address(request) or 'unknown'}"


def _retry_after(request: HttpRequest) -> int | None:
    """Seconds until this address may try unknown or closed links again, or None if it is not limited.

    The count lives in Django's cache (the database cache table by default, docs/OPERATIONS.md), so it survives a
    restart and is shared by every server process."""
    key = _failure_key(request)
    if (cache.get(key) or 0) < FAILED_LOOKUPS_ALLOWED:
        return None
    until = cache.get(f"{key}:until") or 0
    return max(int(until - timezone.now().timestamp()) + 1, 1)


def _count_failure(request: HttpRequest) -> None:
    key = _failure_key(request)
    if cache.add(key, 1, FAILED_LOOKUP_WINDOW_SECONDS):
        cache.set(
            f"{key}:until", timezone.now().timestamp() + FAILED_LOOKUP_WINDOW_SECONDS, FAILED_LOOKUP_WINDOW_SECONDS
        )
        return
    try:
        cache.incr(key)
    except ValueError:
        cache.set(key, 1, FAILED_LOOKUP_WINDOW_SECONDS)


def _q_render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    # No one is logged in here, so no middleware chose a zone: the page reads in the clinic's (core/clinictime.py).
    clinic = context.get("clinic")
    with timezone.override(clinic.tz if clinic is not None else None):
        response = render(request, template, context, status=status)
    for header, value in NO_STORE.items():
        response[header] = value
    return response


def _closed(request: HttpRequest, state: str, clinic: Any = None) -> HttpResponse:
    if clinic is not None:
        services.log_link_refused(clinic, state, client_address(request))
    message = services.LINK_CLOSED_MESSAGES.get(state, "This questionnaire link is not valid. Check the address.")
    titles = {
        queries.LinkState.EXPIRED: "This link has expired",
        queries.LinkState.USED: "This link has already been used",
        queries.LinkState.REVOKED: "This link was cancelled",
        queries.LinkState.WITHDRAWN: "This link was cancelled",
    }
    return _q_render(
        request,
        "outcomes/q_closed.html",
        {"title": titles.get(state, "Link not found"), "message": message, "state": state},
        status=410 if state in titles else 404,
    )


def _link(request: HttpRequest, token: str) -> tuple[QuestionnaireLink | None, HttpResponse | None]:
    """The open link for the token, or the page to answer instead (not found, closed, too many attempts).

    A valid open link always opens: the limit counts and stops only unknown or closed tokens, so a patient sharing
    an address (a clinic's or a carrier's network) with someone guessing still answers their own questionnaire."""
    link = queries.link_by_token(token)
    if link is not None and queries.link_state(link) == queries.LinkState.OPEN:
        return link, None
    wait = _retry_after(request)
    if wait is not None:
        minutes = max(wait // 60, 1)
        response = _q_render(
            request,
            "outcomes/q_closed.html",
            {
                "title": "Too many attempts",
                "message": f"Too many links that do not work were tried from here. Try again in {minutes} minute"
                f"{'s' if minutes != 1 else ''}; a link the clinic sent you still works.",
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
    out = []
    for index, code in enumerate(link.instruments, start=1):
        found = domain.definition(code)
        response = saved.get(code)
        scored = domain.score(code, response.answers) if response else None
        out.append(
            {
                "index": index,
                "code": code,
                "title": found.title,
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
        },
    )


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
    texts = _texts(link).get(code)
    errors: dict[str, str] = {}
    if request.method == "POST":
        answers, errors = present.parse(code, request.POST)
        if not errors:
            try:
                if answers or code in queries.link_responses(link):
                    services.save_link_answers(link, code, answers, client_address(request))
            except services.LinkClosedError as error:
                return _closed(request, error.state, link.clinic)
            except ValidationError as error:
                errors = {"": " ".join(error.messages)}
            else:
                action = request.POST.get("action", "next")
                base = reverse("outcomes:answer-start", args=[token])
                if action == "back" and step > 1:
                    return redirect(f"{base}{step - 1}/")
                if action == "later":
                    return _q_render(
                        request, "outcomes/q_saved.html", {"clinic": link.clinic, "token": token, "link": link}
                    )
                if action == "next" and step < len(link.instruments):
                    return redirect(f"{base}{step + 1}/")
                return redirect(reverse("outcomes:answer-review", args=[token]))
        values: dict[str, Any] = dict(request.POST.items())
    else:
        saved = queries.link_responses(link).get(code)
        values = saved.answers if saved else {}
    form = present.build(code, values, texts=texts, errors=errors)
    form.errors = [errors[""]] if "" in errors else []
    return _q_render(
        request,
        "outcomes/q_page.html",
        {
            "link": link,
            "token": token,
            "clinic": link.clinic,
            "form": form,
            "step": step,
            "steps": len(link.instruments),
            "last": step == len(link.instruments),
            "has_errors": bool(errors),
        },
        status=400 if errors else 200,
    )


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


# --- staff pages --------------------------------------------------------------------------------------------------


def _can(request: HttpRequest, permission: Permission) -> bool:
    membership = getattr(request, "membership", None)
    return bool(membership and membership.can(permission))


def _timepoint(request: HttpRequest, patient: Any, value: str) -> CourseTimepoint | None:
    if not value:
        return None
    try:
        timepoint = queries.get_timepoint(request.clinic, value)  # type: ignore[attr-defined]
    except (CourseTimepoint.DoesNotExist, ValidationError, ValueError):
        raise Http404("No such timepoint in this clinic.") from None
    if timepoint.patient_id != patient.pk:
        raise Http404("No such timepoint for this patient.")
    return timepoint


@require(Permission.OUTCOMES_COLLECT)
def patient_questionnaires(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    record_read(actor_for(request), "questionnaire.list.viewed", record=patient)
    show_scores = _can(request, Permission.OUTCOMES_VIEW)
    responses = list(queries.patient_responses(patient)[:50]) if show_scores else []
    for response in responses:
        found = domain.DEFINITIONS.get(response.instrument)
        response.title = found.title if found else response.instrument  # type: ignore[attr-defined]
    return render(
        request,
        "outcomes/patient_questionnaires.html",
        {
            "patient": patient,
            "rows": queries.patient_timepoints(patient),
            "links": list(queries.patient_links(patient)[:20]),
            "responses": responses,
            "show_scores": show_scores,
            "deliveries": LinkDelivery.choices,
            "now": timezone.now(),
        },
    )


def _qr_svg(url: str) -> str:
    svg = segno.make(url, error="m").svg_inline(scale=5, dark="#1d2733", title="Questionnaire link")
    return svg


@require(Permission.OUTCOMES_COLLECT)
@require_POST
def link_create(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    timepoint = _timepoint(request, patient, request.POST.get("timepoint", ""))
    delivery = request.POST.get("delivery", LinkDelivery.QR)
    instruments = request.POST.getlist("instruments") or None
    try:
        link, path = services.create_link(
            actor_for(request), patient, timepoint=timepoint, instruments=instruments, delivery=delivery
        )
    except (ValidationError, ServiceError) as error:
        text = " ".join(error.messages) if isinstance(error, ValidationError) else str(error)
        messages.error(request, f"No link was created: {text}")
        return redirect("outcomes:patient-questionnaires", patient_uuid=patient.uuid)
    if delivery == LinkDelivery.TABLET:
        # The tablet is handed to the patient: sign the staff member out first so nothing of the app is reachable.
        logout(request)
        return redirect(path)
    url = site_url(path)
    subject = body = ""
    if delivery == LinkDelivery.EMAIL:
        subject, body = services.email_message(link, url)
    response = render(
        request,
        "outcomes/link_created.html",
        {
            "patient": patient,
            "link": link,
            "url": url,
            "qr": _qr_svg(url) if delivery in (LinkDelivery.QR, LinkDelivery.COPIED) else "",
            "titles": [domain.definition(c).title for c in link.instruments],
            "email_subject": subject,
            "email_body": body,
        },
    )
    response["Cache-Control"] = "no-store"
    return response


@require(Permission.OUTCOMES_COLLECT)
@require_POST
def link_revoke(request: HttpRequest, link_uuid: Any) -> HttpResponse:
    try:
        link = QuestionnaireLink.objects.select_related("patient").get(clinic=request.clinic, uuid=link_uuid)  # type: ignore[attr-defined]
    except QuestionnaireLink.DoesNotExist:
        raise Http404("No such link in this clinic.") from None
    try:
        services.revoke_link(actor_for(request), link)
    except ServiceError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, "Link cancelled. It can no longer be opened.")
    return redirect("outcomes:patient-questionnaires", patient_uuid=link.patient.uuid)


def _parse_date(value: str, today: date) -> tuple[date | None, str]:
    try:
        day = date.fromisoformat((value or "").strip())
    except ValueError:
        return None, "Enter the date the answers were given (YYYY-MM-DD)."
    if day > today:
        return None, "The date answered cannot be in the future."
    return day, ""


@require(Permission.OUTCOMES_COLLECT)
@require_http_methods(["GET", "POST"])
def staff_entry(request: HttpRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    clinic = request.clinic  # type: ignore[attr-defined]
    texts = {code: row.texts for code, row in queries.clinic_texts(clinic).items()}
    source = request.POST if request.method == "POST" else request.GET
    code = source.get("instrument", "") or "nrs_pain"
    if code not in domain.DEFINITIONS:
        raise Http404("No such questionnaire.")
    timepoint = _timepoint(request, patient, source.get("timepoint", ""))
    today = clinic_today(clinic)
    errors: dict[str, str] = {}
    date_error = ""
    authored_text = source.get("authored_on", today.isoformat())
    available = [
        (c, d.title) for c, d in domain.DEFINITIONS.items() if not d.licensed or c in texts
    ]  # licensed only with the clinic's texts
    if code not in dict(available):
        raise Http404("This questionnaire's texts are not imported in this clinic.")
    if request.method == "POST" and request.POST.get("action") == "save":
        answers, errors = present.parse(code, request.POST, prefix="a_")
        authored_on, date_error = _parse_date(authored_text, today)
        if not errors and not date_error and authored_on is not None:
            try:
                response = services.record_response(
                    actor_for(request),
                    patient,
                    code,
                    answers,
                    authored_on=authored_on,
                    timepoint=timepoint,
                    source=ResponseSource.STAFF_PAPER,
                )
            except ValidationError as error:
                errors = {"": " ".join(error.messages)}
            except ServiceError as error:
                errors = {"": str(error)}
            else:
                state = "saved as completed" if response.status == "completed" else "kept as in progress"
                messages.success(request, f"{domain.definition(code).title} {state}.")
                return redirect("outcomes:patient-questionnaires", patient_uuid=patient.uuid)
        values: dict[str, Any] = {k[2:]: v for k, v in request.POST.items() if k.startswith("a_")}
    else:
        values = {}
    form = present.build(code, values, texts=texts.get(code), errors=errors, prefix="a_")
    form.errors = [errors[""]] if "" in errors else []
    timepoints = [row.timepoint for row in queries.patient_timepoints(patient)]
    return render(
        request,
        "outcomes/staff_entry.html",
        {
            "patient": patient,
            "form": form,
            "code": code,
            "available": available,
            "timepoint": timepoint,
            "timepoints": timepoints,
            "authored_on": authored_text,
            "date_error": date_error,
            "today": today,
        },
        status=400 if (errors or date_error) else 200,
    )


# --- instruments (definitions, FHIR export, licensed texts) ----------------------------------------------------------


@require(Permission.INSTRUMENT_MANAGE)
def instrument_list(request: HttpRequest) -> HttpResponse:
    texts = queries.clinic_texts(request.clinic)  # type: ignore[attr-defined]
    rows = [{"definition": d, "texts": texts.get(code)} for code, d in domain.DEFINITIONS.items()]
    return render(request, "outcomes/instruments.html", {"rows": rows})


@require(Permission.INSTRUMENT_MANAGE)
def instrument_fhir(request: HttpRequest, code: str) -> HttpResponse:
    if code not in domain.DEFINITIONS:
        raise Http404("No such instrument.")
    row = queries.clinic_texts(request.clinic).get(code)  # type: ignore[attr-defined]
    body = hooks.questionnaire_resource(code, row.texts if row else None)
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="questionnaire-{code}.json"'
    return response


MAX_QUESTIONNAIRE_BYTES = 2 * 1024 * 1024


@require(Permission.INSTRUMENT_MANAGE)
@require_http_methods(["GET", "POST"])
def instrument_import(request: HttpRequest, code: str) -> HttpResponse:
    found = domain.DEFINITIONS.get(code)
    if found is None or not found.licensed:
        raise Http404("Only licensed instruments take imported texts.")
    errors: dict[str, str] = {}
    raw_text = request.POST.get("questionnaire", "")
    statement = request.POST.get("licence_statement", "")
    if request.method == "POST":
        upload = request.FILES.get("questionnaire_file")
        if upload is not None:
            if upload.size > MAX_QUESTIONNAIRE_BYTES:
                errors["questionnaire"] = "The file is larger than 2 MB: upload the Questionnaire resource only."
            else:
                raw_text = upload.read().decode("utf-8", "replace")
        data: Any = None
        if not errors:
            try:
                data = json.loads(raw_text)
            except ValueError as error:
                errors["questionnaire"] = f"Not valid JSON ({error}): paste or upload a FHIR Questionnaire."
        if not errors:
            try:
                services.import_instrument_texts(actor_for(request), code, data, statement)
            except ValidationError as error:
                errors = (
                    {k: " ".join(v) for k, v in error.message_dict.items()}
                    if hasattr(error, "error_dict")
                    else {"questionnaire": " ".join(error.messages)}
                )
            except DomainError as error:
                errors["questionnaire"] = str(error)
            else:
                messages.success(request, f"{found.title} texts imported under the clinic's licence.")
                return redirect("outcomes:instruments")
    current = ClinicInstrumentText.objects.filter(clinic=request.clinic, instrument=code).first()  # type: ignore[attr-defined]
    return render(
        request,
        "outcomes/instrument_import.html",
        {
            "definition": found,
            "current": current,
            "questionnaire": raw_text,
            "licence_statement": statement or (current.licence_statement if current else ""),
            "errors": errors,
            "link_ids": ", ".join(found.link_ids),
        },
        status=400 if errors else 200,
    )
