"""Concept lists: which chart entries mean a contraindication, caution or NSAID rule to candidacy screening.

Screening (screening.py) must read the whole chart, not only what is ticked on the day. This module recognises, from
what a chart entry holds (its codes, its problem-list choice, its words):

- conditions: SNOMED CT concepts, ICD-10-CM code prefixes (a prefix covers the category and every code below it), and
  the product's own problem-list choices (`PROBLEM_LIST`);
- medications: the screening class (NSAID, anticoagulant, antiplatelet, corticosteroid) by RxNorm ingredient, WHO
  ATC prefix or the drug's name;
- allergies: to local anaesthetics (any "-caine"), dextrose/glucose, corn, glycerin, phenol, sodium morrhuate, by
  SNOMED CT substance or RxNorm ingredient or the substance's words;
- "no known allergy" records (SNOMED CT 716186003, 409137002, 428607008, and the words "NKA", "NKDA", "no known
  allergies"), which are a confirmation and never an allergy;
- whether a condition is at the planned site (`at_site`).

Every list and its source is documented in docs/clinical/screening.md ("Chart concepts"). Pure: no Django, no I/O.
"""

import re
from collections.abc import Iterable
from enum import StrEnum

SNOMED = "http://snomed.info/sct"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
ICD10_SYSTEMS = frozenset({ICD10CM, ICD10})

# A coded value as stored on the chart: "system|code" (the FHIR token form), e.g. "http://snomed.info/sct|128045006".
CodeToken = str


def token(system: str, code: str) -> CodeToken:
    """Return the stored form of a code: system|code."""
    return f"{system.strip()}|{code.strip()}"


def split_token(value: str) -> tuple[str, str]:
    """Return (system, code) of a stored code; a bare code has no system."""
    system, sep, code = str(value).rpartition("|")
    return (system.strip(), code.strip()) if sep else ("", str(value).strip())


class ChartConcept(StrEnum):
    """What a chart condition means to screening. Values equal screening.RiskFlag values where one exists."""

    INFECTION = "infection_at_site"  # skin or soft-tissue infection: at the site a contraindication
    SYSTEMIC_INFECTION = "systemic_infection"  # anywhere: a contraindication
    SEPTIC_JOINT = "septic_joint"
    ACUTE_GOUT_FLARE = "acute_gout_flare"
    ACUTE_FRACTURE = "acute_fracture"
    TUMOUR = "suspected_tumour_at_site"
    BLEEDING_DISORDER = "bleeding_disorder"
    IMMUNOSUPPRESSION = "immunosuppression"
    DIABETES = "diabetes"
    PROSTHETIC_JOINT_OR_VALVE = "prosthetic_joint_or_valve"
    PREGNANCY = "pregnancy"

    @property
    def site_dependent(self) -> bool:
        """Return True for what counts only at the planned site (elsewhere it is at most a caution)."""
        return self in SITE_DEPENDENT


SITE_DEPENDENT = frozenset(
    {
        ChartConcept.INFECTION,
        ChartConcept.SEPTIC_JOINT,
        ChartConcept.ACUTE_GOUT_FLARE,
        ChartConcept.ACUTE_FRACTURE,
        ChartConcept.TUMOUR,
    }
)

# --- Conditions ---------------------------------------------------------------------------------------------------

