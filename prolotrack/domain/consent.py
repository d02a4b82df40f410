"""The text of an informed consent for a course of prolotherapy, and for research use of de-identified data.

The clinic supplies the general paragraphs (its template, with the product's default as version 0); the domain adds
what follows from the plan: the number of sessions and their interval, the common risks (DOMAIN.md §7) and the
risks of the region injected (DOMAIN.md §6, §7: pneumothorax at the chest wall and thoracic spine, dural puncture
headache after spinal injections). Nothing here claims a cure or permanence (DOMAIN.md §9). See docs/CONSENT.md.
"""

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from itertools import pairwise
from statistics import median

from . import consent_es, sources
from .errors import InputError

# The languages the product ships the form in (docs/LANGUAGES.md, "Documents"); another falls back to English.
ENGLISH = "en"
LANGUAGES = ("en", "es")


class ConsentError(InputError):
    """Refuse a consent plan or template that cannot be turned into an honest text."""


@dataclass(frozen=True)
class Risk:
    """One risk as a patient reads it, with where the fact comes from."""

    text: str
    source: str


# DOMAIN.md §7 (rates as the trials and surveys give them; allergy per Dorman 1993), §3 (LAST), §6 (soreness).
COMMON_RISKS: tuple[Risk, ...] = (
    Risk(
        "Pain and stiffness after the injections (a flare), usually for 1 to 3 days. It is the commonest effect: "
        "in trials about 1 in 10 people had a flare lasting up to 72 hours, and stiffness is reported in about "
        "1 in 4.",
        "DOMAIN.md §6, §7",
    ),
    Risk("Bruising at an injection site (about 1 in 20).", "DOMAIN.md §7 (knee RCT 3/30)"),
    Risk("Feeling faint or fainting during or just after the injections (a vasovagal reaction).", "DOMAIN.md §7"),
    Risk("Bleeding at an injection site; more likely if you take blood thinners.", "DOMAIN.md §5, §7"),
    Risk(
        "Infection where the needle went in. This is rare; the skin is cleaned before each injection.",
        "DOMAIN.md §6, §7",
    ),
    Risk(
        "An allergic reaction to the local anaesthetic or another ingredient. This is rare (one survey counted "
        "14 in about 495,000 treatments).",
        "DOMAIN.md §7 (Dorman 1993 ⚠️)",
    ),
    Risk(
        "Irritation of or injury to a nerve near an injection site, causing numbness or weakness. This is rare.",
        "DOMAIN.md §7",
    ),
    Risk(
        "A reaction to too much local anaesthetic in the blood (numb lips, metallic taste, ringing ears, confusion). "
        "The dose is calculated from your weight to stay under the safe limit, and you are watched after the "
        "injections.",
        "DOMAIN.md §3",
    ),
)

PNEUMOTHORAX = Risk(
    "Injections at the chest wall or the upper and middle back (thoracic spine) can rarely puncture the lung "
    "(a pneumothorax). Get urgent help for chest pain or shortness of breath after the session.",
    sources.PNEUMOTHORAX,
)
DURAL_PUNCTURE = Risk(
    "Injections near the spine can rarely puncture the covering of the spinal cord, causing a headache that is "
    "worse when you stand up. Call the clinic if this happens.",
    sources.DURAL_PUNCTURE,
)
SPINAL_NERVES = Risk(
    "Nerve roots run close to the spine: call the clinic about new weakness or numbness in a limb.",
    "DOMAIN.md §6, §7",
)
JOINT_INFECTION = Risk(
    "When the injection goes into the joint, an infection inside the joint is possible though rare, and serious: "
    "call the clinic at once for a hot, red, swollen joint or a fever.",
    "DOMAIN.md §5 (septic joint), §6, §7",
)
GLUCOSE_LOAD = Risk(
    "If you have diabetes: each session gives a small amount of sugar (about 2.6 g in a typical knee session). "
    "Check your blood sugar as you usually would.",
    sources.GLUCOSE_LOAD_KNEE,
)

