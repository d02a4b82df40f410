"""Clinic settings: typed, validated, with sourced defaults.

Stored as JSON on the clinic so new settings need no migration; every value is
read through `ClinicConfig`, which fills defaults and refuses bad values.
Sources for each default: docs/SETTINGS.md.
"""

from dataclasses import dataclass, field, fields
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar


class ClinicConfigError(ValueError):
    """A clinic setting has a value it cannot take."""


@dataclass(frozen=True)
class ClinicConfig:
    # Automatic log-off after this many idle minutes (QUALITY.md, HIPAA 164.312(a)(2)(iii)).
    idle_timeout_minutes: int = 15
    # Every staff role logs in with a second factor (administrators always do, whatever this says): HIPAA
    # 164.312(d) person or entity authentication; NIST SP 800-63B AAL2 for remote access to health records.
    second_factor_all_staff: bool = True
    # Days before a session that NSAIDs are stopped (DOMAIN.md §6: clinics vary, 2-3 days to 2 weeks).
    nsaid_stop_days: int = 3
    # Warn when a session's local anaesthetic reaches this fraction of the maximum. Product default, not a published
    # number (docs/clinical/anaesthetic-limits.md): 80% leaves room for a skin wheal or a top-up before the limit.
    anaesthetic_warn_fraction: Decimal = Decimal("0.8")
    # Injections per session outside this range warn (never block): DOMAIN.md §4, "4 to 15 injections a session".
    min_injections_per_session: int = 4
    max_injections_per_session: int = 15
    # Flag a patient as a non-responder when the MCID is not reached after this many sessions (docs/clinical/scoring.md:
    # a product default; trials give 3-6 sessions, DOMAIN.md §4).
    non_responder_after_sessions: int = 3
    # A questionnaire link expires after this many days (docs/OUTCOMES.md: product default, 14 days keeps an answer
    # within two weeks of its timepoint and leaves time for one reminder).
    questionnaire_link_days: int = 14
    # A pre-visit intake link expires after this many days, and never after the appointment starts (docs/INTAKE.md:
    # product default; 30 days covers an assessment booked weeks ahead, and staff can send a fresh link).
    intake_link_days: int = 30
    # When staff book an assessment for a patient with an email address (or the patient books one from a follow-up
    # link or a waitlist offer), its intake link goes out by email through the outbox by itself (docs/INTAKE.md,
    # "Sent when a visit is booked"). On: issue 16 asks that the patient gets an intake link before a new-patient
    # assessment; practice systems send intake forms with the booking (docs/SETTINGS.md has the sources).
    intake_auto_send: bool = True
    # Instruments by course region, overriding prolotrack.domain.instruments.REGION_INSTRUMENTS ({} = the defaults).
    outcome_instruments: dict = field(default_factory=dict)
    # Reminders (docs/MESSAGING.md, "Rules"). Appointment reminder this many days before a booked session: a product
    # default; reminder trials sent them 1 to 3 days ahead (Gurol-Urganci et al., Cochrane 2013, CD007458) and 2 leaves
    # a working day to rebook.
    appointment_reminder_days: int = 2
    # Pre-procedure instructions this many days before (and always before the NSAID stop day): product default.
    pre_procedure_days: int = 7
    # A follow-up questionnaire still unanswered this many days after it was due gets one "overdue" reminder.
    questionnaire_overdue_days: int = 7
    # Messages to patients (email and SMS) go out only from this hour to this hour, clinic time (docs/MESSAGING.md,
    # "Sending window"): inside the TCPA's 8 a.m.-9 p.m. calling hours (47 CFR 64.1200(c)(1)), an hour short at night.
    send_window_start_hour: int = 8
    send_window_end_hour: int = 20
    # A session may be signed from this many minutes before its booked start (a patient seen early); earlier needs a
    # stated reason (docs/SETTINGS.md: a signature attests to care given, CMS Program Integrity Manual ch. 3).
    sign_early_margin_minutes: int = 60
    # How patients reach the clinic, printed in every email and SMS-free reminder (empty: "please contact the clinic").
    contact_phone: str = ""
    contact_email: str = ""
    # A research export is released only when every patient in it shares its quasi-identifiers with k - 1 others
    # (docs/RESEARCH.md, "Release check"): 5 is a common threshold for data released under an agreement (El Emam &
    # Dankar 2008 discuss 3-11; CMS suppresses cells under 11). A clinic may be stricter, never weaker.
    research_min_k: int = 5
    # ... and only when every class of patients with courses holds at least l distinct outcome lists (distinct
    # l-diversity, Machanavajjhala et al. 2007): 2 is the least that defeats their homogeneity attack.
    research_min_l: int = 2
    # Researchers' differentially private breakdowns: the privacy budget (epsilon) of one quarter's release, in
    # tenths (10 = epsilon 1): Dwork and Roth 2014 describe epsilon of about 1 or below as a meaningful guarantee.
    research_dp_epsilon_tenths: int = 10
    # Billing (docs/BILLING.md). The clinic's currency, an ISO 4217 code: USD, because the product's codes (HCPCS
    # Level II, Medicare's NCD 150.7) are United States ones and a clinic has no country field to derive it from.
    currency: str = "USD"
    # How a signed session's procedure is charged: one line per region and side treated, one line whose quantity is
    # the number of injections, or one line per session. Product default (per region): HCPCS M0076's descriptor
    # names no unit (CMS HCPCS Level II file), and fee schedules of prolotherapy clinics price by area treated.
    session_fee_rule: str = "per_region"
    # What a course stopped early gives back of a prepaid package's unused uses (docs/BILLING.md, "Course packages"):
    # pro rata, or none. The clinic's policy; pro rata by default because a term keeping money for services never
    # supplied is one consumer law lists as potentially unfair (UK Consumer Rights Act 2015, Sch. 2 para. 5; EU
    # Directive 93/13/EEC, Annex 1(d)).
    package_refund_rule: str = "pro_rata"
    # The practice's postal address, one line, printed on the letterhead of invoices, receipts and superbills
    # (docs/BILLING.md, "Printed documents"). No default: each clinic's own.
    address: str = ""
    # The practice's (group's) National Provider Identifier and tax identification number, printed on superbills:
    # 10 digits with the CMS check digit (Luhn with the prefix 80840), and the IRS's 9 digits (an EIN). No default.
    npi: str = ""
    tax_id: str = ""
    # Booking (docs/BOOKING.md, "Booking rules"). Each is a setting Jane App and Cliniko give their clinics; the
    # defaults are this product's policy choices, reasoned there. Patients may book online only when this is on (and
    # the type and the clinician allow it): off until the clinic has set its hours and types.
    online_booking: bool = False
    # A slot online starts at least this many minutes from now (Jane "Do not allow booking within", Cliniko "Lead
    # time"); staff booking ignores it.
    booking_min_notice_minutes: int = 120
    # ... on a day at most this many days after the clinic's today (the booking horizon).
    booking_max_days_ahead: int = 60
    # ... and on today at all (Jane "Allow same day booking").
    booking_same_day: bool = True
    # A patient may cancel or move online until this many hours before the start (Jane "Late Cancellation Period");
    # later is a late cancellation, which staff may still record.
    booking_cancel_window_hours: int = 24
    # Slots start on a grid of this many minutes from the start of the working period.
    booking_step_minutes: int = 15
    # A slot offered to a waitlisted patient is held for them this long before it goes to the next in line
    # (docs/BOOKING.md "Waitlist"; a product choice, docs/SETTINGS.md).
    waitlist_hold_minutes: int = 60
    # Course sessions (booked by staff on the session's own page) keep to the clinician's working hours, breaks and time
    # off and to the other course sessions, as appointments do (docs/BOOKING.md, "Course sessions under the
    # availability rules"). Off by default: staff booking in common practice systems may go outside a clinician's hours
    # (with a warning, or by default), and a clinic that has not entered its hours yet would have every session refused.
    booking_sessions_follow_hours: bool = False
    # A "book your follow-up" link sent to a patient expires after this many days (docs/BOOKING.md, "Follow-up
    # links"): product default, the questionnaire links' 14 days.
    booking_follow_up_link_days: int = 14

    # A session of a course for an Original Medicare patient is signed only with a current Advance Beneficiary Notice
    # (form CMS-R-131) on file (docs/BILLING.md, "Medicare ABN"): on, because Medicare does not cover prolotherapy
    # (NCD 150.7) and without a valid ABN the patient cannot be held liable (Claims Processing Manual ch. 30, §50).
    abn_gate: bool = True

    TEXT_SETTINGS = frozenset({"contact_phone", "contact_email", "address", "npi", "tax_id"})
    BOOL_SETTINGS = frozenset(
        {
            "second_factor_all_staff",
            "online_booking",
            "booking_same_day",
            "abn_gate",
            "booking_sessions_follow_hours",
            "intake_auto_send",
        }
    )
    CHOICE_SETTINGS = frozenset({"currency", "session_fee_rule", "package_refund_rule"})

    LIMITS: ClassVar[dict[str, tuple[int, int] | tuple[Decimal, Decimal]]] = {
        "non_responder_after_sessions": (1, 20),
        "questionnaire_link_days": (1, 60),
        "intake_link_days": (1, 90),
        "appointment_reminder_days": (1, 14),
        "pre_procedure_days": (1, 28),
        "questionnaire_overdue_days": (1, 60),
        "send_window_start_hour": (0, 23),
        "send_window_end_hour": (1, 24),
        "sign_early_margin_minutes": (0, 720),
        "research_min_k": (5, 50),
        "research_min_l": (2, 3),
        "research_dp_epsilon_tenths": (1, 30),
        "min_injections_per_session": (1, 100),
        "max_injections_per_session": (1, 100),
        "idle_timeout_minutes": (1, 240),
        "booking_min_notice_minutes": (0, 10080),
        "booking_max_days_ahead": (0, 730),
        "booking_cancel_window_hours": (0, 336),
        "booking_step_minutes": (5, 120),
        "waitlist_hold_minutes": (10, 1440),
        "booking_follow_up_link_days": (1, 90),
        "nsaid_stop_days": (0, 28),
        # Below half the maximum nearly every session would warn, and a warning nobody reads protects nobody.
        "anaesthetic_warn_fraction": (Decimal("0.5"), Decimal(1)),
    }

    @classmethod
    def from_json(cls, raw: dict[str, Any] | None) -> "ClinicConfig":
        """Build from stored JSON, ignoring keys this version no longer knows."""
        raw = raw or {}
        known = {f.name for f in fields(cls)}
        return cls.validated({k: v for k, v in raw.items() if k in known})

    @classmethod
    def validated(cls, values: dict[str, Any]) -> "ClinicConfig":
        """Build from user input, with a clear error for any bad value."""
        known = {f.name: f for f in fields(cls)}
        clean: dict[str, Any] = {}
        for name, value in values.items():
            if name not in known:
                raise ClinicConfigError(f"Unknown clinic setting {name!r}.")
            if name == "outcome_instruments":
                clean[name] = _instrument_sets(value)
                continue
            if name in cls.TEXT_SETTINGS:
                clean[name] = _text(name, value)
                continue
            if name in cls.BOOL_SETTINGS:
                clean[name] = _boolean(name, value)
                continue
            if name in cls.CHOICE_SETTINGS:
                clean[name] = _choice(name, value)
                continue
            low, high = cls.LIMITS[name]
            label = name.replace("_", " ")
            number: int | Decimal
            if isinstance(low, Decimal):
                number = _decimal(value, label)
            else:
                try:
                    number = int(value)
                except (TypeError, ValueError):
                    raise ClinicConfigError(f"{label} must be a whole number.") from None
            if not low <= number <= high:
                raise ClinicConfigError(f"{label} must be between {low} and {high}, not {number}.")
            clean[name] = number
        config = cls(**clean)
        if config.send_window_start_hour >= config.send_window_end_hour:
            raise ClinicConfigError(
                f"The sending window must open before it closes (from {config.send_window_start_hour}:00 to "
                f"{config.send_window_end_hour}:00 is empty)."
            )
        if config.min_injections_per_session > config.max_injections_per_session:
            raise ClinicConfigError(
                f"The usual minimum of injections ({config.min_injections_per_session}) is above the maximum "
                f"({config.max_injections_per_session})."
            )
        return config

    def to_json(self) -> dict[str, Any]:
        # Decimals are stored as text so 0.8 stays exactly 0.8 (JSON numbers are binary floats).
        return {f.name: _json(getattr(self, f.name)) for f in fields(self)}


