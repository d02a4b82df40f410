"""The session record: the note's parts (details, observations, checklist, day-of screening), entering a part in
error, and signing. Solutions and injection sites are in views/sites.py."""

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import ServiceError, record_read
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core import entered_in_error
from prolotrack.core.access import require
from prolotrack.core.forms import apply_errors
from prolotrack.domain.errors import DomainError
from prolotrack.treatment import present, queries, services
from prolotrack.treatment.forms import ChecklistForm, ObservationsForm, RescreenForm, SessionHeaderForm, SignForm
from prolotrack.treatment.models import TreatmentSession
from prolotrack.treatment.views.common import amending, session_context, session_page, session_url


@require(Permission.COURSE_VIEW)
def session_detail(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    record_read(actor_for(request), "treatment.session.viewed", record=session, patient_uuid=session.patient.uuid)
    context = session_context(request, session)
    if request.htmx and request.GET.get("part") == "work":
        return render(request, "treatment/_site_work.html", context)
    return render(request, "treatment/session.html", context)


def _save_session_part(
    request: HttpRequest,
    session_uuid: Any,
    form_class: type,
    *,
    section: str,
    saved: str,
    form_name: str,
    **page: Any,
) -> HttpResponse:
    """Save one part of the session note, or amend it with a reason once the note is signed."""
    session = queries.session_or_404(request, session_uuid)
    signed = session.is_signed
    form = form_class(request.POST, signed=signed)
    confirmed = request.POST.get("confirm") == "yes"
    if form.is_valid():
        try:
            amendment = amending(request, session)
            if amendment and not confirmed:
                # An amendment is saved only from its confirmation step, which shows what will change.
                differences = form.differences(session)
                if not differences:
                    raise ServiceError("Nothing to amend: every value is the same as in the signed note.")
                return _amendment_confirmation(request, session, form, differences, section)
            services.update_session_record(
                actor_for(request), session, form.changes(), expected_version=form.cleaned_data["version"],
                reason=form.reason, amendment=amendment,
            )  # fmt: skip
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Amendment saved with your reason." if signed else saved)
            return redirect(session_url(session, section, amend="1" if signed else ""))
    if signed and confirmed:
        # Refused at the confirmation step (a stale version, a reason that does not fit): show it there again.
        differences = form.differences(session) if form.is_valid() else []
        return _amendment_confirmation(request, session, form, differences, section, status=400)
    return session_page(request, session, status=400, amending=signed, **{form_name: form}, **page)


def _amendment_confirmation(
    request: HttpRequest,
    session: TreatmentSession,
    form: Any,
    differences: list[tuple[str, str, str]],
    section: str,
    *,
    status: int = 200,
) -> HttpResponse:
    """The confirmation step of amending a signed note: each field that changes, before and after, and the reason."""
    signed_at = timezone.localtime(session.signed_at, session.clinic.tz)
    return render(
        request,
        "core/confirm.html",
        {
            "title": "Amend the signed note",
            "patient": session.patient,
            "crumbs": [(session_url(session), f"Session {session.number}")],
            "record": f"Session {session.number} of {session.course.indication}, signed by "
            f"{(session.signed_by.get_full_name() or session.signed_by.username) if session.signed_by else '—'} on {signed_at:%Y-%m-%d %H:%M %Z}",
            "change_rows": differences,
            "changes": [] if differences else ["Nothing changes: go back and edit the note."],
            "keeps": [
                "The signed original stays in the note's history; the amendment keeps your name, the time and "
                "the reason."
            ],
            "form": form.confirming(),
            "button": "Save the amendment",
            "back_url": session_url(session, section, amend="1"),
        },
        status=400 if form.errors or status == 400 else status,
    )


@require(Permission.SESSION_RECORD)
@require_POST
def session_header(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """Weight used for the limits and sedation."""
    return _save_session_part(
        request, session_uuid, SessionHeaderForm, section="header", saved="Session details saved.",
        form_name="header_form", open="header",
    )  # fmt: skip


@require(Permission.SESSION_RECORD)
@require_POST
def session_observations(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    """Immediate observations and the instructions given."""
    return _save_session_part(
        request, session_uuid, ObservationsForm, section="observations", saved="Observations saved.",
        form_name="observations_form",
    )  # fmt: skip


def _tick(request: HttpRequest, session: Any, form: ChecklistForm) -> bool:
    """Record one checklist answer (refused once the note is signed); a refusal goes on the form."""
    if not form.is_valid():
        if "answer" in form.errors:
            form.errors["answer"] = form.error_class(["Choose Yes, No or Not applicable."])
        return False
    data = form.cleaned_data
    try:
        if session.is_signed:
            raise ServiceError(session.lock_reason() or "This note is signed.")
        services.tick(actor_for(request), session, data["item"], data["answer"], note=data["note"].strip())
    except (ValidationError, ServiceError) as error:
        apply_errors(form, error)
        return False
    return True


@require(Permission.SESSION_RECORD)
@require_POST
def session_checklist(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    item = request.POST.get("item", "")
    form = ChecklistForm(request.POST, auto_id=f"c-{item}-%s")
    ok = _tick(request, session, form)
    if request.htmx:
        session = queries.session_or_404(request, session_uuid)
        forms_by_item = {} if ok else {form.cleaned_data.get("item") or item: form}
        context = session_context(request, session, checklist_forms=forms_by_item)
        return render(request, "treatment/_checklist_response.html", context)
    if ok:
        return redirect(session_url(session, "checklist"))
    return session_page(request, session, status=400, checklist_forms={item: form})


@require(Permission.SESSION_RECORD)
@require_POST
def session_rescreen(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    form = RescreenForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            if session.is_signed:
                raise ServiceError(session.lock_reason() or "This note is signed.")
            services.rescreen_for_the_day(
                actor_for(request), session, day_of_flags=data["day_of_flags"], pregnancy=data["pregnancy"]
            )
        except (ValidationError, ServiceError, DomainError) as error:
            form.add_error(None, getattr(error, "messages", None) or str(error))
        else:
            messages.success(request, "Screening re-checked for the day of the procedure.")
            return redirect(session_url(session, "screening"))
    return session_page(request, session, status=400, rescreen_form=form)


@require(Permission.SESSION_RECORD)
@require_http_methods(["GET", "POST"])
def item_entered_in_error(request: ClinicRequest, session_uuid: Any, kind: str, item_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    record = queries.session_item_or_404(session, kind, item_uuid)
    back = session_url(session)

    def retire(reason: str, version: int) -> Any:
        return services.retire_session_item(
            actor_for(request), record, reason=reason, amendment=amending(request, session), expected_version=version
        )

    def page() -> entered_in_error.Page:
        changes = ["The session's totals and dose checks leave it out."] if kind in ("site", "solution") else []
        if session.is_signed:
            changes.append("The note is signed: this is an amendment, kept with the original in the history.")
        return entered_in_error.Page(
            what=present.ITEM_NAMES[kind], describe=present.describe_item(kind, record), back_url=back,
            patient=session.patient, crumbs=[(back, f"Session {session.number}")], changes=changes,
        )  # fmt: skip

    return entered_in_error.flow(
        request, record, retire,
        done_url=session_url(session, present.ITEM_ANCHORS[kind], amend="1" if session.is_signed else ""),
        done=f"The {present.ITEM_NAMES[kind]} was marked entered in error. It stays listed, struck through.",
        page=page,
    )  # fmt: skip


@require(Permission.SESSION_SIGN)
@require_POST
def session_sign(request: ClinicRequest, session_uuid: Any) -> HttpResponse:
    session = queries.session_or_404(request, session_uuid)
    form = SignForm(request.POST)
    version = form.cleaned_data["version"] if form.is_valid() else None
    early_reason = form.cleaned_data.get("early_reason", "") if form.is_valid() else ""
    try:
        services.sign_session(actor_for(request), session, expected_version=version, early_reason=early_reason)
    except (ValidationError, ServiceError) as error:
        message = " ".join(getattr(error, "messages", None) or [str(error)])
        return session_page(request, session, status=400, sign_error=message)
    messages.success(request, "Session note signed. It is now locked; correct it with an amendment that says why.")
    return redirect(session_url(session))
