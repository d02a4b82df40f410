"""Citation strings shared by the domain modules, and the evidence tags of docs/DOMAIN.md.

Each constant names the published source first and the section of the project's DOMAIN.md that records it,
so a finding or a dose limit shown to a clinician can be traced to where the number came from.
"""

from enum import StrEnum


class Evidence(StrEnum):
    """Tag how firm a clinical fact is, as DOMAIN.md does."""

    ESTABLISHED = "established"
    VARIES = "varies"
    UNVERIFIED = "unverified"

    @property
    def symbol(self) -> str:
        """Return the DOMAIN.md symbol for the tag."""
        return {"established": "✅", "varies": "⚠️", "unverified": "❓"}[self.value]


# Mixing (DOMAIN.md §2)
MIXING_C1V1 = "C1V1 = C2V2; percent w/v × 10 = mg/mL (DOMAIN.md §2)"
GLUCOSE_LOAD_KNEE = (
    "Rabago 2013, Ann Fam Med: 6 mL of 25% intra-articular + 15 × 0.5 mL of 15% ≈ 2.6 g glucose (DOMAIN.md §2)"
)

# Local anaesthetic limits (DOMAIN.md §3 and the labels cited in docs/clinical/anaesthetic-limits.md)
FDA_XYLOCAINE = "FDA label, Xylocaine (lidocaine HCl) MPF injection (DOMAIN.md §3)"
WIKEM_PROCAINE = "WikEM, local anesthetics: procaine 7 mg/kg plain, 10 mg/kg with epinephrine (DOMAIN.md §3)"
NOVOCAIN_LABEL = (
    "FDA label, Novocain (procaine HCl) injection, Hospira, DailyMed setid c80c810a-60e0-49bd-139c-95aec3a286fc: "
    "350-600 mg is generally considered a single safe total dose for infiltration"
)
WIKEM_BUPIVACAINE = "WikEM, local anesthetics: bupivacaine 2.5 mg/kg, not over 175 mg (DOMAIN.md §3)"
CARBOCAINE_LABEL = (
    "FDA label, Carbocaine (mepivacaine HCl) injection, Pfizer: usual single adult dose not over 400 mg; "
    "7 mg/kg (550 mg) given without adverse effect but not recommended outside exceptional circumstances"
)
ADDITIVE_TOXICITY = (
    "FDA label, Carbocaine (mepivacaine HCl) injection, Pfizer, section 2.1: the toxic effects of local anesthetics "
    "are additive"
)
LAST_AGE_RISK = "Medscape 1844551; ASRA LAST checklist: LAST risk higher under 6 or over 60 years (DOMAIN.md §3)"

# Candidacy and instructions (DOMAIN.md §5, §6, §4)
CANDIDACY = "DOMAIN.md §5: trial exclusions, payer policies and clinic practice; no formal guideline ⚠️"
ASRA_ESRA_2018 = "ASRA/ESRA bleeding-risk tiers, Reg Anesth Pain Med 2018;43:225 (DOMAIN.md §5)"
CORN_ALLERGY = "DOMAIN.md §5: corn allergy listed as relative ❓ (unverified)"
NSAID_WINDOW = "DOMAIN.md §6: clinics stop NSAIDs 2-3 days to 2 weeks before ⚠️; product default 3 days"
NSAID_AFTER = "DOMAIN.md §6: clinics avoid NSAIDs for days to 12 weeks after ⚠️; acetaminophen allowed ✅"
LIGHT_MEAL = "DOMAIN.md §6: a light meal to prevent dizziness ⚠️"
SEDATION_DRIVER = "DOMAIN.md §6: oral sedation needs a driver"
PNEUMOTHORAX = "DOMAIN.md §6, §7: pneumothorax after chest-wall or thoracic injections"
DURAL_PUNCTURE = "DOMAIN.md §6, §7: dural puncture (spinal) headache after spinal injections"
SKIN_PREP = "DOMAIN.md §6: aseptic skin prep ✅; numbing cream optional"
TIME_OUT = (
    "The Joint Commission, Universal Protocol for Preventing Wrong Site, Wrong Procedure and Wrong Person Surgery: "
    "a time-out before the procedure"
)
INJECTION_COUNT = (
    "DOMAIN.md §4: 4 to 15 injections a session is roughly right; single-tendon protocols use 1-3 sites, spinal "
    "sessions can exceed 15 ⚠️ (a warning, not a block)"
)
CONSENT = "DOMAIN.md §1, §5: off-label use; Medicare national non-coverage, most payers call it experimental"

# Outcomes (DOMAIN.md §8)
FARRAR_2001 = "Farrar 2001; Ostelo 2008 (DOMAIN.md §8)"
OSTELO_2008_LOW_BACK = "Ostelo 2008, low back (DOMAIN.md §8)"
PGIC_FARRAR = "Farrar 2001: much or very much improved = responder (DOMAIN.md §8)"
DOMAIN_OUTCOMES = "DOMAIN.md §8"
# Published sources of the MCIDs a clinic can change (docs/clinical/scoring.md quotes each and says what was checked).
WOMAC_MCID = (
    "Angst 2002, J Rheumatol 29:131-138 (MCID 0.80-1.01 on 0-10, about 8-10 on 0-100); Tubach 2005, Ann Rheum Dis "
    "64:29-33; 12 is a product default above that range (not a clinic setting)"
)
KOOS_MCID = (
    "Roos & Lohmander 2003, Health Qual Life Outcomes 1:64; Paradowski 2004, Health Qual Life Outcomes 2:38 "
    "(10 points); 10 is a product default (not a clinic setting)"
)
KOOS_JR_MCID = (
    "Lyman 2018, Clin Orthop Relat Res 476:2432-2441 (after knee arthroplasty, another population); 10 is a product "
    "default (not a clinic setting)"
)
QUICKDASH_MCID = "Franchignoni 2014, J Orthop Sports Phys Ther 44:30-39: 15.91 points"
DASH_MCID = "Franchignoni 2014, J Orthop Sports Phys Ther 44:30-39: 10.83 points"
