"""The overclaim check: phrases that patient-facing text must not use, each with why it is not supported.

One list guards every text a clinic can edit that a patient reads (consent templates, handouts, and any later
patient-facing text such as booking pages). The text is compared after normalising case, accents written as
compatibility characters, invisible characters (soft hyphens, zero-width spaces), punctuation and spacing, so
"All-Natural", "all  natural" and "ALL_NATURAL" are the same phrase; a phrase matches whole words only ("secure" is
not "cure"). The list and its sources are documented in docs/clinical/patient-text.md.

Sources cited here are published ones: the FTC's Health Products Compliance Guidance (December 2022: health claims
need competent and reliable scientific evidence, and "natural" does not mean safe), the FDA's rule on drug advertising
(21 CFR 202.1(e)(6)(i): no suggestion that a drug is safer or more effective than substantial evidence shows), and
the clinical evidence gathered in the project's domain notes.
"""

import re
import unicodedata
from dataclasses import dataclass

from . import citations
from .errors import DomainError

FTC_2022 = citations.FTC_2022
FDA_202 = citations.FDA_202
RABAGO_2010 = citations.RABAGO_2010
RABAGO_2013 = citations.RABAGO_2013
DAGENAIS_2007 = citations.DAGENAIS_2007
BAE_2021 = citations.BAE_2021
CMS_NCD = citations.CMS_NCD_150_7
AETNA_0207 = citations.AETNA_0207
DORMAN_1993 = citations.DORMAN_1993
DAGENAIS_2006 = citations.DAGENAIS_2006


class OverclaimError(DomainError):
    """Refuse patient-facing text that makes a claim the evidence does not support."""


@dataclass(frozen=True)
class Claim:
    """One claim the product does not let a clinic make to patients, the phrases that make it, and why."""

    code: str
    phrases: tuple[str, ...]
    why: str
    sources: tuple[str, ...]


CLAIMS: tuple[Claim, ...] = (
    Claim(
        "permanent",
        (
            "permanent",
            "permanently",
            "lifelong relief",
            "lasts forever",
            "last forever",
            # Spanish (docs/LANGUAGES.md): the same claims in the shipped patient language.
            "permanente",
            "permanentes",
            "permanentemente",
            "para siempre",
            "alivio de por vida",
        ),
        "trials follow patients for a year at most and how long any benefit lasts is not known",
        (RABAGO_2013, RABAGO_2010),
    ),
    Claim(
        "natural",
        (
            "all natural",
            "100 natural",
            "completely natural",
            "totally natural",
            "entirely natural",
            "purely natural",
            "totalmente natural",
            "completamente natural",
            "todo natural",
            "puramente natural",
        ),
        "the injection contains medicines (dextrose with a local anaesthetic such as lidocaine), and 'natural' "
        "suggests a safety no one has shown",
        (FTC_2022, RABAGO_2010),
    ),
    Claim(
        "centuries",
        (
            "used for centuries",
            "for centuries",
            "centuries old",
            "centuries of use",
            "ancient remedy",
            "durante siglos",
            "por siglos",
            "desde hace siglos",
            "remedio ancestral",
        ),
        "prolotherapy was formalised by George Hackett in the 1950s",
        (RABAGO_2010,),
    ),
    Claim(
        "safe_and_effective",
        (
            "safe and effective",
            "effective and safe",
            "safe effective",
            "completely safe",
            "perfectly safe",
            "totally safe",
            "100 safe",
            "risk free",
            "no side effects",
            "seguro y eficaz",
            "segura y eficaz",
            "seguro y efectivo",
            "segura y efectiva",
            "eficaz y seguro",
            "eficaz y segura",
            "completamente seguro",
            "completamente segura",
            "totalmente seguro",
            "totalmente segura",
            "100 seguro",
            "sin riesgos",
            "sin efectos secundarios",
        ),
        "'safe and effective' is the standard the FDA applies when it approves a medicine for a use, and dextrose "
        "and lidocaine are not approved for prolotherapy; flares, bruising, infection, nerve injury and "
        "pneumothorax are reported",
        (FDA_202, FTC_2022, DORMAN_1993, DAGENAIS_2006),
    ),
    Claim(
        "cure",
        (
            "cure",
            "cures",
            "cured",
            "curing",
            "curative",
            "cura",
            "curar",
            "curación",
            "curaciones",
            "curativo",
            "curativa",
        ),
        "trials measure pain and function scores; the results are mixed and no trial shows a cure",
        (DAGENAIS_2007, RABAGO_2013, BAE_2021),
    ),
    Claim(
        "proven",
        (
            "clinically proven",
            "scientifically proven",
            "proven to",
            "proven effective",
            "proven treatment",
            "clínicamente probado",
            "clínicamente probada",
            "científicamente probado",
            "científicamente probada",
            "eficacia probada",
            "eficacia comprobada",
            "comprobado científicamente",
        ),
        "the evidence is mixed: no better than control injections for low back pain, a moderate effect with a high "
        "risk of bias for knee osteoarthritis",
        (DAGENAIS_2007, BAE_2021, FTC_2022),
    ),
    Claim(
        "guaranteed",
        (
            "guaranteed results",
            "results guaranteed",
            "guaranteed relief",
            "guaranteed to",
            "guarantees relief",
            "resultados garantizados",
            "resultado garantizado",
            "alivio garantizado",
            "garantiza el alivio",
            "garantizamos",
        ),
        "some people improve and some do not",
        (DAGENAIS_2007, BAE_2021, FTC_2022),
    ),
    Claim(
        "miracle",
        (
            "miracle",
            "miraculous",
            "breakthrough treatment",
            "milagro",
            "milagroso",
            "milagrosa",
            "tratamiento revolucionario",
        ),
        "the trials show modest, mixed effects",
        (BAE_2021, FTC_2022),
    ),
    Claim(
        "regrowth",
        (
            "regrows cartilage",
            "regrow cartilage",
            "regenerates cartilage",
            "regenerate cartilage",
            "rebuilds cartilage",
            "rebuild cartilage",
            "regenera el cartílago",
            "regenerar el cartílago",
            "regenera cartílago",
            "reconstruye el cartílago",
            "hace crecer el cartílago",
        ),
        "the trials measure pain and function scores, not cartilage regrowth",
        (RABAGO_2013, BAE_2021),
    ),
    Claim(
        "alcohol_or_phenol",
        (
            "alcohol or phenol",
            "phenol or alcohol",
            "alcohol and phenol",
            "typically alcohol",
            "usually alcohol",
            "alcohol o fenol",
            "fenol o alcohol",
        ),
        "the solutions used today are mostly dextrose; phenol appears in one rarely used mixture (P2G)",
        (RABAGO_2010,),
    ),
    Claim(
        "sclerotherapy",
        ("sclerotherapy", "escleroterapia"),
        "sclerotherapy today means closing veins; 'joint sclerotherapy' is an old payer synonym only",
        (CMS_NCD, AETNA_0207),
    ),
    Claim(
        "protein_meal",
        ("protein rich", "high protein meal", "protein meal", "rica en proteínas", "alta en proteínas"),
        "nothing supports a protein-rich meal; a light meal helps prevent feeling faint",
        (RABAGO_2010,),
    ),
    Claim(
        "chronic_no_response",
        ("chronic conditions may not respond", "chronic conditions do not respond", "chronic conditions don t respond"),
        "prolotherapy is studied almost only in chronic conditions",
        (RABAGO_2010, DAGENAIS_2007),
    ),
)

