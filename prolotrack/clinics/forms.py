"""The clinic settings form: every `ClinicConfig` setting, grouped, with its default and the default's source.

Limits and defaults are read from `ClinicConfig` (one source of truth); the sources repeat docs/SETTINGS.md in short.
`outcome_instruments` is edited as one set of checkboxes per course region: only questionnaires this clinic can use
are offered (licensed ones once their texts are imported, as `prolotrack.outcomes.queries.licensed_available`
decides), and a licensed questionnaire already in a region's set but not usable yet is kept, not silently dropped.
"""

import hashlib
import json
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any, cast

from django import forms

from prolotrack.clinics import hooks
from prolotrack.clinics.config import ClinicConfig, choices_of
from prolotrack.clinics.models import User
from prolotrack.domain import instruments as domain
from prolotrack.domain.vocabulary import BodyRegion

DEFAULTS = ClinicConfig()
LIMITS = ClinicConfig.LIMITS
INSTRUMENT_PREFIX = "instruments_"


@dataclass(frozen=True)
class Setting:
    """How one setting appears on the page: its label, what it does, and its default with the default's source."""

    name: str  # the ClinicConfig field (or the form field when it differs, see FORM_ONLY)
    label: str
    help: str
    source: str
    unit: str = ""


SETTINGS: dict[str, Setting] = {
    s.name: s
    for s in (
        Setting(
            "idle_timeout_minutes",
            "Log staff off after this many idle minutes",
            "An idle browser is logged off and has to sign in again.",
            "HIPAA 164.312(a)(2)(iii) requires automatic log-off without fixing a time; 15 minutes is the "
            "project's security bar.",
            "minutes",
        ),
        Setting(
            "second_factor_all_staff",
            "Every staff member logs in with a second factor",
            "An authenticator app code or a passkey after the password, for every role. Clinic administrators always "
            "need one, whatever this says. Staff without one set it up at their next log-in.",
            "HIPAA 164.312(d) (person or entity authentication) and NIST SP 800-63B (AAL2: two factors for access to "
            "health records); docs/SECURITY.md.",
        ),
        Setting(
            "nsaid_stop_days",
            "Stop NSAIDs this many days before a session",
            "Used by screening, the handout's stop date and the reminders.",
            "Clinics use 2-3 days to 2 weeks; no trial shows NSAIDs reduce the effect (DOMAIN.md §6).",
            "days",
        ),
        Setting(
            "anaesthetic_warn_fraction",
            "Warn at this share of the anaesthetic maximum (%)",
            "The dose-limit check warns when a session's local anaesthetic reaches this share of the weight-based "
            "maximum.",
            "A product default, not a published number: 80% leaves room for a skin wheal or a top-up "
            "(clinical/anaesthetic-limits.md).",
            "%",
        ),
        Setting(
            "min_injections_per_session",
            "Usual injections per session: at least",
            "Fewer injections warn on the session page (never block).",
            "DOMAIN.md §4: 4 to 15 injections a session; single-tendon protocols use 1-3 sites.",
        ),
        Setting(
            "max_injections_per_session",
            "Usual injections per session: at most",
            "More injections warn on the session page (never block).",
            "DOMAIN.md §4: 4 to 15 injections a session; spinal sessions can exceed 15.",
        ),
        Setting(
            "non_responder_after_sessions",
            "Flag a non-responder after this many sessions",
            "A patient who has not reached the minimal important change by then is flagged.",
            "A product default: trials give 3-6 sessions, 3 is the fewest most protocols plan (DOMAIN.md §4).",
            "sessions",
        ),
        Setting(
            "questionnaire_link_days",
            "Questionnaire links expire after this many days",
            "A link sent by email, shown as a QR code or copied stops working after this. Links opened on the clinic "
            "tablet expire after 4 hours whatever this says.",
            "A product default: 14 days keeps an answer within two weeks of its timepoint and leaves room for the "
            "overdue reminder (OUTCOMES.md).",
            "days",
        ),
        Setting(
            "intake_link_days",
            "Pre-visit intake links expire after this many days",
            "The link to the intake form a new patient fills before an assessment stops working after this, and in any "
            "case when the appointment starts.",
            "A product default: 30 days covers an assessment booked weeks ahead; staff can send a fresh link "
            "(INTAKE.md).",
            "days",
        ),
        Setting(
            "intake_auto_send",
            "Email the pre-visit intake link when an assessment is booked",
            "When on, booking a new-patient assessment for a patient with an email address sends the intake form's "
            "link through the outbox by itself (within the sending window). Someone who books online gets it on the "
            "booked page and in their confirmation either way. Staff can always send it from the appointment's page.",
            "On: issue 16 asks that the patient gets an intake link before a new-patient assessment, and practice "
            "systems send the intake with the booking (Jupiter's confirmations carry the intake forms; Phorest sends "
            "consultation forms before the visit once enabled). Off for a clinic that takes the intake on paper "
            "(INTAKE.md).",
        ),
        Setting(
            "appointment_reminder_days",
            "Send the appointment reminder this many days before a session",
            "The reminder for a booked session.",
            "A product default: reminder trials sent them 1-3 days ahead (Gurol-Urganci et al., Cochrane 2013, "
            "CD007458); 2 leaves a working day to rebook.",
            "days",
        ),
        Setting(
            "pre_procedure_days",
            "Send the pre-procedure instructions this many days before a session",
            "Always moved earlier to the day before the NSAID stop day, so the patient reads the stop date in time.",
            "A product default (MESSAGING.md).",
            "days",
        ),
        Setting(
            "questionnaire_overdue_days",
            "Remind about an unanswered questionnaire this many days after it was due",
            "One overdue reminder, none after that.",
            "A product default: one reminder a week after the due day; there is no published number (MESSAGING.md).",
            "days",
        ),
        Setting(
            "send_window_start_hour",
            "Send emails and text messages from this hour",
            "Clinic time, 0-23. A message due earlier waits until then.",
            "Inside the 8 a.m.-9 p.m. calling hours of the TCPA rules (47 CFR 64.1200(c)(1)); MESSAGING.md.",
            "h",
        ),
        Setting(
            "send_window_end_hour",
            "Send emails and text messages until this hour",
            "Clinic time, 1-24, not included: with 20, the last messages go out before 20:00 and the rest wait "
            "for the next morning.",
            "An hour inside the TCPA's 9 p.m. limit (47 CFR 64.1200(c)(1)), so no message buzzes a phone late in "
            "the evening; MESSAGING.md.",
            "h",
        ),
        Setting(
            "sign_early_margin_minutes",
            "A session can be signed from this many minutes before its booked start",
            "Earlier than that, signing needs a stated reason, recorded with the signature.",
            "A product default: a signature attests to care given (CMS Medicare Program Integrity Manual, ch. 3, "
            "signature requirements); 60 minutes covers a patient seen early.",
            "minutes",
        ),
        Setting(
            "contact_phone",
            "Clinic phone for patients",
            "Printed in reminder emails (how to change or cancel). Empty: the emails say to contact the clinic.",
            "No default: each clinic's own number.",
        ),
        Setting(
            "contact_email",
            "Clinic email for patients",
            "Printed in reminder emails, used as their Reply-To and in the List-Unsubscribe header.",
            "No default: each clinic's own address (MESSAGING.md).",
        ),
        Setting(
            "research_min_k",
            "Release a research export only when each patient matches at least this many (k)",
            "Each released patient shares sex, age band, weight band, region, side, indication and year with at "
            "least k - 1 others; ages and weights are widened, and what is still rarer is left out. 5 to 50.",
            "5: a common threshold for data released under an agreement (El Emam and Dankar 2008 discuss 3-11; CMS "
            "suppresses cells under 11); a clinic may be stricter, never weaker (RESEARCH.md).",
            "patients",
        ),
        Setting(
            "research_min_l",
            "Release a research export only when each group of look-alike patients has at least this many outcomes (l)",
            "Patients who share their quasi-identifiers must not all share one list of course outcomes (open, "
            "completed, stopped); otherwise their courses are withheld. 2 or 3.",
            "2: distinct l-diversity (Machanavajjhala et al. 2007, l-Diversity: Privacy Beyond k-Anonymity); 2 is "
            "the least value that defeats their homogeneity attack (RESEARCH.md).",
            "outcomes",
        ),
        Setting(
            "research_dp_epsilon_tenths",
            "Privacy budget (epsilon) of each quarter's noisy research breakdowns, in tenths",
            "Researchers see protocol, clinician, funnel, adverse-event and questionnaire-completion counts with "
            "random noise (differential privacy). Smaller is more private and noisier: 10 means epsilon 1, split "
            "between the breakdowns. 1 to 30.",
            "10 (epsilon 1): Dwork and Roth 2014, The Algorithmic Foundations of Differential Privacy, describe epsilon "
            "of about 1 or below as a meaningful guarantee (RESEARCH.md).",
            "tenths",
        ),
        Setting(
            "currency",
            "Currency of fees, invoices and payments",
            "An ISO 4217 code. Amounts are kept to the currency's smallest unit (cents for USD, none for JPY). A "
            "payment in another currency is refused. Change it only before the first invoice.",
            "USD: the product's billing codes (HCPCS Level II, Medicare's NCD 150.7) are United States ones, and a "
            "clinic records no country to derive it from (BILLING.md).",
        ),
        Setting(
            "session_fee_rule",
            "How a signed session's procedure is charged",
            "Per region: one procedure line for each region and side treated. Per injection: one line whose quantity "
            "is the number of injections. Per session: one line, whatever was treated.",
            "Per region, a product default: HCPCS M0076's descriptor names no unit (CMS HCPCS Level II file) and "
            "prolotherapy fee schedules price by area treated (BILLING.md).",
        ),
        Setting(
            "package_refund_rule",
            "What a course stopped early gives back of a prepaid package",
            "Pro rata: the unused sessions' share of the package price goes back as a credit note on the invoice "
            "that sold it. None: nothing goes back. Say which in the package's terms given to the patient.",
            "Pro rata, the clinic's policy choice: keeping money for services never supplied is a term consumer "
            "law lists as potentially unfair (UK Consumer Rights Act 2015, Sch. 2 para. 5; EU Directive 93/13/EEC, "
            "Annex 1(d)); BILLING.md.",
        ),
        Setting(
            "address",
            "Practice address",
            "One line (street, city, state, ZIP), printed under the clinic's name on invoices, receipts and "
            "superbills with the phone and email above.",
            "No default: each clinic's own address (BILLING.md).",
        ),
        Setting(
            "npi",
            "Practice NPI (National Provider Identifier)",
            "The practice's 10-digit NPI from NPPES, printed on superbills as the billing provider. Checked with the "
            "CMS check digit, so a typing error is refused.",
            "No default: each practice's own. 10 digits, the last the Luhn check digit with the prefix 80840 (CMS, "
            "NPI standard; 45 CFR 162.406).",
        ),
        Setting(
            "online_booking",
            "Patients may book online",
            "Only appointment types marked bookable online, with clinicians who allow it. Staff booking is not "
            "affected.",
            "Off: a clinic turns it on once its hours and appointment types are set (BOOKING.md, as Jane App's "
            "'Online Booking Policy').",
        ),
        Setting(
            "booking_min_notice_minutes",
            "Online: book at least this many minutes ahead",
            "The earliest slot a patient sees online is this far from now. Staff can book any free slot.",
            "120, a clinic policy choice between the 1-hour and 4-hour examples of Cliniko ('Lead time') and Jane "
            "('Do not allow booking within'): time to read a new booking before the patient arrives (BOOKING.md).",
            "minutes",
        ),
        Setting(
            "booking_max_days_ahead",
            "Online: book at most this many days ahead",
            "0 allows today only (when same-day booking is on).",
            "60, a clinic policy choice: two months holds a course's sessions 1-6 weeks apart (DOMAIN.md §4) "
            "without publishing hours the clinic has not planned (BOOKING.md).",
            "days",
        ),
        Setting(
            "booking_same_day",
            "Online: patients may book for today",
            "When off, online slots start tomorrow; staff can still book today.",
            "On, as Jane App describes it for filling late cancellations (Jane, 'Allow same day booking'); the "
            "minimum notice still applies (BOOKING.md).",
        ),
        Setting(
            "booking_cancel_window_hours",
            "Patients may cancel or move online until this many hours before",
            "Later than that they are asked to call; staff can still cancel, marked as a late cancellation.",
            "24, a clinic policy choice: the length of the late-cancellation period clinics commonly publish (Jane, "
            "'Late Cancellation Period'); BOOKING.md.",
            "hours",
        ),
        Setting(
            "booking_step_minutes",
            "Slots start every this many minutes",
            "From the start of each working period: with 15 and hours from 09:00, slots start 09:00, 09:15, ...",
            "15, a clinic policy choice: a quarter hour fits 30, 45 and 60-minute visits (BOOKING.md).",
            "minutes",
        ),
        Setting(
            "waitlist_hold_minutes",
            "A slot offered from the waitlist is held this many minutes",
            "The offer's link and the hold end together; unanswered, the slot goes to the next person in line.",
            "60, a product choice: long enough to read an email on a break, short enough that a slot freed a few "
            "days ahead can reach a dozen people a day, one at a time (BOOKING.md, 'Waitlist').",
            "minutes",
        ),
        Setting(
            "booking_sessions_follow_hours",
            "Course sessions keep to working hours",
            "When on, a course session is refused outside the clinician's working hours, over a break, on time off or "
            "a clinic holiday, or over another course session (buffers of the prolotherapy-session type), as "
            "appointments are. When off, only appointments refuse a session.",
            "Off: staff booking in practice systems may go outside a clinician's hours (PracSuite, BizDiary: a "
            "warning staff may override), and a clinic without its hours entered would have every session refused "
            "(BOOKING.md).",
        ),
        Setting(
            "booking_follow_up_link_days",
            "A 'book your follow-up' link works for this many days",
            "Sent by staff to a patient; it books one appointment and then closes.",
            "14, a product default: the questionnaire links' 14 days, so a patient meets one expiry; long enough for "
            "a week away, short enough that an unused link does not linger (BOOKING.md, 'Follow-up links').",
            "days",
        ),
        Setting(
            "abn_gate",
            "Medicare ABN before signing a session",
            "For a patient whose coverage is Original Medicare, a session is signed only with a current Advance "
            "Beneficiary Notice (CMS-R-131) for the course: signed before the first session, renewed when the plan, "
            "the patient's health or the price changes beyond the estimate.",
            "On: Medicare does not cover prolotherapy (NCD 150.7), and without a valid ABN the patient cannot be "
            "billed for care Medicare denies (Medicare Claims Processing Manual ch. 30, §50; BILLING.md).",
        ),
        Setting(
            "tax_id",
            "Practice tax identification number (EIN)",
            "The IRS's 9-digit number, printed on superbills as 12-3456789.",
            "No default: each practice's own (IRS Publication 1635, EIN).",
        ),
    )
}