# Region code (prolotrack.domain.anatomy.Region values, plus "other") -> the risks that come with it.
REGION_RISKS: dict[str, tuple[Risk, ...]] = {
    "knee": (JOINT_INFECTION,),
    "hip": (JOINT_INFECTION,),
    "shoulder": (JOINT_INFECTION,),
    "tmj": (JOINT_INFECTION,),
    "lumbopelvic": (DURAL_PUNCTURE, SPINAL_NERVES, JOINT_INFECTION),
    "neck_thoracic": (PNEUMOTHORAX, DURAL_PUNCTURE, SPINAL_NERVES),
    "elbow": (),
    "ankle_foot": (),
    "other": (),
}


def region_risks(region: str) -> tuple[Risk, ...]:
    """The risks added for a region; an unknown region is refused rather than silently given none."""
    try:
        return REGION_RISKS[region]
    except KeyError:
        raise ConsentError(f"Unknown body region '{region}': choose one of {', '.join(REGION_RISKS)}.") from None


@dataclass(frozen=True)
class TemplateTexts:
    """The clinic's own paragraphs of the consent form (its template)."""

    what_it_is: str
    expected_benefit: str
    off_label: str
    insurance: str
    alternatives: str
    tell_us: str
    right_to_stop: str
    research: str

    def __post_init__(self) -> None:
        for f in fields(self):
            if not getattr(self, f.name).strip():
                raise ConsentError(f"The consent template's '{f.name.replace('_', ' ')}' paragraph is empty: write it.")


FIELD_LABELS: dict[str, str] = {
    "what_it_is": "What prolotherapy is",
    "expected_benefit": "What to expect",
    "off_label": "Off-label use",
    "insurance": "Cost and insurance",
    "alternatives": "Alternatives",
    "tell_us": "Tell us before each session",
    "right_to_stop": "Your right to stop",
    "research": "Research use of your data (research consent)",
}

# Version 0: the product's default text. Sources for each paragraph are in docs/CONSENT.md.
DEFAULT_TEXTS = TemplateTexts(
    what_it_is=(
        "Prolotherapy is a series of injections of a solution, mostly concentrated dextrose (a sugar) with a local "
        "anaesthetic, where painful ligaments and tendons attach to bone and sometimes into the nearby joint. It is "
        "given over several sessions, usually a few weeks apart."
    ),
    expected_benefit=(
        "The evidence is mixed. For knee osteoarthritis, trials found moderate improvement compared with salt-water "
        "injections, but the studies have a high risk of bias. For chronic low back pain, prolotherapy alone was no better than "
        "control injections. Some people improve, some do not; no result is guaranteed, and we will review your "
        "progress with questionnaires during and after the course."
    ),
    off_label=(
        "Dextrose and the local anaesthetic are approved medicines, but not for this use: using them for "
        "prolotherapy is 'off-label'. Your clinician explains why they think it may help you."
    ),
    insurance=(
        "Prolotherapy is not covered by Medicare and most insurers consider it experimental, so you should expect "
        "to pay for it yourself. Ask us for the cost of the planned sessions before you sign."
    ),
    alternatives=(
        "You may choose other treatment or none: for example exercise and physiotherapy, pain medicines, bracing or "
        "supports, other injections, or a surgical opinion where it applies. Your clinician can discuss these with "
        "you."
    ),
    tell_us=(
        "Tell us before each session if you take blood thinners or anti-inflammatory medicines, might be pregnant, "
        "have diabetes, a weakened immune system, a joint replacement or artificial heart valve, a fever or "
        "infection, or an allergy to local anaesthetics."
    ),
    right_to_stop=(
        "You may ask questions at any time, and you may stop the treatment at any time, before or during any "
        "session, without giving a reason. Stopping does not affect the rest of your care at this clinic."
    ),
    research=(
        "With your permission the clinic may include your treatment and questionnaire results in research, with "
        "your name, contact details, record number and other identifying details removed and dates reduced to the "
        "year. Saying no does not change your care. You can withdraw this permission at any time; data already "
        "shared in a de-identified export cannot be recalled."
    ),
)


@dataclass(frozen=True)
class CoursePlan:
    """What the consent says about the planned course."""

    indication: str
    region: str
    region_label: str
    side_label: str
    protocol_name: str
    session_dates: tuple[date, ...]
    optional_dates: tuple[date, ...] = ()
    diabetes: bool = False
    side: str = ""  # the laterality code ("left", "right", "bilateral"; "" when none applies)


