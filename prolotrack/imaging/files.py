"""Checking an uploaded image file and rendering DICOM pixel data to a PNG preview.

Nothing here writes: `inspect_upload` either returns what the file is (and, for DICOM, the preview's bytes) or
raises FileRefused with a message for the person who attached it. The service stores only what passed.

Rules (docs/IMAGING.md):
- not empty, not over the size limit (setting PROLOTRACK_MAX_UPLOAD_MB, default 20);
- the type comes from the content, never from the name: PNG signature, JPEG start-of-image, or DICOM's "DICM"
  at offset 128; anything else is refused, naming what it looks like (PDF, GIF, ZIP...);
- then it must parse: Pillow verifies and fully decodes PNG and JPEG (which catches a truncated file),
  pydicom reads DICOM and its pixel data must decode into an image.
"""

import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pydicom
from django.conf import settings
from PIL import Image, UnidentifiedImageError

from prolotrack.audit.services import ServiceError

MB = 1024 * 1024
DEFAULT_MAX_UPLOAD_MB = 20
# A decoded image larger than this many pixels is refused (Pillow's own bomb guard is at about 179 million).
MAX_PIXELS = 60_000_000

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
JPEG_SOI = b"\xff\xd8\xff"
DICOM_MAGIC_OFFSET = 128
ACCEPTED = "attach PNG, JPEG or DICOM images"

# What a refused file looks like, by its first bytes, so the message can name it.
OTHER_SIGNATURES: tuple[tuple[int, bytes, str], ...] = (
    (0, b"%PDF", "a PDF"),
    (0, b"GIF8", "a GIF image"),
    (0, b"PK\x03\x04", "a ZIP archive (or a Word, Excel or PowerPoint document)"),
    (0, b"II*\x00", "a TIFF image"),
    (0, b"MM\x00*", "a TIFF image"),
    (0, b"BM", "a BMP image"),
    (0, b"<svg", "an SVG drawing"),
    (0, b"<?xml", "an XML document"),
    (0, b"<!DOCTYPE", "a web page"),
    (0, b"<html", "a web page"),
    (0, b"\xd0\xcf\x11\xe0", "an old Microsoft Office document"),
    (0, b"{\\rtf", "an RTF document"),
)


class FileRefused(ServiceError):
    """An upload that is not a readable PNG, JPEG or DICOM image, or is empty or too large."""

    code = "file_refused"
    status = 422


class FileTooLarge(FileRefused):
    code = "file_too_large"
    status = 413


@dataclass(frozen=True)
class Inspected:
    kind: str  # models.FileKind value
    width: int
    height: int
    preview_png: bytes | None = None
    dicom_tags: dict[str, Any] = field(default_factory=dict)


def max_upload_bytes() -> int:
    return int(getattr(settings, "PROLOTRACK_MAX_UPLOAD_MB", DEFAULT_MAX_UPLOAD_MB)) * MB


def megabytes(size: int) -> str:
    """34 MB, 20.1 MB: rounded up to a tenth, so a file just over the limit never reads as the limit."""
    value = math.ceil(size * 10 / MB) / 10
    return f"{value:.1f}".removesuffix(".0") + " MB"


def check_size(size: int) -> None:
    """FileTooLarge when a file of this many bytes is over the limit (callers check before reading a big upload)."""
    limit = max_upload_bytes()
    if size > limit:
        raise FileTooLarge(f"The file is {megabytes(size)}; the limit is {megabytes(limit)}.")


def detect_kind(head: bytes) -> str | None:
    """png, jpeg or dicom from the first bytes (at least 132 when there are that many), else None."""
    if head.startswith(PNG_SIGNATURE):
        return "png"
    if head.startswith(JPEG_SOI):
        return "jpeg"
    if head[DICOM_MAGIC_OFFSET : DICOM_MAGIC_OFFSET + 4] == b"DICM":
        return "dicom"
    return None


