"""The product's patient handout texts (version 0 of each section), their sources, and how a text becomes a page.

Three handouts: before the procedure, after the procedure, and what the evidence says. Each is made of sections; some
sections belong to one body region (region-specific warnings, the evidence for that region). A clinic may replace the
text of any section with its own version (models.HandoutVersion); the product's text stays version 0.

Texts are plain lines: "## " starts a heading, "- " a bullet, a blank line ends a paragraph. {placeholders} are filled
for the patient: the NSAID stop date is computed from the clinic setting nsaid_stop_days (DOMAIN.md §6). Facts and
sources: docs/DOCUMENTS.md. Write honest text: clinic texts pass the overclaim check of prolotrack.domain.claims.
"""

import re
import string
from dataclasses import dataclass
from datetime import date, timedelta

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, gettext_noop

from prolotrack.documents import handout_texts_es
from prolotrack.domain import citations, claims

BEFORE, AFTER, EVIDENCE = "before", "after", "evidence"
HANDOUTS: dict[str, str] = {
    BEFORE: gettext_noop("Before your prolotherapy session"),
    AFTER: gettext_noop("After your prolotherapy session"),
    EVIDENCE: gettext_noop("Prolotherapy: what the research shows"),
}

# Sources printed at the foot of each section: the published source itself (authors, title, journal, year) or, where
# the advice is clinic practice with no trial behind it, that fact. Never an internal file: patients read these.
# docs/DOCUMENTS.md maps each section's content to the project's clinical notes.
SRC_NSAID = citations.CLINIC_PRACTICE_NSAID
SRC_MEAL = citations.CLINIC_PRACTICE_MEAL
SRC_SEDATION = citations.CLINIC_PRACTICE_SEDATION
SRC_CANDIDACY = citations.RABAGO_2010
SRC_BLEEDING = citations.ASRA_ESRA_2018
SRC_AFTER = citations.RABAGO_2010
SRC_NSAID_AFTER = citations.CLINIC_PRACTICE_AFTER
SRC_PNEUMOTHORAX = citations.DAGENAIS_2006
SRC_SPINAL = citations.DAGENAIS_2006
SRC_COVER = f"{citations.CMS_NCD_150_7}; {citations.AETNA_0207}"
SRC_OVERVIEW = citations.RABAGO_2010
SRC_KNEE = f"{citations.RABAGO_2013}; {citations.BAE_2021}"
SRC_BACK = citations.DAGENAIS_2007
SRC_ELBOW = citations.ELBOW_2019
SRC_ACHILLES = citations.YELLAND_2011
SRC_SHOULDER = citations.BERTRAND_2016
SRC_FEW = "Few trials exist for this area; none is summarised here"


@dataclass(frozen=True)
class Section:
    """One editable part of a handout: which handout, which region (None: every region), its default text."""

    code: str
    handout: str
    title: str
    default: str
    sources: tuple[str, ...]
    region: str | None = None
    # Shown only when the session uses oral sedation.
    sedation_only: bool = False


# The placeholders a text may use, with what each is filled with.
PLACEHOLDERS: dict[str, str] = {
    "patient_name": "the patient's name",
    "clinic_name": "the clinic's name",
    "session_date": "the date of the session (or 'your next session')",
    "session_time": "the appointment time, when booked",
    "nsaid_stop_date": "the date to stop NSAIDs: the session date minus the clinic's NSAID stop days",
    "nsaid_stop_days": "the clinic's NSAID stop days (clinic setting)",
}

