"""Imaging services: studies, files accepted or refused (and nothing written when refused), feasibility, history."""

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone

from prolotrack.audit.models import AuditEvent, RecordVersion
from prolotrack.audit.services import AccessDenied, RecordClosedError, ServiceError
from prolotrack.clinics.testing import actor_of
from prolotrack.core import filestore
from prolotrack.core.records import HistoryBypassError
from prolotrack.imaging import services
from prolotrack.imaging.files import FileRefused, FileTooLarge
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.tests.factories import (
    DICOM_PATIENT_ID,
    STUDY_VALUES,
    dicom_bytes,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
    stored_files,
)

MB = 1024 * 1024


# --- Studies -------------------------------------------------------------------------------------------------


def test_a_study_is_stored_versioned_and_audited(study, clinician):
    assert study.version == 1
    assert study.findings == ["knee.effusion", "knee.enthesopathy"]
    assert RecordVersion.objects.filter(record_uuid=study.uuid, version=1).exists()
    event = AuditEvent.objects.get(action="imaging.study.added")
    assert (event.user, event.patient_uuid) == (clinician, study.patient.uuid)


def test_findings_are_kept_in_catalogue_order_without_repeats(make_study, patient):
    study = make_study(patient, findings=["general.calcification", "knee.kl_3", "knee.effusion", "knee.kl_3"])
    assert study.findings == ["general.calcification", "knee.kl_3", "knee.effusion"]


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"findings": ["shoulder.calcific_tendinitis"]}, "findings", "belong to another body region"),
        ({"findings": ["knee.kl_2", "knee.kl_3"]}, "findings", "one Kellgren-Lawrence grade"),
        ({"findings": ["knee.nonsense"]}, "findings", "Unknown finding code"),
        ({"findings": ["general.normal", "knee.effusion"]}, "findings", "cannot be combined"),
        ({"study_date": date(1950, 1, 1)}, "study_date", "before the patient's birth"),
        ({"modality": "pet"}, "modality", "not a valid choice"),
        ({"body_region": "eyebrow"}, "body_region", "not a valid choice"),
    ],
    ids=[
        "finding of another region",
        "two KL grades",
        "unknown code",
        "normal plus finding",
        "before birth",
        "modality",
        "region",
    ],
)
def test_bad_studies_are_refused_and_nothing_is_written(make_study, patient, changes, field, message):
    with pytest.raises(ValidationError) as refused:
        make_study(patient, **changes)
    assert message in " ".join(refused.value.message_dict[field])
    assert not ImagingStudy.objects.exists()


def test_a_study_date_in_the_future_of_the_clinic_is_refused(make_study, patient, clinic):
    tomorrow = timezone.localdate(timezone=clinic.tz) + timedelta(days=1)
    with pytest.raises(ValidationError, match="cannot be in the future"):
        make_study(patient, study_date=tomorrow)
    today = timezone.localdate(timezone=clinic.tz)
    assert make_study(patient, study_date=today).study_date == today


def test_roles_without_edit_clinical_cannot_add_a_study(make_study, patient, frontdesk, admin_user, researcher):
    for user in (frontdesk, admin_user, researcher):
        with pytest.raises(AccessDenied):
            make_study(patient, by=user)


def test_a_study_cannot_be_added_to_another_clinics_patient(make_study, patient, outsider):
    with pytest.raises(AccessDenied):
        make_study(patient, by=outsider)


def test_editing_a_study_keeps_the_earlier_version(study, clinician):
    services.update_study(
        actor_of(clinician), study, {"findings": ["knee.kl_2"]}, expected_version=1, reason="KL grade added"
    )
    study.refresh_from_db()
    assert (study.version, study.findings) == (2, ["knee.kl_2"])
    old = RecordVersion.objects.get(record_uuid=study.uuid, version=1)
    assert old.data["findings"] == STUDY_VALUES["findings"]


def test_studies_cannot_be_saved_or_deleted_outside_the_services(study):
    with pytest.raises(HistoryBypassError):
        study.save()
    with pytest.raises(HistoryBypassError):
        ImagingStudy.objects.all().delete()


# --- Files ---------------------------------------------------------------------------------------------------