# SNOMED CT concepts (SNOMED International browser, https://browser.ihtsdotools.org/). Descendants that charts and
# Synthea commonly use are listed one by one: the product has no terminology server to expand a hierarchy.
CONDITION_SNOMED: dict[str, ChartConcept] = {
    # skin and soft-tissue infection
    "128045006": ChartConcept.INFECTION,  # Cellulitis
    "128477000": ChartConcept.INFECTION,  # Abscess (disorder)
    "108365000": ChartConcept.INFECTION,  # Infection of skin
    "60168000": ChartConcept.INFECTION,  # Osteomyelitis
    # systemic infection
    "91302008": ChartConcept.SYSTEMIC_INFECTION,  # Sepsis
    "76571007": ChartConcept.SYSTEMIC_INFECTION,  # Septic shock
    "5758002": ChartConcept.SYSTEMIC_INFECTION,  # Bacteremia
    "386661006": ChartConcept.SYSTEMIC_INFECTION,  # Fever
    # septic joint (verified in the SNOMED CT IPS Free Set, docs/clinical/screening.md "Code verification")
    "396234004": ChartConcept.SEPTIC_JOINT,  # Infective arthritis
    "48245008": ChartConcept.SEPTIC_JOINT,  # Bacterial arthritis
    "239777004": ChartConcept.SEPTIC_JOINT,  # Knee pyogenic arthritis
    # acute fracture (Synthea's injury module uses the regional ones)
    "125605004": ChartConcept.ACUTE_FRACTURE,  # Fracture of bone
    "16114001": ChartConcept.ACUTE_FRACTURE,  # Fracture of ankle
    "65966004": ChartConcept.ACUTE_FRACTURE,  # Fracture of forearm
    "58150001": ChartConcept.ACUTE_FRACTURE,  # Fracture of clavicle
    "359817006": ChartConcept.ACUTE_FRACTURE,  # Closed fracture of hip
    "33737001": ChartConcept.ACUTE_FRACTURE,  # Fracture of rib
    "263102004": ChartConcept.ACUTE_FRACTURE,  # Fracture subluxation of wrist
    # tumour
    "55342001": ChartConcept.TUMOUR,  # Neoplastic disease
    "363346000": ChartConcept.TUMOUR,  # Malignant neoplastic disease
    "108369006": ChartConcept.TUMOUR,  # Neoplasm
    # chart conditions that were already screening flags (prolotrack/fhir/inbound.py kept these)
    "73211009": ChartConcept.DIABETES,  # Diabetes mellitus
    "44054006": ChartConcept.DIABETES,  # Diabetes mellitus type 2
    "46635009": ChartConcept.DIABETES,  # Diabetes mellitus type 1
    "90935002": ChartConcept.BLEEDING_DISORDER,  # Haemophilia
    "128105004": ChartConcept.BLEEDING_DISORDER,  # Von Willebrand disorder
    "64779008": ChartConcept.BLEEDING_DISORDER,  # Blood coagulation disorder
    "234532001": ChartConcept.IMMUNOSUPPRESSION,  # Immunodeficiency disorder
    "86406008": ChartConcept.IMMUNOSUPPRESSION,  # Human immunodeficiency virus infection
    "77386006": ChartConcept.PREGNANCY,  # Pregnancy
    "72892002": ChartConcept.PREGNANCY,  # Normal pregnancy
}