# The anaesthetic fraction is shown and typed as a percentage (0.8 -> 80).
PERCENT_FIELD = "anaesthetic_warn_percent"
FORM_NAME = {"anaesthetic_warn_fraction": PERCENT_FIELD}

GROUPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Security", ("idle_timeout_minutes", "second_factor_all_staff")),
    (
        "Session and dosing",
        ("nsaid_stop_days", "anaesthetic_warn_fraction", "min_injections_per_session", "max_injections_per_session"),
    ),
    (
        "Outcomes and questionnaires",
        ("non_responder_after_sessions", "questionnaire_link_days", "intake_link_days", "intake_auto_send"),
    ),
    (
        "Reminders",
        (
            "appointment_reminder_days",
            "pre_procedure_days",
            "questionnaire_overdue_days",
            "send_window_start_hour",
            "send_window_end_hour",
            "contact_phone",
            "contact_email",
        ),
    ),
    ("Signing", ("sign_early_margin_minutes",)),
    ("Research", ("research_min_k", "research_min_l", "research_dp_epsilon_tenths")),
    ("Billing", ("currency", "session_fee_rule", "package_refund_rule", "address", "npi", "tax_id", "abn_gate")),
    (
        "Booking",
        (
            "online_booking",
            "booking_min_notice_minutes",
            "booking_max_days_ahead",
            "booking_same_day",
            "booking_cancel_window_hours",
            "booking_step_minutes",
            "waitlist_hold_minutes",
            "booking_sessions_follow_hours",
            "booking_follow_up_link_days",
        ),
    ),
)

