"""Render a Django template to PDF with WeasyPrint: the one PDF path of the product (consent, handouts, reports).

Templates extend `documents/print_base.html` (A4, page numbers, clinic footer). No network: the URL fetcher allows
only data: URIs, so images are embedded (SVG or base64 PNG) and a stray link cannot make rendering reach out.
"""

from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string


def render_pdf(template_name: str, context: dict[str, Any]) -> bytes:
    """Render the template with the context and return the PDF's bytes."""
    # WeasyPrint loads on the first PDF, not with the URL map (it adds ~0.5 s to every process start).
    from PIL import ImageFile
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    # Importing WeasyPrint sets Pillow's process-wide LOAD_TRUNCATED_IMAGES to True, which would make imaging uploads
    # accept truncated JPEGs in any process that has made a PDF. Our PDFs embed only images we made ourselves.
    ImageFile.LOAD_TRUNCATED_IMAGES = False

    html = render_to_string(template_name, context)
    fetcher = URLFetcher(allowed_protocols={"data"}, fail_on_errors=True)
    return HTML(string=html, url_fetcher=fetcher, base_url="data:,").write_pdf()


def render_html(template_name: str, context: dict[str, Any]) -> str:
    """The HTML the PDF is made from (tests screenshot it in Chromium to look at a page)."""
    return render_to_string(template_name, context)


def pdf_response(data: bytes, name: str, *, inline: bool = False) -> HttpResponse:
    """A PDF as a download (or shown in the browser with inline), never cached: every download of patient data."""
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{name}"'
    response["Content-Length"] = str(len(data))
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