# ICD-10-CM code prefixes (CMS/CDC ICD-10-CM tabular list), compared without the dot. Longest prefix wins.
CONDITION_ICD10_PREFIXES: tuple[tuple[str, ChartConcept], ...] = (
    ("L01", ChartConcept.INFECTION),  # Impetigo
    ("L02", ChartConcept.INFECTION),  # Cutaneous abscess, furuncle and carbuncle
    ("L03", ChartConcept.INFECTION),  # Cellulitis and acute lymphangitis
    ("L08", ChartConcept.INFECTION),  # Other local infections of skin and subcutaneous tissue
    ("M86", ChartConcept.INFECTION),  # Osteomyelitis
    ("A40", ChartConcept.SYSTEMIC_INFECTION),  # Streptococcal sepsis
    ("A41", ChartConcept.SYSTEMIC_INFECTION),  # Other sepsis
    ("R652", ChartConcept.SYSTEMIC_INFECTION),  # Severe sepsis
    ("R50", ChartConcept.SYSTEMIC_INFECTION),  # Fever of other and unknown origin
    ("R7881", ChartConcept.SYSTEMIC_INFECTION),  # Bacteremia
    ("M00", ChartConcept.SEPTIC_JOINT),  # Pyogenic arthritis
    ("M01", ChartConcept.SEPTIC_JOINT),  # Direct infections of joint in infectious diseases classified elsewhere
    ("S02", ChartConcept.ACUTE_FRACTURE),  # Fracture of skull and facial bones
    ("S12", ChartConcept.ACUTE_FRACTURE),  # Fracture of cervical vertebra and other parts of neck
    ("S22", ChartConcept.ACUTE_FRACTURE),  # Fracture of rib(s), sternum and thoracic spine
    ("S32", ChartConcept.ACUTE_FRACTURE),  # Fracture of lumbar spine and pelvis
    ("S42", ChartConcept.ACUTE_FRACTURE),  # Fracture of shoulder and upper arm
    ("S52", ChartConcept.ACUTE_FRACTURE),  # Fracture of forearm
    ("S62", ChartConcept.ACUTE_FRACTURE),  # Fracture at wrist and hand level
    ("S72", ChartConcept.ACUTE_FRACTURE),  # Fracture of femur
    ("S82", ChartConcept.ACUTE_FRACTURE),  # Fracture of lower leg, including ankle
    ("S92", ChartConcept.ACUTE_FRACTURE),  # Fracture of foot and toe, except ankle
    ("C", ChartConcept.TUMOUR),  # C00-C96 Malignant neoplasms
    ("D0", ChartConcept.TUMOUR),  # D00-D09 In situ neoplasms
    ("D37", ChartConcept.TUMOUR),  # D37-D48 Neoplasms of uncertain behavior
    ("D38", ChartConcept.TUMOUR),
    ("D39", ChartConcept.TUMOUR),
    ("D40", ChartConcept.TUMOUR),
    ("D41", ChartConcept.TUMOUR),
    ("D42", ChartConcept.TUMOUR),
    ("D43", ChartConcept.TUMOUR),
    ("D44", ChartConcept.TUMOUR),
    ("D45", ChartConcept.TUMOUR),
    ("D46", ChartConcept.TUMOUR),
    ("D47", ChartConcept.TUMOUR),
    ("D48", ChartConcept.TUMOUR),
    ("D49", ChartConcept.TUMOUR),  # Neoplasms of unspecified behavior
    ("R22", ChartConcept.TUMOUR),  # Localized swelling, mass and lump of skin and subcutaneous tissue
    ("E08", ChartConcept.DIABETES),  # Diabetes due to an underlying condition
    ("E09", ChartConcept.DIABETES),  # Drug or chemical induced diabetes
    ("E10", ChartConcept.DIABETES),  # Type 1 diabetes
    ("E11", ChartConcept.DIABETES),  # Type 2 diabetes
    ("E13", ChartConcept.DIABETES),  # Other specified diabetes
    ("D65", ChartConcept.BLEEDING_DISORDER),  # Disseminated intravascular coagulation
    ("D66", ChartConcept.BLEEDING_DISORDER),  # Hereditary factor VIII deficiency
    ("D67", ChartConcept.BLEEDING_DISORDER),  # Hereditary factor IX deficiency
    ("D68", ChartConcept.BLEEDING_DISORDER),  # Other coagulation defects
    ("D69", ChartConcept.BLEEDING_DISORDER),  # Purpura and other hemorrhagic conditions (incl. thrombocytopenia)
    ("B20", ChartConcept.IMMUNOSUPPRESSION),  # HIV disease
    ("D80", ChartConcept.IMMUNOSUPPRESSION),  # D80-D84 Certain disorders involving the immune mechanism
    ("D81", ChartConcept.IMMUNOSUPPRESSION),
    ("D82", ChartConcept.IMMUNOSUPPRESSION),
    ("D83", ChartConcept.IMMUNOSUPPRESSION),
    ("D84", ChartConcept.IMMUNOSUPPRESSION),
    ("Z94", ChartConcept.IMMUNOSUPPRESSION),  # Transplanted organ and tissue status (on immunosuppressants)
    ("Z966", ChartConcept.PROSTHETIC_JOINT_OR_VALVE),  # Presence of orthopedic joint implants
    ("Z952", ChartConcept.PROSTHETIC_JOINT_OR_VALVE),  # Presence of prosthetic heart valve
    ("Z33", ChartConcept.PREGNANCY),  # Pregnant state
    ("Z34", ChartConcept.PREGNANCY),  # Encounter for supervision of normal pregnancy
    ("O09", ChartConcept.PREGNANCY),  # Supervision of high risk pregnancy
)

