"""What the billing pages share."""

from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest

from prolotrack.audit.services import ServiceError
from prolotrack.domain.errors import DomainError

# The errors a billing service refuses with: shown next to the field, or above the form.
REFUSALS = (ValidationError, ServiceError, DomainError)


def posted(request: HttpRequest) -> Any:
    """The POST data of a form page, or None on GET."""
    return request.POST if request.method == "POST" else None
