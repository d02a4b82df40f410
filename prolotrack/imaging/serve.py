"""Sending a stored image to a browser or an API client, with headers that stop it being taken for anything else."""

import io
import logging
from typing import Any

from django.http import FileResponse, Http404, HttpResponse

from prolotrack.audit.integrity import IntegrityMismatch, verified
from prolotrack.audit.services import Actor
from prolotrack.core import filestore
from prolotrack.imaging.models import FileKind, ImagingFile

logger = logging.getLogger(__name__)

EXTENSIONS = {FileKind.PNG: "png", FileKind.JPEG: "jpg", FileKind.DICOM: "dcm"}


def file_response(
    file: ImagingFile, *, original: bool = False, actor: Actor | None = None
) -> HttpResponse | FileResponse:
    """The image a browser can show (a DICOM's PNG preview), or with original=True the stored file as uploaded.

    Inline for what a browser displays, attachment for a DICOM original. The name sent is built from the record,
    never the uploader's file name. Access checks and the audit row are the caller's.
    """
    relative = file.stored_path if original else file.display_path
    content_type = file.content_type if original else file.display_content_type
    try:
        handle: Any = filestore.open_stored(relative)  # FileResponse closes it
    except (OSError, filestore.StoreError):
        logger.error("Stored image %s is missing or unreadable at %s", file.uuid, relative)
        raise Http404("The stored image cannot be found; tell the clinic administrator.") from None
    if relative == file.stored_path:
        # The file as uploaded has its SHA-256 on the record: checked on every serve (docs/DOCUMENTS.md).
        with handle:
            data = handle.read()
        try:
            verified(data, file.sha256, actor=actor or Actor.system(file.clinic), record=file, what="image")
        except IntegrityMismatch as error:
            return HttpResponse(str(error), status=409, content_type="text/plain; charset=utf-8")
        handle = io.BytesIO(data)
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