# The product's own problem-list choices (patients.models.ScreeningFlag values). Gout on the chart is the disease,
# not a flare today, so it means nothing here: a flare is its own choice (or a day-of tick).
PROBLEM_LIST: dict[str, ChartConcept | None] = {
    "diabetes": ChartConcept.DIABETES,
    "bleeding_disorder": ChartConcept.BLEEDING_DISORDER,
    "immunosuppression": ChartConcept.IMMUNOSUPPRESSION,
    "prosthetic_joint": ChartConcept.PROSTHETIC_JOINT_OR_VALVE,
    "prosthetic_valve": ChartConcept.PROSTHETIC_JOINT_OR_VALVE,
    "gout": None,
    "pregnancy": ChartConcept.PREGNANCY,
    "skin_infection": ChartConcept.INFECTION,
    "systemic_infection": ChartConcept.SYSTEMIC_INFECTION,
    "septic_joint": ChartConcept.SEPTIC_JOINT,
    "gout_flare": ChartConcept.ACUTE_GOUT_FLARE,
    "fracture": ChartConcept.ACUTE_FRACTURE,
    "tumour": ChartConcept.TUMOUR,
}

# Where more than one concept matches one condition, the gravest reading is kept.
_GRAVITY = (
    ChartConcept.SYSTEMIC_INFECTION,
    ChartConcept.SEPTIC_JOINT,
    ChartConcept.INFECTION,
    ChartConcept.ACUTE_FRACTURE,
    ChartConcept.TUMOUR,
    ChartConcept.ACUTE_GOUT_FLARE,
    ChartConcept.PREGNANCY,
    ChartConcept.BLEEDING_DISORDER,
    ChartConcept.IMMUNOSUPPRESSION,
    ChartConcept.PROSTHETIC_JOINT_OR_VALVE,
    ChartConcept.DIABETES,
)


def _icd10(code: str) -> ChartConcept | None:
    key = code.upper().replace(".", "").strip()
    best: tuple[int, ChartConcept] | None = None
    for prefix, concept in CONDITION_ICD10_PREFIXES:
        if key.startswith(prefix) and (best is None or len(prefix) > best[0]):
            best = (len(prefix), concept)
    return best[1] if best else None


def code_concept(system: str, code: str) -> ChartConcept | None:
    """Return the concept of one coded condition, or None when the code is not in the lists."""
    if system == SNOMED:
        return CONDITION_SNOMED.get(code.strip())
    if system in ICD10_SYSTEMS:
        return _icd10(code)
    return None


def condition_concept(codes: Iterable[str] = (), problem_choice: str = "") -> ChartConcept | None:
    """Return what a chart condition means to screening: from its codes and its problem-list choice (gravest)."""
    found: set[ChartConcept] = set()
    choice = PROBLEM_LIST.get(problem_choice or "")
    if choice is not None:
        found.add(choice)
    for value in codes:
        concept = code_concept(*split_token(value))
        if concept is not None:
            found.add(concept)
    for concept in _GRAVITY:
        if concept in found:
            return concept
    return None


# The problem-list choice an imported coded condition fills in (fhir/inbound.py): read from the lists above, so the
# importer and screening cannot disagree about a code. Gout, the disease, has a choice but means nothing to screening.
GOUT_SNOMED = frozenset({"90560007"})  # Gout (disorder)
GOUT_ICD10_PREFIX = "M10"
PROSTHETIC_VALVE_ICD10_PREFIX = "Z952"
_CHOICE_OF_CONCEPT: dict[ChartConcept, str] = {
    concept: choice for choice, concept in PROBLEM_LIST.items() if concept is not None and choice != "prosthetic_valve"
}


def problem_list_choice(system: str, code: str) -> str:
    """Return the problem-list choice (patients.ScreeningFlag value) of one coded condition, or "" for none."""
    key = code.upper().replace(".", "").strip()
    concept = code_concept(system, code)
    if concept is None:
        gout = (system == SNOMED and code.strip() in GOUT_SNOMED) or (
            system in ICD10_SYSTEMS and key.startswith(GOUT_ICD10_PREFIX)
        )
        return "gout" if gout else ""
    if concept is ChartConcept.PROSTHETIC_JOINT_OR_VALVE and system in ICD10_SYSTEMS:
        return "prosthetic_valve" if key.startswith(PROSTHETIC_VALVE_ICD10_PREFIX) else "prosthetic_joint"
    return _CHOICE_OF_CONCEPT[concept]