_WORD = re.compile(r"[^\W_]+")


def normalise(text: str) -> str:
    """Fold case, compatibility forms and invisible characters; keep words separated by single spaces."""
    folded = unicodedata.normalize("NFKC", text or "")
    visible = "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")
    return " " + " ".join(_WORD.findall(visible.casefold())) + " "


@dataclass(frozen=True)
class Finding:
    """One overclaim found in a text: the claim, and the phrase as written (else as normalised)."""

    claim: Claim
    phrase: str

    @property
    def message(self) -> str:
        return f"'{self.phrase}': {self.claim.why} ({'; '.join(self.claim.sources)})"


def _as_written(text: str, phrase: str) -> str:
    """The phrase as the text spells it (case, hyphens), for the message; the normal form if it cannot be found."""
    pattern = r"(?<![^\W_])" + r"[\W_]+".join(re.escape(w) for w in phrase.split(" ")) + r"(?![^\W_])"
    match = re.search(pattern, unicodedata.normalize("NFKC", text), re.IGNORECASE)
    return match.group(0) if match else phrase


def find_overclaims(text: str) -> list[Finding]:
    """Every claim the text makes, once per claim, in the order of CLAIMS."""
    words = normalise(text)
    found = []
    for claim in CLAIMS:
        for phrase in claim.phrases:
            if f" {phrase} " in words:
                found.append(Finding(claim, _as_written(text, phrase)))
                break
    return found


def check_patient_text(text: str, what: str = "Patient-facing text") -> None:
    """Raise OverclaimError naming each unsupported claim in the text, why, and its sources; else return None."""
    found = find_overclaims(text)
    if found:
        reasons = "; ".join(f.message for f in found)
        raise OverclaimError(
            f"{what} must not claim {', '.join(repr(f.phrase) for f in found)}: the evidence does not support it. "
            f"Why: {reasons}. Reword the text."
        )