def _text(name: str, value: Any) -> str:
    text = "" if value is None else str(value).strip()
    label = name.replace("_", " ")
    if len(text) > 120 or "\n" in text or "\r" in text:
        raise ClinicConfigError(f"{label} must be one line of at most 120 characters.")
    if name == "contact_email" and text and ("@" not in text or " " in text):
        raise ClinicConfigError(f"{label} must be an email address such as front-desk@clinic.example, not {text!r}.")
    if name in ("npi", "tax_id"):
        from prolotrack.domain.errors import DomainError
        from prolotrack.domain.provider_ids import parse_npi, parse_tax_id

        try:
            return parse_npi(text) if name == "npi" else parse_tax_id(text)
        except DomainError as error:
            raise ClinicConfigError(str(error)) from None
    return text


def choices_of(name: str) -> dict[str, str]:
    """The values a choice setting may take, with what each means."""
    from prolotrack.domain import money, packages

    if name == "currency":
        return {code: code for code in money.MINOR_UNITS}
    if name == "package_refund_rule":
        return dict(packages.REFUND_RULES)
    return dict(money.FEE_RULES)


def _choice(name: str, value: Any) -> str:
    allowed = choices_of(name)
    text = str(value or "").strip()
    if name == "currency":
        text = text.upper()
    if text not in allowed:
        raise ClinicConfigError(f"{name.replace('_', ' ')} must be one of {', '.join(allowed)}, not {value!r}.")
    return text


