"""The words of each message to a patient: plain, honest, short (DOMAIN.md §6 for the instructions).

No promise of a result: prolotherapy helps some patients and not others (DOMAIN.md §9), so reminders only say what
to do and when. Every date is the clinic's local date, written out in full so it cannot be misread.

Every patient-facing string is marked for translation: the send path writes a message inside
`translation.override(patient_language(patient))` (services.render), so the patient reads it in their preferred
language (docs/LANGUAGES.md), dates included (weekday and month names from Django's catalogues).
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from prolotrack.core import clinictime

LINK_PLACEHOLDER = "{questionnaire_link}"
LINK_REDACTED = "[personal questionnaire link: in the patient's copy only]"
INTAKE_LINK_REDACTED = "[personal intake link: in the patient's copy only]"
COURSE_LINK_REDACTED = "[personal booking link: in the patient's copy only]"


@dataclass(frozen=True)
class Content:
    subject: str
    body: str


def written_day(day: date) -> str:
    """'Monday 7 December 2026' ('lunes, 7 de diciembre de 2026'): the patient's written day (core/clinictime.py)."""
    return clinictime.written_day(day)


def _clock(start: datetime) -> str:
    """The time with the zone's abbreviation (09:30 CST), so a patient travelling or near a DST change reads it
    right."""
    return f"{start:%H:%M} {start.tzname()}"


def written_when(start: datetime) -> str:
    return _("%(day)s at %(time)s") % {"day": written_day(start.date()), "time": _clock(start)}


def contact_line(clinic: Any) -> str:
    """How to reach the clinic: its phone and email from the clinic settings, when set."""
    config = clinic.config
    ways = [w for w in (config.contact_phone, config.contact_email) if w]
    if len(ways) == 2:
        return _("Contact %(clinic)s: %(phone)s or %(email)s.") % {
            "clinic": clinic.name,
            "phone": ways[0],
            "email": ways[1],
        }
    if ways:
        return _("Contact %(clinic)s: %(way)s.") % {"clinic": clinic.name, "way": ways[0]}
    return _("Please contact %(clinic)s.") % {"clinic": clinic.name}


def _sign_off(clinic: Any) -> str:
    change = _("To change or cancel your appointment: %(contact)s") % {"contact": contact_line(clinic)}
    return f"\n\n{clinic.name}\n{change}"


def _dear(patient: Any) -> str:
    return _("Dear %(name)s,") % {"name": patient.given_name}


def appointment(patient: Any, clinic: Any, start: datetime, *, sms: bool) -> Content:
    if sms:
        return Content(
            "",
            _("%(clinic)s: reminder of your appointment on %(when)s. To change it, call us.")
            % {"clinic": clinic.name, "when": written_when(start)},
        )
    return Content(
        _("Reminder: your appointment on %(day)s") % {"day": written_day(start.date())},
        f"{_dear(patient)}\n\n"
        + _(
            "This is a reminder of your treatment appointment at %(clinic)s on %(when)s. The attached calendar file "
            "adds it to your calendar."
        )
        % {"clinic": clinic.name, "when": written_when(start)}
        + _sign_off(clinic),
    )


def _nsaid_lines(stop_day: date, nsaid_stop_days: int, today: date, session_day: date) -> str:
    return _(
        "%(from)s, please do not take anti-inflammatory painkillers (NSAIDs) such as ibuprofen, naproxen or "
        "diclofenac, until after the treatment. The clinic asks this as a precaution, because the treatment works "
        "through a short inflammatory reaction. Acetaminophen (paracetamol) is fine. Do not stop aspirin or any "
        "blood thinner that a doctor prescribed for your heart or circulation without asking that doctor first."
    ) % {"from": _nsaid_from(stop_day, today, nsaid_stop_days, session_day)}


def _days(count: int) -> str:
    return ngettext("%(count)d day", "%(count)d days", count) % {"count": count}


def _nsaid_from(stop_day: date, today: date, nsaid_stop_days: int, session_day: date) -> str:
    if stop_day > today:
        return _("From %(day)s (%(days)s before your appointment)") % {
            "day": written_day(stop_day),
            "days": _days(nsaid_stop_days),
        }
    if (session_day - today).days >= nsaid_stop_days:
        return _("From today, %(day)s (%(days)s before your appointment)") % {
            "day": written_day(today),
            "days": _days(nsaid_stop_days),
        }
    return _(
        "From today, %(day)s (the clinic asks for %(days)s without them before your appointment, so please stop as "
        "soon as you read this)"
    ) % {"day": written_day(today), "days": _days(nsaid_stop_days)}


