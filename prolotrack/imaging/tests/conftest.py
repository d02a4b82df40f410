"""Imaging fixtures: a study of the shared patient, and files attached to it through the service."""

from collections.abc import Callable
from typing import Any

import pytest

from prolotrack.clinics.models import User
from prolotrack.clinics.testing import actor_of
from prolotrack.imaging import services
from prolotrack.imaging.models import ImagingFile, ImagingStudy
from prolotrack.imaging.tests.factories import STUDY_VALUES, dicom_bytes, png_bytes
from prolotrack.patients.models import Patient


@pytest.fixture
def make_study(clinician: User) -> Callable[..., ImagingStudy]:
    def make(patient: Patient, by: User | None = None, **changes: Any) -> ImagingStudy:
        values = {**STUDY_VALUES, **changes}
        return services.create_study(actor_of(by or clinician), patient, values)

    return make


@pytest.fixture
def study(make_study: Callable[..., ImagingStudy], patient: Patient) -> ImagingStudy:
    return make_study(patient)


@pytest.fixture
def attach(clinician: User) -> Callable[..., ImagingFile]:
    def do(study: ImagingStudy, data: bytes, name: str = "image.png", by: User | None = None) -> ImagingFile:
        return services.attach_file(actor_of(by or clinician), study, data, name)

    return do


@pytest.fixture
def png_file(attach: Callable[..., ImagingFile], study: ImagingStudy) -> ImagingFile:
    return attach(study, png_bytes(), "knee-us.png")


@pytest.fixture
def dicom_file(attach: Callable[..., ImagingFile], study: ImagingStudy) -> ImagingFile:
    return attach(study, dicom_bytes(), "IM0001.dcm")
