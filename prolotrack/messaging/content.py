"""The words of each message to a patient: plain, honest, short (DOMAIN.md §6 for the instructions).

No promise of a result: prolotherapy helps some patients and not others (DOMAIN.md §9), so reminders only say what
to do and when. Every date is the clinic's local date, written out in full so it cannot be misread.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

LINK_PLACEHOLDER = "{questionnaire_link}"
LINK_REDACTED = "[personal questionnaire link: in the patient's copy only]"


@dataclass(frozen=True)
class Content:
    subject: str
    body: str


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _clock(start: datetime) -> str:
    """The time with the zone's abbreviation (09:30 CST), so a patient travelling or near a DST change reads it
    right."""
    return f"{start:%H:%M} {start.tzname()}"


def _when(start: datetime) -> str:
    return f"{_day(start.date())} at {_clock(start)}"


def contact_line(clinic: Any) -> str:
    """How to reach the clinic: its phone and email from the clinic settings, when set."""
    config = clinic.config
    ways = [w for w in (config.contact_phone, config.contact_email) if w]
    return f"Contact {clinic.name}: {' or '.join(ways)}." if ways else f"Please contact {clinic.name}."


def _sign_off(clinic: Any) -> str:
    return f"\n\n{clinic.name}\nTo change or cancel your appointment: {contact_line(clinic)}"


def appointment(patient: Any, clinic: Any, start: datetime, *, sms: bool) -> Content:
    if sms:
        return Content("", f"{clinic.name}: reminder of your appointment on {_when(start)}. To change it, call us.")
    return Content(
        f"Reminder: your appointment on {_day(start.date())}",
        f"Dear {patient.given_name},\n\nThis is a reminder of your treatment appointment at {clinic.name} on "
        f"{_when(start)}. The attached calendar file adds it to your calendar."
        f"{_sign_off(clinic)}",
    )


def _nsaid_lines(stop_day: date, nsaid_stop_days: int, today: date, session_day: date) -> str:
    return (
        f"{_nsaid_from(stop_day, today, nsaid_stop_days, session_day)}, please do not take "
        "anti-inflammatory painkillers (NSAIDs) such as ibuprofen, naproxen or diclofenac, until after the "
        "treatment. The clinic asks this as a precaution, because the treatment works through a short "
        "inflammatory reaction. Acetaminophen (paracetamol) is fine. Do not stop aspirin or any blood thinner "
        "that a doctor prescribed for your heart or circulation without asking that doctor first."
    )


def _days(count: int) -> str:
    return f"{count} day" if count == 1 else f"{count} days"


def _nsaid_from(stop_day: date, today: date, nsaid_stop_days: int, session_day: date) -> str:
    if stop_day > today:
        return f"From {_day(stop_day)} ({_days(nsaid_stop_days)} before your appointment)"
    if (session_day - today).days >= nsaid_stop_days:
        return f"From today, {_day(today)} ({_days(nsaid_stop_days)} before your appointment)"
    return (
        f"From today, {_day(today)} (the clinic asks for {_days(nsaid_stop_days)} without them before your "
        "appointment, so please stop as soon as you read this)"
    )


def nsaid_stop(
    patient: Any, clinic: Any, start: datetime, stop_day: date, nsaid_stop_days: int, *, today: date, sms: bool
) -> Content:
    """Sent on the stop day or, for a late booking, later: the text then says "from today" and names today, never a
    past day (`stop_day` is the day as sent, `rules.stop_day_as_sent`)."""
    if sms:
        return Content(
            "",
            f"{clinic.name}: from today please stop ibuprofen, naproxen and other anti-inflammatory painkillers "
            f"until after your appointment on {_when(start)}. Paracetamol is fine. Keep taking prescribed "
            "aspirin or blood thinners unless your doctor says otherwise.",
        )
    return Content(
        f"From today: no anti-inflammatory painkillers before your appointment on {_day(start.date())}",
        f"Dear {patient.given_name},\n\n{_nsaid_lines(stop_day, nsaid_stop_days, today, start.date())}\n\n"
        f"Your appointment is on {_when(start)}.{_sign_off(clinic)}",
    )


def pre_procedure(
    patient: Any,
    clinic: Any,
    start: datetime,
    stop_day: date | None,
    nsaid_stop_days: int,
    *,
    today: date,
    sedation: bool,
) -> Content:
    parts = [
        f"Dear {patient.given_name},",
        f"Your treatment appointment at {clinic.name} is on {_when(start)}. Here is how to prepare.",
    ]
    if stop_day is not None:
        parts.append("Painkillers. " + _nsaid_lines(stop_day, nsaid_stop_days, today, start.date()))
    parts.append("Eating. Have a light meal before you come; it helps prevent feeling faint during the injections.")
    if sedation:
        parts.append(
            "Getting home. You will be given a sedative, so you must not drive afterwards. Please arrange for "
            "someone to drive you home."
        )
    parts.append(
        "What to bring. A list of the medicines you take (with doses), any new scan or X-ray reports, and "
        "clothing that lets the treated area be reached easily (for example shorts for a knee)."
    )
    parts.append(
        "Before you come. Tell the clinic if you have a fever, an infection or a new illness, or if you have "
        "started a blood thinner."
    )
    parts.append(
        "Afterwards. Soreness for one to three days is common; acetaminophen (paracetamol) may be taken for it."
    )
    return Content(
        f"Preparing for your appointment on {_day(start.date())}",
        "\n\n".join(parts) + _sign_off(clinic),
    )


def questionnaire(patient: Any, clinic: Any, label: str, due_on: date, *, overdue: bool) -> Content:
    what = f"your {label} questionnaire" if label else "your follow-up questionnaire"
    if overdue:
        subject = "A reminder: your follow-up questionnaire"
        opening = f"We have not yet received {what}, which was due on {_day(due_on)}."
    else:
        subject = "Your follow-up questionnaire is ready"
        opening = f"It is time for {what}."
    body = (
        f"Dear {patient.given_name},\n\n{opening} It takes a few minutes and tells your clinician how you are "
        "doing, whether the treatment has helped or not.\n\n"
        f"Open it here: {LINK_PLACEHOLDER}\n\n"
        "The link is personal and works once; it expires after a while. If it has expired, ask the clinic for a "
        f"new one.\n\n{clinic.name}\n{contact_line(clinic)}"
    )
    return Content(subject, body)


# Reminders a patient may turn off without missing part of their care: these carry a List-Unsubscribe header. The
# NSAID-stop and pre-procedure instructions are clinical: the opt-out line says to ask the clinic (docs/MESSAGING.md).
NON_CLINICAL = frozenset({"appointment_reminder", "questionnaire_due", "questionnaire_overdue"})


def opt_out_line(kind: str, clinic: Any) -> str:
    if kind == "billing_document":
        return (
            f"{clinic.name} sent this at your request. If you would rather have your invoices and receipts on paper, "
            "tell the clinic."
        )
    if kind in NON_CLINICAL:
        return (
            f"You receive this because you are a patient of {clinic.name}. To stop these reminders, reply with "
            '"unsubscribe" or tell the clinic; your appointments and care do not change.'
        )
    return (
        f"These instructions are part of your care at {clinic.name}. If you do not want them by email, tell the "
        "clinic and they will give them to you another way."
    )


def _reply_address(clinic: Any) -> str:
    from email.utils import parseaddr

    return clinic.config.contact_email or parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def email_message(message: Any, subject: str, body: str) -> EmailMultiAlternatives:
    """The email as sent: a plain-text part and an HTML part written from the same paragraphs
    (templates/messaging/email.html), the opt-out line, and List-Unsubscribe for non-clinical reminders."""
    clinic = message.clinic
    footer = opt_out_line(message.kind, clinic)
    text = f"{body}\n\n--\n{footer}"
    html = render_to_string(
        "messaging/email.html",
        {"subject": subject, "paragraphs": [p.split("\n") for p in body.split("\n\n")], "footer": footer},
    )
    headers = {}
    reply_to = _reply_address(clinic)
    if message.kind in NON_CLINICAL and reply_to:
        headers["List-Unsubscribe"] = f"<mailto:{reply_to}?subject={quote('unsubscribe ' + message.kind)}>"
    email = EmailMultiAlternatives(
        subject=subject,
        body=text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[message.to_address],
        reply_to=[reply_to] if clinic.config.contact_email else None,
        headers=headers,
    )
    email.attach_alternative(html, "text/html")
    return email


def billing_document(patient: Any, clinic: Any, title: str) -> Content:
    """The email that carries an invoice, receipt or superbill as a PDF: what is attached, and nothing clinical in the
    body (the PDF holds the detail)."""
    subject = f"{title} from {clinic.name}"
    body = (
        f"Dear {patient.given_name},\n\n"
        f"Attached is your {title[0].lower() + title[1:]} from {clinic.name}, as a PDF.\n\n"
        f"Questions about it: {clinic.config.contact_phone or clinic.config.contact_email or 'ask the front desk'}."
    )
    return Content(subject, body)