def nsaid_stop(
    patient: Any, clinic: Any, start: datetime, stop_day: date, nsaid_stop_days: int, *, today: date, sms: bool
) -> Content:
    """Sent on the stop day or, for a late booking, later: the text then says "from today" and names today, never a
    past day (`stop_day` is the day as sent, `rules.stop_day_as_sent`)."""
    if sms:
        return Content(
            "",
            _(
                "%(clinic)s: from today please stop ibuprofen, naproxen and other anti-inflammatory painkillers "
                "until after your appointment on %(when)s. Paracetamol is fine. Keep taking prescribed aspirin or "
                "blood thinners unless your doctor says otherwise."
            )
            % {"clinic": clinic.name, "when": written_when(start)},
        )
    return Content(
        _("From today: no anti-inflammatory painkillers before your appointment on %(day)s")
        % {"day": written_day(start.date())},
        f"{_dear(patient)}\n\n{_nsaid_lines(stop_day, nsaid_stop_days, today, start.date())}\n\n"
        + _("Your appointment is on %(when)s.") % {"when": written_when(start)}
        + _sign_off(clinic),
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
        _dear(patient),
        _("Your treatment appointment at %(clinic)s is on %(when)s. Here is how to prepare.")
        % {"clinic": clinic.name, "when": written_when(start)},
    ]
    if stop_day is not None:
        parts.append(_("Painkillers.") + " " + _nsaid_lines(stop_day, nsaid_stop_days, today, start.date()))
    parts.append(_("Eating. Have a light meal before you come; it helps prevent feeling faint during the injections."))
    if sedation:
        parts.append(
            _(
                "Getting home. You will be given a sedative, so you must not drive afterwards. Please arrange for "
                "someone to drive you home."
            )
        )
    parts.append(
        _(
            "What to bring. A list of the medicines you take (with doses), any new scan or X-ray reports, and "
            "clothing that lets the treated area be reached easily (for example shorts for a knee)."
        )
    )
    parts.append(
        _(
            "Before you come. Tell the clinic if you have a fever, an infection or a new illness, or if you have "
            "started a blood thinner."
        )
    )
    parts.append(
        _("Afterwards. Soreness for one to three days is common; acetaminophen (paracetamol) may be taken for it.")
    )
    return Content(
        _("Preparing for your appointment on %(day)s") % {"day": written_day(start.date())},
        "\n\n".join(parts) + _sign_off(clinic),
    )


def questionnaire(patient: Any, clinic: Any, label: str, due_on: date, *, overdue: bool) -> Content:
    """`label` is the timepoint's label, in English (not translated): it is named in the message only when the
    patient reads English; otherwise the message says "your follow-up questionnaire"."""
    if label and (translation.get_language() or "en").startswith("en"):
        what = _("your %(label)s questionnaire") % {"label": label}
    else:
        what = _("your follow-up questionnaire")
    if overdue:
        subject = _("A reminder: your follow-up questionnaire")
        opening = _("We have not yet received %(what)s, which was due on %(day)s.") % {
            "what": what,
            "day": written_day(due_on),
        }
    else:
        subject = _("Your follow-up questionnaire is ready")
        opening = _("It is time for %(what)s.") % {"what": what}
    body = (
        f"{_dear(patient)}\n\n{opening} "
        + _(
            "It takes a few minutes and tells your clinician how you are doing, whether the treatment has helped or not."
        )
        + "\n\n"
        + _("Open it here: %(link)s") % {"link": LINK_PLACEHOLDER}
        + "\n\n"
        + _(
            "The link is personal and works once; it expires after a while. If it has expired, ask the clinic for a "
            "new one."
        )
        + f"\n\n{clinic.name}\n{contact_line(clinic)}"
    )
    return Content(subject, body)


def intake(patient: Any, clinic: Any, start: datetime) -> Content:
    """The email carrying a pre-visit intake link (docs/INTAKE.md), in the language services.render chose. It names
    neither the complaint nor anything the patient answered: an email can be read by others."""
    subject = _("Before your first visit: a few questions")
    body = _(
        "Dear %(name)s,\n\nBefore your first visit at %(clinic)s on %(when)s, please answer a few questions about your "
        "pain, your medicines, allergies and health. It takes about 10 minutes and lets your clinician prepare. Your "
        "clinician goes through your answers with you; nothing you write changes your record until they have.\n\n"
        "Open the form here: %(link)s\n\n"
        "The link is personal and works until you send your answers or the visit starts. If it has stopped working, "
        "ask the clinic for a new one.\n\n%(clinic)s\n%(contact)s"
    ) % {
        "name": patient.given_name,
        "clinic": clinic.name,
        "when": written_when(start),
        "link": LINK_PLACEHOLDER,
        "contact": contact_line(clinic),
    }
    return Content(subject, body)


