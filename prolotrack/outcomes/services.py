"""Writes of the outcomes app: questionnaire links, patients' answers by link, staff entry, imported texts.

Every function is one transaction that writes its version and audit rows (audit.services). A link's token is shown
once (returned by `create_link`); only its SHA-256 hash is stored. Patients have no account: their answers are
written with an Actor of channel "patient_link" and no user, so the audit trail shows they came through the link.
"""

import secrets
from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from prolotrack.audit.services import (
    Actor,
    ServiceError,
    create_record,
    create_records,
    record_event,
    update_record,
)
from prolotrack.clinics.roles import Permission, require_permission
from prolotrack.core import clinictime
from prolotrack.core.access import require_same_clinic
from prolotrack.core.language import patient_language
from prolotrack.core.links import CHANNEL_PATIENT_LINK
from prolotrack.domain import instruments as domain
from prolotrack.domain.errors import DomainError
from prolotrack.outcomes import hooks, queries
from prolotrack.outcomes.models import (
    ClinicInstrumentText,
    LinkDelivery,
    QuestionnaireLink,
    QuestionnaireResponse,
    ResponseSource,
    ResponseStatus,
)
from prolotrack.patients.models import Patient
from prolotrack.treatment import hooks as treatment_hooks
from prolotrack.treatment.models import CourseTimepoint

# A link opened on the clinic's tablet is for this visit only (product default, docs/OUTCOMES.md).
TABLET_LINK_HOURS = 4
TOKEN_BYTES = 32  # 256 bits from the OS's CSPRNG: not guessable, so a lookup by its hash is enough.
LINK_PATH = "/q/{token}/"
_TRUSTED_CHANNELS = frozenset({"system", CHANNEL_PATIENT_LINK})


class LinkClosedError(ServiceError):
    """The link is expired, used or revoked: the page says so and shows nothing of the patient."""

    code = "link_closed"

    def __init__(self, state: str) -> None:
        self.state = state
        super().__init__(LINK_CLOSED_MESSAGES.get(state, "This questionnaire link cannot be used."))


LINK_CLOSED_MESSAGES = {
    queries.LinkState.EXPIRED: "This questionnaire link has expired. Ask the clinic for a new one.",
    queries.LinkState.USED: "This questionnaire link has already been used. Thank you: your answers were received.",
    queries.LinkState.REVOKED: "This questionnaire link was cancelled by the clinic. Ask the clinic for a new one.",
    queries.LinkState.WITHDRAWN: "This questionnaire link was cancelled by the clinic. Ask the clinic for a new one.",
}


def _collect(actor: Actor) -> None:
    if actor.channel not in _TRUSTED_CHANNELS:
        require_permission(actor, Permission.OUTCOMES_COLLECT)


def _domain(error: DomainError, field: str | None = None) -> ValidationError:
    return ValidationError({field: str(error)} if field else str(error))


def link_path(token: str) -> str:
    return LINK_PATH.format(token=token)


def patient_actor(link: QuestionnaireLink, client_address: str | None = None, *, tablet: bool = False) -> Actor:
    """The Actor for a patient answering by link: no user, the link's clinic, channel patient_link."""
    return Actor(user=None, clinic=link.clinic, role="", client_address=client_address, channel=CHANNEL_PATIENT_LINK)


def _check_instruments(clinic: Any, codes: Sequence[str]) -> list[str]:
    if not codes:
        raise ValidationError({"instruments": "Choose at least one questionnaire."})
    available = set(queries.licensed_available(clinic))
    out: list[str] = []
    for code in codes:
        try:
            found = domain.definition(code)
        except DomainError as error:
            raise _domain(error, "instruments") from None
        if found.licensed and code not in available:
            raise ValidationError(
                {
                    "instruments": f"{found.title} is licensed and this clinic has not imported its texts: import "
                    "them on the Instruments page, or choose another questionnaire."
                }
            )
        if code not in out:
            out.append(code)
    return out


