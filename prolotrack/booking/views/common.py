"""What the booking pages share."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404

from prolotrack.audit.services import ServiceError
from prolotrack.domain.errors import DomainError

# The errors a booking service refuses with: shown next to the field, or above the form.
REFUSALS = (ValidationError, ServiceError, DomainError)


def found(lookup: Any, *args: Any) -> Any:
    """A row of the caller's clinic, or 404 (another clinic's record does not exist for them)."""
    try:
        return lookup(*args)
    except (ObjectDoesNotExist, ValidationError, ValueError):
        raise Http404("No such record in this clinic.") from None
