"""What an upload is, from its content, and how DICOM pixel data becomes an 8-bit preview (no database)."""

import io

import numpy as np
import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st
from PIL import Image

from prolotrack.imaging.files import FileRefused, FileTooLarge, inspect_upload, megabytes, window_to_8bit
from prolotrack.imaging.tests.factories import (
    DICOM_PATIENT_ID,
    DICOM_PATIENT_NAME,
    dicom_bytes,
    jpeg_bytes,
    pdf_bytes,
    png_bytes,
)

MB = 1024 * 1024


def preview_pixels(data: bytes) -> np.ndarray:
    inspected = inspect_upload(data, "x.dcm")
    assert inspected.kind == "dicom"
    assert inspected.preview_png is not None and inspected.preview_png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(inspected.preview_png)) as image:
        assert image.mode == "L"
        return np.array(image)


def test_a_png_is_accepted_with_its_size():
    inspected = inspect_upload(png_bytes((64, 48)), "knee.png")
    assert (inspected.kind, inspected.width, inspected.height, inspected.preview_png) == ("png", 64, 48, None)


def test_a_jpeg_is_accepted():
    inspected = inspect_upload(jpeg_bytes((80, 60)), "photo.jpg")
    assert (inspected.kind, inspected.width, inspected.height) == ("jpeg", 80, 60)


def test_the_type_comes_from_the_content_not_the_name():
    assert inspect_upload(png_bytes(), "IM0001.dcm").kind == "png"
    assert inspect_upload(dicom_bytes(), "picture.png").kind == "dicom"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (pdf_bytes(), "This file is a PDF; attach PNG, JPEG or DICOM images."),
        (b"GIF89a" + b"\0" * 40, "This file is a GIF image; attach PNG, JPEG or DICOM images."),
        (b"PK\x03\x04" + b"\0" * 40, "This file is a ZIP archive (or a Word, Excel or PowerPoint document); attach"),
        (b"  <svg xmlns='http://www.w3.org/2000/svg'></svg>", "This file is an SVG drawing; attach"),
        (b"hello, this is a text file", "This file is not a PNG, JPEG or DICOM image; attach PNG, JPEG or DICOM"),
    ],
    ids=["pdf", "gif", "zip", "svg", "text"],
)
def test_other_kinds_of_file_are_refused_by_name(data, message):
    with pytest.raises(FileRefused) as refused:
        inspect_upload(data, "scan.png")
    assert str(refused.value).startswith(message)


def test_an_empty_file_is_refused():
    with pytest.raises(FileRefused, match=r"^The file 'empty.png' is empty \(0 bytes\); attach PNG, JPEG or DICOM"):
        inspect_upload(b"", "empty.png")


