"""Seeded synthetic patients for the demo clinic and the benchmarks.

Plain data only (dicts of field values); `prolotrack.demo.seed` writes them through
the services. The same seed always gives the same patients. Later features extend
`PatientSpec` rather than adding a second generator.
"""

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from faker import Faker

# Presenting complaints a prolotherapy clinic sees (DOMAIN.md §4), with the ages they occur at.
COMPLAINTS: list[dict[str, Any]] = [
    {"description": "Knee osteoarthritis", "body_region": "knee", "sided": True, "ages": (45, 85), "weight": 30},
    {
        "description": "Chronic low back pain",
        "body_region": "lumbopelvic",
        "sided": False,
        "ages": (30, 75),
        "weight": 22,
        "laterality": "midline",
    },
    {
        "description": "Sacroiliac joint pain",
        "body_region": "lumbopelvic",
        "sided": True,
        "ages": (30, 70),
        "weight": 6,
    },
    {
        "description": "Lateral epicondylosis (tennis elbow)",
        "body_region": "elbow",
        "sided": True,
        "ages": (35, 60),
        "weight": 9,
    },
    {
        "description": "Mid-portion Achilles tendinopathy",
        "body_region": "ankle_foot",
        "sided": True,
        "ages": (30, 65),
        "weight": 7,
    },
    {
        "description": "Rotator cuff tendinopathy",
        "body_region": "shoulder",
        "sided": True,
        "ages": (40, 75),
        "weight": 9,
    },
    {"description": "Plantar fasciitis", "body_region": "ankle_foot", "sided": True, "ages": (35, 65), "weight": 7},
    {"description": "Greater trochanteric pain", "body_region": "hip", "sided": True, "ages": (40, 80), "weight": 4},
    {
        "description": "Chronic neck pain",
        "body_region": "neck_thoracic",
        "sided": False,
        "ages": (30, 70),
        "weight": 3,
        "laterality": "midline",
    },
    {"description": "TMJ hypermobility", "body_region": "tmj", "sided": True, "ages": (20, 50), "weight": 1},
    {"description": "Osgood-Schlatter disease", "body_region": "knee", "sided": True, "ages": (10, 15), "weight": 2},
]
PRIOR_TREATMENTS = [
    "Physiotherapy 8 weeks",
    "Corticosteroid injection",
    "NSAIDs",
    "Home exercise programme",
    "Bracing",
    "Acetaminophen",
    "Orthotics",
    "Eccentric loading programme",
    "Chiropractic care",
]
COMORBIDITIES: list[tuple[str, str, float]] = [
    ("Type 2 diabetes", "diabetes", 0.12),
    ("Hypertension", "", 0.25),
    ("Atrial fibrillation", "", 0.04),
    ("Von Willebrand disease", "bleeding_disorder", 0.01),
    ("Rheumatoid arthritis on methotrexate", "immunosuppression", 0.03),
    ("Total hip replacement", "prosthetic_joint", 0.04),
    ("Gout", "gout", 0.03),
]
MEDICATIONS: list[tuple[str, str, str, float]] = [
    ("Ibuprofen", "nsaid", "400 mg as needed", 0.30),
    ("Naproxen", "nsaid", "500 mg twice daily", 0.12),
    ("Celecoxib", "nsaid", "200 mg daily", 0.05),
    ("Acetaminophen", "other", "1 g up to four times daily", 0.35),
    ("Apixaban", "anticoagulant", "5 mg twice daily", 0.04),
    ("Warfarin", "anticoagulant", "per INR", 0.02),
    ("Aspirin", "antiplatelet", "81 mg daily", 0.10),
    ("Clopidogrel", "antiplatelet", "75 mg daily", 0.02),
    ("Prednisone", "corticosteroid", "5 mg daily", 0.02),
    ("Metformin", "other", "1 g twice daily", 0.10),
    ("Lisinopril", "other", "10 mg daily", 0.15),
    ("Atorvastatin", "other", "20 mg daily", 0.18),
]
ALLERGIES: list[tuple[str, str, str, float]] = [
    ("Penicillin", "Rash", "moderate", 0.08),
    ("Sulfonamides", "Hives", "mild", 0.03),
    ("Latex", "Contact dermatitis", "mild", 0.02),
    ("Codeine", "Nausea and vomiting", "mild", 0.03),
    ("Shellfish", "Swelling of lips", "severe", 0.02),
    ("Lidocaine", "Urticaria after dental block", "moderate", 0.005),
    ("Corn", "Itching", "mild", 0.005),
]