def describe_other(head: bytes) -> str:
    stripped = head.lstrip()
    for offset, signature, what in OTHER_SIGNATURES:
        probe = stripped if signature.startswith(b"<") else head
        if probe[offset:].lower().startswith(signature.lower()):
            return what
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        return "a HEIC photo" if brand in (b"heic", b"heix", b"mif1", b"msf1") else "a video or HEIC file"
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return "a WebP image"
    return "not a PNG, JPEG or DICOM image"


def inspect_upload(data: bytes, name: str = "") -> Inspected:
    """What this upload is, or FileRefused with a message that says what to do."""
    size = len(data)
    if size == 0:
        raise FileRefused(f"The file{_named(name)} is empty (0 bytes); {ACCEPTED}.")
    check_size(size)
    kind = detect_kind(data[:132])
    if kind is None:
        raise FileRefused(f"This file is {describe_other(data[:64])}; {ACCEPTED}.")
    if kind == "dicom":
        return _inspect_dicom(data)
    return _inspect_picture(data, kind)


def _named(name: str) -> str:
    return f" '{name[:80]}'" if name else ""


def _inspect_picture(data: bytes, kind: str) -> Inspected:
    label = kind.upper()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                probe.verify()
            # verify() does not decode the pixels; load() does, and refuses a truncated file.
            with Image.open(io.BytesIO(data)) as image:
                width, height = image.size
                if width * height > MAX_PIXELS:
                    raise FileRefused(_too_many_pixels(width, height))
                image.load()
    except FileRefused:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise FileRefused(f"This {label} image is too large to open safely; export it at a smaller size.") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError) as error:
        raise FileRefused(
            f"This file starts like a {label} image but cannot be read ({_short(error)}): it may be truncated or "
            "damaged. Export or copy it again and attach the new file."
        ) from None
    return Inspected(kind=kind, width=width, height=height)


def _too_many_pixels(width: int, height: int) -> str:
    return f"The image is {width} × {height} pixels, more than ProloTrack opens safely; export it at a smaller size."


def _short(error: BaseException) -> str:
    text = str(error).strip() or type(error).__name__
    return text[:120]


# --- DICOM ---------------------------------------------------------------------------------------------------

# Technical tags shown on the study page. Deliberately none that identify a person (PatientName, PatientID,
# PatientBirthDate, OtherPatientIDs, InstitutionName, ReferringPhysicianName, AccessionNumber...): the file may come
# from another system about another patient, and nothing read from it must pass for our patient's identity.
SHOWN_TAGS = (
    ("Modality", "modality"),
    ("StudyDate", "study_date"),
    ("BodyPartExamined", "body_part"),
    ("Laterality", "laterality"),
    ("ImageLaterality", "image_laterality"),
    ("PhotometricInterpretation", "photometric"),
    ("BitsStored", "bits_stored"),
    ("Rows", "rows"),
    ("Columns", "columns"),
    ("NumberOfFrames", "frames"),
)


def _inspect_dicom(data: bytes) -> Inspected:
    try:
        with warnings.catch_warnings():
            # pydicom warns and carries on over oddities; what matters is whether it parses and decodes.
            warnings.simplefilter("ignore")
            dataset = pydicom.dcmread(io.BytesIO(data))
    except Exception as error:  # pydicom raises many kinds of error on malformed input; none may become a 500
        raise FileRefused(
            f"This DICOM file cannot be read ({_short(error)}); export it again from the imaging system."
        ) from None
    if "PixelData" not in dataset:
        raise FileRefused(
            "This DICOM file holds no image (no pixel data: it may be a report or a directory); "
            "attach a file of the image series."
        )
    rows, columns = _int(dataset.get("Rows", 0)), _int(dataset.get("Columns", 0))
    frames = _int(dataset.get("NumberOfFrames", 1)) or 1
    if rows * columns * frames > MAX_PIXELS * 2 or rows * columns > MAX_PIXELS:
        raise FileRefused(_too_many_pixels(columns, rows))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pixels = dataset.pixel_array
    except Exception as error:
        syntax = getattr(getattr(dataset, "file_meta", None), "TransferSyntaxUID", None)
        syntax_name = getattr(syntax, "name", "") or str(syntax or "unknown")
        raise FileRefused(
            f"The image inside this DICOM file cannot be decoded (transfer syntax: {syntax_name}; {_short(error)}). "
            "Export it uncompressed (Explicit VR Little Endian) and attach it again."
        ) from None
    try:
        image = dicom_image(dataset, pixels)
    except (ValueError, TypeError, KeyError, AttributeError) as error:
        raise FileRefused(f"The image inside this DICOM file cannot be shown ({_short(error)}).") from None
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    return Inspected(
        kind="dicom", width=image.width, height=image.height, preview_png=out.getvalue(), dicom_tags=_tags(dataset)
    )