# --- Site matching ------------------------------------------------------------------------------------------------

# Sides as the chart records them (patients.models.Laterality) and the plan names them (screening.Side).
LEFT, RIGHT = "left", "right"


def sides_match(condition_side: str, planned_side: str) -> bool:
    """Return False only when one is left and the other right; bilateral, midline or unrecorded may be the site."""
    return {(condition_side or "").lower(), (planned_side or "").lower()} != {LEFT, RIGHT}


def at_site(condition_region: str, condition_side: str, planned_region: str, planned_side: str) -> bool:
    """Return True when a condition is at the planned site: same region and a side that may be the same.

    A condition without a recorded region counts as at the site: the cautious reading, and the finding asks for the
    region to be recorded.
    """
    region = (condition_region or "").lower()
    if not region:
        return True
    return region == (planned_region or "").lower() and sides_match(condition_side, planned_side)


# --- Medications --------------------------------------------------------------------------------------------------


class DrugClass(StrEnum):
    """Screening classes of a medication (values equal screening.MedicationClass values)."""

    NSAID = "nsaid"
    ANTICOAGULANT = "anticoagulant"
    ANTIPLATELET = "antiplatelet"
    CORTICOSTEROID = "corticosteroid"
    OTHER = "other"


# RxNorm ingredient RxCUIs (NLM RxNav, https://mor.nlm.nih.gov/RxNav/). A clinical drug (SCD) code is recognised by
# its name, which RxNorm builds from the ingredient ("Ibuprofen 400 MG Oral Tablet").
MEDICATION_RXNORM: dict[str, DrugClass] = {
    "5640": DrugClass.NSAID,  # ibuprofen
    "7258": DrugClass.NSAID,  # naproxen
    "3355": DrugClass.NSAID,  # diclofenac
    "140587": DrugClass.NSAID,  # celecoxib
    "41493": DrugClass.NSAID,  # meloxicam
    "35827": DrugClass.NSAID,  # ketorolac
    "5781": DrugClass.NSAID,  # indomethacin
    "11289": DrugClass.ANTICOAGULANT,  # warfarin
    "154": DrugClass.ANTICOAGULANT,  # acenocoumarol
    "5224": DrugClass.ANTICOAGULANT,  # heparin
    "67108": DrugClass.ANTICOAGULANT,  # enoxaparin
    "1364430": DrugClass.ANTICOAGULANT,  # apixaban
    "1114195": DrugClass.ANTICOAGULANT,  # rivaroxaban
    "1546356": DrugClass.ANTICOAGULANT,  # dabigatran etexilate
    "1599538": DrugClass.ANTICOAGULANT,  # edoxaban
    "1191": DrugClass.ANTIPLATELET,  # aspirin (low dose is taken as an antiplatelet)
    "32968": DrugClass.ANTIPLATELET,  # clopidogrel
    "613391": DrugClass.ANTIPLATELET,  # prasugrel
    "1116632": DrugClass.ANTIPLATELET,  # ticagrelor
    "3521": DrugClass.ANTIPLATELET,  # dipyridamole
    "8640": DrugClass.CORTICOSTEROID,  # prednisone
    "8638": DrugClass.CORTICOSTEROID,  # prednisolone
    "6902": DrugClass.CORTICOSTEROID,  # methylprednisolone
    "3264": DrugClass.CORTICOSTEROID,  # dexamethasone
    "5492": DrugClass.CORTICOSTEROID,  # hydrocortisone
    "10759": DrugClass.CORTICOSTEROID,  # triamcinolone
    "19831": DrugClass.CORTICOSTEROID,  # budesonide
}

