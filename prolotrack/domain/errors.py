"""Errors raised by the domain package.

Every error is a ``DomainError`` (a ``ValueError``) whose message is written for a clinician: it says what is
wrong with the input and how to fix it. The web and API layers turn these into form errors or HTTP 400/422
responses; nothing in the domain package knows about HTTP.
"""


class DomainError(ValueError):
    """Reject clinical input that cannot be computed safely."""


class InputError(DomainError):
    """Reject a malformed shared value: a number, unit, agent or date."""


class MixingError(DomainError):
    """Reject a solution recipe that cannot be prepared as asked."""


class DoseError(DomainError):
    """Reject a local anaesthetic dose question that cannot be answered safely."""


class ScreeningError(DomainError):
    """Reject screening input that is inconsistent or incomplete."""


class OverrideError(ScreeningError):
    """Reject a clinician override that is missing a reason or names the wrong finding."""


class AnatomyError(DomainError):
    """Reject an unknown landmark or region."""


class ProtocolError(DomainError):
    """Reject an unknown or malformed protocol template."""


class ScheduleError(DomainError):
    """Reject schedule settings that cannot produce a usable course plan."""


class ScoringError(DomainError):
    """Reject an outcome score or scoring rule that does not fit the instrument."""
