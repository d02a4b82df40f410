"""Reads of the SMART app registry, launches and tokens: always within the caller's clinic (or its own app)."""

from typing import Any

from django.http import Http404
from django.utils import timezone
from oauth2_provider.models import AccessToken, Application

from prolotrack.audit.models import AuditEvent
from prolotrack.patients.models import Patient
from prolotrack.patients.queries import search_patients
from prolotrack.smart.models import ExportClient, SmartApp, TokenContext


def application(client_id: str) -> Any:
    """The OAuth application with this client id, or None."""
    return Application.objects.filter(client_id=client_id).first()


def clinic_patient(clinic: Any, patient_uuid: Any, *, live: bool = False) -> Patient | None:
    """The clinic's patient with this uuid (only if not entered in error, with `live`), or None."""
    found = Patient.objects.filter(clinic=clinic, uuid=patient_uuid)
    if live:
        found = found.filter(entered_in_error_at__isnull=True)
    return found.first()


def find_patients(clinic: Any, text: str, limit: int) -> list[Patient]:
    """The consent page's patient picker: the clinic's live patients whose record number is exactly `text`, else
    those matching it as the patient list's search does (name parts, partial and case-insensitive; a date of birth;
    the start of a record number). Never another clinic's."""
    text = text.strip()
    if not any(c.isalnum() for c in text):
        return []
    exact = list(Patient.objects.filter(clinic=clinic, mrn=text, entered_in_error_at__isnull=True)[:1])
    if exact:
        return exact
    return list(search_patients(clinic, text)[:limit])


def clinic_apps(clinic: Any) -> Any:
    return (
        SmartApp.objects.filter(clinic=clinic).select_related("application").order_by("-is_active", "application__name")
    )


def launchable_apps(clinic: Any) -> list[SmartApp]:
    """The clinic's active SMART apps with a launch URL (the chart's Launch buttons)."""
    return list(
        SmartApp.objects.filter(clinic=clinic, kind=SmartApp.KIND_APP, is_active=True)
        .exclude(launch_url="")
        .select_related("application")
        .order_by("application__name")
    )


def clinic_app(clinic: Any, app_uuid: Any, *, launchable: bool = False) -> SmartApp:
    """An app of the clinic (active SMART apps only, for a launch), or 404."""
    found = SmartApp.objects.filter(clinic=clinic, uuid=app_uuid).select_related("application")
    if launchable:
        found = found.filter(is_active=True, kind=SmartApp.KIND_APP)
    app = found.first()
    if app is None:
        raise Http404("No such app in this clinic.")
    return app


def app_accesses(app: SmartApp, limit: int) -> list[AuditEvent]:
    """The latest audit rows written for the app (its client id in the detail), newest first; one more than `limit`
    tells whether there are more."""
    rows = AuditEvent.objects.filter(clinic=app.clinic, detail__client_id=app.client_id).order_by("-at", "-seq")
    return list(rows[: limit + 1])


def live_tokens(app: SmartApp) -> int:
    return AccessToken.objects.filter(application=app.application, expires__gt=timezone.now()).count()


def token_with_context(checksum: str) -> tuple[Any, TokenContext | None]:
    """The access token with this SHA-256 and its SMART context (token introspection)."""
    token = AccessToken.objects.select_related("application", "user").filter(token_checksum=checksum).first()
    if token is None:
        return None, None
    return token, TokenContext.objects.select_related("membership__user").filter(access_token=token).first()


def export_client_id(job: Any) -> str:
    """The client id of the app that started a Bulk export ("" for one started with a clinic API token)."""
    return ExportClient.objects.filter(job=job).values_list("client_id", flat=True).first() or ""
