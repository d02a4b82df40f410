"""What every treatment screen shares: the clinic's today, the next address, the session page and its address."""

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from prolotrack.audit.services import ServiceError
from prolotrack.clinical import queries as clinical_queries
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.core.access import can
from prolotrack.treatment import present, queries
from prolotrack.treatment.models import SessionStatus, TreatmentSession


def next_url(request: HttpRequest, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return target
    return fallback


def posted(request: HttpRequest) -> Any:
    """The POST data of a form page, or None on GET (an empty POST is still a submission)."""
    return request.POST if request.method == "POST" else None


def today(request: ClinicRequest) -> date:
    return clinical_queries.clinic_today(request.clinic)


def session_url(session: TreatmentSession, anchor: str = "", **query: str) -> str:
    url = reverse("treatment:session", args=[session.uuid])
    params = "&".join(f"{k}={v}" for k, v in query.items() if v)
    return url + (f"?{params}" if params else "") + (f"#{anchor}" if anchor else "")


def amending(request: HttpRequest, session: TreatmentSession) -> bool:
    """A change to a signed note is an amendment; only a role with session.amend may make one."""
    if not session.is_signed:
        return False
    if not can(request, Permission.SESSION_AMEND):
        raise ServiceError(session.lock_reason() or "This note is signed.")
    return True


def session_context(request: HttpRequest, session: TreatmentSession, **bound: Any) -> dict[str, Any]:
    """The session page: its reads, who may record or amend, the map asked for, shaped by treatment.present."""
    page = queries.session_page(session)
    recordable = session.status in (SessionStatus.PLANNED, SessionStatus.BOOKED, SessionStatus.DONE)
    can_record = can(request, Permission.SESSION_RECORD) and recordable
    wants_amend = bool(bound.get("amending") or request.GET.get("amend") == "1")
    weighed = session.weight_kg is not None or session.is_signed
    facts = present.SessionFacts(
        can_record=can_record,
        amending=session.is_signed and can_record and can(request, Permission.SESSION_AMEND) and wants_amend,
        wanted_map=request.GET.get("map") or request.POST.get("map") or "",
        asked_side=request.GET.get("side") or request.POST.get("side") or "",
        chart_weight=None if weighed else queries.latest_weight(session.patient),
        course_count=queries.active_session_count(session),
        blockers=queries.signing_problems(session),
        amendments=queries.session_amendments(session, page),
    )
    return present.session_context(session, page, facts, bound)


def session_page(request: HttpRequest, session: TreatmentSession, *, status: int = 200, **bound: Any) -> HttpResponse:
    return render(request, "treatment/session.html", session_context(request, session, **bound), status=status)
