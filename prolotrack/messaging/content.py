"""The words of each message to a patient: plain, honest, short (DOMAIN.md §6 for the instructions).

No promise of a result: prolotherapy helps some patients and not others (DOMAIN.md §9), so reminders only say what
to do and when. Every date is the clinic's local date, written out in full so it cannot be misread.
"""

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

LINK_PLACEHOLDER = "{questionnaire_link}"
LINK_REDACTED = "[personal questionnaire link: in the patient's copy only]"


@dataclass(frozen=True)
class Content:
    subject: str
    body: str


def _day(day: date) -> str:
    return f"{day:%A} {day.day} {day:%B %Y}"


def _when(start: datetime) -> str:
    return f"{_day(start.date())} at {start:%H:%M}"


def _sign_off(clinic: Any) -> str:
    return f"\n\n{clinic.name}\nTo change or cancel your appointment, please contact the clinic."


def appointment(patient: Any, clinic: Any, start: datetime, *, sms: bool) -> Content:
    if sms:
        return Content("", f"{clinic.name}: reminder of your appointment on {_when(start)}. To change it, call us.")
    return Content(
        f"Reminder: your appointment on {_day(start.date())}",
        f"Dear {patient.given_name},\n\nThis is a reminder of your treatment appointment at {clinic.name} on "
        f"{_when(start)}. The attached calendar file adds it to your calendar."
        f"{_sign_off(clinic)}",
    )


def _nsaid_lines(stop_day: date, nsaid_stop_days: int) -> str:
    return (
        f"From {_day(stop_day)} ({nsaid_stop_days} days before your appointment), please do not take "
        "anti-inflammatory painkillers (NSAIDs) such as ibuprofen, naproxen or diclofenac, until after the "
        "treatment. The clinic asks this as a precaution, because the treatment works through a short "
        "inflammatory reaction. Acetaminophen (paracetamol) is fine. Do not stop aspirin or any blood thinner "
        "that a doctor prescribed for your heart or circulation without asking that doctor first."
    )


def nsaid_stop(
    patient: Any, clinic: Any, start: datetime, stop_day: date, nsaid_stop_days: int, *, sms: bool
) -> Content:
    if sms:
        return Content(
            "",
            f"{clinic.name}: from today please stop ibuprofen, naproxen and other anti-inflammatory painkillers "
            f"until after your appointment on {_when(start)}. Paracetamol is fine. Keep taking prescribed "
            "aspirin or blood thinners unless your doctor says otherwise.",
        )
    return Content(
        f"From today: no anti-inflammatory painkillers before your appointment on {_day(start.date())}",
        f"Dear {patient.given_name},\n\n{_nsaid_lines(stop_day, nsaid_stop_days)}\n\n"
        f"Your appointment is on {_when(start)}.{_sign_off(clinic)}",
    )


def pre_procedure(
    patient: Any,
    clinic: Any,
    start: datetime,
    stop_day: date | None,
    nsaid_stop_days: int,
    *,
    sedation: bool,
) -> Content:
    parts = [
        f"Dear {patient.given_name},",
        f"Your treatment appointment at {clinic.name} is on {_when(start)}. Here is how to prepare.",
    ]
    if stop_day is not None:
        parts.append("Painkillers. " + _nsaid_lines(stop_day, nsaid_stop_days))
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
        f"new one.\n\n{clinic.name}"
    )
    return Content(subject, body)