def course_link(patient: Any, clinic: Any, number: int, region: str, days: int, *, sms: bool) -> Content:
    """A course's "book your next session" link (docs/BOOKING.md, "Course links"): which session, that it books one
    session at once, how long it works. `region` is already in the patient's words."""
    if sms:
        return Content(
            "",
            _("%(clinic)s: book session %(number)s of your %(region)s treatment here: %(link)s (works %(days)s days)")
            % {
                "clinic": clinic.name,
                "number": number,
                "region": region.lower(),
                "link": LINK_PLACEHOLDER,
                "days": days,
            },
        )
    subject = _("Book your next session at %(clinic)s") % {"clinic": clinic.name}
    body = f"{_dear(patient)}\n\n" + _(
        "Your clinician asked us to send you this link to book session %(number)s of your treatment "
        "(%(region)s). Choose a free time on the page and it is booked for you at once.\n\n"
        "Book here: %(link)s\n\n"
        "The link is personal, books one session and works for %(days)s days. If it has stopped working, ask the "
        "clinic for a new one.\n\n%(clinic)s\n%(contact)s"
    ) % {
        "number": number,
        "region": region.lower(),
        "link": LINK_PLACEHOLDER,
        "days": days,
        "clinic": clinic.name,
        "contact": contact_line(clinic),
    }
    return Content(subject, body)


def session_confirmation(
    patient: Any, clinic: Any, number: int, region: str, start: datetime, clinician: str, *, sms: bool
) -> Content:
    """A course session booked by the patient from the course's link (docs/BOOKING.md, "Course links"): which
    session, when (as the reminders write it), with whom, where, and how to reach the clinic. `region` is already in
    the patient's words."""
    when = written_when(start)
    if sms:
        return Content(
            "",
            _("%(clinic)s: session %(number)s of your %(region)s treatment is booked for %(when)s.")
            % {"clinic": clinic.name, "number": number, "region": region.lower(), "when": when},
        )
    address = clinic.config.address
    where = _("Address: %(address)s") % {"address": address} if address else ""
    subject = _("Your session is booked: %(day)s") % {"day": written_day(start.date())}
    body = (
        f"{_dear(patient)}\n\n"
        + _(
            "Session %(number)s of your treatment (%(region)s) at %(clinic)s is booked for %(when)s, with "
            "%(clinician)s. The attached calendar file adds it to your calendar."
        )
        % {"number": number, "region": region.lower(), "clinic": clinic.name, "when": when, "clinician": clinician}
        + (f"\n\n{where}" if where else "")
        + _sign_off(clinic)
    )
    return Content(subject, body)


# Reminders a patient may turn off without missing part of their care: these carry a List-Unsubscribe header. The
# NSAID-stop and pre-procedure instructions are clinical: the opt-out line says to ask the clinic (docs/MESSAGING.md).
NON_CLINICAL = frozenset(
    {
        "appointment_reminder",
        "appointment_confirmation",
        "session_confirmation",
        "questionnaire_due",
        "questionnaire_overdue",
    }
)


def opt_out_line(kind: str, clinic: Any) -> str:
    if kind == "waitlist_offer":
        return _(
            "You receive this because you asked %(clinic)s to put you on its waitlist. To leave the waitlist, say so "
            "on the offer's page or tell the clinic."
        ) % {"clinic": clinic.name}
    if kind == "billing_document":
        return _(
            "%(clinic)s sent this at your request. If you would rather have your invoices and receipts on paper, "
            "tell the clinic."
        ) % {"clinic": clinic.name}
    if kind == "intake_link":
        return _(
            "%(clinic)s sent this because a first visit was booked. If you would rather answer at the visit, tell the "
            "clinic."
        ) % {"clinic": clinic.name}
    if kind == "course_link":
        return _(
            "%(clinic)s sent this because your clinician asked for it, for your course of treatment. If you would "
            "rather book by phone, tell the clinic."
        ) % {"clinic": clinic.name}
    if kind in NON_CLINICAL:
        return _(
            "You receive this because you are a patient of %(clinic)s. To stop these reminders, reply with "
            '"unsubscribe" or tell the clinic; your appointments and care do not change.'
        ) % {"clinic": clinic.name}
    return _(
        "These instructions are part of your care at %(clinic)s. If you do not want them by email, tell the clinic "
        "and they will give them to you another way."
    ) % {"clinic": clinic.name}


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
    body (the PDF holds the detail). The title ("Invoice 2026-0001") is the document's own, in English like the PDF."""
    subject = _("%(title)s from %(clinic)s") % {"title": title, "clinic": clinic.name}
    contact = clinic.config.contact_phone or clinic.config.contact_email or _("ask the front desk")
    body = (
        f"{_dear(patient)}\n\n"
        + _("Attached is your %(title)s from %(clinic)s, as a PDF.")
        % {"title": title[0].lower() + title[1:], "clinic": clinic.name}
        + "\n\n"
        + _("Questions about it: %(contact)s.") % {"contact": contact}
    )
    return Content(subject, body)