def _boolean(name: str, value: Any) -> bool:
    # JSON true/false only: "no" or 0 from a hand-edited setting must not silently mean on or off.
    if not isinstance(value, bool):
        raise ClinicConfigError(f"{name.replace('_', ' ')} must be true or false, not {value!r}.")
    return value


def _decimal(value: Any, label: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ClinicConfigError(f"{label} must be a decimal number such as 0.8, not {value!r}.")
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        raise ClinicConfigError(f"{label} must be a decimal number such as 0.8, not {value!r}.") from None
    if not number.is_finite():
        raise ClinicConfigError(f"{label} must be a finite number, not {value!r}.")
    return number


def _instrument_sets(value: Any) -> dict[str, list[str]]:
    """Validate {region: [instrument codes]}: known regions, known instruments, at least one each."""
    from prolotrack.domain.instruments import DEFINITIONS, REGION_INSTRUMENTS

    if not isinstance(value, dict):
        raise ClinicConfigError("outcome instruments must map each region to a list of instrument codes.")
    clean: dict[str, list[str]] = {}
    for region, codes in value.items():
        if region not in REGION_INSTRUMENTS:
            raise ClinicConfigError(
                f"outcome instruments: unknown region {region!r} ({', '.join(REGION_INSTRUMENTS)})."
            )
        if not isinstance(codes, list | tuple) or not codes:
            raise ClinicConfigError(f"outcome instruments for {region}: list at least one instrument code.")
        unknown = [c for c in codes if c not in DEFINITIONS]
        if unknown:
            raise ClinicConfigError(
                f"outcome instruments for {region}: unknown instrument {', '.join(map(str, unknown))} "
                f"(choose from {', '.join(DEFINITIONS)})."
            )
        clean[region] = list(dict.fromkeys(codes))
    return clean


def _json(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value