def _int(value: Any) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return 0


def _first_float(value: Any) -> float | None:
    """The first value of a DS tag that may hold several (pydicom MultiValue), or None."""
    if value is None or value == "":
        return None
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        if not value:
            return None
        value = value[0]
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _tags(dataset: Any) -> dict[str, Any]:
    tags: dict[str, Any] = {}
    for keyword, key in SHOWN_TAGS:
        value = dataset.get(keyword)
        if value is None or value == "":
            continue
        text = str(value).strip()
        if keyword == "StudyDate" and len(text) == 8 and text.isdigit():
            text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
        tags[key] = text[:64]
    center, width = _first_float(dataset.get("WindowCenter")), _first_float(dataset.get("WindowWidth"))
    tags["windowed"] = bool(center is not None and width is not None and width > 0)
    return tags


def window_to_8bit(values: np.ndarray, center: float | None, width: float | None) -> np.ndarray:
    """Map modality values to 0-255.

    With a window: the linear VOI function of DICOM PS3.3 C.11.2.1.2.1 (values at or below
    center - 0.5 - (width - 1)/2 go black, above center - 0.5 + (width - 1)/2 white, linear between); a width of 1
    is a threshold at the center. Without one: the image's own minimum to maximum.
    """
    values = values.astype(np.float64)
    if center is not None and width is not None and width > 0:
        if width <= 1:
            scaled = np.where(values <= center - 0.5, 0.0, 255.0)
        else:
            scaled = ((values - (center - 0.5)) / (width - 1) + 0.5) * 255.0
    else:
        low, high = float(values.min()), float(values.max())
        scaled = (values - low) / (high - low) * 255.0 if high > low else np.zeros_like(values)
    return np.clip(np.rint(scaled), 0, 255).astype(np.uint8)


def dicom_image(dataset: Any, pixels: np.ndarray) -> Image.Image:
    """An 8-bit Pillow image of the first frame: rescaled, windowed, MONOCHROME1 inverted."""
    samples = _int(dataset.get("SamplesPerPixel", 1)) or 1
    frames = _int(dataset.get("NumberOfFrames", 1)) or 1
    frame = pixels[0] if frames > 1 else pixels
    photometric = str(dataset.get("PhotometricInterpretation", "MONOCHROME2")).strip().upper()
    if samples == 1:
        if frame.ndim != 2:
            raise ValueError(f"unexpected pixel array shape {frame.shape}")
        slope = _first_float(dataset.get("RescaleSlope"))
        intercept = _first_float(dataset.get("RescaleIntercept"))
        values = frame.astype(np.float64) * (1.0 if slope is None else slope) + (intercept or 0.0)
        gray = window_to_8bit(
            values, _first_float(dataset.get("WindowCenter")), _first_float(dataset.get("WindowWidth"))
        )
        if photometric == "MONOCHROME1":
            # MONOCHROME1: the lowest value is white (PS3.3 C.7.6.3.1.2); invert so it displays as intended.
            gray = 255 - gray
        return Image.fromarray(gray, mode="L")
    if frame.ndim != 3 or frame.shape[-1] != 3:
        raise ValueError(f"unexpected colour pixel array shape {frame.shape}")
    # pydicom converts YBR colour to RGB when it decodes pixel data; scale anything wider than 8 bits.
    if frame.dtype != np.uint8:
        frame = window_to_8bit(frame, None, None)
    return Image.fromarray(np.ascontiguousarray(frame), mode="RGB")