def test_a_png_is_stored_once_under_its_sha256(attach, study, clinic):
    data = png_bytes()
    file = attach(study, data, "My Knee (left).png")
    assert file.kind == "png"
    assert file.original_name == "My Knee (left).png"
    assert file.size_bytes == len(data)
    assert file.sha256 == hashlib.sha256(data).hexdigest()
    digest = file.sha256
    assert file.stored_path == f"sha256/{digest[:2]}/{digest[2:4]}/{digest}.png"
    assert "Knee" not in file.stored_path
    assert Path(settings.MEDIA_ROOT, file.stored_path).read_bytes() == data
    assert file.preview_path == ""
    assert stored_files() == [Path(settings.MEDIA_ROOT, file.stored_path)]
    event = AuditEvent.objects.get(action="imaging.file.added")
    assert event.detail["sha256"] == file.sha256


def test_a_jpeg_is_stored(attach, study):
    assert attach(study, jpeg_bytes(), "photo.jpg").kind == "jpeg"


def test_a_dicom_is_stored_with_a_png_preview_and_no_identifiers_in_the_database(attach, study):
    data = dicom_bytes()
    file = attach(study, data, "IM0001.dcm")
    assert file.kind == "dicom"
    assert (file.width, file.height) == (64, 64)
    assert file.stored_path.endswith(f"{file.sha256}.dcm") and file.preview_path.endswith(".png")
    assert Path(settings.MEDIA_ROOT, file.stored_path).read_bytes() == data  # the original, unchanged
    assert Path(settings.MEDIA_ROOT, file.preview_path).read_bytes().startswith(b"\x89PNG")
    for row in RecordVersion.objects.filter(record_uuid=file.uuid):
        assert DICOM_PATIENT_ID not in repr(row.data) and "Sourcesystem" not in repr(row.data)
    assert DICOM_PATIENT_ID not in repr(file.dicom_tags)


def test_a_png_named_dcm_is_stored_as_a_png(attach, study):
    file = attach(study, png_bytes(), "IM0002.dcm")
    assert (file.kind, file.preview_path, file.original_name) == ("png", "", "IM0002.dcm")


def test_a_path_in_the_uploaded_name_is_dropped(attach, study):
    file = attach(study, png_bytes(), "..\\..\\etc/passwd\x00.png")
    assert file.original_name == "passwd.png"
    assert ".." not in file.stored_path


REFUSED = [
    (pdf_bytes(), "report.pdf", FileRefused, "This file is a PDF; attach PNG, JPEG or DICOM images."),
    (b"", "empty.png", FileRefused, "The file 'empty.png' is empty (0 bytes); attach PNG, JPEG or DICOM images."),
    (png_bytes((300, 300))[:200], "cut.png", FileRefused, "This file starts like a PNG image but cannot be read"),
    (b"%PDF" + b"\0" * (2 * MB), "big.pdf", FileTooLarge, "The file is 2.1 MB; the limit is 1 MB."),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * MB - 8), "big.png", FileTooLarge, "The file is 3 MB; the limit is 1 MB."),
]


@pytest.mark.parametrize(
    ("data", "name", "error", "message"), REFUSED, ids=["pdf", "empty", "truncated png", "big pdf", "big png"]
)
@override_settings(PROLOTRACK_MAX_UPLOAD_MB=1)
def test_refused_files_write_nothing(attach, study, data, name, error, message):
    before_events = AuditEvent.objects.count()
    with pytest.raises(error) as refused:
        attach(study, data, name)
    assert str(refused.value).startswith(message)
    assert not ImagingFile.objects.exists()
    assert stored_files() == []
    assert AuditEvent.objects.count() == before_events


def test_the_same_image_twice_on_one_study_is_refused(attach, study):
    attach(study, png_bytes(), "a.png")
    with pytest.raises(FileRefused, match="already attached to this study"):
        attach(study, png_bytes(), "copy of a.png")
    assert ImagingFile.objects.count() == 1


def test_if_the_database_write_fails_no_row_names_the_stored_file_and_a_retry_reuses_it(attach, study, monkeypatch):
    # Files are stored before the row (never a row without its file) and never deleted (a stored file may be shared
    # by another row): a failed write leaves files that nothing names, and the retried upload reuses them.
    real = services.create_record

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    data = dicom_bytes()
    monkeypatch.setattr(services, "create_record", broken)
    with pytest.raises(RuntimeError):
        attach(study, data, "IM.dcm")
    assert not ImagingFile.objects.exists()
    left = stored_files()
    monkeypatch.setattr(services, "create_record", real)
    file = attach(study, data, "IM.dcm")
    assert stored_files() == left
    assert set(left) == {Path(settings.MEDIA_ROOT, file.stored_path), Path(settings.MEDIA_ROOT, file.preview_path)}


