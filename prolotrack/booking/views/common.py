"""What the booking pages share."""

from typing import Any

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404

from prolotrack.audit.services import ServiceError, record_disclosure
from prolotrack.clinics.http import ClinicRequest
from prolotrack.clinics.services import actor_for
from prolotrack.domain.errors import DomainError

# The errors a booking service refuses with: shown next to the field, or above the form.
REFUSALS = (ValidationError, ServiceError, DomainError)


def found(lookup: Any, *args: Any) -> Any:
    """A row of the caller's clinic, or 404 (another clinic's record does not exist for them)."""
    try:
        return lookup(*args)
    except (ObjectDoesNotExist, ValidationError, ValueError):
        raise Http404("No such record in this clinic.") from None


def audit_search(request: ClinicRequest, text: str, matches: list[Any], on: str) -> None:
    """A patient picker's search, audited as the patient list's is (`patient.searched`): one event per patient it
    lists (one insert), or one naming nobody when none matched; `on` names the page. No search typed, nothing shown:
    nothing written."""
    if text:
        detail = {"search": text[:100], "on": on}
        record_disclosure(actor_for(request), "patient.searched", matches, detail=detail)