SECTIONS: tuple[Section, ...] = (
    Section(
        "before.general",
        BEFORE,
        gettext_noop("Before the procedure"),
        """## Painkillers
- Please stop anti-inflammatory painkillers (NSAIDs, such as ibuprofen, naproxen, diclofenac or high-dose aspirin) from {nsaid_stop_date}, which is {nsaid_stop_days} days before your session on {session_date}.
- Why: prolotherapy is meant to start a short, local healing response, and these medicines damp inflammation. No trial has shown that they reduce the effect, so this is a precaution; clinics differ on how long they ask.
- Do not stop aspirin or a blood thinner that a doctor prescribed for your heart or circulation without asking that doctor or us first.
- Acetaminophen (paracetamol) is fine before and after the session.

## On the day
- Eat a light meal beforehand: it makes feeling faint during the injections less likely.
- Wear loose clothing that lets us reach the area being treated.
- Bring the list of medicines you take, any scan reports we have not seen, and your glasses if you need them to read.
- Tell us if you have a fever, an infection, a rash or a wound near the area, or if you might be pregnant: we may need to postpone.""",
        (SRC_NSAID, SRC_MEAL, SRC_BLEEDING, SRC_CANDIDACY),
    ),
    Section(
        "before.sedation",
        BEFORE,
        gettext_noop("If you are given a sedative"),
        """## You will have a sedative tablet
- A sedative makes you drowsy and slows your reactions for the rest of the day.
- An adult must drive you home: do not drive, cycle or operate machinery until the next day.
- Do not sign important papers or drink alcohol for the rest of the day.""",
        (SRC_SEDATION,),
        sedation_only=True,
    ),
    Section(
        "after.general",
        AFTER,
        gettext_noop("After the procedure"),
        """## What is normal
- Soreness, stiffness or a flare of your usual pain where you were injected, for one to three days. In trials about 1 in 10 people had pain lasting up to 72 hours.
- A small bruise where a needle went in.

## Pain relief
- Acetaminophen (paracetamol) is fine, at the dose on the pack.
- Avoid anti-inflammatory painkillers (NSAIDs) for a while: clinics advise anything from a few days to several weeks, so ask us what we advise.
- Ice or heat: ask us; clinics differ.

## Activity
- Light everyday activity is fine from the same day. Avoid heavy exercise of the treated area for a few days unless we told you otherwise.

## When to call us
- Fever, or redness, warmth, swelling or fluid coming from an injection site.
- Bleeding that does not stop with firm pressure.
- Pain that is severe, or getting worse rather than better, after about a week.
- New weakness or numbness.
- Call {clinic_name}. If you feel very unwell, call emergency services.""",
        (SRC_AFTER, SRC_NSAID_AFTER),
    ),
    Section(
        "after.neck_thoracic",
        AFTER,
        gettext_noop("After injections at the neck, upper back or chest wall"),
        """## Chest wall and upper back: a rare but serious risk
- Rarely, a needle near the chest wall lets air leak around a lung (pneumothorax). Call emergency services straight away for chest pain, shortness of breath or fast breathing in the hours or days after the session.
- After injections near the spine, a headache that gets worse when you sit or stand and eases when you lie down can follow a puncture of the spinal lining. Call us if this happens.""",
        (SRC_PNEUMOTHORAX, SRC_SPINAL),
        region="neck_thoracic",
    ),
    Section(
        "after.lumbopelvic",
        AFTER,
        gettext_noop("After injections at the lower back and pelvis"),
        """## Lower back
- A headache that gets worse when you sit or stand and eases when you lie down can follow a puncture of the spinal lining. It is uncommon; call us if it happens.
- Call us at once for new weakness or numbness in the legs, or new problems passing urine.""",
        (SRC_SPINAL, SRC_AFTER),
        region="lumbopelvic",
    ),
    Section(
        "evidence.general",
        EVIDENCE,
        gettext_noop("What the research shows"),
        """## In short
- Prolotherapy injects a small amount of an irritant solution, usually a sugar (dextrose) solution with a local anaesthetic, where painful ligaments and tendons attach to bone, over several sessions.
- It has been tested in randomised trials, but most are small and the results differ from one condition to another. It does not help everyone, and how long any benefit lasts is not well known.
- Most health insurers, including Medicare in the United States, do not cover it and call it experimental.
- Other treatments, such as exercise therapy, may suit you too: ask us about them.""",
        (SRC_OVERVIEW, SRC_COVER),
    ),
    Section(
        "evidence.knee",
        EVIDENCE,
        gettext_noop("Knee osteoarthritis"),
        """## Knee osteoarthritis
- In one trial (Rabago 2013), people given dextrose prolotherapy improved more on a knee pain and function score (WOMAC) at one year than people given saline injections or exercise.
- Reviews that pool several trials find a moderate benefit over saline injections (standardised mean difference -0.44, Bae 2021). The trials have a high risk of bias, so the true effect may be smaller.""",
        (SRC_KNEE,),
        region="knee",
    ),
    Section(
        "evidence.lumbopelvic",
        EVIDENCE,
        gettext_noop("Low back pain"),
        """## Low back pain
- A Cochrane review (Dagenais 2007: 5 trials, 366 people) found that prolotherapy injections on their own worked no better than control injections.
- Some trials that combined them with other treatments found benefits, but it is not possible to tell which part helped.""",
        (SRC_BACK,),
        region="lumbopelvic",
    ),
    Section(
        "evidence.elbow",
        EVIDENCE,
        gettext_noop("Tennis elbow"),
        """## Tennis elbow (lateral epicondylosis)
- Results are mixed. A randomised trial published in 2019 found no difference from the comparison treatment at one year.""",
        (SRC_ELBOW,),
        region="elbow",
    ),
    Section(
        "evidence.ankle_foot",
        EVIDENCE,
        gettext_noop("Achilles tendon and foot"),
        """## Achilles tendon and foot
- Achilles tendon: in one trial (Yelland 2011), prolotherapy combined with a calf-strengthening (eccentric) exercise programme did better than the exercise programme alone.
- For other foot and ankle problems there are few trials, so we cannot say how likely it is to help.""",
        (SRC_ACHILLES,),
        region="ankle_foot",
    ),
    Section(
        "evidence.shoulder",
        EVIDENCE,
        gettext_noop("Shoulder (rotator cuff)"),
        """## Shoulder (rotator cuff)
- In one trial (Bertrand 2016), with physiotherapy for everyone, 59 in 100 people given dextrose injections counted as improved at 9 months, against 27 in 100 given control injections. One trial is not enough to be sure.""",
        (SRC_SHOULDER,),
        region="shoulder",
    ),
)