INSTRUMENTS_SOURCE = (
    "NRS pain and PGIC everywhere, plus the region's own questionnaire: knee KOOS JR, hip WOMAC, lumbar "
    "spine ODI, shoulder QuickDASH, elbow PRTEE, ankle VISA-A (DOMAIN.md §8). PGIC is never asked at baseline."
)


def _default_text(name: str) -> str:
    value = getattr(DEFAULTS, name)
    if name in ClinicConfig.TEXT_SETTINGS:
        return value or "empty"
    if name in ClinicConfig.BOOL_SETTINGS:
        return "on" if value else "off"
    if name in ClinicConfig.CHOICE_SETTINGS:
        return str(choices_of(name)[value])
    if name.startswith("send_window_"):
        return f"{value}:00"
    if name == "anaesthetic_warn_fraction":
        return f"{int(value * 100)}%"
    unit = SETTINGS[name].unit
    return f"{value} {unit}".strip() if unit and unit != "%" else str(value)


def settings_fingerprint(clinic: Any) -> str:
    """A short hash of the clinic's stored settings, to tell whether they changed since a page was shown."""
    stored = json.dumps(clinic.settings or {}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(stored.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class RegionChoice:
    """One course region's questionnaires on the page."""

    region: str
    label: str
    field: Any  # the bound checkbox field
    default: tuple[str, ...]  # the product's set (titles)
    kept: tuple[str, ...]  # licensed questionnaires in the set that this clinic cannot use yet (titles)
    changed: bool


class ClinicSettingsForm(forms.Form):
    """Every clinic setting. Build it with the clinic: its stored values are the initial values."""

    def __init__(self, data: Any = None, *, clinic: Any) -> None:
        self.clinic = clinic
        self.config: ClinicConfig = clinic.config
        available = set(hooks.licensed_instruments(clinic))
        # Questionnaires this clinic can use: the free ones, and licensed ones whose texts it imported.
        self.offered = tuple(code for code, d in domain.DEFINITIONS.items() if not d.licensed or code in available)
        super().__init__(data, initial=self._initial())
        # The stored settings as the page showed them: a save over someone else's later change is refused.
        self.fields["seen"] = forms.CharField(widget=forms.HiddenInput, required=False)
        for name in SETTINGS:
            self.fields[FORM_NAME.get(name, name)] = self._number_field(name)
        choices = [(code, self._choice_label(code)) for code in self.offered]
        for region, label in BodyRegion.choices:
            self.fields[INSTRUMENT_PREFIX + region] = forms.MultipleChoiceField(
                label=label,
                required=False,
                choices=choices,
                widget=forms.CheckboxSelectMultiple,
                error_messages={
                    "invalid_choice": "%(value)s is not a questionnaire this clinic can use: choose from the boxes "
                    "shown (licensed questionnaires appear once their texts are imported on the Questionnaires page)."
                },
            )

    # --- building ------------------------------------------------------------------------------------------------

    @staticmethod
    def _number_field(name: str) -> forms.Field:
        setting = SETTINGS[name]
        if name in ClinicConfig.BOOL_SETTINGS:
            return forms.BooleanField(required=False, label=setting.label, help_text=setting.help)
        if name in ClinicConfig.CHOICE_SETTINGS:
            return forms.ChoiceField(
                choices=list(choices_of(name).items()), label=setting.label, help_text=setting.help
            )
        if name in ClinicConfig.TEXT_SETTINGS:
            if name == "contact_email":
                return forms.EmailField(required=False, max_length=120, label=setting.label, help_text=setting.help)
            return forms.CharField(required=False, max_length=120, label=setting.label, help_text=setting.help)
        # The warning fraction is shown and entered as a percentage.
        scale = 100 if name == "anaesthetic_warn_fraction" else 1
        low, high = (int(bound * scale) for bound in LIMITS[name])
        # Django formats these messages with %-parameters: a literal percent sign is written %%.
        unit = "%%" if setting.unit == "%" else f" {setting.unit}" if setting.unit else ""
        what = f"{setting.unit} " if setting.unit and setting.unit != "%" else "percent " if setting.unit else ""
        messages = {
            "required": f"Enter a whole number from {low} to {high}.",
            "invalid": f"Enter a whole number of {what}from {low} to {high}, without decimals or words.",
            "min_value": f"Enter at least {low}{unit.removesuffix('s') if low == 1 else unit}.",
            "max_value": f"Enter at most {high}{unit}.",
        }
        field = forms.IntegerField(
            min_value=low, max_value=high, label=setting.label, help_text=setting.help, error_messages=messages
        )
        field.widget.attrs.update({"inputmode": "numeric"})
        return field

    @staticmethod
    def _choice_label(code: str) -> str:
        found = domain.DEFINITIONS[code]
        label = found.title
        if found.instrument.rates_change:
            label += " (not at baseline)"
        return label

    def _configured(self, region: str) -> tuple[str, ...]:
        return tuple(self.config.outcome_instruments.get(region) or domain.REGION_INSTRUMENTS[region])

    def _initial(self) -> dict[str, Any]:
        values: dict[str, Any] = {f.name: getattr(self.config, f.name) for f in fields(self.config)}
        values.pop("outcome_instruments")
        values["seen"] = settings_fingerprint(self.clinic)
        values[PERCENT_FIELD] = int(Decimal(values.pop("anaesthetic_warn_fraction")) * 100)
        for region, _label in BodyRegion.choices:
            values[INSTRUMENT_PREFIX + region] = [c for c in self._configured(region) if c in self.offered]
        return values

    # --- validating ----------------------------------------------------------------------------------------------

    def _provider_id(self, name: str) -> str:
        from prolotrack.domain.errors import DomainError
        from prolotrack.domain.provider_ids import parse_npi, parse_tax_id

        try:
            return (parse_npi if name == "npi" else parse_tax_id)(self.cleaned_data.get(name) or "")
        except DomainError as error:
            raise forms.ValidationError(str(error)) from None

    def clean_npi(self) -> str:
        return self._provider_id("npi")

    def clean_tax_id(self) -> str:
        return self._provider_id("tax_id")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("seen") != settings_fingerprint(self.clinic):
            raise forms.ValidationError(
                "Another administrator changed these settings after you opened this page, so nothing was saved: "
                "reload the page to see the saved settings, then make your change again.",
                code="stale",
            )
        opens, closes = data.get("send_window_start_hour"), data.get("send_window_end_hour")
        if opens is not None and closes is not None and opens >= closes:
            self.add_error(
                "send_window_end_hour",
                f"The sending window closes ({closes}:00) before it opens ({opens}:00): choose a later closing hour.",
            )
        low, high = data.get("min_injections_per_session"), data.get("max_injections_per_session")
        if low is not None and high is not None and low > high:
            self.add_error(
                "max_injections_per_session",
                f"The usual maximum ({high}) is below the usual minimum ({low}): raise the maximum or lower the "
                "minimum.",
            )
        for region, label in BodyRegion.choices:
            name = INSTRUMENT_PREFIX + region
            if name in data and not data[name]:
                self.add_error(name, f"Tick at least one questionnaire for {label.lower()} courses.")
        return data

    def config_values(self) -> dict[str, Any]:
        """Settings to save: the percentage back to a fraction (80 -> 0.8), and the instrument sets that differ
        from the product's (a region left at its default is not stored, so it follows future defaults)."""
        values = {name: self.cleaned_data[FORM_NAME.get(name, name)] for name in SETTINGS}
        values["anaesthetic_warn_fraction"] = Decimal(self.cleaned_data[PERCENT_FIELD]) / 100
        overrides: dict[str, list[str]] = {}
        for region, _label in BodyRegion.choices:
            ticked = [c for c in self.offered if c in self.cleaned_data[INSTRUMENT_PREFIX + region]]
            kept = [c for c in self._configured(region) if c not in self.offered]
            chosen = ticked + kept
            if set(chosen) != set(domain.REGION_INSTRUMENTS[region]):
                overrides[region] = chosen
        values["outcome_instruments"] = overrides
        return values

    # --- presenting ----------------------------------------------------------------------------------------------

    def groups(self) -> list[dict[str, Any]]:
        """The page's sections: each setting's bound field, default, source and whether it differs from the default."""
        out = []
        for title, names in GROUPS:
            rows = []
            for name in names:
                stored = getattr(self.config, name)
                rows.append(
                    {
                        "field": self[FORM_NAME.get(name, name)],
                        "setting": name,
                        "default": _default_text(name),
                        "source": SETTINGS[name].source,
                        "changed": stored != getattr(DEFAULTS, name),
                    }
                )
            out.append({"title": title, "rows": rows, "slug": title.lower().replace(" ", "-")})
        return out

    def regions(self) -> list[RegionChoice]:
        title = {code: d.title for code, d in domain.DEFINITIONS.items()}
        return [
            RegionChoice(
                region=region,
                label=label,
                field=self[INSTRUMENT_PREFIX + region],
                default=tuple(title[c] for c in domain.REGION_INSTRUMENTS[region]),
                kept=tuple(title[c] for c in self._configured(region) if c not in self.offered),
                changed=region in self.config.outcome_instruments,
            )
            for region, label in BodyRegion.choices
        ]

    def error_links(self) -> list[dict[str, str]]:
        """Each setting with an error, to list at the top of the page with a link to it."""
        out = []
        for name, errors in self.errors.items():
            if name == "__all__":
                continue
            if name.startswith(INSTRUMENT_PREFIX):
                href, label = f"region-{name.removeprefix(INSTRUMENT_PREFIX)}", f"Questionnaires: {self[name].label}"
            else:
                href, label = self[name].id_for_label, str(self[name].label)
            out.append({"href": href, "label": label, "message": str(errors[0])})
        return out

    def licensed_missing(self) -> list[str]:
        """Titles of licensed questionnaires this clinic has not imported (they cannot be ticked yet)."""
        return [d.title for code, d in domain.DEFINITIONS.items() if d.licensed and code not in self.offered]

    instruments_source = INSTRUMENTS_SOURCE


class AuditFilterForm(forms.Form):
    """The audit page's filters: user, patient (record number or id), action code or its start, dates."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, to_field_name="username")
    patient = forms.CharField(required=False, help_text="Record number or patient id")
    action = forms.CharField(required=False, help_text="Action code or its start, e.g. patient.")
    date_from = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def __init__(self, *args: Any, clinic: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.clinic = clinic
        cast(forms.ModelChoiceField, self.fields["user"]).queryset = User.objects.filter(
            memberships__clinic=clinic
        ).order_by("username")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("date_from") and data.get("date_to") and data["date_from"] > data["date_to"]:
            raise forms.ValidationError("The start date is after the end date.")
        text = (data.get("patient") or "").strip()
        data["patient_uuid"] = None
        if text:
            match = hooks.patient_reference(self.clinic, text)
            if match is None:
                self.add_error("patient", "No patient in this clinic has that record number or id.")
            data["patient_uuid"] = match
        return data


class MemberNpiForm(forms.Form):
    """A member's own NPI as a rendering provider (empty: not recorded); the service checks the CMS check digit."""

    npi = forms.CharField(
        label="NPI", max_length=20, required=False, widget=forms.TextInput(attrs={"inputmode": "numeric", "size": 12})
    )