def create_link(
    actor: Actor,
    patient: Patient,
    *,
    timepoint: CourseTimepoint | None = None,
    instruments: Sequence[str] | None = None,
    delivery: str = LinkDelivery.COPIED,
    now: datetime | None = None,
) -> tuple[QuestionnaireLink, str]:
    """Create a single-use link for one timepoint (or a free set of instruments); return it and its URL path.

    The path (e.g. "/q/<token>/") holds the only copy of the token: show it once, put it in the email or the QR
    code, and do not store it. An earlier open link for the same timepoint is revoked, so one link is live.
    """
    _collect(actor)
    require_same_clinic(actor, patient)
    if delivery not in LinkDelivery.values:
        raise ValidationError({"delivery": f"Choose how the link is delivered: {', '.join(LinkDelivery.values)}."})
    if timepoint is not None:
        require_same_clinic(actor, timepoint)
        if timepoint.patient_id != patient.pk:
            raise ValidationError({"timepoint": "This timepoint belongs to another patient: choose one of theirs."})
        if timepoint.is_entered_in_error:
            raise ValidationError({"timepoint": "This timepoint was entered in error: choose another."})
    if instruments is None:
        if timepoint is None:
            raise ValidationError({"timepoint": "Choose a timepoint, or the questionnaires the link opens."})
        instruments = queries.instruments_for_timepoint(timepoint)
        if not instruments:
            raise ValidationError({"timepoint": "No questionnaire is set for this timepoint."})
    codes = _check_instruments(actor.clinic, instruments)
    now = now or timezone.now()
    if delivery == LinkDelivery.TABLET:
        expires = now + timedelta(hours=TABLET_LINK_HOURS)
    else:
        expires = now + timedelta(days=actor.clinic.config.questionnaire_link_days)
    token = secrets.token_urlsafe(TOKEN_BYTES)
    with transaction.atomic():
        if timepoint is not None:
            for old in QuestionnaireLink.objects.filter(
                timepoint=timepoint,
                revoked_at__isnull=True,
                completed_at__isnull=True,
                expires_at__gt=now,
                entered_in_error_at__isnull=True,
            ):
                update_record(
                    actor, old, {"revoked_at": now}, "questionnaire_link.revoked", expected_version=None,
                    reason="A new link was created for the same timepoint.",
                )  # fmt: skip
        link = QuestionnaireLink(
            clinic=actor.clinic,
            patient=patient,
            course_id=timepoint.course_id if timepoint is not None else None,
            timepoint=timepoint,
            instruments=codes,
            token_hash=queries.token_hash(token),
            delivery=delivery,
            expires_at=expires,
        )
        create_record(
            actor,
            link,
            "questionnaire_link.created",
            detail={"delivery": delivery, "instruments": codes, "expires_at": expires},
        )
    return link, link_path(token)


def revoke_link(actor: Actor, link: QuestionnaireLink, *, reason: str = "") -> QuestionnaireLink:
    """Cancel a link before it is used; its answers so far stay."""
    _collect(actor)
    require_same_clinic(actor, link)
    state = queries.link_state(link)
    if state != queries.LinkState.OPEN:
        raise ServiceError(f"This link is already {state}: nothing to cancel.")
    with transaction.atomic():
        return update_record(
            actor,
            link,
            {"revoked_at": timezone.now()},
            "questionnaire_link.revoked",
            expected_version=link.version,
            reason=reason or "Cancelled by the clinic.",
        )


def email_message(link: QuestionnaireLink, url: str) -> tuple[str, str]:
    """Subject and plain-text body of the email that carries a link (for the messaging app to send), in the patient's
    language, the expiry day written as that language writes it (core/clinictime.py).

    Names neither the patient nor the condition: an email can be read by others.
    """
    clinic = link.clinic.name
    with translation.override(patient_language(link.patient)):
        expires = clinictime.written_day(link.expires_at, link.clinic)
        subject = _("%(clinic)s: a short questionnaire about your treatment") % {"clinic": clinic}
        body = _(
            "Hello,\n\n%(clinic)s asks you to answer a short questionnaire about how you are doing. It takes a few "
            "minutes and helps your clinician see how the treatment is going.\n\n%(url)s\n\nThe link works once, "
            "until %(expires)s. You can stop and come back to it before then. If you did not expect this message, "
            "please contact the clinic.\n"
        ) % {"clinic": clinic, "url": url, "expires": expires}
    return subject, body