# WHO ATC/DDD index (https://atcddd.fhi.no/atc_ddd_index/): M01A NSAIDs; B01AA/AB/AE/AF anticoagulants;
# B01AC platelet aggregation inhibitors; H02AB systemic glucocorticoids.
MEDICATION_ATC_PREFIXES: tuple[tuple[str, DrugClass], ...] = (
    ("M01A", DrugClass.NSAID),
    ("B01AA", DrugClass.ANTICOAGULANT),
    ("B01AB", DrugClass.ANTICOAGULANT),
    ("B01AE", DrugClass.ANTICOAGULANT),
    ("B01AF", DrugClass.ANTICOAGULANT),
    ("B01AC", DrugClass.ANTIPLATELET),
    ("H02AB", DrugClass.CORTICOSTEROID),
)

# Ingredient words (generic names; a few brand names pharmacists and patients use).
MEDICATION_WORDS: tuple[tuple[re.Pattern[str], DrugClass], ...] = (
    (
        re.compile(
            r"warfarin|coumadin|acenocoumarol|phenprocoumon|heparin|enoxaparin|lovenox|dalteparin|tinzaparin"
            r"|fondaparinux|apixaban|eliquis|rivaroxaban|xarelto|edoxaban|dabigatran|pradaxa|argatroban|bivalirudin"
        ),
        DrugClass.ANTICOAGULANT,
    ),
    (
        re.compile(
            r"clopidogrel|plavix|prasugrel|ticagrelor|brilinta|ticlopidine|dipyridamole|cilostazol|aspirin"
            r"|acetylsalicylic"
        ),
        DrugClass.ANTIPLATELET,
    ),
    (
        re.compile(
            r"ibuprofen|advil|motrin|nurofen|naproxen|aleve|diclofenac|voltaren|ketoprofen|ketorolac|indomethacin"
            r"|indometacin|meloxicam|piroxicam|celecoxib|celebrex|etoricoxib|etodolac|nabumetone|aceclofenac"
            r"|dexketoprofen|mefenamic|flurbiprofen|sulindac|oxaprozin|diflunisal|tolmetin|lornoxicam|tenoxicam"
            r"|parecoxib"
        ),
        DrugClass.NSAID,
    ),
    (
        re.compile(
            r"prednisolone|prednisone|methylprednisolone|dexamethasone|hydrocortisone|betamethasone|triamcinolone"
            r"|cortisone|deflazacort|budesonide"
        ),
        DrugClass.CORTICOSTEROID,
    ),
)
# An aspirin dose of 300 mg or more is an analgesic (NSAID) dose, not an antiplatelet one.
ASPIRIN_ANALGESIC_MG = 300
_ASPIRIN = re.compile(r"aspirin|acetylsalicylic")
_STRENGTH_MG = re.compile(r"(\d+(?:\.\d+)?)\s*mg")


def medication_class(name: str, codes: Iterable[str] = ()) -> DrugClass:
    """Return the screening class of a medication from its codes (RxNorm, ATC) and then its name."""
    words = " ".join((name or "").lower().split())
    found: DrugClass | None = None
    for value in codes:
        system, code = split_token(value)
        if system == RXNORM and code in MEDICATION_RXNORM:
            found = MEDICATION_RXNORM[code]
            break
        if system == ATC:
            for prefix, cls in MEDICATION_ATC_PREFIXES:
                if code.upper().startswith(prefix):
                    found = cls
                    break
            if found:
                break
    if found is None:
        for pattern, cls in MEDICATION_WORDS:
            if pattern.search(words):
                found = cls
                break
    if found is DrugClass.ANTIPLATELET and _ASPIRIN.search(words):
        strength = _STRENGTH_MG.search(words)
        if strength and float(strength.group(1)) >= ASPIRIN_ANALGESIC_MG:
            return DrugClass.NSAID
    return found or DrugClass.OTHER


def effective_class(recorded: str, name: str, codes: Iterable[str] = ()) -> DrugClass:
    """Return the class screening uses: the recorded one, unless it is "other" and the name or code says more."""
    if recorded and recorded != DrugClass.OTHER:
        return DrugClass(recorded)
    return medication_class(name, codes)


# --- Allergies ----------------------------------------------------------------------------------------------------


