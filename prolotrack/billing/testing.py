"""Helpers shared by the billing suites and the demo: a fee schedule, and a clinic's settings changed directly."""

from datetime import date
from decimal import Decimal
from typing import Any

from prolotrack.audit.services import Actor
from prolotrack.billing import services
from prolotrack.billing.models import FeeItem

# (code, kind, description, price, tax rate): M0076 is HCPCS Level II (public, CMS); the others are a clinic's own.
FEE_SCHEDULE: tuple[tuple[str, str, str, str, str], ...] = (
    ("M0076", "procedure", "Prolotherapy", "250.00", "0"),
    ("NEW-ASSESS", "visit", "New patient assessment", "180.00", "0"),
    ("FOLLOW-UP", "visit", "Follow-up visit", "90.00", "0"),
    ("US-GUIDE", "solution", "Ultrasound guidance", "60.00", "0"),
    ("BRACE-KNEE", "product", "Knee brace", "45.00", "8.25"),
)


def fee_schedule(actor: Actor, active_from: date) -> dict[str, FeeItem]:
    """The demo clinic's schedule, by code."""
    return {
        code: services.create_fee_item(
            actor,
            code=code,
            kind=kind,
            description=description,
            price=Decimal(price),
            tax_rate=Decimal(tax),
            active_from=active_from,
        )
        for code, kind, description, price, tax in FEE_SCHEDULE
    }


def set_clinic_settings(clinic: Any, **values: Any) -> None:
    """Test-only: store clinic settings without the settings page (the form and its audit are tested there)."""
    clinic.settings = {**(clinic.settings or {}), **values}
    clinic.save(update_fields=["settings"])


def original_medicare(actor: Actor, patient: Any, member_id: str = "1EG4-TE5-MK73") -> Any:
    """Record Original Medicare as the patient's coverage (a made-up member id in the MBI's format)."""
    return services.record_coverage(actor, patient, payer="original_medicare", member_id=member_id)


def sign_abn_for(actor: Actor, course: Any, *, option: str = "2", render: bool = True, seed: int = 5) -> Any:
    """Have the course's patient sign the ABN as drafted now (a synthetic signature)."""
    from prolotrack.billing import queries
    from prolotrack.core.signatures import scribble_png

    patient = course.patient
    return services.sign_abn(
        actor,
        course,
        text_sha256=queries.abn_draft(course).sha256,
        option=option,
        signer_name=f"{patient.given_name} {patient.family_name}",
        signature=scribble_png(seed),
        render=render,
    )
