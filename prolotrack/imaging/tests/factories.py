"""Real test files, made in the tests: PNG and JPEG with Pillow, DICOM with pydicom, and byte strings that are not images."""

import io
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from PIL import Image
from pydicom.dataset import FileDataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid

# Identifiers written into test DICOM files: they must never reach a page, the API or the database.
DICOM_PATIENT_NAME = "Sourcesystem^Otherperson"
DICOM_PATIENT_ID = "EXT-998877"


def png_bytes(size: tuple[int, int] = (64, 48), colour: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format="PNG")
    return out.getvalue()


def jpeg_bytes(size: tuple[int, int] = (80, 60)) -> bytes:
    out = io.BytesIO()
    gradient = np.tile(np.linspace(0, 255, size[0], dtype=np.uint8), (size[1], 1))
    Image.fromarray(gradient, mode="L").convert("RGB").save(out, format="JPEG", quality=90)
    return out.getvalue()


def dicom_dataset(
    pixels: np.ndarray | None = None,
    *,
    photometric: str = "MONOCHROME2",
    slope: float | None = 1.0,
    intercept: float | None = -1024.0,
    center: float | None = 40.0,
    width: float | None = 400.0,
    modality: str = "US",
    study_date: str = "20250301",
    frames: int | None = None,
) -> FileDataset:
    """A 16-bit grey DICOM image with file meta, rescale and window tags, and identifiers from 'another system'."""
    if pixels is None:
        pixels = (np.arange(64 * 64, dtype=np.uint16).reshape(64, 64) % 4096).astype(np.uint16)
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("test.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID = meta.MediaStorageSOPClassUID
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.PatientName = DICOM_PATIENT_NAME
    ds.PatientID = DICOM_PATIENT_ID
    ds.Modality = modality
    ds.StudyDate = study_date
    ds.BodyPartExamined = "KNEE"
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = photometric
    shape = pixels.shape[-2:]
    ds.Rows, ds.Columns = int(shape[0]), int(shape[1])
    if frames is not None:
        ds.NumberOfFrames = frames
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    if slope is not None:
        ds.RescaleSlope = slope
    if intercept is not None:
        ds.RescaleIntercept = intercept
    if center is not None:
        ds.WindowCenter = center
    if width is not None:
        ds.WindowWidth = width
    ds.PixelData = pixels.astype("<u2").tobytes()
    return ds


def dicom_bytes(**kwargs: Any) -> bytes:
    out = io.BytesIO()
    dicom_dataset(**kwargs).save_as(out, enforce_file_format=True)
    return out.getvalue()


def pdf_bytes() -> bytes:
    return b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"


STUDY_VALUES = {
    "modality": "ultrasound",
    "study_date": date(2025, 3, 1),
    "body_region": "knee",
    "laterality": "left",
    "findings": ["knee.effusion", "knee.enthesopathy"],
    "report": "Small suprapatellar effusion. Thickened MCL femoral origin.",
}


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