# --- answers --------------------------------------------------------------------------------------------------------


def _score(code: str, answers: Mapping[str, Any]) -> tuple[dict[str, Any], domain.Scored]:
    try:
        found = domain.definition(code)
        clean = domain.clean_answers(found, answers)
        return clean, found.scorer(found, clean)
    except DomainError as error:
        raise _domain(error, "answers") from None


def _stored(clean: Mapping[str, Any]) -> dict[str, Any]:
    return {k: (str(v) if not isinstance(v, bool | int | str) else v) for k, v in clean.items()}


def _subscores(scored: domain.Scored) -> dict[str, Any]:
    return {k: (None if v is None else str(v)) for k, v in scored.subscores.items()}


def _check_source(source: str) -> None:
    if source not in ResponseSource.values:
        raise ValidationError({"source": f"Choose a source: {', '.join(ResponseSource.values)}."})


def _new_response(
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: Mapping[str, Any],
    authored_on: date,
    *,
    source: str,
    timepoint: CourseTimepoint | None = None,
    link: QuestionnaireLink | None = None,
    completed_at: datetime | None = None,
) -> QuestionnaireResponse:
    """Check and score one instrument's answers and build the unsaved response (completed when the instrument's rules
    allow a score, else in progress). No queries: the patient's clinic is checked against the actor's."""
    require_same_clinic(actor, patient)
    if not isinstance(authored_on, date) or isinstance(authored_on, datetime):
        raise ValidationError({"authored_on": "Give the date the answers were given (YYYY-MM-DD)."})
    if timepoint is not None and (timepoint.patient_id != patient.pk or timepoint.clinic_id != patient.clinic_id):
        raise ValidationError({"timepoint": "This timepoint belongs to another patient: choose one of theirs."})
    clean, scored = _score(instrument, answers)
    if not clean:
        raise ValidationError({"answers": "Enter at least one answer."})
    complete = scored.complete
    return QuestionnaireResponse(
        clinic=actor.clinic,  # the patient's clinic (checked above), already loaded: no query per row
        patient=patient,
        course_id=timepoint.course_id if timepoint is not None else None,
        timepoint=timepoint,
        link=link,
        instrument=instrument,
        status=ResponseStatus.COMPLETED if complete else ResponseStatus.IN_PROGRESS,
        answers=_stored(clean),
        score=scored.score,
        subscores=_subscores(scored),
        authored_on=authored_on,
        completed_at=(completed_at or timezone.now()) if complete else None,
        source=source,
    )


def _courses_changed(responses: Sequence[QuestionnaireResponse]) -> None:
    """The dashboard's facts of the answers' courses (and of their timepoints' courses) are recomputed in the caller's
    transaction (treatment.course_changed: docs/DASHBOARD.md, "How the figures are kept")."""
    timepoints = {r.timepoint_id for r in responses if r.timepoint_id is not None}
    course_of = (
        dict(CourseTimepoint.objects.filter(pk__in=timepoints).values_list("pk", "course_id")) if timepoints else {}
    )
    by_clinic: dict[int, set[int | None]] = {}
    for response in responses:
        by_clinic.setdefault(response.clinic_id, set()).update(
            (response.course_id, course_of.get(response.timepoint_id or 0))
        )
    for clinic_id, course_ids in by_clinic.items():
        treatment_hooks.course_changed(clinic_id, course_ids)


