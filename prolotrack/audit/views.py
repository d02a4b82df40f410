"""The clinic administrator's audit page: filter by user, patient, action and date."""

import re
from datetime import datetime, time

from django import forms
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from prolotrack.audit.models import AuditEvent
from prolotrack.clinics.models import User
from prolotrack.clinics.roles import Permission
from prolotrack.core.access import require
from prolotrack.patients.models import Patient


class AuditFilterForm(forms.Form):
    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, to_field_name="username")
    patient = forms.CharField(required=False, help_text="Record number or patient id")
    action = forms.CharField(required=False, help_text="Action code or its start, e.g. patient.")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args, clinic=None, **kwargs) -> None:  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        self.fields["user"].queryset = User.objects.filter(memberships__clinic=clinic).order_by("username")

    def clean(self) -> dict:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        text = (data.get("patient") or "").strip()
        data["patient_uuid"] = None
        if text:
            match = Patient.objects.filter(clinic=self.clinic, mrn=text).values_list("uuid", flat=True).first()
            if match is None:
                try:
                    match = Patient.objects.filter(clinic=self.clinic, uuid=text).values_list("uuid", flat=True).first()
                except Exception:
                    match = None
            if match is None:
                self.add_error("patient", "No patient in this clinic has that record number or id.")
            data["patient_uuid"] = match
        return data


@require(Permission.AUDIT_VIEW)
def audit_list(request: HttpRequest) -> HttpResponse:
    clinic = request.clinic  # type: ignore[attr-defined]
    form = AuditFilterForm(request.GET or None, clinic=clinic)
    events = AuditEvent.objects.filter(clinic=clinic).select_related("user")
    if form.is_valid():
        data = form.cleaned_data
        if data.get("user"):
            events = events.filter(user=data["user"])
        if data.get("patient_uuid"):
            events = events.filter(patient_uuid=data["patient_uuid"])
        if data.get("action"):
            events = events.filter(action__startswith=data["action"].strip())
        tz = clinic.tz
        if data.get("date_from"):
            events = events.filter(at__gte=datetime.combine(data["date_from"], time.min, tzinfo=tz))
        if data.get("date_to"):
            events = events.filter(at__lte=datetime.combine(data["date_to"], time.max, tzinfo=tz))
    elif form.is_bound:
        events = events.none()
    # Paging without a COUNT over the whole history: fetch one extra row to know if there is a next page.
    page_number = max(1, int(request.GET.get("page", "1")) if request.GET.get("page", "1").isdigit() else 1)
    per_page = 50
    rows = list(events.order_by("-at", "-seq")[(page_number - 1) * per_page : page_number * per_page + 1])
    has_next = len(rows) > per_page
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "audit/list.html",
        {
            "form": form,
            "events": rows[:per_page],
            "page_number": page_number,
            "has_next": has_next,
            "query": query.urlencode(),
        },
    )


@require(Permission.AUDIT_VIEW)
def patient_disclosures_csv(request: HttpRequest, patient_uuid: object) -> HttpResponse:
    """The patient's accounting of disclosures as CSV (HIPAA 45 CFR 164.528): every audit event naming the patient.
    The export is audited first, so it lists itself."""
    from prolotrack.audit.queries import clinic_patient
    from prolotrack.audit.services import export_disclosures
    from prolotrack.clinics.services import actor_for

    clinic = request.clinic  # type: ignore[attr-defined]
    patient = clinic_patient(clinic, patient_uuid)
    if patient is None:
        raise Http404("No patient of this clinic has that id.")
    response = HttpResponse(export_disclosures(actor_for(request), patient), content_type="text/csv; charset=utf-8")
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", patient.mrn)
    day = timezone.localdate(timezone=clinic.tz).isoformat()
    response["Content-Disposition"] = f'attachment; filename="disclosures-{safe}-{day}.csv"'
    response["Cache-Control"] = "no-store"
    return response
