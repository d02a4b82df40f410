"""Reasons for irreversible steps: one list per step, a code and a label each, free text required for "other".

Closing a course, cancelling a session, withdrawing consent, marking a record entered in error and amending a signed
note each take a reason from its list (docs/clinical/course-closing.md). The stored text is the reason's label, then
the free text; the code goes to the audit trail. Pure: no Django.
"""

from dataclasses import dataclass

from prolotrack.domain.errors import DomainError


class CloseError(DomainError):
    """Refuse an irreversible step whose reason is missing, unknown, too short or does not fit."""


@dataclass(frozen=True)
class Reason:
    code: str
    label: str
    # Which outcomes the reason can explain (e.g. a course "completed" or "stopped"); None: any.
    outcomes: frozenset[str] | None = None
    needs_text: bool = False


OTHER = "other"
MIN_OTHER_TEXT = 5


def other(label: str = "Other (say why)") -> Reason:
    return Reason(OTHER, label, needs_text=True)


SESSION_CANCEL_REASONS: tuple[Reason, ...] = (
    Reason("patient_unwell", "Patient unwell"),
    Reason("patient_request", "Patient asked to cancel"),
    Reason("clinic", "Clinic cancelled (staff, room or equipment)"),
    Reason("contraindication", "A contraindication on the day"),
    Reason("not_needed", "No longer needed"),
    Reason("did_not_attend", "Did not attend"),
    other(),
)

# Rejecting a person who booked online (docs/BOOKING.md, "Pending patients"): their appointments are cancelled with
# the reason.
PENDING_REJECT_REASONS: tuple[Reason, ...] = (
    Reason("not_real", "Not a real booking (test, spam or nonsense)"),
    Reason("duplicate_booking", "Booked twice: the other booking is kept"),
    Reason("not_reachable", "Could not be reached to confirm"),
    Reason("not_suitable", "Not a patient the clinic can see (referred elsewhere)"),
    other(),
)

CONSENT_WITHDRAW_REASONS: tuple[Reason, ...] = (
    Reason("changed_mind", "Patient changed their mind"),
    Reason("stopping_treatment", "Stopping treatment"),
    Reason("no_longer_take_part", "No longer wishes to take part"),
    Reason("wrong_plan", "The consent does not match the plan"),
    other(),
)

ENTERED_IN_ERROR_REASONS: tuple[Reason, ...] = (
    Reason("wrong_patient", "Recorded on the wrong patient"),
    Reason("duplicate", "Duplicate of another record"),
    Reason("wrong_value", "Wrong value or typing error"),
    Reason("wrong_session", "Recorded on the wrong session, course or date"),
    Reason("test_record", "Test or training record"),
    other(),
)

AMENDMENT_REASONS: tuple[Reason, ...] = (
    Reason("wrong_value", "Correcting a wrong value or typing error"),
    Reason("omission", "Adding something left out"),
    Reason("late_entry", "Late entry of what was done"),
    other(),
)


def choices(reasons: tuple[Reason, ...]) -> list[tuple[str, str]]:
    return [(r.code, r.label) for r in reasons]


def find(reasons: tuple[Reason, ...], code: str) -> Reason | None:
    """The reason named by its code (or, for API clients, its label; any case)."""
    wanted = (code or "").strip().casefold()
    return next((r for r in reasons if wanted in (r.code, r.label.casefold())), None) if wanted else None


def reason_text(reasons: tuple[Reason, ...], code: str, details: str = "", *, outcome: str | None = None) -> str:
    """The reason as it is stored: its label, and the free text after it.

    Refuses an unknown reason, one that does not fit the outcome, and "other" without text."""
    reason = find(reasons, code)
    if reason is None:
        raise CloseError(f"Choose a reason from the list: {'; '.join(r.label for r in reasons)}.")
    if outcome is not None and reason.outcomes is not None and outcome not in reason.outcomes:
        raise CloseError(f"'{reason.label}' does not explain this: choose another reason.")
    details = " ".join((details or "").split())
    if reason.needs_text and len(details) < MIN_OTHER_TEXT:
        raise CloseError(f"Say why in a few words (at least {MIN_OTHER_TEXT} characters) when the reason is 'other'.")
    return f"{reason.label}: {details}" if details else reason.label


def parse(reasons: tuple[Reason, ...], text: str, *, outcome: str | None = None) -> str:
    """A reason given as one string ("code", "label", "code: details" or "label: details"), as it is stored.

    For callers that carry the reason in one field (the JSON API, the session forms' amendment fields); refuses what
    reason_text refuses."""
    head, _, details = (text or "").partition(":")
    return reason_text(reasons, head.strip(), details.strip(), outcome=outcome)


def classify(reasons: tuple[Reason, ...], text: str) -> str:
    """A reason from a channel that may send free text (the JSON API, FHIR DELETE, imports), as it is stored.

    "code", "label", "code: details" and "label: details" name a reason from the list; anything else is that list's
    "other" with the text as its details (so at least 5 characters). Every stored reason then starts with a label of
    the list, whatever channel wrote it."""
    text = " ".join((text or "").split())
    head, _, details = text.partition(":")
    if find(reasons, head.strip()) is not None:
        return reason_text(reasons, head.strip(), details.strip())
    return reason_text(reasons, OTHER, text)