def record_response(
    actor: Actor,
    patient: Patient,
    instrument: str,
    answers: Mapping[str, Any],
    *,
    authored_on: date,
    timepoint: CourseTimepoint | None = None,
    source: str = ResponseSource.STAFF_PAPER,
    link: QuestionnaireLink | None = None,
    completed_at: datetime | None = None,
) -> QuestionnaireResponse:
    """Record one instrument's answers, scored by the domain. No queries besides the insert and its version and
    audit rows, and for an answer of a course its dashboard facts (treatment.course_changed)."""
    _collect(actor)
    _check_source(source)
    response = _new_response(
        actor, patient, instrument, answers, authored_on,
        source=source, timepoint=timepoint, link=link, completed_at=completed_at,
    )  # fmt: skip
    with transaction.atomic():
        create_record(
            actor,
            response,
            "questionnaire_response.created",
            detail={"instrument": instrument, "status": response.status, "source": source},
        )
        _courses_changed([response])
    return response


def record_responses(
    actor: Actor,
    instrument: str,
    rows: Sequence[tuple[Patient, Mapping[str, Any], date]],
    *,
    source: str = ResponseSource.STAFF_PAPER,
) -> list[QuestionnaireResponse]:
    """`record_response` for many answers to one instrument (an import): each row is (patient, answers, authored
    on), checked and scored as `record_response` does, and all are written with `create_records` in one go."""
    _collect(actor)
    _check_source(source)
    responses = [
        _new_response(actor, patient, instrument, answers, authored_on, source=source)
        for patient, answers, authored_on in rows
    ]
    with transaction.atomic():
        created = create_records(
            actor,
            responses,
            "questionnaire_response.created",
            details=[{"instrument": instrument, "status": r.status, "source": source} for r in responses],
        )
        _courses_changed(created)
        return created


def _open(link: QuestionnaireLink) -> None:
    state = queries.link_state(link)
    if state != queries.LinkState.OPEN:
        raise LinkClosedError(state)


def open_link(link: QuestionnaireLink, client_address: str | None = None) -> QuestionnaireLink:
    """Note the first time a patient opens the link (audited); refuse a closed link."""
    _open(link)
    if link.opened_at is not None:
        return link
    with transaction.atomic():
        return update_record(
            patient_actor(link, client_address), link, {"opened_at": timezone.now()},
            "questionnaire_link.opened", expected_version=None,
        )  # fmt: skip


def _source(link: QuestionnaireLink) -> str:
    return ResponseSource.CLINIC_TABLET if link.delivery == LinkDelivery.TABLET else ResponseSource.PATIENT_LINK


def save_link_answers(
    link: QuestionnaireLink, instrument: str, answers: Mapping[str, Any], client_address: str | None = None
) -> QuestionnaireResponse:
    """Keep a patient's answers to one questionnaire of the link (in progress until the link is submitted)."""
    _open(link)
    if instrument not in link.instruments:
        raise ValidationError({"instrument": "This questionnaire is not part of this link."})
    clean, _scored = _score(instrument, answers)
    actor = patient_actor(link, client_address)
    today = timezone.localdate(timezone=link.clinic.tz)
    with transaction.atomic():
        link = QuestionnaireLink.objects.select_for_update().get(pk=link.pk)
        _open(link)
        existing = queries.link_responses(link).get(instrument)
        if existing is None:
            response = QuestionnaireResponse(
                clinic=link.clinic,
                patient_id=link.patient_id,
                course_id=link.course_id,
                timepoint_id=link.timepoint_id,
                link=link,
                instrument=instrument,
                status=ResponseStatus.IN_PROGRESS,
                answers=_stored(clean),
                authored_on=today,
                source=_source(link),
            )
            saved = create_record(actor, response, "questionnaire_response.saved", detail={"instrument": instrument})
        else:
            saved = update_record(
                actor,
                existing,
                {"answers": _stored(clean), "authored_on": today},
                "questionnaire_response.saved",
                expected_version=None,
            )
        _courses_changed([saved])
        return saved


