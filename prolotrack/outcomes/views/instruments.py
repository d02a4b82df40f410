"""The instruments page: definitions, each as a FHIR Questionnaire, and the clinic's licensed texts."""

import json
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core.access import require
from prolotrack.domain import instruments as domain
from prolotrack.domain.errors import DomainError
from prolotrack.outcomes import hooks, queries, services

# --- instruments (definitions, FHIR export, licensed texts) ----------------------------------------------------------


@require(Permission.INSTRUMENT_MANAGE)
def instrument_list(request: ClinicRequest) -> HttpResponse:
    texts = queries.clinic_texts(request.clinic)
    rows = [{"definition": d, "texts": texts.get(code)} for code, d in domain.DEFINITIONS.items()]
    return render(request, "outcomes/instruments.html", {"rows": rows})


@require(Permission.INSTRUMENT_MANAGE)
def instrument_fhir(request: ClinicRequest, code: str) -> HttpResponse:
    if code not in domain.DEFINITIONS:
        raise Http404("No such instrument.")
    row = queries.clinic_texts(request.clinic).get(code)
    body = hooks.questionnaire_resource(code, row.texts if row else None)
    response = JsonResponse(body, json_dumps_params={"indent": 2})
    response["Content-Disposition"] = f'attachment; filename="questionnaire-{code}.json"'
    return response


MAX_QUESTIONNAIRE_BYTES = 2 * 1024 * 1024


def _posted_questionnaire(request: HttpRequest) -> tuple[Any, str, dict[str, str]]:
    """The Questionnaire sent, uploaded or pasted: (its JSON, its text, the errors)."""
    raw_text = request.POST.get("questionnaire", "")
    upload = request.FILES.get("questionnaire_file")
    if upload is not None:
        if (upload.size or 0) > MAX_QUESTIONNAIRE_BYTES:  # an uploaded file always has its size
            return (
                None,
                raw_text,
                {"questionnaire": "The file is larger than 2 MB: upload the Questionnaire resource only."},
            )
        raw_text = upload.read().decode("utf-8", "replace")
    try:
        return json.loads(raw_text), raw_text, {}
    except ValueError as error:
        return None, raw_text, {"questionnaire": f"Not valid JSON ({error}): paste or upload a FHIR Questionnaire."}


def _import(request: HttpRequest, code: str, data: Any, statement: str) -> dict[str, str]:
    """Import the texts under the clinic's licence; the errors to show, or none."""
    try:
        services.import_instrument_texts(actor_for(request), code, data, statement)
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            return {k: " ".join(v) for k, v in error.message_dict.items()}
        return {"questionnaire": " ".join(error.messages)}
    except DomainError as error:
        return {"questionnaire": str(error)}
    return {}


@require(Permission.INSTRUMENT_MANAGE)
@require_http_methods(["GET", "POST"])
def instrument_import(request: ClinicRequest, code: str) -> HttpResponse:
    found = domain.DEFINITIONS.get(code)
    if found is None or not found.licensed:
        raise Http404("Only licensed instruments take imported texts.")
    errors: dict[str, str] = {}
    raw_text = request.POST.get("questionnaire", "")
    statement = request.POST.get("licence_statement", "")
    if request.method == "POST":
        data, raw_text, errors = _posted_questionnaire(request)
        errors = errors or _import(request, code, data, statement)
        if not errors:
            messages.success(request, f"{found.title} texts imported under the clinic's licence.")
            return redirect("outcomes:instruments")
    current = queries.instrument_text(request.clinic, code)
    context = {
        "definition": found,
        "current": current,
        "questionnaire": raw_text,
        "licence_statement": statement or (current.licence_statement if current else ""),
        "errors": errors,
        "link_ids": ", ".join(found.link_ids),
    }
    return render(request, "outcomes/instrument_import.html", context, status=400 if errors else 200)
