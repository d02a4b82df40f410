"""The demo's Medicare ABN: one Original Medicare patient with an open course and a current signed ABN (PDF and its
hash stored), the member id never whole on the pages; seeding again changes nothing. Read from the full demo."""

import hashlib
from typing import Any

import pytest
from django.urls import reverse

from prolotrack.billing import queries
from prolotrack.billing.models import AdvanceNotice, Coverage
from prolotrack.clinics.models import Clinic, Membership
from prolotrack.clinics.roles import Role
from prolotrack.demo.abn_seed import DEMO_MBI, seed_abn
from prolotrack.domain.abn import GateState
from prolotrack.treatment.queries import signing_problems

pytestmark = pytest.mark.xdist_group("full_demo")


def test_the_demo_has_an_abn_gated_medicare_patient(demo: Clinic, db: Any, login: Any) -> None:
    coverage = Coverage.objects.get(clinic=demo)
    assert coverage.payer == "original_medicare" and coverage.member_id_last4 == DEMO_MBI[-4:]
    notice = AdvanceNotice.objects.get(clinic=demo)
    course = notice.course
    assert notice.patient == coverage.patient and course.status == "open"
    assert notice.identification == coverage.patient.mrn and notice.option == "2"
    assert notice.pdf_sha256 == hashlib.sha256(notice.pdf_content).hexdigest()
    gate = queries.abn_gate(course)
    assert gate.required and gate.state == GateState.CURRENT
    # The gate passes for the course's sessions: nothing about the ABN in what is left to do before signing.
    session = course.sessions.filter(status__in=("planned", "booked")).order_by("number").first()
    assert not [p for p in signing_problems(session) if p.startswith("No current ABN")]
    # The other patients are not gated.
    other = next(c for c in demo_courses(demo) if c.patient_id != course.patient_id)
    assert queries.abn_gate(other).state == GateState.NOT_REQUIRED
    # The pages show the member id's last 4 only.
    desk = Membership.objects.get(clinic=demo, role=Role.FRONT_DESK).user
    client = login(desk)
    page = client.get(reverse("billing:abn-course", args=[course.uuid]))
    assert page.status_code == 200
    assert DEMO_MBI[-4:] in page.content.decode() and DEMO_MBI not in page.content.decode()
    assert seed_abn(demo, today=notice.signed_on) == {"coverage": 0, "abn": 0}


def demo_courses(clinic: Clinic) -> list[Any]:
    from prolotrack.treatment.models import Course

    return list(Course.objects.filter(clinic=clinic, status="open").order_by("id")[:20])