def submit_link(link: QuestionnaireLink, client_address: str | None = None) -> list[QuestionnaireResponse]:
    """Score every questionnaire of the link and close the link (single use).

    A questionnaire the instrument's rules can score becomes completed; one that cannot stays in progress.
    """
    actor = patient_actor(link, client_address)
    now = timezone.now()
    out: list[QuestionnaireResponse] = []
    with transaction.atomic():
        link = QuestionnaireLink.objects.select_for_update().select_related("clinic").get(pk=link.pk)
        _open(link)
        for instrument, response in queries.link_responses(link).items():
            _score_total, scored = _score(instrument, response.answers)
            changes: dict[str, Any] = {"score": scored.score, "subscores": _subscores(scored)}
            if scored.complete:
                changes |= {"status": ResponseStatus.COMPLETED, "completed_at": now}
            out.append(
                update_record(actor, response, changes, "questionnaire_response.submitted", expected_version=None)
            )
        update_record(actor, link, {"completed_at": now}, "questionnaire_link.submitted", expected_version=None)
        _courses_changed(out)
    return out


# --- licensed texts ---------------------------------------------------------------------------------------------


MIN_LICENCE_STATEMENT = 20


def import_instrument_texts(
    actor: Actor, code: str, questionnaire: Mapping[str, Any], licence_statement: str
) -> ClinicInstrumentText:
    """Import a licensed instrument's item texts from a FHIR R4 Questionnaire, under the clinic's licence.

    The questionnaire must be a valid FHIR R4 Questionnaire whose linkIds are exactly the instrument's. A new
    import of the same instrument is a new version of the clinic's row (earlier texts stay in its history).
    """
    from fhir.resources.R4B.questionnaire import Questionnaire
    from pydantic import ValidationError as PydanticError

    require_permission(actor, Permission.INSTRUMENT_MANAGE)
    statement = (licence_statement or "").strip()
    if len(statement) < MIN_LICENCE_STATEMENT:
        raise ValidationError(
            {
                "licence_statement": "Record the licence under which the clinic uses these texts (who granted it, "
                f"its reference and terms; at least {MIN_LICENCE_STATEMENT} characters)."
            }
        )
    try:
        Questionnaire.model_validate(dict(questionnaire))
    except PydanticError as error:
        first: Mapping[str, Any] = error.errors()[0] if error.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise ValidationError(
            {"questionnaire": f"Not a valid FHIR R4 Questionnaire: {first.get('msg', error)} (at {where or 'top'})."}
        ) from None
    except (TypeError, ValueError) as error:
        raise ValidationError({"questionnaire": f"Not a valid FHIR R4 Questionnaire: {error}"}) from None
    try:
        texts = hooks.texts_from_questionnaire(code, questionnaire)
    except DomainError as error:
        raise _domain(error, "questionnaire") from None
    with transaction.atomic():
        existing = ClinicInstrumentText.objects.filter(clinic=actor.clinic, instrument=code).first()
        values = {
            "title": texts["title"][:200],
            "texts": texts,
            "licence_statement": statement,
            "questionnaire": dict(questionnaire),
            "active": True,
        }
        if existing is None:
            row = ClinicInstrumentText(clinic=actor.clinic, instrument=code, **values)
            return create_record(actor, row, "instrument_text.imported", detail={"instrument": code})
        return update_record(
            actor, existing, values, "instrument_text.imported", expected_version=None,
            reason="New import of the clinic's licensed texts.",
        )  # fmt: skip


def deactivate_instrument_texts(actor: Actor, row: ClinicInstrumentText) -> ClinicInstrumentText:
    """Stop using the clinic's texts of a licensed instrument (e.g. the licence ended); history is kept."""
    require_permission(actor, Permission.INSTRUMENT_MANAGE)
    require_same_clinic(actor, row)
    with transaction.atomic():
        return update_record(
            actor, row, {"active": False}, "instrument_text.deactivated", expected_version=None,
            reason="The clinic stopped using these texts.",
        )  # fmt: skip


def log_link_refused(clinic: Any, state: str, client_address: str | None) -> None:
    """Audit an attempt to use a closed link (no patient data in the event)."""
    with transaction.atomic():
        record_event(
            Actor(user=None, clinic=clinic, client_address=client_address, channel=CHANNEL_PATIENT_LINK),
            "questionnaire_link.refused",
            detail={"state": state},
        )