# The fixed words of the form, by id, per language ({names} are filled in).
WORDS: dict[str, dict[str, str]] = {
    "en": {
        "treatment_title": "Consent to prolotherapy: {indication}",
        "research_title": "Consent to research use of de-identified data",
        "what_it_is": "What prolotherapy is",
        "your_plan": "Your plan",
        "treatment_of": "Treatment of {indication} ({where}).",
        "protocol": " It follows the '{protocol}' protocol.",
        "dates_move": "Dates may move when appointments are booked; each session is recorded in your notes.",
        "what_to_expect": "What to expect",
        "common_risks": "Common risks",
        "common_intro": "Most people have some of these; they usually settle without treatment.",
        "regional_risks": "Risks of injections in the {region}",
        "no_regional": "No additional risks beyond those above are listed for this region.",
        "off_label": "Off-label use",
        "cost": "Cost and insurance",
        "alternatives": "Alternatives",
        "tell_us": "Tell us before each session",
        "right_to_stop": "Your right to stop",
        "agreement": "Your agreement",
        "agreement_text": (
            "I have read this form or had it read to me, my questions were answered, and I agree to the treatment "
            "described above. I know I can stop at any time."
        ),
        "research_heading": "Research use of your de-identified data",
        "research_stop": "You may withdraw this permission at any time by telling the clinic.",
        "research_agreement": (
            "I agree that my de-identified treatment and outcome data may be used for research as described above."
        ),
        "one_session": "1 session, planned for {date}",
        "sessions": "{n} sessions {gap} apart, planned from {first} to {last}",
        "more": ", and up to {extra} more if needed ({total} in all)",
        "day": "about {n} day",
        "days": "about {n} days",
        "week": "about {n} week",
        "weeks": "about {n} weeks",
        "months": "about {n} months",
    },
    "es": consent_es.WORDS,
}


def language_of(language: str) -> str:
    """The language the form is written in: `language` when the product ships the form in it, else English."""
    return language if language in LANGUAGES else ENGLISH


def words(language: str) -> dict[str, str]:
    return WORDS[language_of(language)]


def risk_text(risk: Risk, language: str = ENGLISH) -> str:
    return consent_es.RISKS[risk.text] if language_of(language) == "es" else risk.text


def default_texts(language: str = ENGLISH) -> "TemplateTexts":
    """The product's default paragraphs (version 0) in a language (English where the product ships none)."""
    return TemplateTexts(**consent_es.DEFAULT_TEXTS) if language_of(language) == "es" else DEFAULT_TEXTS