@dataclass
class PatientSpec:
    patient: dict[str, Any]
    weights: list[dict[str, Any]] = field(default_factory=list)
    conditions: list[dict[str, Any]] = field(default_factory=list)
    medications: list[dict[str, Any]] = field(default_factory=list)
    allergies: list[dict[str, Any]] = field(default_factory=list)


def _birth_date(rng: random.Random, today: date, low: int, high: int) -> date:
    age_days = rng.randint(low * 365 + 1, high * 365 + 300)
    return today - timedelta(days=age_days)


def generate_patients(
    count: int, *, seed: int, today: date, locale: str = "en_US", mrn_start: int = 1
) -> list[PatientSpec]:
    """`count` synthetic patients, the same ones for the same seed and date."""
    rng = random.Random(seed)
    fake = Faker(locale)
    fake.seed_instance(seed)
    complaint_weights = [c["weight"] for c in COMPLAINTS]
    specs: list[PatientSpec] = []
    for n in range(count):
        complaint = rng.choices(COMPLAINTS, weights=complaint_weights)[0]
        born = _birth_date(rng, today, *complaint["ages"])
        sex = rng.choices(["female", "male", "other", "unknown"], weights=[54, 44, 1, 1])[0]
        if sex == "female":
            given = fake.first_name_female()
        elif sex == "male":
            given = fake.first_name_male()
        else:
            given = fake.first_name()
        family = fake.last_name()
        patient = {
            "mrn": f"PT-{mrn_start + n:06d}",
            "given_name": given,
            "family_name": family,
            "date_of_birth": born,
            "sex": sex,
            "email": f"{given}.{family}@example.org".lower().replace(" ", "").replace("'", ""),
            "phone": fake.numerify("(###) 555-0###"),
            # en_GB street addresses can span lines; the address field is one line (domain/inputs.py).
            "address_line": ", ".join(fake.street_address().splitlines()),
            "city": fake.city(),
            "region": fake.state_abbr() if locale == "en_US" else fake.county(),
            "postal_code": fake.postcode(),
            "country": "USA" if locale == "en_US" else "United Kingdom",
        }
        spec = PatientSpec(patient=patient)
        age = (today - born).days // 365
        # Weight: adults 50-120 kg, adolescents lighter; a history of one to three measurements.
        base = Decimal(rng.randint(420, 700) if age < 16 else rng.randint(500, 1200)) / 10
        for k in range(rng.randint(1, 3)):
            drift = Decimal(rng.randint(-20, 20)) / 10
            spec.weights.append(
                {
                    "measured_on": today - timedelta(days=k * rng.randint(60, 200) + rng.randint(0, 20)),
                    "weight_kg": (base + drift).quantize(Decimal("0.1")),
                    "note": "",
                }
            )
        onset = today - timedelta(days=rng.randint(120, 3650))
        laterality = complaint.get("laterality") or rng.choice(["left", "right", "right", "left", "bilateral"])
        spec.conditions.append(
            {
                "category": "complaint",
                "description": complaint["description"],
                "screening_flag": "",
                "body_region": complaint["body_region"],
                "laterality": laterality if complaint["sided"] or complaint.get("laterality") else "na",
                "onset_date": onset,
                "chronicity": "chronic",
                "clinical_status": "active",
                "prior_treatments": ", ".join(rng.sample(PRIOR_TREATMENTS, rng.randint(1, 3))),
                "note": "",
            }
        )
        if age >= 18:
            for description, flag, p in COMORBIDITIES:
                if rng.random() < p:
                    spec.conditions.append(
                        {
                            "category": "comorbidity",
                            "description": description,
                            "screening_flag": flag,
                            "body_region": "",
                            "laterality": "",
                            "onset_date": today - timedelta(days=rng.randint(400, 7000)),
                            "chronicity": "chronic",
                            "clinical_status": "active",
                            "prior_treatments": "",
                            "note": "",
                        }
                    )
        for name, drug_class, dose, p in MEDICATIONS:
            if rng.random() < p and (age >= 18 or drug_class in {"nsaid", "other"}):
                ongoing = drug_class != "nsaid" or rng.random() < 0.5
                spec.medications.append(
                    {
                        "name": name,
                        "drug_class": drug_class,
                        "dose": dose,
                        "status": "active",
                        "last_dose_date": None if ongoing else today - timedelta(days=rng.randint(0, 20)),
                        "note": "",
                    }
                )
        for substance, reaction, severity, p in ALLERGIES:
            if rng.random() < p:
                spec.allergies.append({"substance": substance, "reaction": reaction, "severity": severity, "note": ""})
        specs.append(spec)
    return specs