# Regions without a section of their own get this one (hip, neck and thoracic spine, jaw, other).
FALLBACK_EVIDENCE = Section(
    "evidence.other",
    EVIDENCE,
    gettext_noop("Other areas"),
    """## Your area
- For this area there are few trials, so we cannot give you a reliable estimate of how likely prolotherapy is to help. Ask us what is known about your condition.""",
    (SRC_FEW,),
)

ALL_SECTIONS: tuple[Section, ...] = (*SECTIONS, FALLBACK_EVIDENCE)
_BY_CODE: dict[str, Section] = {s.code: s for s in ALL_SECTIONS}
MAX_LENGTH = 8000


# The product's text of each section per language (English: each Section's default).
SHIPPED: dict[str, dict[str, str]] = {
    "en": {s.code: s.default for s in ALL_SECTIONS},
    "es": handout_texts_es.TEXTS,
}


def shipped(code: str, language: str) -> str | None:
    """The product's text of a section in a language, or None where the product ships none."""
    return SHIPPED.get(language, {}).get(code)


# The product's own source sentences per language (published sources are printed as published).
SHIPPED_SOURCES: dict[str, dict[str, str]] = {"es": handout_texts_es.SOURCES}


def source_in(source: str, language: str) -> str:
    return SHIPPED_SOURCES.get(language, {}).get(source, source)


def shipped_languages(code: str) -> set[str]:
    return {language for language, texts in SHIPPED.items() if code in texts}


def section(code: str) -> Section:
    """Return the section with this code, or KeyError."""
    return _BY_CODE[code]


def sections_for(handout: str, region: str | None, *, sedation: bool = False) -> list[Section]:
    """The sections of a handout for a region, general ones first."""
    if handout not in HANDOUTS:
        raise KeyError(handout)
    chosen = [
        s for s in SECTIONS if s.handout == handout and (s.region is None or s.region == region) and not s.sedation_only
    ]
    if sedation:
        chosen += [s for s in SECTIONS if s.handout == handout and s.sedation_only]
    if handout == EVIDENCE and not any(s.region for s in chosen):
        chosen.append(FALLBACK_EVIDENCE)
    return chosen


def nsaid_stop_date(session_day: date, stop_days: int) -> date | None:
    """The first day without NSAIDs before a session on `session_day` (DOMAIN.md §6), or None if the clinic stops none."""
    if stop_days <= 0:
        return None
    return session_day - timedelta(days=stop_days)


_FIELD = re.compile(r"[a-z_]+")


def check_text(body: str) -> str:
    """Return the cleaned text, or raise ValueError saying what to fix."""
    body = (body or "").replace("\r\n", "\n").strip()
    if not body:
        raise ValueError("The text is empty: write the handout text (or revert to an earlier version).")
    if len(body) > MAX_LENGTH:
        raise ValueError(f"The text is {len(body)} characters long; keep it under {MAX_LENGTH}.")
    try:
        names = [name for _, name, _, _ in string.Formatter().parse(body) if name is not None]
    except ValueError:
        raise ValueError(
            "A { or } is unmatched: placeholders look like {nsaid_stop_date}; write {{ or }} for a brace itself."
        ) from None
    unknown = sorted({n for n in names if n not in PLACEHOLDERS})
    if unknown:
        shown = ", ".join("{" + n + "}" for n in unknown)
        allowed = ", ".join("{" + n + "}" for n in PLACEHOLDERS)
        raise ValueError(f"Unknown placeholder {shown}: use one of {allowed}.")
    # The one overclaim check for every clinic-editable patient text (docs/clinical/patient-text.md).
    claims.check_patient_text(body, "A patient handout")
    return body


def fill(body: str, values: dict[str, str]) -> str:
    """Fill the placeholders (missing values become a visible gap, never an error in front of a patient)."""
    return string.Formatter().vformat(body, (), _Defaults(values))


class _Defaults(dict):
    def __missing__(self, key: str) -> str:
        return gettext("(ask the clinic)")


def to_html(text: str) -> SafeString:
    """Turn the plain-line text into escaped HTML: headings, bullet lists and paragraphs."""
    out: list[str] = []
    in_list = False
    paragraph: list[str] = []

    def flush() -> None:
        nonlocal in_list
        if paragraph:
            out.append("<p>" + " ".join(paragraph) + "</p>")
            paragraph.clear()
        if in_list:
            out.append("</ul>")
            in_list = False

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("## "):
            flush()
            out.append("<h3>" + escape(line[3:]) + "</h3>")
        elif line.startswith("- "):
            if paragraph:
                out.append("<p>" + " ".join(paragraph) + "</p>")
                paragraph.clear()
            if not in_list:
                out.append("<ul>")
                in_list = True
            out.append("<li>" + escape(line[2:]) + "</li>")
        else:
            if in_list:
                out.append("</ul>")
                in_list = False
            paragraph.append(escape(line))
    flush()
    return mark_safe("\n".join(out))  # noqa: S308 - every piece above is escaped