@dataclass(frozen=True)
class Section:
    """One heading of the consent form with its paragraphs and bullet points."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    bullets: tuple[str, ...] = ()


def _weeks_phrase(days: float, language: str = ENGLISH) -> str:
    w = words(language)
    if days < 7:
        n = round(days)
        return w["day" if n == 1 else "days"].format(n=n)
    weeks = round(days / 7)
    if weeks < 9:
        return w["week" if weeks == 1 else "weeks"].format(n=weeks)
    return w["months"].format(n=round(days / 30.4))


def plan_summary(session_dates: Sequence[date], optional_dates: Sequence[date] = (), language: str = ENGLISH) -> str:
    """Sessions, interval and dates in one sentence, e.g. '3 sessions about 4 weeks apart, planned from … to …'."""
    planned = sorted(session_dates)
    if not planned:
        raise ConsentError("The course has no planned session: plan the sessions before preparing consent.")
    w = words(language)
    n = len(planned)
    if n == 1:
        text = w["one_session"].format(date=f"{planned[0]:%Y-%m-%d}")
    else:
        gaps = [(b - a).days for a, b in pairwise(planned)]
        text = w["sessions"].format(
            n=n,
            gap=_weeks_phrase(median(gaps), language),
            first=f"{planned[0]:%Y-%m-%d}",
            last=f"{planned[-1]:%Y-%m-%d}",
        )
    if optional_dates:
        extra = len(optional_dates)
        text += w["more"].format(extra=extra, total=extra + n)
    return text + "."


def _where(plan: CoursePlan, language: str) -> str:
    if language_of(language) == "es":
        region = consent_es.REGIONS.get(plan.region, plan.region_label.lower())
        side = consent_es.SIDES.get(plan.side, "")
        return f"{region}, {side}" if side else region
    return f"{plan.side_label.lower()} {plan.region_label.lower()}".strip()


def treatment_title(indication: str, language: str = ENGLISH) -> str:
    return words(language)["treatment_title"].format(indication=indication)


def research_title(language: str = ENGLISH) -> str:
    return words(language)["research_title"]


def treatment_sections(plan: CoursePlan, texts: TemplateTexts, language: str = ENGLISH) -> tuple[Section, ...]:
    """The consent form for one course, section by section, in the order a patient reads it, in `language` (the
    product's words and risks; `texts` are the clinic's paragraphs in that language)."""
    if not plan.indication.strip():
        raise ConsentError("The course has no indication: say what is being treated before preparing consent.")
    w = words(language)
    risks = [risk_text(r, language) for r in COMMON_RISKS]
    regional = [risk_text(r, language) for r in region_risks(plan.region)]
    if plan.diabetes:
        regional.append(risk_text(GLUCOSE_LOAD, language))
    protocol = w["protocol"].format(protocol=plan.protocol_name) if plan.protocol_name else ""
    region_name = (
        consent_es.REGIONS.get(plan.region, plan.region_label.lower())
        if language_of(language) == "es"
        else plan.region_label.lower()
    )
    return (
        Section(w["what_it_is"], (texts.what_it_is,)),
        Section(
            w["your_plan"],
            (
                w["treatment_of"].format(indication=plan.indication, where=_where(plan, language)) + protocol,
                f"{plan_summary(plan.session_dates, plan.optional_dates, language)} {w['dates_move']}",
            ),
        ),
        Section(w["what_to_expect"], (texts.expected_benefit,)),
        Section(w["common_risks"], (w["common_intro"],), tuple(risks)),
        Section(
            w["regional_risks"].format(region=region_name),
            () if regional else (w["no_regional"],),
            tuple(regional),
        ),
        Section(w["off_label"], (texts.off_label,)),
        Section(w["cost"], (texts.insurance,)),
        Section(w["alternatives"], (texts.alternatives,)),
        Section(w["tell_us"], (texts.tell_us,)),
        Section(w["right_to_stop"], (texts.right_to_stop,)),
        Section(w["agreement"], (w["agreement_text"],)),
    )


def research_sections(texts: TemplateTexts, language: str = ENGLISH) -> tuple[Section, ...]:
    """The research-use consent form."""
    w = words(language)
    return (
        Section(w["research_heading"], (texts.research,)),
        Section(w["right_to_stop"], (w["research_stop"],)),
        Section(w["agreement"], (w["research_agreement"],)),
    )


def as_text(title: str, sections: Sequence[Section]) -> str:
    """The form as plain text: '# title', '## heading', paragraphs, '- ' bullets; what is stored and signed."""
    lines = [f"# {title}", ""]
    for section in sections:
        lines.append(f"## {section.heading}")
        lines.extend(section.paragraphs)
        lines.extend(f"- {b}" for b in section.bullets)
        lines.append("")
    return "\n".join(lines).strip() + "\n"


def parse_text(text: str) -> tuple[str, tuple[Section, ...]]:
    """Read a stored form back into its title and sections (the inverse of `as_text`)."""
    title = ""
    sections: list[Section] = []
    heading: str | None = None
    paragraphs: list[str] = []
    bullets: list[str] = []

    def close() -> None:
        if heading is not None:
            sections.append(Section(heading, tuple(paragraphs), tuple(bullets)))

    for line in text.splitlines():
        if line.startswith("# "):
            title = line[2:]
        elif line.startswith("## "):
            close()
            heading, paragraphs, bullets = line[3:], [], []
        elif line.startswith("- "):
            bullets.append(line[2:])
        elif line.strip():
            paragraphs.append(line)
    close()
    return title, tuple(sections)