def test_a_truncated_png_is_refused_as_damaged():
    data = png_bytes((200, 200))
    with pytest.raises(FileRefused, match=r"starts like a PNG image but cannot be read .* truncated or damaged"):
        inspect_upload(data[: len(data) // 2], "cut.png")


def test_a_truncated_jpeg_is_refused_as_damaged():
    data = jpeg_bytes((300, 300))
    with pytest.raises(FileRefused, match="starts like a JPEG image but cannot be read"):
        inspect_upload(data[: len(data) // 3], "cut.jpg")


def test_a_file_with_the_dicom_marker_that_does_not_parse_is_refused():
    with pytest.raises(FileRefused, match=r"DICOM file cannot be read|holds no image"):
        inspect_upload(b"\0" * 128 + b"DICM" + b"\x02\x00garbage" * 5, "bad.dcm")


def test_a_dicom_without_pixel_data_is_refused():
    from prolotrack.imaging.tests.factories import dicom_dataset

    ds = dicom_dataset()
    del ds.PixelData
    out = io.BytesIO()
    ds.save_as(out, enforce_file_format=True)
    with pytest.raises(FileRefused, match="holds no image"):
        inspect_upload(out.getvalue(), "report.dcm")


@override_settings(PROLOTRACK_MAX_UPLOAD_MB=1)
def test_a_file_over_the_limit_is_refused_with_both_sizes():
    with pytest.raises(FileTooLarge) as refused:
        inspect_upload(b"\x89PNG\r\n\x1a\n" + b"\0" * (3 * MB - 8), "big.png")
    assert str(refused.value) == "The file is 3 MB; the limit is 1 MB."


def test_the_default_limit_is_20_mb():
    with pytest.raises(FileTooLarge, match=r"^The file is 34 MB; the limit is 20 MB\.$"):
        inspect_upload(b"%PDF" + b"\0" * (34 * MB - 4), "huge.pdf")


@pytest.mark.parametrize(
    ("size", "text"), [(34 * MB, "34 MB"), (20 * MB + 1, "20.1 MB"), (MB // 2, "0.5 MB"), (1, "0.1 MB")]
)
def test_sizes_are_rounded_up_so_just_over_never_reads_as_the_limit(size, text):
    assert megabytes(size) == text


# --- DICOM preview -------------------------------------------------------------------------------------------

# Raw values; with intercept -1024 they are -1024, -160, 16, 140, 240, 2976 in modality units.
RAW = np.array([[0, 864, 1040], [1164, 1264, 4000]], dtype=np.uint16)
# Window centre 40, width 400 (PS3.3 C.11.2.1.2.1): at or below -160 black, above 239 white, linear between.
WINDOWED = np.array([[0, 0, 112], [192, 255, 255]], dtype=np.uint8)


def test_rescale_and_window_map_values_as_the_standard_says():
    assert np.array_equal(preview_pixels(dicom_bytes(pixels=RAW)), WINDOWED)


def test_monochrome1_is_inverted():
    pixels = preview_pixels(dicom_bytes(pixels=RAW, photometric="MONOCHROME1"))
    assert np.array_equal(pixels, 255 - WINDOWED)
    assert pixels[0, 0] == 255  # the lowest value shows white in MONOCHROME1


def test_without_a_window_the_full_range_is_used():
    pixels = preview_pixels(dicom_bytes(pixels=RAW, center=None, width=None))
    assert pixels.min() == 0 and pixels.max() == 255
    assert pixels[0, 0] == 0 and pixels[1, 2] == 255
    assert pixels[0, 1] == round(864 / 4000 * 255)


def test_the_rescale_slope_is_applied_before_the_window():
    # Slope 2: raw 600 -> 1200 - 1024 = 176 -> ((176 - 39.5) / 399 + 0.5) * 255 = 214.7 -> 215.
    pixels = preview_pixels(dicom_bytes(pixels=np.array([[600, 0]], dtype=np.uint16), slope=2.0))
    assert pixels[0, 0] == 215


def test_a_flat_image_without_a_window_is_black_not_an_error():
    pixels = preview_pixels(dicom_bytes(pixels=np.full((4, 4), 700, dtype=np.uint16), center=None, width=None))
    assert not pixels.any()


def test_only_the_first_frame_of_a_multi_frame_file_is_shown():
    frames = np.stack([np.zeros((8, 8), dtype=np.uint16), np.full((8, 8), 4000, dtype=np.uint16)])
    frames[0, 0, 0] = 4000
    pixels = preview_pixels(dicom_bytes(pixels=frames, frames=2, center=None, width=None))
    assert pixels.shape == (8, 8)
    assert pixels[0, 0] == 255 and pixels[1:, :].max() == 0


def test_a_window_width_of_one_is_a_threshold():
    values = np.array([[9.0, 9.5, 10.0, 11.0]])
    assert window_to_8bit(values, 10.0, 1.0).tolist() == [[0, 0, 255, 255]]


def test_dicom_tags_kept_are_technical_never_the_patients_identity():
    inspected = inspect_upload(dicom_bytes(), "IM0001.dcm")
    assert inspected.dicom_tags["modality"] == "US"
    assert inspected.dicom_tags["study_date"] == "2025-03-01"
    assert inspected.dicom_tags["body_part"] == "KNEE"
    assert inspected.dicom_tags["windowed"] is True
    flat = repr(inspected.dicom_tags)
    assert DICOM_PATIENT_NAME.split("^")[0] not in flat and DICOM_PATIENT_ID not in flat
    # The preview is pixels only: no text chunks carrying the DICOM header along.
    assert b"Sourcesystem" not in inspected.preview_png and b"EXT-998877" not in inspected.preview_png


# --- Never a crash -------------------------------------------------------------------------------------------

PREFIXES = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"\0" * 128 + b"DICM"]


@settings(max_examples=150, deadline=None)
@given(prefix=st.sampled_from(PREFIXES), tail=st.binary(max_size=2048))
def test_any_bytes_are_either_accepted_or_refused_with_a_message(prefix, tail):
    try:
        inspected = inspect_upload(prefix + tail, "fuzz.bin")
    except FileRefused as refused:
        assert str(refused).endswith((".", ")")) and len(str(refused)) > 20
    else:
        assert inspected.kind in ("png", "jpeg", "dicom")


def test_a_corrupted_dicom_with_valid_header_is_refused_not_a_crash():
    data = bytearray(dicom_bytes())
    # Cut the pixel data short: the header parses, the pixels do not fit Rows x Columns.
    with pytest.raises(FileRefused, match="DICOM"):
        inspect_upload(bytes(data[: len(data) - 1000]), "short.dcm")


def test_a_truncated_jpeg_is_still_refused_after_a_pdf_was_made(db):
    # WeasyPrint flips Pillow's process-wide LOAD_TRUNCATED_IMAGES on import; the PDF path turns it back off.
    from prolotrack.core.pdf import render_pdf

    render_pdf("documents/print_base.html", {"clinic": {"name": "Alpha"}, "title": "check"})
    data = jpeg_bytes((300, 300))
    with pytest.raises(FileRefused, match="starts like a JPEG image but cannot be read"):
        inspect_upload(data[: len(data) // 3], "cut.jpg")
