"""Sending a stored image to a browser or an API client, with headers that stop it being taken for anything else."""

import logging

from django.http import FileResponse, Http404

from prolotrack.audit.services import ServiceError
from prolotrack.imaging.models import FileKind, ImagingFile
from prolotrack.imaging.services import media_path

logger = logging.getLogger(__name__)

EXTENSIONS = {FileKind.PNG: "png", FileKind.JPEG: "jpg", FileKind.DICOM: "dcm"}


def file_response(file: ImagingFile, *, original: bool = False) -> FileResponse:
    """The image a browser can show (a DICOM's PNG preview), or with original=True the stored file as uploaded.

    Inline for what a browser displays, attachment for a DICOM original. The name sent is built from the record,
    never the uploader's file name. Access checks and the audit row are the caller's.
    """
    relative = file.stored_path if original else file.display_path
    content_type = file.content_type if original else file.display_content_type
    try:
        path = media_path(relative)
        handle = open(path, "rb")  # noqa: SIM115 - FileResponse closes it
    except (OSError, ServiceError):
        logger.error("Stored image %s is missing or unreadable at %s", file.uuid, relative)
        raise Http404("The stored image cannot be found; tell the clinic administrator.") from None
    as_download = original and file.kind == FileKind.DICOM
    extension = (
        EXTENSIONS[FileKind(file.kind)]
        if original
        else ("png" if file.preview_path else EXTENSIONS[FileKind(file.kind)])
    )
    response = FileResponse(
        handle, content_type=content_type, as_attachment=as_download, filename=f"{file.uuid}.{extension}"
    )
    response["X-Content-Type-Options"] = "nosniff"
    # The body is an image, never a page: no scripts, no frames, even if opened directly.
    response["Content-Security-Policy"] = "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'; sandbox"
    # Patient images stay out of shared caches and off the disk cache of a shared workstation.
    response["Cache-Control"] = "private, no-store"
    return response
