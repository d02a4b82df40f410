"""Imaging pages: add a study, the study page (findings, report, images, feasibility), upload, entered in error,
and the image itself. Thin: parse, check access, call the service, render.
"""

from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from prolotrack.audit.services import AccessDenied, ServiceError, record_read
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.roles import Permission
from prolotrack.clinics.services import actor_for
from prolotrack.core import clinictime, entered_in_error
from prolotrack.core.access import can, require
from prolotrack.core.forms import apply_errors, form_copy
from prolotrack.imaging import queries, services
from prolotrack.imaging.files import check_size
from prolotrack.imaging.forms import FeasibilityForm, StudyForm, UploadForm
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.serve import file_response
from prolotrack.patients.models import Patient
from prolotrack.patients.queries import patient_or_404


def _study_or_404(request: ClinicRequest, patient: Patient, study_uuid: Any) -> ImagingStudy:
    try:
        return queries.get_study(request.clinic, study_uuid, patient)
    except ImagingStudy.DoesNotExist:
        raise Http404("No such imaging study for this patient.") from None


def _file_or_404(request: ClinicRequest, file_uuid: Any, study: ImagingStudy | None = None) -> ImagingFile:
    try:
        file = queries.get_file(request.clinic, file_uuid)
    except ImagingFile.DoesNotExist:
        raise Http404("No such image in this clinic.") from None
    if study is not None and file.study_id != study.pk:
        raise Http404("No such image on this study.")
    return file


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_http_methods(["GET", "POST"])
def study_new(request: ClinicRequest, patient_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    today = services.clinic_today(request.clinic)
    form = StudyForm(request.POST if request.method == "POST" else None, today=today, initial={"study_date": today})
    if request.method == "POST" and form.is_valid():
        try:
            study = services.create_study(actor_for(request), patient, form.changes())
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Imaging study added. Attach the images below.")
            return redirect("imaging:study", patient_uuid=patient.uuid, study_uuid=study.uuid)
    return render(
        request,
        "imaging/study_form.html",
        {"patient": patient, "form": form, "title": "Add imaging"},
        status=400 if form.errors else 200,
    )


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_http_methods(["GET", "POST"])
def study_edit(request: ClinicRequest, patient_uuid: Any, study_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    study = _study_or_404(request, patient, study_uuid)
    if study.is_entered_in_error:
        messages.error(request, "This study was marked entered in error and cannot be edited.")
        return redirect("imaging:study", patient_uuid=patient.uuid, study_uuid=study.uuid)
    today = services.clinic_today(request.clinic)
    form = StudyForm(request.POST if request.method == "POST" else None, instance=form_copy(study), today=today)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_study(
                actor_for(request),
                study,
                form.changes(),
                expected_version=form.cleaned_data["version"],
                reason=form.cleaned_data.get("change_reason", ""),
            )
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Study saved as a new version.")
            return redirect("imaging:study", patient_uuid=patient.uuid, study_uuid=study.uuid)
    return render(
        request,
        "imaging/study_form.html",
        {"patient": patient, "form": form, "study": study, "title": "Edit imaging study"},
        status=400 if form.errors else 200,
    )


def _study_page(
    request: HttpRequest,
    patient: Patient,
    study: ImagingStudy,
    *,
    upload_form: UploadForm | None = None,
    feasibility_form: FeasibilityForm | None = None,
    status: int = 200,
) -> HttpResponse:
    files = queries.study_files(study)
    rows = queries.finding_rows(study.findings)
    decided = {"feasibility": study.feasibility, "feasibility_reason": study.feasibility_reason}
    context = {
        "patient": patient,
        "study": study,
        "findings": rows,
        "concerns": [r for r in rows if r.concern],
        "files": [{"file": f, "notes": queries.file_notes(study, f)} for f in files if not f.is_entered_in_error],
        "retired_files": [f for f in files if f.is_entered_in_error],
        "upload_form": upload_form or UploadForm(),
        "feasibility_form": feasibility_form
        or FeasibilityForm(initial={"version": study.version, **(decided if study.feasibility else {})}),
        "can_decide": can(request, Permission.IMAGING_DECIDE),
    }
    return render(request, "imaging/study_detail.html", context, status=status)


@require(Permission.PATIENT_VIEW_CLINICAL)
def study_detail(request: ClinicRequest, patient_uuid: Any, study_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    study = _study_or_404(request, patient, study_uuid)
    record_read(actor_for(request), "imaging.study.viewed", record=study, patient_uuid=patient.uuid)
    return _study_page(request, patient, study)


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_POST
def file_upload(request: ClinicRequest, patient_uuid: Any, study_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    study = _study_or_404(request, patient, study_uuid)
    form = UploadForm(request.POST, request.FILES)
    if form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            check_size(upload.size)  # before reading the upload into memory
            attached = services.attach_file(actor_for(request), study, upload.read(), upload.name or "")
        except ServiceError as error:  # FileRefused included: the message says what is wrong with the file
            form.add_error("file", str(error))
        else:
            name = attached.original_name or "The image"
            note = ""
            if attached.kind == "png" and name.lower().endswith((".dcm", ".dicom")):
                note = " Its name says DICOM, but it is a PNG image: it was stored as PNG."
            messages.success(request, f"{name} attached ({attached.get_kind_display()}).{note}")
            return redirect(f"/patients/{patient.uuid}/imaging/{study.uuid}/#images")
    return _study_page(request, patient, study, upload_form=form, status=400)


@require(Permission.PATIENT_EDIT_CLINICAL)
@require_POST
def feasibility(request: ClinicRequest, patient_uuid: Any, study_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    study = _study_or_404(request, patient, study_uuid)
    if not can(request, Permission.IMAGING_DECIDE):
        raise PermissionDenied("Only a clinician records whether the procedure is feasible.")
    form = FeasibilityForm(request.POST)
    if form.is_valid():
        try:
            services.record_feasibility(
                actor_for(request),
                study,
                form.cleaned_data["feasibility"],
                form.cleaned_data["feasibility_reason"],
                expected_version=form.cleaned_data["version"],
            )
        except AccessDenied as error:
            raise PermissionDenied(str(error)) from None
        except (ValidationError, ServiceError) as error:
            apply_errors(form, error)
        else:
            messages.success(request, "Feasibility decision recorded with your reason.")
            return redirect(f"/patients/{patient.uuid}/imaging/{study.uuid}/#feasibility")
    study = _study_or_404(request, patient, study_uuid)
    return _study_page(request, patient, study, feasibility_form=form, status=400)


@require(Permission.RECORD_MARK_ERROR)
@require_http_methods(["GET", "POST"])
def study_retire(request: ClinicRequest, patient_uuid: Any, study_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    study = _study_or_404(request, patient, study_uuid)
    study_url = reverse("imaging:study", args=[patient.uuid, study.uuid])

    def retire(reason: str, version: int) -> Any:
        return services.retire_study(actor_for(request), study, reason=reason, expected_version=version)

    def page() -> entered_in_error.Page:
        images = _count(study.files.filter(entered_in_error_at__isnull=True).count(), "image")
        return entered_in_error.Page(
            what="imaging study", describe=str(study), back_url=study_url, patient=patient,
            crumbs=[(study_url, str(study))], changes=[f"Its {images} stay with it."],
            keeps=["To correct a detail, edit the study instead."],
        )  # fmt: skip

    return entered_in_error.flow(
        request, study, retire, done_url=reverse("patients:chart", args=[patient.uuid]),
        done="Study marked entered in error. It stays on the chart, struck through.", page=page,
    )  # fmt: skip


@require(Permission.RECORD_MARK_ERROR)
@require_http_methods(["GET", "POST"])
def file_retire(request: ClinicRequest, patient_uuid: Any, study_uuid: Any, file_uuid: Any) -> HttpResponse:
    patient = patient_or_404(request, patient_uuid)
    study = _study_or_404(request, patient, study_uuid)
    file = _file_or_404(request, file_uuid, study)
    study_url = reverse("imaging:study", args=[patient.uuid, study.uuid])

    def retire(reason: str, version: int) -> Any:
        return services.retire_file(actor_for(request), file, reason=reason, expected_version=version)

    def page() -> entered_in_error.Page:
        added = clinictime.format_time(file.created_at, patient.clinic)
        return entered_in_error.Page(
            what="image",
            describe=f"{file.original_name or 'Image'} ({file.get_kind_display()}, added {added})",
            back_url=study_url,
            patient=patient,
            crumbs=[(study_url, str(study))],
            keeps=["The stored file is kept."],
        )

    return entered_in_error.flow(
        request, file, retire, done_url=study_url,
        done="Image marked entered in error. The file is kept and listed with your reason.", page=page,
    )  # fmt: skip


def _count(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


@require(Permission.PATIENT_VIEW_CLINICAL)
def file_view(request: ClinicRequest, file_uuid: Any) -> HttpResponseBase:
    """The image itself (a DICOM's PNG preview), for the study page and full-size viewing."""
    file = _file_or_404(request, file_uuid)
    record_read(actor_for(request), "imaging.file.viewed", record=file, patient_uuid=file.patient.uuid)
    return file_response(file, actor=actor_for(request))


@require(Permission.PATIENT_VIEW_CLINICAL)
def file_original(request: ClinicRequest, file_uuid: Any) -> HttpResponseBase:
    """The stored file exactly as uploaded (a DICOM downloads; it may carry identifiers from its source system)."""
    file = _file_or_404(request, file_uuid)
    record_read(actor_for(request), "imaging.file.downloaded", record=file, patient_uuid=file.patient.uuid)
    return file_response(file, original=True, actor=actor_for(request))
