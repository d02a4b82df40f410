"""The demo's pre-visit intakes (demo/intake_seed.py): one emailed, one sent back whose answers await review."""

from typing import Any

import pytest

from prolotrack.clinics.models import Clinic
from prolotrack.intake import queries
from prolotrack.intake.models import Intake, IntakeStatus
from prolotrack.messaging.models import MessageKind, OutboxMessage

pytestmark = pytest.mark.xdist_group("full_demo")


def test_the_demo_has_an_emailed_intake_and_one_to_review(demo: Clinic, db: Any) -> None:
    statuses = sorted(Intake.objects.filter(clinic=demo).values_list("status", flat=True))
    assert statuses == sorted([IntakeStatus.REQUESTED, IntakeStatus.SUBMITTED])
    assert OutboxMessage.objects.filter(clinic=demo, kind=MessageKind.INTAKE_LINK).count() == 1
    sent_back = Intake.objects.get(clinic=demo, status=IntakeStatus.SUBMITTED)
    reported = {r["key"]: r for r in queries.unreviewed_items(sent_back.patient)}
    assert reported["medication:apixaban"]["concept"] == "anticoagulant"
    assert reported["allergy:1"]["concept"] == "local_anaesthetic"