class AllergyConcept(StrEnum):
    """Substances screening checks allergies against."""

    LOCAL_ANAESTHETIC = "local_anaesthetic"
    DEXTROSE = "dextrose"
    CORN = "corn"
    GLYCERIN = "glycerin"
    PHENOL = "phenol"
    SODIUM_MORRHUATE = "sodium_morrhuate"


# SNOMED CT substances and RxNorm ingredients.
ALLERGY_CODES: dict[tuple[str, str], AllergyConcept] = {
    (SNOMED, "387480006"): AllergyConcept.LOCAL_ANAESTHETIC,  # Lidocaine (substance)
    (SNOMED, "387150008"): AllergyConcept.LOCAL_ANAESTHETIC,  # Bupivacaine (substance)
    (SNOMED, "67079006"): AllergyConcept.DEXTROSE,  # Glucose (substance)
    (SNOMED, "412357001"): AllergyConcept.CORN,  # Corn (substance), verified in the SNOMED CT IPS Free Set
    (RXNORM, "6387"): AllergyConcept.LOCAL_ANAESTHETIC,  # lidocaine
    (RXNORM, "1815"): AllergyConcept.LOCAL_ANAESTHETIC,  # bupivacaine
    (RXNORM, "35780"): AllergyConcept.LOCAL_ANAESTHETIC,  # ropivacaine
    (RXNORM, "4850"): AllergyConcept.DEXTROSE,  # glucose
}

# Substring patterns on the lower-cased substance. "cain" covers lidocaine, lignocaine, Xylocaine, procaine, Novocain,
# bupivacaine, mepivacaine and the other "-caine" drugs (DOMAIN.md §5); "amide anaesthetic" the group name.
ALLERGY_WORDS: tuple[tuple[re.Pattern[str], AllergyConcept], ...] = (
    (re.compile(r"cain|local\s+an(a)?esthetic|amide\s+(local\s+)?an(a)?esthetic"), AllergyConcept.LOCAL_ANAESTHETIC),
    (re.compile(r"dextrose|glucose"), AllergyConcept.DEXTROSE),
    (re.compile(r"\b(corn|maize)"), AllergyConcept.CORN),
    (re.compile(r"glycerin|glycerol"), AllergyConcept.GLYCERIN),
    (re.compile(r"phenol"), AllergyConcept.PHENOL),
    # Sodium morrhuate is made from the fatty acids of cod liver oil.
    (re.compile(r"morrhuate|cod\s+liver\s+oil"), AllergyConcept.SODIUM_MORRHUATE),
)


def allergy_concepts(substance: str, codes: Iterable[str] = ()) -> frozenset[AllergyConcept]:
    """Return what an allergy is to, from its codes and its substance's words."""
    found = {ALLERGY_CODES[key] for key in (split_token(v) for v in codes) if key in ALLERGY_CODES}
    text = " ".join((substance or "").lower().split())
    found |= {concept for pattern, concept in ALLERGY_WORDS if pattern.search(text)}
    return frozenset(found)


# "No known allergy" records: a confirmation that the patient was asked, never an allergy.
NO_KNOWN_ALLERGY_SNOMED: dict[str, str] = {
    "716186003": "No known allergy",
    "409137002": "No known drug allergy",
    "428607008": "No known environmental allergy",
    "429625007": "No known food allergy",
}
_NKA_TEXT = re.compile(
    r"nk(d)?a|no\s*k(nown)?\s*(drug\s*|medication\s*|environmental\s*|food\s*)?allerg(y|ies)"
    r"|(patient\s+has\s+)?no\s+allerg(y|ies)(\s+known)?|none\s+known|nil\s+known(\s+allerg(y|ies))?"
)


def is_no_known_allergy(substance: str = "", codes: Iterable[str] = ()) -> bool:
    """Return True when an allergy entry says "no known allergy" (by SNOMED CT code or in words), in any case."""
    for value in codes:
        system, code = split_token(value)
        if system in (SNOMED, "") and code in NO_KNOWN_ALLERGY_SNOMED:
            return True
    text = " ".join(re.sub(r"[^a-z ]", " ", (substance or "").lower().replace(".", "")).split())
    return bool(text) and _NKA_TEXT.fullmatch(text) is not None