def test_if_storing_the_preview_fails_nothing_is_recorded(attach, study, monkeypatch):
    real_put = filestore.put
    calls = []

    def put_then_fail(data, extension):
        calls.append(extension)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_put(data, extension)

    monkeypatch.setattr(filestore, "put", put_then_fail)
    before = AuditEvent.objects.count()
    with pytest.raises(OSError, match="disk full"):
        attach(study, dicom_bytes(), "IM.dcm")
    assert not ImagingFile.objects.exists() and AuditEvent.objects.count() == before


def test_the_same_image_on_two_studies_is_stored_once(attach, study, clinician, clinic):
    other = services.create_study(actor_of(clinician), study.patient, {**STUDY_VALUES, "report": "Second look."})
    first, second = attach(study, png_bytes(), "a.png"), attach(other, png_bytes(), "b.png")
    assert first.stored_path == second.stored_path and first.uuid != second.uuid
    assert len(stored_files()) == 1


def test_front_desk_cannot_attach_files(attach, study, frontdesk):
    with pytest.raises(AccessDenied):
        attach(study, png_bytes(), by=frontdesk)
    assert stored_files() == []


def test_nothing_is_attached_to_a_study_entered_in_error(attach, study, clinician):
    services.retire_study(actor_of(clinician), study, reason="Wrong patient's scan")
    study.refresh_from_db()
    with pytest.raises(ServiceError, match="entered in error"):
        attach(study, png_bytes())


def test_a_file_entered_in_error_keeps_its_bytes_and_row(png_file, clinician):
    services.retire_file(actor_of(clinician), png_file, reason="Image of the other knee")
    png_file.refresh_from_db()
    assert png_file.is_entered_in_error
    assert png_file.entered_in_error_reason == "Other (say why): Image of the other knee"
    assert Path(settings.MEDIA_ROOT, png_file.stored_path).exists()
    with pytest.raises(HistoryBypassError):
        png_file.delete()


def test_a_file_needs_a_reason_to_be_entered_in_error(png_file, clinician):
    with pytest.raises(ServiceError, match="Say why"):
        services.retire_file(actor_of(clinician), png_file, reason="")


# --- Feasibility ---------------------------------------------------------------------------------------------


def test_a_clinician_records_feasibility_with_a_reason(study, clinician):
    services.record_feasibility(
        actor_of(clinician), study, "feasible", "Enthesopathy at MCL origin; no tear.", expected_version=1
    )
    study.refresh_from_db()
    assert (study.feasibility, study.reviewed_by, study.version) == ("feasible", clinician, 2)
    assert study.reviewed_at is not None
    event = AuditEvent.objects.get(action="imaging.feasibility.recorded")
    assert "feasibility" in event.detail["fields"]


@pytest.mark.parametrize("reason", ["", "   ", "ok"])
def test_feasibility_needs_a_reason(study, clinician, reason):
    with pytest.raises(ValidationError) as refused:
        services.record_feasibility(actor_of(clinician), study, "not_feasible", reason, expected_version=1)
    assert "Say why (at least 10 characters)" in refused.value.message_dict["feasibility_reason"][0]
    study.refresh_from_db()
    assert (study.feasibility, study.version) == ("", 1)


def test_feasibility_needs_a_known_decision(study, clinician):
    with pytest.raises(ValidationError, match="Choose feasible"):
        services.record_feasibility(actor_of(clinician), study, "maybe", "A long enough reason", expected_version=1)


@pytest.mark.parametrize("persona", ["colleague", "frontdesk", "admin", "researcher"])
def test_only_a_clinician_decides_feasibility(study, personas, persona):
    with pytest.raises(AccessDenied):
        services.record_feasibility(
            actor_of(personas[persona]), study, "feasible", "Looks fine to me here.", expected_version=1
        )
    study.refresh_from_db()
    assert study.feasibility == ""


def test_a_stale_feasibility_decision_is_refused(study, clinician):
    from prolotrack.audit.services import StaleEditError

    services.record_feasibility(
        actor_of(clinician), study, "uncertain", "Needs MRI to rule out tear.", expected_version=1
    )
    with pytest.raises(StaleEditError):
        services.record_feasibility(
            actor_of(clinician), study, "feasible", "Fine on ultrasound alone.", expected_version=1
        )


def test_no_decision_on_a_study_entered_in_error(study, clinician):
    services.retire_study(actor_of(clinician), study, reason="Duplicate entry")
    with pytest.raises(RecordClosedError):
        services.record_feasibility(
            actor_of(clinician), study, "feasible", "Reason long enough.", expected_version=None
        )
